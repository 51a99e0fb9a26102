/** split and chunk: views of consecutive slices along one dim (torch.split, torch.chunk). */
import { fmt, normalizeDim } from "../shape.js";
import { slice } from "./layout.js";
import type { Tensor } from "../tensor.js";

/**
 * Splits along `dim` (default 0) into views: pieces of `size` (the last one smaller when it does not divide), or
 * pieces of the listed sizes, which must add up to the dim. Each piece shares x's storage and is differentiable.
 *
 * PyTorch: `torch.split`.
 * @example wg.arange(5).split(2) // pieces of shape [2], [2], [1]
 */
export function split(x: Tensor, sizeOrSizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeDim("split", dim, x.ndim, x.shape);
  const n = x.shape[d];
  const what = `split of ${fmt(x.shape)} along dim ${dim} (size ${n})`;
  let sizes: number[];
  if (typeof sizeOrSizes === "number") {
    const s = sizeOrSizes;
    if (!Number.isInteger(s) || s < 0 || (s === 0 && n > 0))
      throw new Error(`${what}: the piece size must be a positive integer, got ${s} (0 only for an empty dim). Fix: split(${Math.max(1, Math.ceil(n / 2))}, ${dim}).`);
    sizes = s === 0 ? [0] : Array.from({ length: Math.max(1, Math.ceil(n / s)) }, (_, i) => Math.min(s, n - i * s));
  } else {
    sizes = [...sizeOrSizes];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== n)
      throw new Error(`${what}: the sizes [${sizes.join(", ")}] must be non-negative integers adding up to ${n}, they add up to ${total}.`);
  }
  let start = 0;
  return sizes.map((s) => slice(x, d, start, (start += s)));
}

/**
 * Splits along `dim` (default 0) into at most n views of ⌈size / n⌉ each (the last smaller; fewer pieces when they run
 * out, as torch.chunk: 6 elements in 4 chunks give 3 pieces of 2).
 *
 * PyTorch: `torch.chunk`.
 * @example wg.arange(5).chunk(3) // pieces of shape [2], [2], [1]
 */
export function chunk(x: Tensor, n: number, dim = 0): Tensor[] {
  const d = normalizeDim("chunk", dim, x.ndim, x.shape);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`chunk: the number of chunks must be a positive integer, got ${n} (input ${fmt(x.shape)}).`);
  const len = x.shape[d];
  if (len === 0) return Array.from({ length: n }, () => slice(x, d, 0, 0));
  return split(x, Math.ceil(len / n), d);
}
