/** gather along a dim with int32 indices (torch.gather), and its adjoint scatter-add. */
import template from "../../shaders/gather.wgsl";
import type { GpuLaunch, Kernel } from "../backend/backend.js";
import { contiguousStrides, fmt, normalizeDim, numel, stridedOffsets } from "../shape.js";
import { specialize, uniformLayout } from "../engine/wgsl.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
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

/** out[c] = x[c with c[dim] replaced by index[c]]; index has x's rank and is int32. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim("gather", dim, x.ndim, x.shape);
  if (index.dtype !== "int32") throw new Error(`gather: index must be int32, got ${index.dtype} ${fmt(index.shape)}. Fix: index.int().`);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i]))
    throw new Error(
      `gather: index ${fmt(index.shape)} must have the rank of the input ${fmt(x.shape)} and be no larger in every dim but ${dim}.`,
    );
  return gatherIndexed(x, d, index, null, rangeMessage(x.shape, d));
}
