/**
 * The WGSL of a fused elementwise chain, generated from the ops' own table
 * expressions: one invocation loads element i of each input once, computes
 * every op of the chain in registers, and writes only the outputs asked for.
 * The op helpers (pow_real, erf_approx) come from shaders/elementwise.wgsl.
 */
import template from "../../shaders/elementwise.wgsl";
import type { GpuLaunch, Kernel, View } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { numel } from "../shape.js";
import { uniformLayout, type UniformLayout } from "./wgsl.js";

/** The uniform block of every fused kernel; the packer reads its layout from this text too. */
export const FUSED_PARAMS = `struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  off: array<vec4<u32>, 2>,  // element offset of each input
  period: array<vec4<u32>, 2>,  // a periodic input's element count: element i reads i % period
}`;

export const WGSL_TYPE: Record<DType, string> = { float32: "f32", int32: "i32", float64: "f64" };

/** An operand of a fused op: input k of the launch, or the value of fused op k. */
export type Ref = { input: number } | { node: number };

export interface FusedOp {
  readonly name: string;
  /** The op's WGSL expression over a, b, c typed A, B, C, returning O (its table row). */
  readonly expr: string;
  readonly args: readonly Ref[];
  readonly argTypes: readonly DType[];
  readonly out: DType;
  /** The number of (name, expr) among the ops seen (opSignature), when the queue knew it at no cost; else looked up. */
  readonly sig?: number;
}

export interface FusedInput {
  readonly dtype: DType;
  /** One element read by every invocation (a broadcast scalar). */
  readonly scalar: boolean;
  /** Fewer elements than the chain, repeated (a bias [N] added over [M, N]): element i reads i % period. */
  readonly periodic?: boolean;
}

function between(source: string, from: string, to: string): string {
  const start = source.indexOf(from);
  const end = source.indexOf(to, start);
  if (start < 0 || end < 0) throw new Error(`fused kernel: internal error: shaders/elementwise.wgsl has no "${from}" ... "${to}" section.`);
  return source.slice(start, end).trim();
}

// The template's float-only helpers take F; the fused kernel fixes it to f32 (float64 never fuses).
const FLOAT_ALIASES = "alias F = f32;\nalias UF = u32;\nalias BF = bool;";
// isnan_a takes the template's operand type A; a fused kernel has one per operand type instead.
const TYPED_NAN = [
  "fn isnan_f32(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }",
  "fn isnan_i32(x: i32) -> bool { return false; }",
].join("\n");

function withoutTypedNan(helpers: string): string {
  const start = helpers.indexOf("// isnan_a is never true");
  const end = helpers.indexOf("fn isnan_f(");
  if (start < 0 || end < start) throw new Error("fused kernel: internal error: shaders/elementwise.wgsl has no isnan_a block before isnan_f.");
  return helpers.slice(0, start) + helpers.slice(end);
}

/**
 * Chains seen so far as a trie: one node per distinct prefix (each op's name, expression, operand
 * types and operands), numbered as first met. Its number names a chain's ops in the pipeline key,
 * so realizing a chain of n ops costs n map lookups instead of building and hashing a key that
 * spells out every op (73 µs for 100 ops; a recorded op costs about 4).
 */
interface KeyNode {
  readonly id: number;
  /** By the op's signature, then its shapeCode. */
  readonly next: Map<number, Map<number, KeyNode>>;
}
let keyNodes = 0;
const KEY_ROOT: KeyNode = { id: keyNodes++, next: new Map() };
const signatures = new Map<string, Map<string, number>>();
let signaturesSeen = 0;

/** A number for each distinct (name, expression) pair, numbered as first met. */
export function opSignature(name: string, expr: string): number {
  let byExpr = signatures.get(name);
  if (!byExpr) signatures.set(name, (byExpr = new Map()));
  let sig = byExpr.get(expr);
  if (sig === undefined) byExpr.set(expr, (sig = signaturesSeen++));
  return sig;
}
const DTYPE_CODE: Record<DType, number> = { float32: 0, int32: 1, float64: 2 };

