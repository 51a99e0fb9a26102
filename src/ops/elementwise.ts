/**
 * Elementwise ops: one table row each (WGSL expression, CPU arrow written
 * separately, gradient rules in tensor ops with the math beside them). All
 * share one strided kernel template, shaders/elementwise.wgsl.
 */
import template from "../../shaders/elementwise.wgsl";
import templateVec4 from "../../shaders/elementwise-vec4.wgsl";
import type { CpuView, GpuLaunch, Kernel, View } from "../backend/backend.js";
import { isFloat, promote, type DType } from "../dtype.js";
import { broadcastShapes, broadcastStrides, fmt, isContiguous, numel, sameShape, stridedOffsets } from "../shape.js";
import type { Rule } from "../autograd/node.js";
import { apply, type Primitive } from "./primitive.js";
import { constant } from "./constants.js";
import { erf, powIeee, roundHalfEven, toInt32 } from "./cpu-math.js";
import { specialize as replaceAnchors, uniformLayout } from "../engine/wgsl.js";
import { Tensor } from "../tensor.js";

type Saved = "x" | "y" | "none";
interface UnaryDef {
  wgsl: string; // in terms of `a`, typed A, returning O
  scalarOnly?: boolean; // its WGSL calls a helper taking scalars, so no vec4 fast path
  cpu: (x: number) => number;
  ints?: boolean; // defined on int32
  save: Saved;
  grad: Rule; // saved[0] is x or y per `save`
  doc: string; // the rule in words, for wg.explain
}

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
/** Φ(x) + x·φ(x), the GELU's derivative (a row of unaryOps, reached late: the table cannot name its own keys). */
const geluGrad = (x: Tensor): Tensor => apply(unaryPrims.geluGrad, [x], undefined);

/**
 * The elementwise unary ops, one row each: WGSL expression, CPU arrow, whether int32 is allowed, what the gradient
 * rule saves, the rule, and the rule in words (shown by `wg.explain`). Users reach them as Tensor methods.
 */
