/**
 * Generators for the ops that compute values: every row of the elementwise
 * tables (a mapped type over their names, so a new row without a fuzz entry
 * is a compile error), where, casts, reductions, matmul and softmax. Domains
 * keep every value finite and every derivative bounded (log, sqrt and pow
 * bases ≥ 0.1, divisors at least 0.25 from zero, exp of at most 4).
 */
import { binaryOps, unaryOps, type BinaryName, type UnaryName } from "../../src/ops/index.js";
import { numel, type Meta, type Rng } from "./graph.js";
import { broadcast, magnitude, maxDim, meta, operand, partnerShape, randomShape, scalar, within, type Interval, type OpDef } from "./pool.js";

type Range = (lo: number, hi: number) => Interval;
const mono = (f: (x: number) => number): Range => (lo, hi) => [f(lo), f(hi)];
const unit: Range = () => [-1, 1];
const ALL: Interval = [-Infinity, Infinity];

/** domain: where inputs must lie; savesOut: the op saves its output, so it may not be written in place. */
/** geluGrad is gelu's backward, not a Tensor method: the fuzzer reaches it through gelu's gradient. */
type MethodName = Exclude<UnaryName, "geluGrad">;
const unaryFuzz: Record<MethodName, { domain?: Interval; range: Range; savesOut: boolean }> = {
  neg: { range: (lo, hi) => [-hi, -lo], savesOut: false },
  abs: { range: (lo, hi) => [lo >= 0 ? lo : hi <= 0 ? -hi : 0, Math.max(-lo, hi)], savesOut: false },
  sign: { range: unit, savesOut: false },
  relu: { range: (lo, hi) => [Math.max(lo, 0), Math.max(hi, 0)], savesOut: true },
  exp: { domain: [-Infinity, 4], range: mono(Math.exp), savesOut: true },
  log: { domain: [0.1, Infinity], range: mono(Math.log), savesOut: false },
  sqrt: { domain: [0.1, Infinity], range: mono(Math.sqrt), savesOut: true },
  tanh: { range: mono(Math.tanh), savesOut: true },
  sigmoid: { range: mono((x) => 1 / (1 + Math.exp(-x))), savesOut: true },
  erf: { range: unit, savesOut: false },
  // WGSL bounds sin/cos errors (absolute, 2^-11) on [-π, π] only.
  sin: { domain: [-Math.PI, Math.PI], range: unit, savesOut: false },
  cos: { domain: [-Math.PI, Math.PI], range: unit, savesOut: false },
  // silu dips to -0.2785 (at x ≈ -1.278) between its ends; softplus rises monotonically.
  silu: { domain: [-8, 8], range: (lo, hi) => [-0.2785, Math.max(0, hi / (1 + Math.exp(-hi)))], savesOut: false },
  softplus: { domain: [-8, 8], range: mono((x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))), savesOut: false },
  // gelu dips to -0.1700 (at x ≈ -0.7518); its derivative lies in [-0.1289, 1.1289].
  gelu: { domain: [-8, 8], range: (lo, hi) => [-0.17, Math.max(0, hi)], savesOut: false },
  // issue 12 part A: domains as log and sqrt (1 + x ≥ 0.1, x ≥ 0.1), exp of at most 4; floor, ceil and round step like sign.
  rsqrt: { domain: [0.1, Infinity], range: (lo, hi) => [1 / Math.sqrt(hi), 1 / Math.sqrt(lo)], savesOut: true },
  log1p: { domain: [-0.9, Infinity], range: mono(Math.log1p), savesOut: false },
  expm1: { domain: [-Infinity, 4], range: mono(Math.expm1), savesOut: true },
  floor: { range: mono(Math.floor), savesOut: false },
  ceil: { range: mono(Math.ceil), savesOut: false },
  round: { range: mono(Math.round), savesOut: false },
};

/**
 * Error a conforming WebGPU implementation may add, as an absolute bound on
 * outputs of magnitude ≤ 1, where WGSL allows more than float32 rounding: sin
 * and cos are only required to be within 2^-11 (SwiftShader is off by 1.7e-4
 * at sin(1.47)). Ops not listed are held to TOLERANCE.
 */
export const PRECISION: Partial<Record<string, number>> = { sin: 2 ** -11, cos: 2 ** -11 };

