/** gather along a dim with int32 indices (torch.gather), and its adjoint scatter-add. */
import template from "../../shaders/gather.wgsl";
import type { Kernel } from "../backend/backend.js";
import { contiguousStrides, fmt, normalizeDim, numel } from "../shape.js";
import { stridedOffsets } from "../backend/cpu/loops.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import type { Tensor } from "../tensor.js";

interface Attrs {
  dim: number;
  xShape: readonly number[]; // the gathered-from shape (scatter's output shape)
}

function launch(entry: "gather" | "scatter_add", n: number, a: Attrs, iShape: readonly number[], dtype: string) {
  const P = new Uint32Array(20);
  P.set([n, a.xShape.length, a.dim]);
  P.set(a.xShape, 4);
  P.set(iShape, 12);
  const t = dtype === "int32" ? "i32" : "f32";
  return {
    key: `gather:${t}`,
    code: () => template.replace("alias T = f32;", `alias T = ${t};`),
    entryPoint: entry,
    params: P.buffer,
    workgroups: Math.ceil(n / 256),
  };
}

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
      if (k < 0 || k >= a.xShape[a.dim])
        throw new Error(`gather: index ${k} is out of range for dim ${a.dim} of size ${a.xShape[a.dim]} (input ${fmt(a.xShape)}).`);
      let off = xo;
      for (let d = 0; d < index.shape.length; d++) off += (d === a.dim ? k : coord(i, d)) * xs[d];
      out.data[i] = x.data[off];
    }
  },
  webgpu([out], [, index], a) {
    return launch("gather", numel(out.shape), a, index.shape, out.dtype);
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
      if (k < 0 || k >= a.xShape[a.dim])
        throw new Error(`scatterAdd: index ${k} is out of range for dim ${a.dim} of size ${a.xShape[a.dim]}.`);
      let off = 0;
      for (let d = 0; d < index.shape.length; d++) off += (d === a.dim ? k : coord(i, d)) * outStrides[d];
      out.data[off] += src.data[so[i]];
    }
  },
  webgpu([out], [, index], a) {
    return launch("scatter_add", numel(out.shape), a, index.shape, out.dtype);
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

/** out[c] = x[c with c[dim] replaced by index[c]]; index has x's rank and is int32. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim("gather", dim, x.ndim, x.shape);
  if (index.dtype !== "int32") throw new Error(`gather: index must be int32, got ${index.dtype} ${fmt(index.shape)}. Fix: index.int().`);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i]))
    throw new Error(
      `gather: index ${fmt(index.shape)} must have the rank of the input ${fmt(x.shape)} and be no larger in every dim but ${dim}.`,
    );
  return apply(gatherPrim, [dense(x), dense(index)], { dim: d, xShape: x.shape });
}
