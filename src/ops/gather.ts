/** gather along a dim with int32 indices (torch.gather), and its adjoint scatter-add. */
import template from "../../shaders/gather.wgsl";
import type { GpuLaunch, Kernel } from "../backend/backend.js";
import { contiguousStrides, fmt, normalizeDim, numel, stridedOffsets } from "../shape.js";
import { specialize, uniformLayout } from "../engine/wgsl.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import { tidy } from "../engine/scope.js";
import type { Tensor } from "../tensor.js";

interface Attrs {
  dim: number;
  xShape: readonly number[]; // the gathered-from shape (scatter's output shape)
  /** An index value that reads as 0 and gets no gradient (nllLoss's ignoreIndex); null: none. */
  ignore: number | null;
  /** The Error message for an out-of-range index k, the same on every device. */
  message: (k: number) => string;
}

/** The kernel addresses shapes through two vec4 blocks. */
const MAX_RANK = 8;

const gatherParams = uniformLayout(template);

function launch(op: string, entry: "gather" | "scatter_add", n: number, a: Attrs, iShape: readonly number[], dtype: string): GpuLaunch {
  if (a.xShape.length > MAX_RANK)
    throw new Error(
      `${op}: webgpu addresses at most ${MAX_RANK} dims, and input ${fmt(a.xShape)} with index ${fmt(iShape)} along dim ${a.dim} cannot be merged to fewer. ` +
        `Fix: reshape to ${MAX_RANK} dims or fewer, or run it on the CPU.`,
    );
  const params = gatherParams.pack({ n, rank: a.xShape.length, dim: a.dim, ignore: (a.ignore ?? 0) | 0, has_ignore: a.ignore === null ? 0 : 1, shape_x: a.xShape, shape_i: iShape });
  const t = dtype === "int32" ? "i32" : "f32";
  return {
    key: `gather:${t}`,
    code: () => specialize(op, template, [["alias T = f32;", `alias T = ${t};`]]),
    entryPoint: entry,
    params,
    workgroups: Math.ceil(n / 256),
    check: { idWord: gatherParams.word("check_id"), message: (bits) => a.message(bits | 0) },
  };
}

const inRange = (k: number, a: Attrs) => (k >= 0 && k < a.xShape[a.dim]) || k === a.ignore;

/** Coordinates → flat offsets helper for the CPU loops. */
const coords = (shape: readonly number[]) => {
  const strides = contiguousStrides(shape);
  return (flat: number, d: number) => Math.floor(flat / strides[d]) % shape[d];
};

const gatherKernel: Kernel<Attrs> = {
  name: "gather",
  cpu([out], [x, index], a) {
    const xs = contiguousStrides(a.xShape);
    const coord = coords(index.shape);
    const io = stridedOffsets(index.shape, index.strides, index.offset);
    const xo = x.offset;
    for (let i = 0; i < out.data.length; i++) {
      const k = index.data[io[i]];
      if (!inRange(k, a)) throw new Error(a.message(k));
      if (k === a.ignore) {
        out.data[i] = 0;
        continue;
      }
      let off = xo;
      for (let d = 0; d < index.shape.length; d++) off += (d === a.dim ? k : coord(i, d)) * xs[d];
      out.data[i] = x.data[off];
    }
  },
  webgpu([out], [, index], a) {
    return launch("gather", "gather", numel(out.shape), a, index.shape, out.dtype);
  },
};

const scatterKernel: Kernel<Attrs> = {
  name: "scatterAdd",
  cpu([out], [src, index], a) {
    const outStrides = contiguousStrides(a.xShape);
    const coord = coords(index.shape);
    const io = stridedOffsets(index.shape, index.strides, index.offset);
    const so = stridedOffsets(src.shape, src.strides, src.offset);
    out.data.fill(0);
    for (let i = 0; i < io.length; i++) {
      const k = index.data[io[i]];
      if (!inRange(k, a)) throw new Error(a.message(k));
      if (k === a.ignore) continue;
      let off = 0;
      for (let d = 0; d < index.shape.length; d++) off += (d === a.dim ? k : coord(i, d)) * outStrides[d];
      out.data[off] += src.data[so[i]];
    }
  },
  webgpu([out], [, index], a) {
    return launch("scatterAdd", "scatter_add", numel(out.shape), a, index.shape, out.dtype);
  },
};

