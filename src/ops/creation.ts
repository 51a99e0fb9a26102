/** Creation: from host data, constant fills, ranges, identity, and the counter-based RNG. */
import template from "../../shaders/fill.wgsl";
import type { Device, Kernel } from "../backend/backend.js";
import { INT32_MAX, INT32_MIN, checkDType, checkInt32, dtypeOfArray, typedArrayFor, type DType, type NestedList, type TypedArray } from "../dtype.js";
import { flattenNested, fmt, numel } from "../shape.js";
import { defaultDevice } from "../engine/device.js";
import { allocate, launch, upload } from "../engine/scheduler.js";
import { specialize, uniformLayout } from "../engine/wgsl.js";
import { scalarTensor } from "./constants.js";
import { copyKernel, describeValue } from "./layout.js";
import { Tensor } from "../tensor.js";

/**
 * Options every creation function takes (`wg.tensor`, `wg.zeros`, `wg.arange`, `wg.rand`, ...).
 *
 * PyTorch: the `dtype=`, `device=`, `requires_grad=` keyword arguments of `torch.tensor` and the factories.
 * @example wg.zeros([2, 3], { dtype: "int32", device: "cpu" })
 */
export interface CreateOptions<D extends DType = DType> {
  /** Element type: `"float32"` (the default), `"int32"`, or `"float64"` (CPU device only, for gradcheck); `*Like` functions default to the source's. */
  dtype?: D;
  /** Where the tensor lives; default `wg.defaultDevice()` (`*Like` functions: the source's device). */
  device?: Device;
  /** Make the result a leaf that records operations for `backward()` (float dtypes only). */
  requiresGrad?: boolean;
  /** `wg.tensor` only: the shape of a typed array or flat data (its element count must match); default 1-D. */
  shape?: number[];
}

function checkShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new Error(`${op}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}.`);
  return [...shape];
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * Creates a tensor from a number (a 0-d tensor), nested arrays (their shape), or a typed array (1-D, or `opts.shape`).
 * The dtype is float32 unless `opts.dtype` says otherwise, except an Int32Array gives int32; booleans become 0/1
 * float32 (PyTorch makes them bool). Copies the data; throws when the values do not fill the shape or an int32 value
 * is not a 32-bit integer.
 *
 * PyTorch: `torch.tensor`.
 * @example wg.tensor([[1, 2], [3, 4]]) // shape [2, 2], float32
 */
export function tensor<D extends DType = DType>(data: number | boolean | unknown[] | TypedArray, opts: CreateOptions<D> = {}): Tensor<D> {
  let flat: ArrayLike<number>;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    flat = data as TypedArray;
    shape = opts.shape ? checkShape("tensor", opts.shape) : [flat.length];
    dtype = opts.dtype ?? (dtypeOfArray(data as TypedArray) === "int32" ? "int32" : "float32");
  } else if (typeof data === "number" || typeof data === "boolean") {
    flat = [Number(data)];
    shape = opts.shape ? checkShape("tensor", opts.shape) : [];
    dtype = opts.dtype ?? "float32";
  } else if (Array.isArray(data)) {
    ({ flat, shape } = flattenNested(data));
    if (opts.shape) shape = checkShape("tensor", opts.shape);
    dtype = opts.dtype ?? "float32";
  } else {
    throw new Error(`tensor: expected a number, nested arrays or a typed array, got ${typeof data}.`);
  }
  if (numel(shape) !== flat.length)
    throw new Error(`tensor: ${flat.length} values do not fill shape ${fmt(shape)} (${numel(shape)} elements).`);
  const device = opts.device ?? defaultDevice();
  const values = typedArrayFor(checkDType("tensor", dtype), flat.length);
  if (dtype === "int32" && !(data instanceof Int32Array)) {
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (!(Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX)) checkInt32("tensor", v, `element ${i}`); // builds the message only on failure
    }
  }
  values.set(flat as ArrayLike<number>);
  const storage = allocate(device, dtype, values.length);
  upload(storage, values);
  return finish(new Tensor(storage, shape, dtype), opts) as Tensor<D>;
}