/** An op's operand types, result type and operands as one number (up to 255 inputs and 768 ops apart: 10 bits an operand). */
function shapeCode(o: FusedOp): number {
  let code = DTYPE_CODE[o.out];
  for (let j = 0; j < 3; j++) {
    const r = o.args[j];
    const t = o.argTypes[j];
    code = code * 4 + (t === undefined ? 3 : DTYPE_CODE[t]);
    code = code * 1024 + (r === undefined ? 0 : "input" in r ? 1 + r.input : 256 + r.node);
  }
  return code;
}

function chainId(ops: readonly FusedOp[]): number {
  let node = KEY_ROOT;
  for (const o of ops) {
    const sig = o.sig ?? opSignature(o.name, o.expr);
    let byCode = node.next.get(sig);
    if (!byCode) node.next.set(sig, (byCode = new Map()));
    const code = shapeCode(o);
    let child = byCode.get(code);
    if (!child) byCode.set(code, (child = { id: keyNodes++, next: new Map() }));
    node = child;
  }
  return node.id;
}

/** A stable description of the chain's structure (no sizes or offsets): the pipeline cache key. */
export function fusedKey(inputs: readonly FusedInput[], ops: readonly FusedOp[], outputs: readonly number[]): string {
  let ins = "";
  for (const x of inputs) ins += `${WGSL_TYPE[x.dtype]}${x.scalar ? "s" : x.periodic ? "p" : ""},`;
  return `fused|${ins}|${chainId(ops)}|${outputs.join(",")}`;
}