const corners = (f: (a: number, b: number) => number) => (a: Interval, b: Interval): Interval => {
  const v = [f(a[0], b[0]), f(a[0], b[1]), f(a[1], b[0]), f(a[1], b[1])];
  return [Math.min(...v), Math.max(...v)];
};
const mask = (): Interval => [0, 1];
const away = (i: Interval) => i[0] >= 0.25 || i[1] <= -0.25;
const inside = (d: Interval) => (i: Interval) => i[0] >= d[0] && i[1] <= d[1];

const binaryFuzz: Record<BinaryName, { a?: (i: Interval) => boolean; b?: (i: Interval) => boolean; range: (a: Interval, b: Interval) => Interval }> = {
  add: { range: (a, b) => [a[0] + b[0], a[1] + b[1]] },
  sub: { range: (a, b) => [a[0] - b[1], a[1] - b[0]] },
  mul: { range: corners((x, y) => x * y) },
  div: { b: away, range: (a, b) => corners((x, y) => x * y)(a, [1 / b[1], 1 / b[0]]) },
  pow: { a: inside([0.1, 8]), b: inside([-2, 2]), range: corners(Math.pow) },
  maximum: { range: corners(Math.max) },
  minimum: { range: corners(Math.min) },
  eq: { range: mask }, ne: { range: mask }, gt: { range: mask }, ge: { range: mask }, lt: { range: mask }, le: { range: mask },
};

const ref = (i: number) => ({ ref: i });
const float = (m: Meta) => m.dtype === "float32";

function unary(name: MethodName): OpDef {
  const f = unaryFuzz[name];
  const ints = "ints" in unaryOps[name];
  const ok = (m: Meta) => (float(m) || ints) && within(m, f.domain ?? ALL);
  return {
    pick: (r, pool) => {
      const x = pool.choose(ok) ?? (f.domain ? operand(r, pool, randomShape(r, pool.maxNumel), "float32", inside(f.domain)) : null);
      return x ? { ins: [x], p: {} } : null;
    },
    infer: ([x]) => (ok(x) ? meta(x.shape, x.dtype, f.range(x.lo, x.hi), x.grad, !f.savesOut, x.exact && ["neg", "abs", "relu", "sign"].includes(name)) : null),
    call: () => ({ on: 0, fn: name, args: [] }),
  };
}

function binary(name: BinaryName): OpDef {
  const f = binaryFuzz[name];
  const d = binaryOps[name] as { ints?: boolean; compare?: boolean };
  const okA = (m: Meta) => (float(m) || !!d.ints) && (f.a ?? (() => true))([m.lo, m.hi]);
  const okB = f.b ?? (() => true);
  return {
    pick: (r, pool) => {
      const a = pool.choose(okA) ?? operand(r, pool, randomShape(r, pool.maxNumel), "float32", f.a);
      if (!a) return null;
      const am = pool.meta(a);
      if (r.chance(0.25)) {
        const value = scalar(r, okB([-2, 2]) || am.dtype === "int32" ? [-2, 2] : [0.25, 2], am.dtype);
        return { ins: [a], p: { scalar: value } };
      }
      const b = operand(r, pool, partnerShape(r, am.shape), am.dtype, okB);
      if (!b) return null;
      const swap = !f.a && !f.b && r.chance(0.3);
      return { ins: swap ? [b, a] : [a, b], p: {} };
    },
    infer: (ins, p) => {
      const [a, b] = ins;
      const bi: Interval = b ? [b.lo, b.hi] : [p.scalar as number, p.scalar as number];
      const shape = b ? broadcast(a.shape, b.shape) : a.shape;
      if (!shape || !okA(a) || !okB(bi) || (b && b.dtype !== a.dtype) || (b && !(f.a ?? (() => true))([a.lo, a.hi]))) return null;
      const exact = a.exact && (b?.exact ?? true) && ["add", "sub", "maximum", "minimum", "eq", "ne", "gt", "ge", "lt", "le"].includes(name);
      const dtype = d.compare ? "float32" : a.dtype;
      // pow saves its output (for the exponent's gradient), so it may not be written in place.
      return meta(shape, dtype, f.range([a.lo, a.hi], bi), !d.compare && (a.grad || !!b?.grad), name !== "pow", exact || !!d.compare);
    },
    call: (p, n) => ({ on: 0, fn: name, args: [n > 1 ? ref(1) : (p.scalar as number)] }),
  };
}