/**
 * A tensor of `shape` filled with `value` (float32 unless `opts.dtype`; an int32 fill value must be a 32-bit integer).
 *
 * PyTorch: `torch.full`.
 * @example wg.full([2, 2], 7) // tensor([[7, 7], [7, 7]])
 */
export function full<D extends DType = DType>(shape: readonly number[], value: number, opts: CreateOptions<D> = {}): Tensor<D> {
  return fill("full", shape, value, opts) as Tensor<D>;
}

/** full under the name of the function the user called, so its errors name that one. */
function fill(op: string, shape: readonly number[], value: number, opts: CreateOptions): Tensor {
  const dtype = checkDType(op, opts.dtype ?? "float32");
  const device = opts.device ?? defaultDevice();
  if (typeof value !== "number" && typeof value !== "boolean")
    throw new Error(`${op}: the fill value must be a number, got ${describeValue(value)}. Fix: full(shape, 1.5), or wg.tensor(...) for data.`);
  if (dtype === "int32") checkInt32(op, value, "the fill value");
  const out = Tensor.empty(checkShape(op, shape), dtype, device);
  if (out.size > 0) launch(device, copyKernel, [out], [scalarTensor(Number(value), dtype, device)], undefined);
  return finish(out, opts);
}

/**
 * A tensor of `shape` filled with 0 (float32 unless `opts.dtype`).
 *
 * PyTorch: `torch.zeros`.
 * @example wg.zeros([2, 3]) // tensor([[0, 0, 0], [0, 0, 0]])
 */
export const zeros = <D extends DType = DType>(shape: readonly number[], opts: CreateOptions<D> = {}) => fill("zeros", shape, 0, opts) as Tensor<D>;
/**
 * A tensor of `shape` filled with 1 (float32 unless `opts.dtype`).
 *
 * PyTorch: `torch.ones`.
 * @example wg.ones([3], { requiresGrad: true }) // tensor([1, 1, 1]), a leaf that records gradients
 */
export const ones = <D extends DType = DType>(shape: readonly number[], opts: CreateOptions<D> = {}) => fill("ones", shape, 1, opts) as Tensor<D>;
const like = (t: Tensor, opts: CreateOptions) => ({ dtype: t.dtype, device: t.device, ...opts });
/**
 * Zeros with `t`'s shape, dtype and device (each overridable in `opts`); `t` is not recorded by autograd.
 *
 * PyTorch: `torch.zeros_like`.
 * @example wg.zerosLike(x) // same shape, dtype and device as x, all 0
 */
export const zerosLike = (t: Tensor, opts: CreateOptions = {}) => fill("zerosLike", t.shape, 0, like(t, opts));
/**
 * Ones with `t`'s shape, dtype and device (each overridable in `opts`).
 *
 * PyTorch: `torch.ones_like`.
 * @example wg.onesLike(wg.tensor([5, 6])) // tensor([1, 1])
 */
export const onesLike = (t: Tensor, opts: CreateOptions = {}) => fill("onesLike", t.shape, 1, like(t, opts));
/**
 * `value` everywhere, with `t`'s shape, dtype and device (each overridable in `opts`).
 *
 * PyTorch: `torch.full_like`.
 * @example wg.fullLike(wg.ones([2]), 3) // tensor([3, 3])
 */
export const fullLike = (t: Tensor, value: number, opts: CreateOptions = {}) => fill("fullLike", t.shape, value, like(t, opts));

// ---- index-generated fills: arange, eye, rand, randn ----

interface FillAttrs {
  op: 0 | 1 | 2 | 3 | 4;
  start: number;
  step: number;
  cols: number;
  key: number;
}

/** lowbias32 (Wellons), the same integer hash as shaders/fill.wgsl. */
export function mix(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}
const bits = (i: number, key: number) => mix(((mix((i ^ key) >>> 0) + key) >>> 0));
const TWO_NEG24 = 2 ** -24;