export const unaryOps = {
  neg: { wgsl: "-a", cpu: (x) => -x, ints: true, save: "none", grad: (g) => g.neg(), doc: "d(-x)/dx = -1" },
  abs: { wgsl: "abs(a)", cpu: Math.abs, ints: true, save: "x", grad: (g, [x]) => g.mul(x.sign()), doc: "d|x|/dx = sign(x)" }, // d|x| = sign(x)
  sign: { wgsl: "select(sign(a), A(0), isnan_a(a))", cpu: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), ints: true, save: "none", grad: (g) => g.mul(0), doc: "d sign(x)/dx = 0 (flat almost everywhere)" },
  relu: { wgsl: "select(max(a, A(0)), a, isnan_a(a))", cpu: (x) => (x <= 0 ? 0 : x), ints: true, save: "y", grad: (g, [y]) => g.mul(y.gt(0)), doc: "d relu(x)/dx = 1 where x > 0, else 0" },
  exp: { wgsl: "select(exp(a), a, isnan_f(a))", cpu: Math.exp, save: "y", grad: (g, [y]) => g.mul(y), doc: "d exp(x)/dx = exp(x)" }, // d e^x = e^x
  log: { wgsl: "log_ieee(a)", cpu: Math.log, save: "x", grad: (g, [x]) => g.div(x), doc: "d ln(x)/dx = 1/x" }, // d ln x = 1/x
  sqrt: { wgsl: "sqrt_ieee(a)", cpu: Math.sqrt, save: "y", grad: (g, [y]) => g.div(y.mul(2)), doc: "d √x/dx = 1/(2√x)" }, // d √x = 1/(2√x)
  tanh: { wgsl: "select(tanh(clamp(a, A(-20.0), A(20.0))), a, isnan_f(a))", cpu: Math.tanh, save: "y", grad: (g, [y]) => g.mul(y.mul(y).neg().add(1)), doc: "d tanh(x)/dx = 1 - tanh²(x)" }, // 1 - tanh²
  sigmoid: { wgsl: "select(1.0 / (1.0 + exp(-a)), a, isnan_f(a))", cpu: (x) => 1 / (1 + Math.exp(-x)), save: "y", grad: (g, [y]) => g.mul(y.mul(y.neg().add(1))), doc: "d σ(x)/dx = σ(x)(1 - σ(x))" }, // σ(1-σ)
  erf: { scalarOnly: true, wgsl: "erf_approx(a)", cpu: erf, save: "x", grad: (g, [x]) => g.mul(x.mul(x).neg().exp().mul(2 / SQRT_PI)), doc: "d erf(x)/dx = 2/√π · exp(-x²)" }, // 2/√π e^{-x²}
  // The exact GELU x·Φ(x) and its derivative Φ(x) + x·φ(x) as single ops (composite: 5 ops, 3 constants); d²/dx² = φ(x)·(2 - x²).
  gelu: { scalarOnly: true, wgsl: "gelu_erf(a)", cpu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)), save: "x", grad: (g, [x]) => g.mul(geluGrad(x)), doc: "d gelu(x)/dx = Φ(x) + x·φ(x)" },
  geluGrad: { scalarOnly: true, wgsl: "gelu_erf_grad(a)", cpu: (x) => 0.5 * (1 + erf(x * Math.SQRT1_2)) + (x * Math.exp(-0.5 * x * x)) / SQRT_2PI, save: "x", grad: (g, [x]) => g.mul(x.mul(x).neg().add(2).mul(x.mul(x).mul(-0.5).exp().mul(1 / SQRT_2PI))), doc: "d(Φ(x) + x·φ(x))/dx = φ(x)·(2 - x²)" },
  sin: { wgsl: "select(A(nan_f32()), sin(a), isfinite_f(a))", cpu: Math.sin, save: "x", grad: (g, [x]) => g.mul(x.cos()), doc: "d sin(x)/dx = cos(x)" },
  cos: { wgsl: "select(A(nan_f32()), cos(a), isfinite_f(a))", cpu: Math.cos, save: "x", grad: (g, [x]) => g.mul(x.sin()).neg(), doc: "d cos(x)/dx = -sin(x)" },
  // silu(x) = x·σ(x); softplus(x) = ln(1 + eˣ), written max(x, 0) + ln(1 + e^-|x|) so large |x| cannot overflow.
  silu: { wgsl: "select(a / (A(1) + exp(-a)), a, isnan_f(a))", cpu: (x) => x / (1 + Math.exp(-x)), save: "x", grad: (g, [x]) => g.mul(x.sigmoid().mul(x.mul(x.sigmoid().neg().add(1)).add(1))), doc: "d silu(x)/dx = σ(x)(1 + x(1 - σ(x)))" },
  softplus: { wgsl: "select(max(a, A(0)) + log(A(1) + exp(-abs(a))), a, isnan_f(a))", cpu: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), save: "x", grad: (g, [x]) => g.mul(x.sigmoid()), doc: "d softplus(x)/dx = σ(x)" },
  rsqrt: { wgsl: "A(1.0) / sqrt_ieee(a)", cpu: (x) => 1 / Math.sqrt(x), save: "y", grad: (g, [y]) => g.mul(y.mul(y).mul(y)).mul(-0.5), doc: "d x^(-1/2)/dx = -½·x^(-3/2)" }, // -½ y³
  log1p: { wgsl: "log1p_ieee(a)", cpu: Math.log1p, save: "x", grad: (g, [x]) => g.div(x.add(1)), doc: "d log1p(x)/dx = 1/(1 + x)" },
  expm1: { wgsl: "expm1_ieee(a)", cpu: Math.expm1, save: "y", grad: (g, [y]) => g.mul(y.add(1)), doc: "d expm1(x)/dx = exp(x) = expm1(x) + 1" },
  floor: { wgsl: "select(floor(a), a, isnan_f(a))", cpu: Math.floor, save: "none", grad: (g) => g.mul(0), doc: "d floor(x)/dx = 0 (flat almost everywhere)" },
  ceil: { wgsl: "select(ceil(a), a, isnan_f(a))", cpu: Math.ceil, save: "none", grad: (g) => g.mul(0), doc: "d ceil(x)/dx = 0 (flat almost everywhere)" },
  round: { wgsl: "select(round(a), a, isnan_f(a))", cpu: roundHalfEven, save: "none", grad: (g) => g.mul(0), doc: "d round(x)/dx = 0 (flat almost everywhere)" },
} satisfies Record<string, UnaryDef>;

