/** split and chunk: views of consecutive slices along one dim (torch.split, torch.chunk). */
import { fmt, normalizeDim } from "../shape.js";
import { slice } from "./layout.js";
import type { Tensor } from "../tensor.js";

/** Pieces of `size` along dim (the last one smaller), or pieces of the listed sizes, which must add up to the dim. */
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

/** n pieces of ceil(size / n) along dim (fewer when they run out), as torch.chunk. */
export function chunk(x: Tensor, n: number, dim = 0): Tensor[] {
  const d = normalizeDim("chunk", dim, x.ndim, x.shape);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`chunk: the number of chunks must be a positive integer, got ${n} (input ${fmt(x.shape)}).`);
  const len = x.shape[d];
  if (len === 0) return Array.from({ length: n }, () => slice(x, d, 0, 0));
  return split(x, Math.ceil(len / n), d);
}