const fillParams = uniformLayout(template);
const fillKernel: Kernel<FillAttrs> = {
  name: "fill",
  cpu([out], _ins, a) {
    const o = out.data;
    for (let i = 0; i < o.length; i++) {
      if (a.op === 0) o[i] = out.dtype === "int32" ? a.start + i * a.step : Math.fround(a.start + Math.fround(i * a.step));
      else if (a.op === 1) o[i] = Math.floor(i / a.cols) === i % a.cols ? 1 : 0;
      else if (a.op === 2) o[i] = (bits(i, a.key) >>> 8) * TWO_NEG24;
      else if (a.op === 4) o[i] = (a.start + (bits(i, a.key) % a.step)) | 0;
      else {
        const u1 = ((bits(2 * i, a.key) >>> 8) + 1) * TWO_NEG24;
        const u2 = (bits(2 * i + 1, a.key) >>> 8) * TWO_NEG24;
        o[i] = -Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * (u2 - 0.5));
      }
    }
  },
  webgpu([out], _ins, a) {
    const n = numel(out.shape);
    // start_i and step_i take the values as Int32Array would (ToInt32): arange into int32 passes whole numbers.
    const params = fillParams.pack({ n, cols: a.cols, key: a.key, start: a.start, step: a.step, start_i: a.start | 0, step_i: a.step | 0 });
    const type = out.dtype === "int32" ? "i32" : "f32";
    return {
      key: `fill:${type}:${a.op}`,
      code: () => specialize("fill", template, [["alias O = f32;", `alias O = ${type};`]]),
      constants: { WG: 256, OP: a.op, INT_OUT: type === "i32" ? 1 : 0 },
      params,
      workgroups: Math.ceil(n / 256),
    };
  },
};

function generate(op: string, shape: number[], attrs: FillAttrs, opts: CreateOptions): Tensor {
  const out = Tensor.empty(checkShape(op, shape), checkDType(op, opts.dtype ?? "float32"), opts.device ?? defaultDevice());
  if (out.size > 0) launch(out.device, fillKernel, [out], [], attrs);
  return finish(out, opts);
}

/**
 * `arange(end)` or `arange(start, end, step?)`: the 1-D run start, start + step, ... up to but not including `end`
 * (⌈(end − start) / step⌉ values; step defaults to 1 and may be negative or fractional). float32 unless
 * `opts.dtype` is `"int32"` (then start and step must be integers). A zero step, or one that moves away from `end`,
 * is an Error as in PyTorch.
 *
 * PyTorch: `torch.arange`.
 * @example wg.arange(4) // tensor([0, 1, 2, 3])
 */
export function arange<D extends DType = DType>(end: number, opts?: CreateOptions<D>): Tensor<D>;
/**
 * `arange(start, end, step?)`: start, start + step, ... up to but not including `end` (step defaults to 1; it may be
 * negative or fractional). float32 unless `opts.dtype` is `"int32"`.
 *
 * PyTorch: `torch.arange`.
 * @example wg.arange(1, 2, 0.25) // tensor([1, 1.25, 1.5, 1.75])
 */
export function arange<D extends DType = DType>(start: number, end: number, step?: number, opts?: CreateOptions<D>): Tensor<D>;
/**
 * `arange(start, end, opts)`: start, start + 1, ... up to but not including `end`.
 *
 * PyTorch: `torch.arange`.
 * @example wg.arange(2, 5, { dtype: "int32" }) // int32 tensor([2, 3, 4])
 */