interface BinaryDef {
  wgsl: string; // in terms of `a`, `b`
  scalarOnly?: boolean;
  cpu: (a: number, b: number) => number;
  ints?: boolean;
  compare?: boolean; // output is a float32 0/1 mask
  save: "ab" | "aby" | "none"; // what the rules read: saved = [a, b] or [a, b, y]
  /**
   * Which saved operands each rule reads, where a rule does not read both: an operand is then kept
   * only when an input whose rule reads it requires grad (PyTorch's mul saves `other` only for
   * `self`'s gradient). x * 0.125 keeps no copy of x, so a fused kernel need not write x out.
   */
  reads?: [readonly number[], readonly number[]];
  grads: [Rule | null, Rule | null];
  docs: [string | null, string | null]; // the rules in words, for wg.explain
}

const halfTies = (a: Tensor, b: Tensor) => a.eq(b).mul(0.5);
// 1 unless the other operand wins (½ on ties), as PyTorch: so where a comparison is NaN, both sides get g.
const unlessBeaten = (beaten: Tensor, a: Tensor, b: Tensor) => beaten.add(halfTies(a, b)).neg().add(1);
// A comparison with a NaN operand is false (ne: true), tested by bits since the compiler may assume no NaN.
const cmp = (wgslOp: string, f: (a: number, b: number) => boolean): BinaryDef => ({
  wgsl: wgslOp === "!="
    ? "select(O(0), O(1), (a != b) | isnan_a(a) | isnan_a(b))"
    : `select(O(0), O(1), (a ${wgslOp} b) & !(isnan_a(a) | isnan_a(b)))`,
  cpu: (a, b) => (f(a, b) ? 1 : 0),
  ints: true,
  compare: true,
  save: "none",
  grads: [null, null],
  docs: [null, null], // a 0/1 mask is flat: no gradient
});

/**
 * The elementwise binary ops, one row each (as `unaryOps`). Comparisons give a float32 0/1 mask and no gradient;
 * maximum/minimum send the gradient to the larger/smaller operand (½ each on ties, as PyTorch).
 */
export const binaryOps = {
  add: { wgsl: "a + b", cpu: (a, b) => a + b, ints: true, save: "none", grads: [(g) => g, (g) => g], docs: ["d(a + b)/da = 1", "d(a + b)/db = 1"] },
  sub: { wgsl: "a - b", cpu: (a, b) => a - b, ints: true, save: "none", grads: [(g) => g, (g) => g.neg()], docs: ["d(a - b)/da = 1", "d(a - b)/db = -1"] },
  mul: { wgsl: "a * b", cpu: (a, b) => a * b, ints: true, save: "ab", reads: [[1], [0]], grads: [(g, [, b]) => g.mul(b), (g, [a]) => g.mul(a)], docs: ["d(a·b)/da = b", "d(a·b)/db = a"] },
  div: { wgsl: "a / b", cpu: (a, b) => a / b, save: "ab", reads: [[1], [0, 1]], grads: [(g, [, b]) => g.div(b), (g, [a, b]) => g.mul(a).div(b.mul(b)).neg()], docs: ["d(a/b)/da = 1/b", "d(a/b)/db = -a/b²"] }, // d(a/b)/db = -a/b²
  pow: {
    scalarOnly: true,
    wgsl: "pow_real(a, b)",
    cpu: powIeee,
    save: "aby",
    grads: [
      (g, [a, b]) => where(b.eq(0), 0, g.mul(b).mul(a.pow(b.sub(1)))), // d a^b/da = b a^(b-1)
      (g, [a, b, y]) => where(a.eq(0).mul(b.ge(0)), 0, g.mul(y).mul(a.log())), // d a^b/db = a^b ln a
    ],
    docs: ["d aᵇ/da = b·aᵇ⁻¹", "d aᵇ/db = aᵇ·ln(a)"],
  },
  maximum: {
    wgsl: "select(select(max(a, b), b, isnan_a(b)), a, isnan_a(a))", cpu: (a, b) => Math.max(a, b), ints: true, save: "ab",
    grads: [(g, [a, b]) => g.mul(unlessBeaten(a.lt(b), a, b)), (g, [a, b]) => g.mul(unlessBeaten(b.lt(a), a, b))],
    docs: ["d max(a, b)/da = 1 where a > b, ½ on ties, else 0", "d max(a, b)/db = 1 where b > a, ½ on ties, else 0"],
  },
  minimum: {
    wgsl: "select(select(min(a, b), b, isnan_a(b)), a, isnan_a(a))", cpu: (a, b) => Math.min(a, b), ints: true, save: "ab",
    grads: [(g, [a, b]) => g.mul(unlessBeaten(a.gt(b), a, b)), (g, [a, b]) => g.mul(unlessBeaten(b.gt(a), a, b))],
    docs: ["d min(a, b)/da = 1 where a < b, ½ on ties, else 0", "d min(a, b)/db = 1 where b < a, ½ on ties, else 0"],
  },
  eq: cmp("==", (a, b) => a === b),
  ne: cmp("!=", (a, b) => a !== b),
  gt: cmp(">", (a, b) => a > b),
  ge: cmp(">=", (a, b) => a >= b),
  lt: cmp("<", (a, b) => a < b),
  le: cmp("<=", (a, b) => a <= b),
} satisfies Record<string, BinaryDef>;

