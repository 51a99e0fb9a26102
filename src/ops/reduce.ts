/** Reductions over any set of dims: sum, max, min (values), argmax, argmin (int32 indices); mean is sum · 1/n. */
import template from "../../shaders/reduce.wgsl";
import templateVec4 from "../../shaders/reduce-vec4.wgsl";
import type { GpuCaps, GpuLaunch, Kernel, View } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { checkIndexable, fmt, isContiguous, normalizeDims, numel, stridedOffsets } from "../shape.js";
import { specialize, uniformLayout } from "../engine/wgsl.js";
import { apply, type Primitive } from "./primitive.js";
import { collapse, where } from "./elementwise.js";
import { restoreDims } from "./layout.js";
import type { Tensor } from "../tensor.js";

const OPS = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4, prod: 5 } as const;
type ReduceName = keyof typeof OPS;
interface Attrs {
  op: ReduceName;
  dims: number[]; // sorted, non-negative
  keepdim: boolean;
  inShape: readonly number[];
}

/** The input seen as [outer kept elements] × [inner reduced elements], each group with merged strides. */
function split(x: View, dims: number[]) {
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const o = collapse(kept.map((i) => x.shape[i]), [kept.map((i) => x.strides[i])]);
  const r = collapse(dims.map((i) => x.shape[i]), [dims.map((i) => x.strides[i])]);
  return { outer: numel(o.shape), inner: numel(r.shape), o: { shape: o.shape, strides: o.strides[0] }, r: { shape: r.shape, strides: r.strides[0] } };
}

function identity(op: ReduceName, dtype: DType): number {
  if (op === "sum") return 0;
  if (op === "prod") return 1;
  const low = op === "max" || op === "argmax";
  if (dtype === "int32") return low ? -2147483648 : 2147483647;
  return low ? -Infinity : Infinity;
}