export function arange<D extends DType = DType>(start: number, end: number, opts?: CreateOptions<D>): Tensor<D>;
export function arange(a: number, b?: number | CreateOptions, c?: number | CreateOptions, d?: CreateOptions): Tensor {
  const opts = [b, c, d].find((o): o is CreateOptions => typeof o === "object") ?? {};
  const step = typeof c === "number" ? c : 1;
  const [start, end] = typeof b === "number" ? [a, b] : [0, a];
  if (![start, end, step].every((v) => typeof v === "number" && Number.isFinite(v)))
    throw new Error(`arange: start, end and step must be finite numbers, got ${[start, end, step].map(String).join(", ")}.`);
  if (step === 0) throw new Error(`arange: step must be a non-zero finite number, got 0.`);
  if ((end - start) * step < 0)
    throw new Error(`arange: step ${step} moves away from end ${end} (start ${start}), as PyTorch refuses. Fix: arange(${start}, ${end}, ${-step}), or swap start and end.`);
  const n = Math.ceil((end - start) / step);
  if (opts.dtype === "int32") {
    if (![start, step].every(Number.isInteger)) throw new Error(`arange: int32 needs integer start and step.`);
    if (n > 0) [start, start + (n - 1) * step].forEach((v, i) => checkInt32("arange", v, i ? "the last value" : "start"));
  }
  return generate("arange", [n], { op: 0, start, step, cols: 1, key: 0 }, opts);
}

/**
 * The identity matrix [n, m] (m defaults to n): 1 on the main diagonal, 0 elsewhere; `eye(n, opts)` also works.
 *
 * PyTorch: `torch.eye`.
 * @example wg.eye(2, 3) // tensor([[1, 0, 0], [0, 1, 0]])
 */
export function eye<D extends DType = DType>(n: number, m: number | CreateOptions<D> = n, opts: CreateOptions<D> = {}): Tensor<D> {
  const cols = typeof m === "number" ? m : n;
  const o = typeof m === "object" ? m : opts;
  return generate("eye", [n, cols], { op: 1, start: 0, step: 0, cols: Math.max(cols, 1), key: 0 }, o) as Tensor<D>;
}

// The generator: a seed and a count of random calls so far. Each call hashes (index, key(seed, call)).
// It starts from a fixed state, so a program that never calls manualSeed draws the same numbers
// on every run (PyTorch's default seed is fixed too).
const rng = { seed: 0x2545f491, calls: 0 };

/**
 * Restarts the one random generator behind rand, randn, randint, bernoulli, multinomial, dropout and the nn
 * initializers. Same seed → same numbers on every device (uniforms bit for bit; normals to float32 rounding).
 * Seeds are 64-bit integers as in PyTorch: a negative seed is its two's complement (-1 is 2^64 - 1). The
 * numbers differ from PyTorch's for the same seed (a different generator).
 *
 * PyTorch: `torch.manual_seed`.
 * @example wg.manualSeed(42) // wg.rand([3]) now draws the same 3 numbers on every run
 */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < -(2 ** 63) || seed >= 2 ** 64)
    throw new Error(
      `manualSeed: seed must be an integer in [-2^63, 2^64), got ${seed}. Fix: pass an integer, e.g. Math.floor(seed).`,
    );
  const u = BigInt.asUintN(64, BigInt(seed));
  rng.seed = mix(Number(u & 0xffffffffn)) ^ mix(Number(u >> 32n));
  rng.calls = 0;
}

function nextKey(): number {
  rng.calls++;
  return mix((rng.seed ^ mix(Math.imul(rng.calls, 0x9e3779b9) >>> 0)) >>> 0);
}

function randomFill(op: string, kind: 2 | 3, shape: readonly number[], opts: CreateOptions): Tensor {
  if (opts.dtype === "int32") throw new Error(`${op}: random floats cannot be int32; omit dtype or use float32.`);
  return generate(op, [...shape], { op: kind, start: 0, step: 0, cols: 1, key: nextKey() }, opts);
}

/**
 * Independent uniform samples on [0, 1) with 24 random bits each (float32 only), from the generator that
 * `wg.manualSeed` restarts.
 *
 * PyTorch: `torch.rand`.
 * @example wg.rand([2, 3]) // shape [2, 3], values in [0, 1)
 */