/** The name of a row of `unaryOps` (`"exp"`, `"relu"`, ...). */
export type UnaryName = keyof typeof unaryOps;
/** The name of a row of `binaryOps` (`"add"`, `"pow"`, `"lt"`, ...). */
export type BinaryName = keyof typeof binaryOps;

const WGSL_TYPE: Record<DType, string> = { float32: "f32", int32: "i32", float64: "f64" };

/** Strides of each operand (inputs, then the output) as read over the output's shape, with contiguous runs merged. */
export function collapse(shape: readonly number[], strides: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

const stridedParams = uniformLayout(template);
const vec4Params = uniformLayout(templateVec4);

/**
 * The period of an operand whose (collapsed) strides are zeros, then the contiguous strides of
 * the remaining dims: it repeats every `period` output elements. 0 when it is not so laid out.
 */
function periodOf(shape: readonly number[], strides: readonly number[]): number {
  let expect = 1;
  let d = shape.length - 1;
  for (; d >= 0 && strides[d] !== 0; d--) {
    if (strides[d] !== expect) return 0;
    expect *= shape[d];
  }
  for (; d >= 0; d--) if (strides[d] !== 0) return 0;
  return expect;
}

/**
 * A kernel computing out = f(ins...) elementwise with broadcasting. The
 * output view may be strided (copies into slices) and may be the first
 * input's own storage (in-place ops).
 */
export function elementwiseKernel<A = void>(name: string, wgsl: string, cpu: (a: number, b: number, c: number) => number, scalarOnly = false): Kernel<A> {
  return {
    name,
    fusable: { expr: wgsl },
    cpu(outs: readonly CpuView[], ins: readonly CpuView[]) {
      const out = outs[0];
      const n = numel(out.shape);
      const flat = (v: View) => sameShape(v.shape, out.shape) && isContiguous(v.shape, v.strides);
      const od = out.data;
      const [a, b, c] = ins.map((v) => v.data);
      const [oa, ob, oc] = ins.map((v) => v.offset);
      if (flat(out) && ins.every(flat)) {
        const oo = out.offset;
        if (ins.length === 1) for (let i = 0; i < n; i++) od[oo + i] = cpu(a[oa + i], 0, 0);
        else if (ins.length === 2) for (let i = 0; i < n; i++) od[oo + i] = cpu(a[oa + i], b[ob + i], 0);
        else for (let i = 0; i < n; i++) od[oo + i] = cpu(a[oa + i], b[ob + i], c[oc + i]);
        return;
      }
      const oo = stridedOffsets(out.shape, out.strides, out.offset);
      const io = ins.map((v) => stridedOffsets(out.shape, broadcastStrides(v.shape, v.strides, out.shape), v.offset));
      const [ia, ib, ic] = io;
      for (let i = 0; i < n; i++) od[oo[i]] = cpu(a[ia[i]], b ? b[ib[i]] : 0, c ? c[ic[i]] : 0);
    },
    webgpu(outs, ins, _attrs, caps): GpuLaunch {
      const out = outs[0];
      const n = numel(out.shape);
      const aIsOut = ins[0].storage === out.storage;
      const flat = (v: View) => sameShape(v.shape, out.shape) && isContiguous(v.shape, v.strides);
      if (!scalarOnly && caps.force?.elementwise !== "strided") {
        const fast = vec4Launch(name, wgsl, out, ins, flat, aIsOut);
        if (fast) return fast;
      }
      const all = [...ins, out].map((v) => broadcastStrides(v.shape, v.strides, out.shape));
      const merged = collapse(out.shape, all);
      const periods = ins.map((_, k) => periodOf(merged.shape, merged.strides[k]));
      const modes = [...ins, out].map((v, k) => (v !== out && numel(v.shape) === 1 ? 1 : flat(v) ? 0 : periods[k] ? 3 : 2));
      if (merged.shape.length > 8)
        throw new Error(`${name}: webgpu kernels address at most 8 non-contiguous dimensions; this output has shape ${fmt(out.shape)}. Fix: reshape or contiguous() first.`);
      const [sa, sb = [], sc = []] = merged.strides;
      const params = stridedParams.pack({
        n, rank: merged.shape.length, off_a: ins[0].offset, off_b: ins[1]?.offset ?? 0, off_c: ins[2]?.offset ?? 0, off_o: out.offset,
        shape: merged.shape, stride_a: sa, stride_b: sb, stride_c: sc, stride_o: merged.strides[ins.length], period: periods,
      });
      const types = [...ins.map((v) => WGSL_TYPE[v.dtype]), WGSL_TYPE[out.dtype]];
      while (types.length < 4) types.splice(types.length - 1, 0, types[0]);
      const [ma, mb = 0, mc = 0] = modes;
      const mo = modes[modes.length - 1];
      return {
        key: `ew:${name}:${types.join(",")}:${modes.join("")}${ins.length}${aIsOut ? "i" : ""}`,
        code: () => specialize(types, wgsl),
        constants: { WG: 256, ARITY: ins.length, MODE_A: ma, MODE_B: mb, MODE_C: mc, MODE_O: mo, A_IS_OUT: aIsOut ? 1 : 0, A_FLOAT: ins[0].dtype === "int32" ? 0 : 1 },
        params,
        workgroups: Math.ceil(n / 256),
        bindings: [0, ins.length > 1 ? 1 : null, ins.length > 2 ? 2 : null],
        readsOutputs: aIsOut,
      };
    },
  };
}

/** The vec4 fast path, when every operand is dense like the output or a single element, and n and offsets divide by 4. */
function vec4Launch(name: string, wgsl: string, out: View, ins: readonly View[], flat: (v: View) => boolean, aIsOut: boolean): GpuLaunch | null {
  const n = numel(out.shape);
  const scalar = ins.map((v) => v !== out && numel(v.shape) === 1 && !(aIsOut && v === ins[0]));
  const dense = (v: View) => flat(v) && v.offset % 4 === 0;
  if (n % 4 !== 0 || n === 0 || !dense(out) || !ins.every((v, k) => scalar[k] || dense(v))) return null;
  const params = vec4Params.pack({ n4: n / 4, off_a: ins[0].offset, off_b: ins[1]?.offset ?? 0, off_c: ins[2]?.offset ?? 0, off_o: out.offset });
  const types = [...ins.map((v) => WGSL_TYPE[v.dtype]), WGSL_TYPE[out.dtype]];
  while (types.length < 4) types.splice(types.length - 1, 0, types[0]);
  const [sa, sb = false, sc = false] = scalar;
  return {
    key: `ew4:${name}:${types.join(",")}:${scalar.map(Number).join("")}${ins.length}${aIsOut ? "i" : ""}`,
    code: () => specialize(types.map((t) => `vec4<${t}>`), wgsl, templateVec4, "vec4<f32>"), // the template ships with vec4<f32> aliases
    constants: { WG: 256, ARITY: ins.length, SCALAR_A: sa ? 1 : 0, SCALAR_B: sb ? 1 : 0, SCALAR_C: sc ? 1 : 0, A_IS_OUT: aIsOut ? 1 : 0, A_FLOAT: ins[0].dtype === "int32" ? 0 : 1 },
    params,
    workgroups: Math.ceil(n / 4 / 256),
    bindings: [0, ins.length > 1 ? 1 : null, ins.length > 2 ? 2 : null],
    readsOutputs: aIsOut,
  };
}

function specialize(types: string[], expr: string, source = template, shipped = "f32"): string {
  const [ta, tb, tc, to] = types;
  return replaceAnchors("elementwise", source, [
    [`alias A = ${shipped};`, `alias A = ${ta};`],
    [`alias B = ${shipped};`, `alias B = ${tb};`],
    [`alias C = ${shipped};`, `alias C = ${tc};`],
    [`alias O = ${shipped};`, `alias O = ${to};`],
    ["return O(a + b);", `return O(${expr});`],
  ]);
}

/** A table of op rows turned into a table of primitives, keyed by the same names. */
function primitives<K extends string, D>(table: Record<K, D>, make: (name: K, d: D) => Primitive<void>): Record<K, Primitive<void>> {
  return Object.fromEntries(Object.entries(table).map(([k, d]) => [k, make(k as K, d as D)])) as Record<K, Primitive<void>>;
}

const unaryPrims = primitives<UnaryName, UnaryDef>(unaryOps, (name, d) => ({
      name,
      infer([x]) {
        if (!d.ints && !isFloat(x.dtype))
          throw new Error(`${name}: needs a float tensor, got int32 of shape ${fmt(x.shape)}. Fix: x.float().${name}().`);
        return { shape: x.shape, dtype: x.dtype };
      },
      kernel: elementwiseKernel(name, d.wgsl, d.cpu, d.scalarOnly),
      save: d.save === "x" ? ([x]) => [x] : d.save === "y" ? (_ins, y) => [y] : undefined,
      grads: [d.grad],
      docs: [d.doc],
}));

const binaryPrims = primitives<BinaryName, BinaryDef>(binaryOps, (name, d) => ({
      name,
      infer([a, b]) {
        const shapes = () => `${fmt(a.shape)} and ${fmt(b.shape)}`;
        const dtype = promote(name, a.dtype, b.dtype, shapes);
        if (!d.ints && !isFloat(dtype))
          throw new Error(`${name}: needs float tensors, got int32 (${shapes()}). Fix: cast with .float() first.`);
        return { shape: broadcastShapes(name, a.shape, b.shape), dtype: d.compare ? "float32" : dtype };
      },
      kernel: elementwiseKernel(name, d.wgsl, d.cpu, d.scalarOnly),
      save: d.save === "aby" ? ([a, b], y) => [a, b, y] : d.save === "ab" ? (d.reads ? savedFor(d.reads) : ([a, b]) => [a, b]) : undefined,
      grads: d.grads,
      docs: d.docs,
}));

/** [a, b], each only where the rule of an input that requires grad reads it (BinaryDef.reads). */
function savedFor(reads: [readonly number[], readonly number[]]) {
  return (ins: readonly Tensor[]) => ins.map((t, k) => (ins.some((u, i) => u.requiresGrad && reads[i].includes(k)) ? t : undefined));
}

/** A number operand becomes a cached constant of the tensor's dtype and device. */
function operands(op: string, a: Tensor | number, b: Tensor | number): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor) {
    if (a.dtype !== b.dtype && a.dtype !== "int32" && b.dtype !== "int32") {
      // float32 with float64: widen the narrower side.
      return a.dtype === "float64" ? [a, cast(b, "float64")] : [cast(a, "float64"), b];
    }
    return [a, b];
  }
  if (a instanceof Tensor) return [a, constant(op, b as number, a)];
  if (b instanceof Tensor) return [constant(op, a, b), b];
  throw new Error(`${op}: at least one operand must be a tensor, got two numbers (${a}, ${b}).`);
}