/** One kernel object per reduction, so profiles and errors name the op. */
const reduceParams = uniformLayout(template);
const reduceKernel = (name: ReduceName): Kernel<Attrs> => ({
  name,
  // The anchors in shaders/reduce.wgsl where the scheduler fuses producers of x (engine/prologue.ts).
  prologue: {
    load: "fn load_x(i: u32) -> T { return x[i]; }",
    bindings: "@group(0) @binding(0) var<storage, read> x: array<T>;\n@group(0) @binding(1) var<storage, read_write> out: array<O>;\n@group(0) @binding(2) var<uniform> p: Params;",
    paramsEnd: "  stride_i: array<vec4<u32>, 2>,\n}",
  },
  // ... and consumers of its result (both reduce.wgsl and reduce-vec4.wgsl store through store_out).
  epilogue: {
    store: "fn store_out(i: u32, v: O) { out[i] = v; }",
    bindings: "@group(0) @binding(1) var<storage, read_write> out: array<O>;\n@group(0) @binding(2) var<uniform> p: Params;",
    paramsEnd: "  stride_i: array<vec4<u32>, 2>,\n}",
  },
  // A float sum over leading dims of a dense input (a bias gradient), which a matmul reading the input transposed can compute beside its product.
  columnSums: ([out], [x], { op, dims }) =>
    op === "sum" && x.dtype === "float32" && out.dtype === "float32" && isContiguous(x.shape, x.strides) && dims.length > 0 && dims.every((d, i) => d === i),
  cpu([out], [x], { op, dims }) {
    const { o, r } = split(x, dims);
    const outerOffs = stridedOffsets(o.shape, o.strides, x.offset);
    const innerOffs = stridedOffsets(r.shape, r.strides, 0);
    const xd = x.data;
    for (let i = 0; i < outerOffs.length; i++) {
      const base = outerOffs[i];
      let acc = identity(op, x.dtype);
      let at = -1;
      for (let j = 0; j < innerOffs.length; j++) {
        const v = xd[base + innerOffs[j]];
        if (op === "sum") acc += v;
        else if (op === "prod") acc *= v;
        else if (op === "max") acc = v > acc || Number.isNaN(v) ? v : acc;
        else if (op === "min") acc = v < acc || Number.isNaN(v) ? v : acc;
        else if (Number.isNaN(acc)) break; // the first NaN is the answer, as in PyTorch
        else if (at < 0 || Number.isNaN(v) || (op === "argmax" ? v > acc : v < acc)) {
          acc = v;
          at = j;
        }
      }
      out.data[i] = op === "argmax" || op === "argmin" ? at : acc;
    }
  },
  webgpu([out], [x], { op, dims }, caps) {
    const { outer, inner, o, r } = split(x, dims);
    if (o.shape.length > 8 || r.shape.length > 8)
      throw new Error(`${op}: webgpu reductions address at most 8 non-contiguous dims; got shape ${fmt(x.shape)}.`);
    const ident = new DataView(new ArrayBuffer(4));
    if (x.dtype === "int32") ident.setInt32(0, identity(op, x.dtype), true);
    else ident.setFloat32(0, identity(op, x.dtype), true);
    const params = reduceParams.pack({
      outer, inner, offset: x.offset, rank_o: o.shape.length, rank_i: r.shape.length, ident: ident.getUint32(0, true),
      shape_o: o.shape, stride_o: o.strides, shape_i: r.shape, stride_i: r.strides,
    });
    // One workgroup per output pays off when each output folds many elements; emulators prefer no barriers.
    const forced = caps.force?.reduce;
    const perRow = forced ? forced === "rows" || forced === "rows-strided" : inner >= (caps.emulated ? 4096 : 256) || outer < 64;
    const t = x.dtype === "int32" ? "i32" : "f32";
    const ot = out.dtype === "int32" ? "i32" : "f32";
    if (columnsOfVec4(x, op, o, r, outer, caps)) {
      const columns: GpuLaunch = {
        key: `reduce-vec4:${t}:${OPS[op]}:columns`,
        code: () => specialize(op, templateVec4, [["alias T = f32;", `alias T = ${t};`]]),
        entryPoint: "columns",
        constants: { WG: 64, OP: OPS[op] },
        params,
        workgroups: Math.ceil(outer / 256),
      };
      return columns;
    }
    if (!perRow && rowsOfVec4(x, op, o, r, inner, caps)) {
      const vec4: GpuLaunch = {
        key: `reduce-vec4:${t}:${OPS[op]}`,
        code: () => specialize(op, templateVec4, [["alias T = f32;", `alias T = ${t};`]]),
        constants: { WG: 64, OP: OPS[op] },
        params, // reduce-vec4.wgsl declares the same Params struct as reduce.wgsl
        workgroups: Math.ceil(outer / 64),
      };
      return vec4;
    }
    // An emulator runs a workgroup barrier by switching every invocation out and in: one SIMD group
    // of 4 per output, each folding a contiguous run. A sum of [64, 32, 28, 28] over (0, 2, 3) on
    // SwiftShader (2 cores loaded by other jobs, readback included): 1.3-2.1 s with 256 strided
    // invocations, 0.44-0.56 s with the uniform arrays indexed in place, 0.05-0.06 s chunked.
    const chunked = perRow && caps.emulated && forced !== "rows-strided";
    const wg = perRow ? (chunked ? 4 : Math.min(256, caps.maxWorkgroupSize)) : 64;
    return {
      key: `reduce:${t}:${ot}:${wg}:${OPS[op]}${chunked ? ":chunked" : ""}`,
      code: () => specialize(op, template, [["alias T = f32;", `alias T = ${t};`], ["alias O = f32;", `alias O = ${ot};`]]),
      entryPoint: perRow ? "rows" : "threads",
      constants: { WG: wg, OP: OPS[op], T_FLOAT: t === "f32" ? 1 : 0, CHUNKED: chunked ? 1 : 0 },
      params,
      workgroups: perRow ? outer : Math.ceil(outer / wg),
    };
  },
});

/**
 * The vec4 variant of `threads` (shaders/reduce-vec4.wgsl): on emulators (or forced, reduce=vec4)
 * when the op folds values and the reduced dim is one dense dim whose rows start and end on vec4
 * boundaries. Measured on SwiftShader only: on a GPU the per-output loop reads rows far apart.
 */