export const rand = (shape: readonly number[], opts: CreateOptions = {}) => randomFill("rand", 2, shape, opts);
/**
 * Independent standard-normal samples (mean 0, variance 1; Box–Muller, float32 only), from the generator that
 * `wg.manualSeed` restarts.
 *
 * PyTorch: `torch.randn`.
 * @example wg.randn([64, 784]) // shape [64, 784]
 */
export const randn = (shape: readonly number[], opts: CreateOptions = {}) => randomFill("randn", 3, shape, opts);

/** The flat data of a tensor as nested arrays of its shape. */
export function nest(data: TypedArray, shape: readonly number[]): NestedList {
  if (shape.length === 0) return data[0];
  const build = (dim: number, off: number): NestedList[] => {
    const n = shape[dim];
    const stride = numel(shape.slice(dim + 1));
    return Array.from({ length: n }, (_, i) => (dim === shape.length - 1 ? data[off + i] : build(dim + 1, off + i * stride)));
  };
  return build(0, 0);
}

/** A copy on another device (a leaf; requiresGrad carries over from a leaf source). */
export async function toDevice(x: Tensor, device: Device): Promise<Tensor> {
  if (x.device === device) return x;
  const data = await x.data();
  return tensor(data, { shape: x.shape, dtype: x.dtype, device, requiresGrad: x.isLeaf && x.requiresGrad });
}

/**
 * Integers uniform on [low, high): low + (32 random bits mod (high - low)), exact on every device.
 * The modulo bias is below (high - low) / 2^32. int32 unless `opts.dtype` says float32 (PyTorch defaults to
 * int64); low and high are 32-bit integers with low < high. `low` is not optional, unlike PyTorch's overload.
 *
 * PyTorch: `torch.randint`.
 * @example wg.randint(0, 10, [3]) // int32 tensor of 3 values in 0..9
 */
export function randint<D extends DType = "int32">(low: number, high: number, shape: readonly number[], opts: CreateOptions<D> = {}): Tensor<D> {
  // high <= 2^31 - 1 keeps the range high - low below 2^32, so it fits the kernel's u32.
  if (![low, high].every(Number.isInteger) || low >= high || low < INT32_MIN || high > INT32_MAX)
    throw new Error(`randint: low and high must be integers in [-2^31, 2^31 - 1] with low < high, got low ${low}, high ${high}. Fix: randint(0, 10, [3]).`);
  return generate("randint", [...shape], { op: 4, start: low, step: high - low, cols: 1, key: nextKey() }, { dtype: "int32", ...opts }) as Tensor<D>;
}

/**
 * `steps` evenly spaced values from `start` to `end`, both included (float32 unless `opts.dtype`; int32 truncates
 * toward zero as PyTorch does). `steps` is required, as in PyTorch 1.13+; 0 gives an empty tensor, 1 gives [start].
 *
 * PyTorch: `torch.linspace`.
 * @example wg.linspace(0, 1, 5) // tensor([0, 0.25, 0.5, 0.75, 1])
 */
export function linspace<D extends DType = DType>(start: number, end: number, steps: number, opts: CreateOptions<D> = {}): Tensor<D> {
  if (![start, end].every((v) => typeof v === "number" && Number.isFinite(v)))
    throw new Error(`linspace: start and end must be finite numbers, got ${String(start)} and ${String(end)}.`);
  if (!Number.isInteger(steps) || steps < 0)
    throw new Error(`linspace: steps must be a non-negative integer, got ${String(steps)}. Fix: linspace(${start}, ${end}, 50).`);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  if (opts.dtype === "int32") {
    // torch computes in float and truncates toward zero; the int32 fill cannot, so cast from float32.
    const f = generate("linspace", [steps], { op: 0, start, step, cols: 1, key: 0 }, { ...opts, dtype: "float32", requiresGrad: false });
    const t = f.cast("int32");
    f.dispose();
    return t as Tensor<D>;
  }
  return generate("linspace", [steps], { op: 0, start, step, cols: 1, key: 0 }, opts) as Tensor<D>;
}