/**
 * Applies the unary op `name` elementwise (same shape and dtype; ops that need floats throw on int32). Differentiable
 * by the op's rule; `wg.exp(x)`, `x.exp()` and the other Tensor methods are this.
 *
 * PyTorch: `torch.<name>` (e.g. `torch.exp`).
 * @example wg.tensor([0, 1]).exp() // tensor([1, 2.7183]), as unary("exp", x)
 */
export function unary(name: UnaryName, x: Tensor): Tensor {
  return apply(unaryPrims[name], [x], undefined);
}

/**
 * Applies the binary op `name` elementwise with NumPy broadcasting; either side may be a number (taken in the tensor's
 * dtype). int32 and float32 do not mix (cast first, e.g. `x.float()`), and div/pow need floats, unlike PyTorch's
 * promotion. Comparisons give float32 0/1. `wg.add(a, b)` and `a.add(b)` are this.
 *
 * PyTorch: `torch.<name>` (e.g. `torch.add`, `torch.maximum`, `torch.lt`).
 * @example wg.add(wg.tensor([[1], [2]]), wg.tensor([10, 20])) // tensor([[11, 21], [12, 22]]), as binary("add", a, b)
 */
export function binary(name: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  return apply(binaryPrims[name], operands(name, a, b), undefined);
}