const gatherPrim: Primitive<Attrs> = {
  name: "gather",
  infer: ([x, index]) => ({ shape: index.shape, dtype: x.dtype }),
  kernel: gatherKernel,
  save: ([, index]) => [index],
  grads: [(g, [index], a) => scatterAdd(g, index, a), null],
  docs: ["d gather(x, i)/dx: g added into x's shape at the gathered indices (scatter-add)", null],
};

const scatterPrim: Primitive<Attrs> = {
  name: "scatterAdd",
  infer: (_ins, a) => ({ shape: [...a.xShape], dtype: _ins[0].dtype }),
  kernel: scatterKernel,
  save: ([, index]) => [index],
  grads: [(g, [index], a) => apply(gatherPrim, [dense(g), index], a), null],
  docs: ["d scatterAdd(s, i)/ds: g gathered back at the indices", null],
};

function scatterAdd(src: Tensor, index: Tensor, a: Attrs): Tensor {
  return apply(scatterPrim, [dense(src), index], a);
}

/**
 * Merge runs of dims (none of them `dim`) whose inner dim has the same extent in x and index: the
 * merged coordinate c_i·n + c_j is then the same in both, so gather is unchanged (keeps rank ≤ 8 on WebGPU).
 */
function mergeDims(xs: readonly number[], is: readonly number[], dim: number) {
  const x: number[] = [], i: number[] = [];
  let d = -1;
  xs.forEach((n, k) => {
    const last = x.length - 1;
    if (k !== dim && last >= 0 && last !== d && n === is[k]) {
      x[last] *= n;
      i[last] *= is[k];
      return;
    }
    if (k === dim) d = x.length;
    x.push(n);
    i.push(is[k]);
  });
  return { x, i, d };
}

const rangeMessage = (x: readonly number[], dim: number) => (k: number) =>
  `gather: index ${k} is out of range for dim ${dim} of size ${x[dim]} (input ${fmt(x)}): valid indices are 0 to ${x[dim] - 1}. ` +
  `Fix: keep every index in [0, ${x[dim]}).`;

/**
 * The gather primitive with a reporting name and message (nllLoss names itself and its labels) and an
 * optional ignored index value. Inputs of rank > 8 are first reshaped to fewer dims where possible.
 */
export function gatherIndexed(x: Tensor, d: number, index: Tensor, ignore: number | null, message: (k: number) => string): Tensor {
  if (x.ndim > MAX_RANK) {
    const m = mergeDims(x.shape, index.shape, d);
    if (m.x.length < x.ndim) return gatherIndexed(x.reshape(m.x), m.d, index.reshape(m.i), ignore, message).reshape(index.shape);
  }
  return apply(gatherPrim, [dense(x), dense(index)], { dim: d, xShape: x.shape, ignore, message });
}