function rowsOfVec4(x: View, op: ReduceName, o: { strides: readonly number[] }, r: { shape: readonly number[]; strides: readonly number[] }, inner: number, caps: GpuCaps): boolean {
  if (caps.scalarLoads) return false;
  const wanted = caps.force?.reduce ? caps.force.reduce === "vec4" : caps.emulated;
  return wanted && OPS[op] <= 2 && r.shape.length === 1 && r.strides[0] === 1 && inner % 4 === 0 && x.offset % 4 === 0 && o.strides.every((s) => s % 4 === 0);
}

/**
 * The `columns` entry of shaders/reduce-vec4.wgsl: on emulators (or forced, reduce=columns) a sum
 * over one dim whose outputs lie side by side in each reduced row, four per invocation ([R, C]
 * over dim 0 with C a multiple of 4, and batched [B, R, C] over dim 1), with at least 64 outputs.
 * Sums only: max and min keep the scalar kernels' NaN rule. Measured on SwiftShader only.
 */
function columnsOfVec4(x: View, op: ReduceName, o: { shape: readonly number[]; strides: readonly number[] }, r: { shape: readonly number[]; strides: readonly number[] }, outer: number, caps: GpuCaps): boolean {
  if (caps.scalarLoads || op !== "sum") return false;
  const forced = caps.force?.reduce;
  if (forced ? forced !== "columns" : !caps.emulated || outer < 64) return false;
  const last = o.shape.length - 1;
  return (
    last >= 0 && r.shape.length === 1 && r.strides[0] % 4 === 0 && o.strides[last] === 1 && o.shape[last] % 4 === 0 &&
    x.offset % 4 === 0 && o.strides.every((s, d) => d === last || s % 4 === 0)
  );
}

/** The reduced dims; a 0-d tensor accepts dim 0 or -1 (as PyTorch) and has none to reduce. */
const reducedDims = (op: string, dim: number | number[] | undefined, x: Tensor): number[] =>
  normalizeDims(op, dim, x.shape).filter((d) => d < x.ndim);

function outShape(x: Tensor, dims: number[], keepdim: boolean): number[] {
  return keepdim ? x.shape.map((s, i) => (dims.includes(i) ? 1 : s)) : x.shape.filter((_, i) => !dims.includes(i));
}

const prims: Record<ReduceName, Primitive<Attrs>> = {
  sum: {
    name: "sum",
    infer: ([x], a) => ({ shape: outShape(x, a.dims, a.keepdim), dtype: x.dtype }),
    kernel: reduceKernel("sum"),
    grads: [(g, _s, a) => restoreDims(g, a.inShape, a.dims, a.keepdim)],
    docs: ["d Σx/dx = 1: g expanded back over the summed dims"],
  },
  max: minMax("max"),
  min: minMax("min"),
  argmax: argPrim("argmax"),
  argmin: argPrim("argmin"),
  prod: {
    name: "prod",
    infer: ([x], a) => ({ shape: outShape(x, a.dims, a.keepdim), dtype: x.dtype }),
    kernel: reduceKernel("prod"),
    save: ([x], y) => [x, y],
    grads: [prodGrad],
    docs: ["d Πx/dxᵢ = Π_{j≠i} xⱼ: y/xᵢ where no zero, the others' product at a lone zero, else 0"],
  },
};

/** An extreme of no elements has no value; as PyTorch, only the reduced dims must be non-empty ([0, 3].max(1) is [0]). */
function emptyCheck(op: string, x: Tensor, dims: number[]): void {
  if (dims.some((d) => x.shape[d] === 0))
    throw new Error(`${op}: cannot reduce an empty tensor of shape ${fmt(x.shape)} over dims ${fmt(dims)} (a dim of size 0). Fix: reduce over non-empty dims, or use sum.`);
}

// PyTorch's rule, zeros included: y/x is exact away from zeros; at the one zero of a group the gradient
// is the product of the others (a second zero makes it 0); elsewhere in a group with a zero, y = 0 gives 0.
function prodGrad(g: Tensor, [x, y]: Tensor[], a: Attrs): Tensor {
  const zero = x.eq(0);
  const rest = where(zero, 1, x);
  const lone = zero.sum(a.dims, true).eq(1);
  const others = where(lone, reduce("prod", rest, a.dims, true), 0);
  const local = where(zero, others, restoreDims(y, x.shape, a.dims, a.keepdim).div(rest));
  return local.mul(restoreDims(g, x.shape, a.dims, a.keepdim));
}