const where: OpDef = {
  pick: (r, pool) => {
    const a = pool.choose(float);
    if (!a) return null;
    const shape = pool.meta(a).shape;
    const cond = pool.choose((m) => float(m) && m.exact && broadcast(m.shape, shape) !== null) ?? pool.leaf(partnerShape(r, shape), "float32", 0, 1, false);
    const b = operand(r, pool, partnerShape(r, shape), "float32");
    return b ? { ins: [cond, a, b], p: {} } : null;
  },
  infer: ([c, a, b]) => {
    const ab = broadcast(a.shape, b.shape);
    const shape = ab && broadcast(c.shape, ab);
    if (!shape || !c.exact || !float(c) || !float(a) || !float(b)) return null;
    return meta(shape, "float32", [Math.min(a.lo, b.lo), Math.max(a.hi, b.hi)], a.grad || b.grad, true, a.exact && b.exact);
  },
  call: () => ({ on: null, fn: "where", args: [ref(0), ref(1), ref(2)] }),
};

/** int32 → float32, or float32 → int32 for values computed without rounding (truncation would amplify a rounding difference). */
const cast = (to: "float32" | "int32"): OpDef => ({
  pick: (r, pool) => {
    const x = pool.choose((m) => m.dtype !== to && (to === "float32" || m.exact));
    return x ? { ins: [x], p: {} } : null;
  },
  infer: ([x]) => (x.dtype === to || (to === "int32" && !x.exact) ? null : meta(x.shape, to, [Math.trunc(x.lo), Math.trunc(x.hi)], false, true, true)),
  call: () => ({ on: 0, fn: to === "float32" ? "float" : "int", args: [] }),
});

/** Reduced dims as passed (a number, an array, or undefined for all), possibly negative. */
function drawDims(r: Rng, rank: number, single: boolean): number | number[] | undefined {
  if (rank === 0) return r.pick([undefined, 0, -1]); // PyTorch takes dim 0 or -1 on a 0-d tensor
  if (r.chance(0.2)) return undefined;
  const neg = (d: number) => (r.chance(0.3) ? d - rank : d);
  if (single || r.chance(0.4)) return neg(r.int(0, rank - 1));
  const dims = r.shuffle([...Array(rank).keys()]).slice(0, r.int(1, rank));
  return dims.map(neg);
}

function reducedDims(shape: readonly number[], dims: number | number[] | undefined): number[] | null {
  if (dims === undefined) return shape.map((_, i) => i);
  const list = (typeof dims === "number" ? [dims] : dims).map((d) => (d < 0 ? d + Math.max(shape.length, 1) : d));
  if (list.some((d) => d < 0 || d >= Math.max(shape.length, 1)) || new Set(list).size !== list.length) return null;
  return shape.length === 0 ? [] : list;
}

type ReduceName = "sum" | "mean" | "max" | "min" | "argmax" | "argmin";
function reduction(name: ReduceName): OpDef {
  const isArg = name.startsWith("arg");
  return {
    pick: (r, pool) => {
      const x = pool.choose((m) => name === "sum" || float(m) || isArg || name === "max" || name === "min");
      if (!x) return null;
      return { ins: [x], p: { dims: drawDims(r, pool.meta(x).shape.length, isArg), keepdim: r.chance(0.4) } };
    },
    infer: ([x], p) => {
      const dims = reducedDims(x.shape, p.dims as number | number[] | undefined);
      if (!dims || (name === "mean" && !float(x)) || (isArg && Array.isArray(p.dims))) return null;
      const n = numel(dims.map((d) => x.shape[d]));
      const keep = !!p.keepdim && (p.dims !== undefined || !isArg);
      const shape = keep ? x.shape.map((s, i) => (dims.includes(i) ? 1 : s)) : x.shape.filter((_, i) => !dims.includes(i));
      // mean of nothing is NaN; an extreme of nothing is an error (PyTorch's too).
      if ((name === "mean" && n === 0 && numel(shape) > 0) || ((name === "max" || name === "min" || isArg) && dims.some((d) => x.shape[d] === 0))) return null;
      if (isArg) return meta(shape, "int32", [0, Math.max(n - 1, 0)], false, true, true);
      const range: Interval = name === "sum" ? [n * x.lo, n * x.hi] : [x.lo, x.hi];
      return meta(shape, x.dtype, range, x.grad, (name === "sum" || name === "mean") && x.shape.length > 0, x.exact && name !== "mean" && name !== "sum");
    },
    call: (p) => ({ on: 0, fn: name, args: [p.dims as number | number[] | undefined, p.keepdim ? true : undefined] }),
  };
}