const wherePrim: Primitive<void> = {
  name: "where",
  infer([c, a, b]) {
    const shapes = () => `${fmt(c.shape)}, ${fmt(a.shape)} and ${fmt(b.shape)}`;
    return { shape: broadcastShapes("where", c.shape, a.shape, b.shape), dtype: promote("where", a.dtype, b.dtype, shapes) };
  },
  kernel: elementwiseKernel("where", "select(c, b, (a != A(0)) | isnan_a(a))", (c, a, b) => (c !== 0 ? a : b)),
  save: ([c]) => [c],
  grads: [null, (g, [c]) => where(c, g, 0), (g, [c]) => where(c, 0, g)],
  docs: [null, "d where(c, a, b)/da = 1 where c ≠ 0, else 0", "d where(c, a, b)/db = 1 where c = 0, else 0"],
};

/**
 * Picks elementwise `a` where `cond` is non-zero (true), else `b`, broadcasting all three (NumPy rules); `a` and `b`
 * may be numbers (two numbers give float32). Differentiable in `a` and `b` (the gradient goes to the side that was
 * picked), never in `cond`. A NaN in `cond` counts as true.
 *
 * PyTorch: `torch.where` (its cond is a bool tensor; here any tensor, e.g. a comparison's 0/1 result).
 * @example wg.where(wg.tensor([1, -2, 3]).gt(0), wg.tensor([1, -2, 3]), 0) // tensor([1, 0, 3])
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (!(cond instanceof Tensor)) throw new Error("where: cond must be a tensor (a mask, e.g. x.gt(0)).");
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : null;
  const [ta, tb] = like ? operands("where", a, b) : [constant("where", a as number, cond, "float32"), constant("where", b as number, cond, "float32")];
  return apply(wherePrim, [cond, ta, tb], undefined);
}

const castPrims = new Map<DType, Primitive<{ from: DType }>>();
function castPrim(to: DType): Primitive<{ from: DType }> {
  let p = castPrims.get(to);
  if (!p) {
    p = {
      name: "cast",
      infer: ([x]) => ({ shape: x.shape, dtype: to }),
      kernel: to === "int32" // NaN and values outside int32 become INT32_MIN, as PyTorch on x86 (WGSL would saturate)
        ? elementwiseKernel<{ from: DType }>("cast_int32", "select(O(a), O(-2147483647 - 1), isnan_a(a) | (abs(a) >= A(2147483648.0)))", toInt32)
        : elementwiseKernel<{ from: DType }>(`cast_${to}`, "O(a)", (x) => x),
      grads: [to === "int32" ? null : (g, _s, { from }) => g.cast(from)], // a float gradient flows back in the input's dtype
      docs: [to === "int32" ? null : "d cast(x)/dx = 1 (g cast back to x's dtype)"],
    };
    castPrims.set(to, p);
  }
  return p;
}

/**
 * Converts to `dtype` (returns `x` itself when it already has it). float → int32 truncates toward zero; NaN and values
 * outside int32 become −2³¹ (as PyTorch on x86). A float result is differentiable (the gradient is cast back).
 *
 * PyTorch: `Tensor.to(dtype)`.
 * @example wg.tensor([1.7, -1.7]).int() // int32 tensor([1, -1]), as cast(x, "int32")
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  if (dtype !== "float32" && dtype !== "int32" && dtype !== "float64")
    throw new Error(`cast: unknown dtype "${String(dtype)}"; expected "float32", "int32" or "float64".`);
  return apply(castPrim(dtype), [x], { from: x.dtype });
}