/** The expression with the template's type names A, B, C, O replaced by the operands' WGSL types. */
function typed(expr: string, types: readonly string[], out: string): string {
  return expr
    .replace(/\b([ABCO])\(/g, (_, t: string) => `${t === "O" ? out : types["ABC".indexOf(t)] ?? types[0]}(`)
    .replace(/\bisnan_a\(/g, `isnan_${types[0]}(`); // the rows call isnan_a on A-typed operands only
}

/** The template's helpers the ops' expressions call (pow_real, erf_approx, isnan_*), for f32 and i32 operands. */
export function chainHelpers(): string {
  return [FLOAT_ALIASES, withoutTypedNan(between(template, "// Infinity and NaN", "fn op(")), TYPED_NAN, between(template, "fn pow_real", "@compute")].join("\n\n");
}

/** One WGSL function per op: its table expression with its operands' types. */
export function chainFunctions(ops: readonly FusedOp[], skip = -1): string[] {
  return ops.flatMap((o, k) => {
    if (k === skip) return [];
    const types = [0, 1, 2].map((j) => WGSL_TYPE[o.argTypes[j] ?? o.argTypes[0]]);
    const out = WGSL_TYPE[o.out];
    return [`fn op${k}(a: ${types[0]}, b: ${types[1]}, c: ${types[2]}) -> ${out} { return ${out}(${typed(o.expr, types, out)}); }  // ${o.name}`];
  });
}

/**
 * The statements computing element i of every op: load each input once (at offset `off`, a
 * periodic one at i % `period`, both arrays of vec4<u32> in the uniform), then v0, v1, ... in
 * order. `head` names the value of op 0 when a kernel computed it (a matmul's accumulator).
 */
export function chainStatements(inputs: readonly FusedInput[], ops: readonly FusedOp[], names: { off: string; period: string; head?: string }): string[] {
  const at = (arr: string, k: number) => `${arr}[${k >> 2}][${k & 3}]`;
  const lines = inputs.map((x, k) => `  let x${k} = in${k}[${at(names.off, k)}${x.scalar ? "" : x.periodic ? ` + i % ${at(names.period, k)}` : " + i"}];`);
  const ref = (r: Ref) => ("input" in r ? `x${r.input}` : `v${r.node}`);
  ops.forEach((o, k) => {
    if (k === 0 && names.head) return lines.push(`  let v0 = ${names.head};`);
    lines.push(`  let v${k} = op${k}(${[0, 1, 2].map((j) => ref(o.args[j] ?? o.args[0])).join(", ")});`);
  });
  return lines;
}

export function fusedWgsl(inputs: readonly FusedInput[], ops: readonly FusedOp[], outputs: readonly number[]): string {
  const lines: string[] = [
    `// Generated by webgrad's scheduler: ${ops.length} fused elementwise ops (${ops.map((o) => o.name).join(", ")}).`,
    "// One invocation computes element i of every op in registers; only the outputs still referenced are written.",
    "",
    chainHelpers(),
    "",
    FUSED_PARAMS,
    "",
  ];
  inputs.forEach((x, k) => lines.push(`@group(0) @binding(${k}) var<storage, read> in${k}: array<${WGSL_TYPE[x.dtype]}>;`));
  outputs.forEach((node, k) => lines.push(`@group(0) @binding(${inputs.length + k}) var<storage, read_write> out${k}: array<${WGSL_TYPE[ops[node].out]}>;`));
  lines.push(`@group(0) @binding(${inputs.length + outputs.length}) var<uniform> p: Params;`, "", ...chainFunctions(ops));
  lines.push(
    "",
    "@compute @workgroup_size(256)",
    "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    "  let i = (wid.y * nwg.x + wid.x) * 256u + lid;",
    "  if (i >= p.n) { return; }",
    ...chainStatements(inputs, ops, { off: "p.off", period: "p.period" }),
  );
  outputs.forEach((node, k) => lines.push(`  out${k}[i] = v${node};`));
  lines.push("}", "");
  return lines.join("\n");
}

/** How each chain input is read by a kernel over n elements: broadcast, repeated or whole. */
export function describeInputs(inputs: readonly View[], n: number): FusedInput[] {
  return inputs.map((v) => ({ dtype: v.dtype, scalar: numel(v.shape) === 1 && n !== 1, periodic: numel(v.shape) !== 1 && numel(v.shape) !== n }));
}

const extended = new Map<string, { code: string; layout: UniformLayout }>();
const debugKernels = () => typeof process !== "undefined" && /\bkernels\b/.test(process.env?.WEBGRAD_DEBUG ?? "");

/**
 * A kernel's launch `base` with a fused chain spliced into its WGSL (an epilogue or a prologue):
 * the generated code is made once per `key`; its params are the base kernel's own fields, as
 * that kernel packed them, then ep_off / ep_period of the chain's inputs.
 */
export function extendedKernel(name: string, key: string, makeCode: () => string, base: GpuLaunch, inputs: readonly View[], extra: Partial<GpuLaunch> = {}): Kernel<void> {
  let g = extended.get(key);
  if (!g) {
    const code = makeCode();
    if (debugKernels()) console.log(`webgrad: generated kernel ${name}\n${code}`);
    extended.set(key, (g = { code, layout: uniformLayout(code) }));
  }
  const { code, layout } = g;
  const params = layout.pack({ ep_off: inputs.map((v) => v.offset), ep_period: inputs.map((v) => numel(v.shape)) });
  const own = 4 * layout.word("ep_off");
  new Uint8Array(params, 0, own).set(new Uint8Array(base.params, 0, Math.min(own, base.params.byteLength)));
  return {
    name,
    cpu() {
      throw new Error(`${name}: internal error: fused kernels run on WebGPU only.`);
    },
    webgpu: () => ({ key, code: () => code, entryPoint: base.entryPoint, constants: base.constants, params, workgroups: base.workgroups, grid: base.grid, noErrorFlag: true, ...extra }),
  };
}

/** A kernel's Params struct (its closing text `paramsEnd`) extended with the chain inputs' offsets and periods. */
export function chainParams(paramsEnd: string, what: string): string {
  const end = paramsEnd.lastIndexOf("}");
  return `${paramsEnd.slice(0, end)}  ep_off: array<vec4<u32>, 2>,  // element offset of each ${what} input\n  ep_period: array<vec4<u32>, 2>,  // its element count: element i reads i % period\n}`;
}

/** A launch a chain can be spliced into: it binds in order and neither remaps bindings, reads its outputs nor checks its data. */
export function plainLaunch(launch: GpuLaunch): GpuLaunch | null {
  return launch.bindings || launch.outputBindings || launch.readsOutputs || launch.check ? null : launch;
}