/** torch.matmul's output shape, or null when the operands do not fit. */
export function matmulShape(a: readonly number[], b: readonly number[]): number[] | null {
  if (!a.length || !b.length) return null;
  const A = a.length === 1 ? [1, a[0]] : a;
  const B = b.length === 1 ? [b[0], 1] : b;
  if (A[A.length - 1] !== B[B.length - 2]) return null;
  const batch = broadcast(A.slice(0, -2), B.slice(0, -2));
  if (!batch) return null;
  return [...batch, ...(a.length > 1 ? [A[A.length - 2]] : []), ...(b.length > 1 ? [B[B.length - 1]] : [])];
}

const matmul: OpDef = {
  pick: (r, pool) => {
    const a = pool.choose((m) => float(m) && m.shape.length > 0);
    if (!a) return null;
    const as = pool.meta(a).shape;
    const K = as[as.length - 1];
    const N = r.int(1, maxDim(pool.maxNumel));
    const kind = r.int(0, 2);
    const bs = kind === 0 ? [K] : kind === 1 ? [K, N] : [...partnerShape(r, as.slice(0, -2)).slice(-2), K, N];
    const b = operand(r, pool, bs, "float32");
    return b ? { ins: [a, b], p: {} } : null;
  },
  infer: ([a, b]) => {
    const shape = matmulShape(a.shape, b.shape);
    if (!shape || !float(a) || !float(b)) return null;
    const K = a.shape[a.shape.length - 1];
    const m = K * magnitude(a) * magnitude(b);
    // Known limitation: with a 1-D operand webgrad returns a squeezed view of the product, and in-place ops on
    // views refuse to take part in autograd, where PyTorch's matmul returns a tensor of its own (mv, dot).
    return meta(shape, "float32", [-m, m], a.grad || b.grad, a.shape.length > 1 && b.shape.length > 1, false);
  },
  call: () => ({ on: 0, fn: "matmul", args: [ref(1)] }),
};

function softmax(log: boolean): OpDef {
  return {
    pick: (r, pool) => {
      const x = pool.choose(float);
      if (!x) return null;
      const rank = Math.max(pool.meta(x).shape.length, 1); // a 0-d tensor takes dim 0 or -1
      return { ins: [x], p: { dim: r.int(-rank, rank - 1) } };
    },
    infer: ([x], p) => {
      const rank = Math.max(x.shape.length, 1);
      const dim = p.dim as number;
      if (!float(x) || dim < -rank || dim >= rank) return null;
      const n = x.shape.length ? x.shape[dim < 0 ? dim + rank : dim] : 1;
      const spread = x.hi - x.lo;
      const range: Interval = log ? [-spread - Math.log(Math.max(n, 1)), 0] : [1 / (1 + (n - 1) * Math.exp(spread)), 1];
      return meta(x.shape, "float32", range, x.grad, false, false);
    },
    call: (p) => ({ on: 0, fn: log ? "logSoftmax" : "softmax", args: [p.dim as number] }),
  };
}

export const valueOps: Record<string, OpDef> = {
  ...Object.fromEntries((Object.keys(unaryFuzz) as MethodName[]).map((n) => [n, unary(n)])),
  ...Object.fromEntries((Object.keys(binaryOps) as BinaryName[]).map((n) => [n, binary(n)])),
  where, float: cast("float32"), int: cast("int32"),
  sum: reduction("sum"), mean: reduction("mean"), max: reduction("max"), min: reduction("min"),
  argmax: reduction("argmax"), argmin: reduction("argmin"),
  matmul, softmax: softmax(false), logSoftmax: softmax(true),
};