// max/min route the gradient evenly to every element that attains the extreme.
function minMax(op: "max" | "min"): Primitive<Attrs> {
  return {
    name: op,
    infer([x], a) {
      emptyCheck(op, x, a.dims);
      return { shape: outShape(x, a.dims, a.keepdim), dtype: x.dtype };
    },
    kernel: reduceKernel(op),
    save: ([x], y) => [x, y],
    grads: [
      (g, [x, y], a) => {
        const hit = x.eq(restoreDims(y, x.shape, a.dims, a.keepdim));
        const count = hit.sum(a.dims, true);
        return hit.div(count).mul(restoreDims(g, x.shape, a.dims, a.keepdim));
      },
    ],
    docs: [`d ${op}(x)/dx = 1/k at each of the k elements equal to the ${op}, else 0`],
  };
}

function argPrim(op: "argmax" | "argmin"): Primitive<Attrs> {
  return {
    name: op,
    infer([x], a) {
      emptyCheck(op, x, a.dims);
      return { shape: outShape(x, a.dims, a.keepdim), dtype: "int32" };
    },
    kernel: reduceKernel(op),
    grads: [null],
    docs: [null], // an index is flat: no gradient
  };
}

/**
 * Reduces `x` with sum, max, min or prod over `dim` (a dim, negative counts from the end, or an array; every dim when
 * omitted); `keepdim` keeps the reduced dims as size 1. The dtype stays (int32 sums in int32). max/min return the
 * values only (PyTorch's dim overload returns (values, indices): use argmax/argmin), propagate NaN, and reject a
 * reduced dim of size 0. Differentiable: max/min share the gradient evenly among ties; prod handles zeros as PyTorch.
 *
 * PyTorch: `torch.sum` / `torch.amax` / `torch.amin` / `torch.prod`.
 * @example wg.tensor([[1, 2], [3, 4]]).sum(1) // tensor([3, 7]), as reduce("sum", x, 1)
 */
export function reduce(op: "sum" | "max" | "min" | "prod", x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const dims = reducedDims(op, dim, x);
  // Only a 0-d x reduces over nothing; the result is still a new tensor, as PyTorch (x.sum().add_(1) leaves x).
  if (dims.length === 0) return x.clone();
  return apply(prims[op], [x], { op, dims, keepdim, inShape: x.shape });
}

/**
 * The mean over `dim` (a dim, negative, or an array; every dim when omitted), sum · 1/n; `keepdim` keeps the reduced
 * dims as size 1. Float tensors only (int32 is an Error, as PyTorch). Differentiable.
 *
 * PyTorch: `torch.mean`.
 * @example wg.tensor([[1, 2], [3, 4]]).mean(0) // tensor([2, 3])
 */
export function mean(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  if (x.dtype === "int32") throw new Error(`mean: needs a float tensor, got int32 of shape ${fmt(x.shape)}. Fix: x.float().mean().`);
  const dims = reducedDims("mean", dim, x);
  checkIndexable("mean", x.shape, "an input"); // before sum's own check, so the Error names mean
  const n = dims.reduce((k, d) => k * x.shape[d], 1);
  return reduce("sum", x, dims, keepdim).mul(1 / n);
}

/**
 * The int32 index of the max/min along one dim, or into the flattened tensor when `dim` is omitted (then `keepdim` is
 * ignored). Ties give the first index and a NaN counts as the extreme, as PyTorch. Not differentiable.
 *
 * PyTorch: `torch.argmax` / `torch.argmin` (int64 there).
 * @example wg.tensor([[1, 5], [3, 4]]).argmax(1) // int32 tensor([1, 1]), as argReduce("argmax", x, 1)
 */
export function argReduce(op: "argmax" | "argmin", x: Tensor, dim?: number, keepdim = false): Tensor {
  if (Array.isArray(dim)) throw new Error(`${op}: takes one dim (or none for the flattened tensor), got ${fmt(dim)}.`);
  const dims = reducedDims(op, dim, x);
  const keep = dim === undefined ? false : keepdim;
  return apply(prims[op], [x], { op, dims, keepdim: keep, inShape: x.shape });
}
