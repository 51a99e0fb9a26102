/** flip and repeat: composites of gather, expand and reshape, so their gradients come with them. */
import { fmt, normalizeDim } from "../shape.js";
import { arange } from "./creation.js";
import type { Tensor } from "../tensor.js";

/**
 * Reverses the order along each of `dims` (a dim or a list, each at most once). Always a copy, as PyTorch;
 * differentiable (the gradient is g flipped back).
 *
 * PyTorch: `torch.flip`.
 * @example wg.tensor([[1, 2], [3, 4]]).flip(1) // tensor([[2, 1], [4, 3]])
 */
export function flip(x: Tensor, dims: number | number[]): Tensor {
  const list = typeof dims === "number" ? [dims] : dims;
  if (!Array.isArray(list)) throw new Error(`flip: dims must be a number or a list of numbers, got ${String(dims)}.`);
  const norm = list.map((d) => normalizeDim("flip", d, x.ndim, x.shape));
  const twice = norm.find((d, i) => norm.indexOf(d) !== i);
  if (twice !== undefined)
    throw new Error(`flip: dim ${twice} appears more than once in dims ${fmt(list)} (shape ${fmt(x.shape)}). Fix: name each dim once.`);
  let r = x;
  for (const d of norm) {
    const n = x.shape[d] ?? 1;
    if (n <= 1 || x.ndim === 0) continue;
    const at = x.shape.map((_, i) => (i === d ? n : 1));
    const index = arange(n - 1, -1, -1, { dtype: "int32", device: x.device }).reshape(at).expand(r.shape);
    r = r.gather(d, index);
  }
  return r === x ? x.clone() : r;
}

/**
 * Tiles x: sizes[i] copies along dim i, with x seen as [1, ..., 1, ...x.shape] when sizes has more
 * entries than x has dims. Built as expand over interleaved size-1 dims, then reshape; differentiable.
 *
 * PyTorch: `Tensor.repeat`.
 * @example wg.tensor([1, 2]).repeat(2, 2) // tensor([[1, 2, 1, 2], [1, 2, 1, 2]])
 */
export function repeat(x: Tensor, sizes: number[]): Tensor {
  if (sizes.length < x.ndim)
    throw new Error(`repeat: needs at least one size per dim: ${sizes.length} sizes ${fmt(sizes)} for shape ${fmt(x.shape)} (${x.ndim} dims). Fix: x.repeat(${[...new Array(x.ndim - sizes.length).fill(1), ...sizes].join(", ")}).`);
  const bad = sizes.find((s) => !Number.isInteger(s) || s < 0);
  if (bad !== undefined) throw new Error(`repeat: sizes must be non-negative integers, got ${fmt(sizes)}.`);
  const shape = [...new Array(sizes.length - x.ndim).fill(1), ...x.shape];
  // All ones would be a view of x; repeat always copies, as PyTorch.
  if (sizes.every((s) => s === 1)) return x.reshape(shape).clone();
  const pairs = shape.flatMap((s) => [1, s]);
  const expanded = x.reshape(pairs).expand(shape.flatMap((s, i) => [sizes[i], s]));
  return expanded.reshape(shape.map((s, i) => s * sizes[i]));
}