/**
 * Picks values along `dim` by int32 indices: out[c] = x[c with c[dim] replaced by index[c]], so the output has
 * index's shape. index has x's rank and is no larger than x in every dim but `dim`. An index outside [0, size) is an
 * Error on every device (at the next sync point on WebGPU); negative indices are not wrapped, as PyTorch.
 * Differentiable in x (the gradient is scatter-added back).
 *
 * PyTorch: `torch.gather` (int64 index there).
 * @example wg.tensor([[1, 2], [3, 4]]).gather(1, wg.tensor([[0, 0], [1, 0]], { dtype: "int32" })) // tensor([[1, 1], [4, 3]])
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim("gather", dim, x.ndim, x.shape);
  if (index.dtype !== "int32") throw new Error(`gather: index must be int32, got ${index.dtype} ${fmt(index.shape)}. Fix: index.int().`);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i]))
    throw new Error(
      `gather: index ${fmt(index.shape)} must have the rank of the input ${fmt(x.shape)} and be no larger in every dim but ${dim}.`,
    );
  return gatherIndexed(x, d, index, null, rangeMessage(x.shape, d));
}

const indexMessage = (op: string, x: readonly number[], dim: number) => (k: number) =>
  `${op}: index ${k} is out of range for dim ${dim} of size ${x[dim]} (input ${fmt(x)}): valid indices are 0 to ${x[dim] - 1}. ` +
  `Fix: keep every index in [0, ${x[dim]}).`;

/**
 * The slices of x at the positions of a 1-D (or 0-d) int32 index along `dim`, in index order (repeats allowed):
 * dim `dim` of the output has index's length. Out-of-range indices are an Error on every device. Differentiable in x.
 *
 * PyTorch: `torch.index_select`.
 * @example wg.tensor([[1, 2], [3, 4], [5, 6]]).indexSelect(0, wg.tensor([2, 0], { dtype: "int32" })) // tensor([[5, 6], [1, 2]])
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim("indexSelect", dim, x.ndim, x.shape);
  if (index.dtype !== "int32" || index.ndim > 1)
    throw new Error(`indexSelect: index must be a 1-D int32 tensor, got ${index.dtype} ${fmt(index.shape)}. Fix: index.flatten().int().`);
  const m = index.size;
  const shape = x.ndim === 0 ? [m] : x.shape.map((s, i) => (i === d ? m : s));
  const src = x.ndim === 0 ? x.reshape([1]) : x;
  return tidy(() => {
    const column = index.reshape(shape.map((s, i) => (i === d ? m : 1))).expand(shape);
    const out = gatherIndexed(src, d, column, null, indexMessage("indexSelect", src.shape, d));
    return x.ndim === 0 ? out.reshape([]) : out;
  });
}

/**
 * A new tensor: x with src[c] added at position c with c[dim] replaced by index[c], for every c in index's extent
 * (repeated indices accumulate). index (int32) has the rank of x and src, is no larger than src anywhere and no
 * larger than x in every dim but `dim`; src has x's dtype. Out-of-range indices are an Error. Differentiable in x and src.
 *
 * PyTorch: `torch.scatter_add` (out of place).
 * @example wg.zeros([3]).scatterAdd(0, wg.tensor([0, 2, 0], { dtype: "int32" }), wg.tensor([1, 2, 3])) // tensor([4, 0, 2])
 */
export function scatterAddInto(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normalizeDim("scatterAdd", dim, x.ndim, x.shape);
  const shapes = `input ${fmt(x.shape)}, index ${fmt(index.shape)}, src ${fmt(src.shape)}`;
  if (index.dtype !== "int32") throw new Error(`scatterAdd: index must be int32, got ${index.dtype} (${shapes}). Fix: index.int().`);
  if (src.dtype !== x.dtype) throw new Error(`scatterAdd: src must have the input's dtype ${x.dtype}, got ${src.dtype} (${shapes}). Fix: src.cast("${x.dtype}").`);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim || index.shape.some((s, i) => s > src.shape[i] || (i !== d && s > x.shape[i])))
    throw new Error(
      `scatterAdd: index must have the rank of input and src, be no larger than src in every dim and no larger than input in every dim but ${dim} (${shapes}), as PyTorch requires.`,
    );
  if (x.size === 0 || index.size === 0) return x.add(0);
  if (x.ndim > MAX_RANK)
    throw new Error(`scatterAdd: webgpu and the CPU address at most ${MAX_RANK} dims here (${shapes}). Fix: reshape to ${MAX_RANK} dims or fewer.`);
  const attrs = { dim: d, xShape: x.shape, ignore: null, message: indexMessage("scatterAdd", x.shape, d) };
  return tidy(() => {
    let s = src;
    index.shape.forEach((n, i) => {
      if (s.shape[i] > n) s = s.slice(i, 0, n); // only index's extent of src takes part, as in PyTorch
    });
    return x.add(scatterAdd(s, dense(index), attrs));
  });
}
