/**
 * Run a graph on one device: build the leaves, make each call, seed backward
 * with sum(out * r) over the sinks (or out.backward(r)), read every live
 * tensor and every leaf gradient back, dispose it all and check that nothing
 * leaked.
 */
import * as wg from "../../src/node.js";
import type { Tensor } from "../../src/node.js";
import { leafData, Rng, type Call, type Graph, type Leaf } from "./graph.js";
import { OPS, type Checked } from "./generate.js";

export interface Value {
  shape: number[];
  dtype: string;
  requiresGrad: boolean;
  data: number[];
}

export interface Outcome {
  device: "cpu" | "webgpu";
  /** The message of the first Error thrown, in a call or a readback. */
  error?: string;
  values: Map<string, Value>;
  grads: Map<string, number[] | null>;
  leak?: string;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The cotangent r of a sink, drawn from the seed and the sink's name, so a shrunk graph keeps the same one. */
export function cotangent(g: Graph, name: string, n: number): number[] {
  return leafData(new Rng((g.seed * 31 + hash(name)) >>> 0), n, -1, 1, "float32");
}

type Method = (...args: unknown[]) => Tensor;

export function invoke(c: Call, ins: readonly Tensor[]): Tensor {
  const args = c.args.map((a) => (a !== null && typeof a === "object" && !Array.isArray(a) ? ("ref" in a ? ins[a.ref] : a.refs.map((i) => ins[i])) : a));
  if (c.on === null) return ((wg as unknown as Record<string, Method>)[c.fn])(...args);
  const t = ins[c.on];
  return c.fn === "T" ? t.T : (t as unknown as Record<string, Method>)[c.fn].call(t, ...args);
}

function leafTensor(l: Leaf, device: "cpu" | "webgpu"): Tensor {
  const data = l.dtype === "int32" ? Int32Array.from(l.data) : Float32Array.from(l.data);
  return wg.tensor(data, { shape: l.shape, dtype: l.dtype, requiresGrad: l.requiresGrad, device });
}

/** The synchronous part, inside tidy: every temporary it makes is disposed, the returned tensors are kept. */
function build(g: Graph, c: Checked, device: "cpu" | "webgpu") {
  const env = new Map<string, Tensor>();
  for (const s of g.steps) env.set(s.out, s.kind === "leaf" ? leafTensor(s, device) : invoke(OPS[s.op].call(s.p, s.ins.length), s.ins.map((n) => env.get(n)!)));
  const r = (name: string) => {
    const t = env.get(name)!;
    return wg.tensor(Float32Array.from(cotangent(g, name, t.size)), { shape: t.shape, device });
  };
  if (g.backward === "gradient" && c.sinks.length === 1) env.get(c.sinks[0])!.backward(r(c.sinks[0]));
  else if (c.sinks.length) c.sinks.map((n) => env.get(n)!.mul(r(n)).sum()).reduce((a, b) => a.add(b)).backward();
  return env;
}

async function readAll(g: Graph, c: Checked, env: Map<string, Tensor>, out: Outcome): Promise<void> {
  for (const name of c.live) {
    const t = env.get(name)!;
    out.values.set(name, { shape: [...t.shape], dtype: t.dtype, requiresGrad: t.requiresGrad, data: Array.from(await t.data()) });
  }
  for (const s of g.steps) {
    if (s.kind !== "leaf" || !s.requiresGrad) continue;
    const grad = env.get(s.out)!.grad;
    out.grads.set(s.out, grad ? Array.from(await grad.data()) : null);
  }
}

export async function execute(g: Graph, c: Checked, device: "cpu" | "webgpu"): Promise<Outcome> {
  const out: Outcome = { device, values: new Map(), grads: new Map() };
  const before = wg.memory(device);
  let env: Map<string, Tensor> | null = null;
  try {
    env = wg.tidy(() => build(g, c, device));
    await readAll(g, c, env, out);
  } catch (e) {
    out.error = (e as Error).message;
  }
  for (const t of env?.values() ?? []) {
    const grad = t.isLeaf ? t.grad : null;
    if (grad) t.grad = null;
    grad?.dispose();
    t.dispose();
  }
  const after = wg.memory(device);
  // Constants (one-element tensors for number operands) stay cached: allow their bytes, not one tensor more.
  if (after.tensors !== before.tensors || after.bytesInUse - before.bytesInUse > 64 * 1024)
    out.leak = `${device}: ${after.tensors - before.tensors} tensors and ${after.bytesInUse - before.bytesInUse} bytes more after the graph than before`;
  return out;
}
