/**
 * sort and topk (torch.sort with stable ties, torch.topk): a kernel finds each row's sorted positions
 * (a bitonic network in workgroup memory for rows that fit, else a rank count per element); values are a gather at them.
 */
import template from "../../shaders/sort.wgsl";
import bitonic from "../../shaders/sort-bitonic.wgsl";
import type { GpuLaunch, Kernel } from "../backend/backend.js";
import { fmt, normalizeDim, numel } from "../shape.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import { gatherIndexed } from "./gather.js";
import { tidy } from "../engine/scope.js";
import type { Tensor } from "../tensor.js";
import { specialize } from "../engine/wgsl.js";

interface Attrs {
  k: number;
  descending: boolean;
}

/** Ascending order with NaN as the largest value (all NaNs tie), as PyTorch sorts. */
const less = (a: number, b: number) => !Number.isNaN(a) && (Number.isNaN(b) || a < b);

const sortKernel: Kernel<Attrs> = {
  name: "sortIndices",
  cpu([out], [x], a) {
    const [rows, n] = x.shape;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let r = 0; r < rows; r++) {
      const at = (i: number) => x.data[x.offset + r * x.strides[0] + i * x.strides[1]];
      const cmp = (i: number, j: number) => {
        const [u, v] = a.descending ? [at(j), at(i)] : [at(i), at(j)];
        return less(u, v) ? -1 : less(v, u) ? 1 : i - j; // equal values keep their order (stable)
      };
      const sorted = [...order].sort(cmp);
      for (let s = 0; s < a.k; s++) out.data[r * a.k + s] = sorted[s];
    }
  },
  webgpu(_outs, [x], a, caps): GpuLaunch {
    const [rows, n] = x.shape;
    const t = x.dtype !== "int32" ? "f32" : "i32";
    const params = new Uint32Array([rows, n, a.k, a.descending ? 1 : 0]).buffer;
    const P = 2 ** Math.ceil(Math.log2(Math.max(n, 2)));
    const fits = P * 8 <= caps.maxWorkgroupStorage; // values and positions in workgroup memory
    // Emulators pay more for barriers than they save (DESIGN.md): rank there, bitonic on real GPUs when the row fits.
    const variant = fits ? (caps.force?.sort ?? (caps.emulated ? "rank" : "bitonic")) : "rank";
    const code = (src: string) => () => specialize("sort", src, [["alias T = f32;", `alias T = ${t};`]]);
    if (variant === "bitonic") {
      const WG = Math.min(256, caps.maxWorkgroupSize, P / 2);
      return {
        key: `sort-bitonic:${t}:${P}:${WG}`, code: code(bitonic), constants: { WG, P, IS_FLOAT: t === "f32" ? 1 : 0 },
        params, workgroups: a.k === 0 ? 0 : rows,
      };
    }
    return {
      key: `sort:${t}`, code: code(template), constants: { WG: 256, IS_FLOAT: t === "f32" ? 1 : 0 },
      params, workgroups: a.k === 0 ? 0 : Math.ceil((rows * n) / 256),
    };
  },
};

const sortPrim: Primitive<Attrs> = {
  name: "sortIndices",
  infer: ([x], a) => ({ shape: [x.shape[0], a.k], dtype: "int32" }),
  kernel: sortKernel,
  grads: [null],
  docs: [null],
};

/** The positions of the first k elements of each row along dim in sorted order, int32, shaped like x with k along dim. */
function sortedPositions(x: Tensor, d: number, k: number, descending: boolean): Tensor {
  const last = x.ndim - 1;
  const moved = d === last ? x : x.transpose(d, last);
  const n = x.shape[d];
  const rows = dense(moved.detach()).reshape([numel(moved.shape) / Math.max(n, 1), n]);
  const idx = apply(sortPrim, [rows], { k, descending }).reshape([...moved.shape.slice(0, -1), k]);
  return d === last ? idx : dense(idx.transpose(d, last));
}

function run(op: string, x: Tensor, dim: number, k: number, descending: boolean): { values: Tensor; indices: Tensor } {
  if (x.ndim === 0) {
    const r = run(op, x.reshape([1]), 0, k, descending);
    return { values: r.values.reshape([]), indices: r.indices.reshape([]) };
  }
  const d = normalizeDim(op, dim, x.ndim, x.shape);
  if (!Number.isInteger(k) || k < 0 || k > x.shape[d])
    throw new Error(`${op}: k = ${k} is out of range for dim ${dim} of size ${x.shape[d]} (input ${fmt(x.shape)}). Fix: pick k in [0, ${x.shape[d]}].`);
  const message = (bad: number) => `${op}: internal position ${bad} out of range (input ${fmt(x.shape)}).`;
  // tidy frees the moved and reshaped copies at once; saved tensors keep their own storage references.
  return tidy(() => {
    const indices = sortedPositions(x, d, k, descending);
    return { values: gatherIndexed(x, d, indices, null, message), indices };
  });
}

/**
 * Sorts along `dim` (default −1), ascending unless `{ descending: true }`: `values` and their int32 positions
 * `indices`. Always stable (equal values keep their order, PyTorch's stable=True). The gradient of values flows back
 * to the positions they came from; indices carry none.
 *
 * PyTorch: `torch.sort` (returns a (values, indices) pair there).
 * @example wg.tensor([[3, 1, 2]]).sort(-1, { descending: true }) // values [[3, 2, 1]], indices [[0, 2, 1]]
 */
export function sort(x: Tensor, dim = -1, opts: { descending?: boolean } = {}): { values: Tensor; indices: Tensor } {
  return run("sort", x, dim, x.ndim === 0 ? 1 : x.shape[normalizeDim("sort", dim, x.ndim, x.shape)], opts.descending ?? false);
}

/**
 * The k largest (or with `{ largest: false }` smallest) along `dim` (default −1), sorted, as `values` and int32
 * `indices`; ties come in position order (as sort, stable). k must be in [0, size of dim]. Differentiable in values.
 *
 * PyTorch: `torch.topk`.
 * @example wg.tensor([1, 5, 3, 5]).topk(2) // values [5, 5], indices [1, 3]
 */
export function topk(x: Tensor, k: number, dim = -1, opts: { largest?: boolean } = {}): { values: Tensor; indices: Tensor } {
  return run("topk", x, dim, k, opts.largest ?? true);
}
