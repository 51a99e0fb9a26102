/** cumsum along one dim: a sequential scan per row; its backward is the reverse scan of g. */
import template from "../../shaders/scan.wgsl";
import type { Kernel } from "../backend/backend.js";
import { normalizeDim, numel } from "../shape.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import type { Tensor } from "../tensor.js";
import { specialize } from "../engine/wgsl.js";

interface Attrs {
  dim: number; // non-negative
  reverse: boolean; // Σ over j ≥ k instead of j ≤ k
}

/** The dense input as [outer, len, inner] around the scanned dim. */
function rows(shape: readonly number[], dim: number) {
  const len = shape[dim] ?? 1;
  const inner = numel(shape.slice(dim + 1));
  return { len, inner, outer: numel(shape) / Math.max(1, len * inner) };
}

const scanKernel: Kernel<Attrs> = {
  name: "cumsum",
  cpu([out], [x], { dim, reverse }) {
    const { len, inner, outer } = rows(x.shape, dim);
    const xd = x.data;
    const od = out.data;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * len * inner + i;
        let acc = 0;
        for (let k = 0; k < len; k++) {
          const at = base + (reverse ? len - 1 - k : k) * inner;
          acc += xd[x.offset + at];
          od[out.offset + at] = x.dtype === "int32" ? acc | 0 : acc; // int32 wraps, as the kernel's i32
        }
      }
  },
  webgpu([out], [x], { dim, reverse }) {
    const { len, inner, outer } = rows(x.shape, dim);
    const t = x.dtype === "int32" ? "i32" : "f32";
    return {
      key: `scan:${t}`,
      code: () => specialize("cumsum", template, [["alias T = f32;", `alias T = ${t};`]]),
      constants: { WG: 64 },
      params: new Uint32Array([outer * inner, len, inner, reverse ? 1 : 0]).buffer,
      workgroups: Math.ceil((outer * inner) / 64),
    };
  },
};

const scanPrim: Primitive<Attrs> = {
  name: "cumsum",
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  kernel: scanKernel,
  grads: [(g, _s, a) => scan(g, { dim: a.dim, reverse: !a.reverse })],
  docs: ["d cumsum(x)ₖ/dxⱼ = 1 for j ≤ k: g summed from the end (a reverse cumsum)"],
};

function scan(x: Tensor, a: Attrs): Tensor {
  return apply(scanPrim, [dense(x)], a);
}

/**
 * Running sums along `dim` (required, as in PyTorch): out[..., i, ...] = Σ_{j ≤ i} x[..., j, ...]. int32 stays
 * int32 and wraps on overflow (PyTorch would give int64). Differentiable: the gradient is a reverse cumsum.
 *
 * PyTorch: `torch.cumsum`.
 * @example wg.tensor([[1, 2, 3], [4, 5, 6]]).cumsum(1) // tensor([[1, 3, 6], [4, 9, 15]])
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  if (typeof dim !== "number") throw new Error(`cumsum: needs the dim to sum along, as torch.cumsum(x, dim); got ${String(dim)}. Fix: x.cumsum(-1).`);
  return scan(x, { dim: normalizeDim("cumsum", dim, x.ndim, x.shape), reverse: false });
}
