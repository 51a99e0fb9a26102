/**
 * The fuzz loop: for each seed, generate a graph, run it on CPU and WebGPU,
 * compare; on a failure shrink the graph (drop steps, shrink leaf shapes,
 * drop requiresGrad) while it still fails, and print the smallest as a
 * program that reproduces it.
 */
import { callText, leafText, numel, type Graph, type Leaf, type Step } from "./graph.js";
import { check, generate, OPS, type Checked, type GenOptions } from "./generate.js";
import { cotangent, execute } from "./exec.js";
import { compare } from "./compare.js";

/** Run one graph on both devices: the failure in one line, or null. */
export async function judge(g: Graph): Promise<string | null> {
  const c = check(g);
  if (!c) return `graph ${g.seed} is not a valid program`;
  const cpu = await execute(g, c, "cpu");
  const gpu = await execute(g, c, "webgpu");
  return compare(c, cpu, gpu);
}

/** Steps that read `name`, directly or through other steps. */
function dependents(steps: readonly Step[], name: string): Set<string> {
  const out = new Set([name]);
  for (const s of steps) if (s.kind === "op" && s.ins.some((n) => out.has(n))) out.add(s.out);
  return out;
}

function withoutUnusedLeaves(g: Graph): Graph {
  const read = new Set(g.steps.flatMap((s) => (s.kind === "op" ? s.ins : [])));
  const keep = g.steps.filter((s) => s.kind === "op" || read.has(s.out) || g.steps.length === 1);
  return { ...g, steps: keep.length ? keep : g.steps.slice(0, 1) };
}

/** Smaller graphs, most drastic first. */
function* candidates(g: Graph): Generator<Graph> {
  for (let i = g.steps.length - 1; i >= 0; i--) {
    const s = g.steps[i];
    if (s.kind !== "op") continue;
    const drop = dependents(g.steps, s.out);
    yield withoutUnusedLeaves({ ...g, steps: g.steps.filter((t) => !drop.has(t.out)) });
  }
  for (const [i, s] of g.steps.entries()) {
    if (s.kind !== "leaf") continue;
    const put = (l: Leaf) => ({ ...g, steps: g.steps.map((t, j) => (j === i ? l : t)) });
    for (const [d, size] of s.shape.entries()) {
      for (const to of new Set([1, size - 1, 0])) {
        if (to >= size || to < 0) continue;
        const shape = s.shape.map((x, k) => (k === d ? to : x));
        yield put({ ...s, shape, data: s.data.slice(0, numel(shape)) });
      }
    }
    if (s.requiresGrad) yield put({ ...s, requiresGrad: false });
  }
  if (g.backward === "gradient") yield { ...g, backward: "sum" };
}

/** Greedy shrinking: take the first smaller graph that is valid and still fails, until none is; at most `budget` runs. */
export async function shrink(g: Graph, fails: (g: Graph) => Promise<string | null>, budget = 300): Promise<{ graph: Graph; message: string }> {
  let best = { graph: g, message: (await fails(g)) ?? "" };
  for (let progress = true; progress && budget > 0; ) {
    progress = false;
    for (const cand of candidates(best.graph)) {
      if (!check(cand) || budget-- <= 0) continue;
      const message = await fails(cand);
      if (message) {
        best = { graph: cand, message };
        progress = true;
        break;
      }
    }
  }
  return best;
}

/** The graph as a program: run it with device "cpu" and "webgpu" and compare what it prints. */
export function program(g: Graph, c: Checked | null = check(g)): string {
  const lines = [`import * as wg from "webgrad";`, `await wg.init({ device: "webgpu" }); // then "cpu": the two runs should print the same`];
  for (const s of g.steps) lines.push(`const ${s.out} = ${s.kind === "leaf" ? leafText(s) : callText(OPS[s.op].call(s.p, s.ins.length), s.ins)};`);
  const sinks = c?.sinks ?? [];
  const r = (n: string) => `wg.tensor(new Float32Array([${cotangent(g, n, numel(c!.metas.get(n)!.shape)).join(", ")}]), { shape: [${c!.metas.get(n)!.shape.join(", ")}] })`;
  if (g.backward === "gradient" && sinks.length === 1) lines.push(`${sinks[0]}.backward(${r(sinks[0])});`);
  else if (sinks.length) lines.push(`${sinks.map((n) => `${n}.mul(${r(n)}).sum()`).join(".add(")}${")".repeat(sinks.length - 1)}.backward();`);
  lines.push(`for (const [name, t] of Object.entries({ ${(c?.live ?? []).join(", ")} })) console.log(name, t.shape, await t.data());`);
  const leaves = g.steps.filter((s): s is Leaf => s.kind === "leaf" && s.requiresGrad).map((s) => s.out);
  if (leaves.length) lines.push(`for (const [name, t] of Object.entries({ ${leaves.join(", ")} })) console.log(name + ".grad", await t.grad?.data());`);
  return lines.join("\n");
}

export interface Failure {
  seed: number;
  message: string;
  /** Steps of the generated graph, and of the shrunk one. */
  steps: [number, number];
  program: string;
}

export interface FuzzOptions extends GenOptions {
  graphs: number;
  seed: number;
  /** Stop after this many failures (each one is shrunk, which takes many runs). */
  maxFailures?: number;
  onProgress?: (done: number, failures: number) => void;
}

export async function fuzz(opts: FuzzOptions): Promise<{ graphs: number; failures: Failure[]; ops: Map<string, number> }> {
  const failures: Failure[] = [];
  const ops = new Map<string, number>();
  let done = 0;
  for (; done < opts.graphs && failures.length < (opts.maxFailures ?? 5); done++) {
    const seed = opts.seed + done;
    const g = generate(seed, opts);
    for (const s of g.steps) if (s.kind === "op") ops.set(s.op, (ops.get(s.op) ?? 0) + 1);
    const message = await judge(g);
    if (message) {
      const small = await shrink(g, judge);
      failures.push({ seed, message: small.message, steps: [g.steps.length, small.graph.steps.length], program: program(small.graph) });
    }
    opts.onProgress?.(done + 1, failures.length);
  }
  return { graphs: done, failures, ops };
}

export function formatFailure(f: Failure): string {
  return `seed ${f.seed}: ${f.message}\n(shrunk from ${f.steps[0]} to ${f.steps[1]} steps; this program reproduces it)\n${f.program}`;
}
