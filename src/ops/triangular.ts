/** Masks as composites over where: tril, triu (the last two dims) and maskedFill. */
import { broadcastShapes, fmt, sameShape } from "../shape.js";
import { where } from "./elementwise.js";
import { arange } from "./creation.js";
import { Tensor } from "../tensor.js";

/** Keep x[..., i, j] where j - i ≤ k (lower) or j - i ≥ k (upper); zero elsewhere. The gradient is g masked alike. */
function triangle(op: "tril" | "triu", x: Tensor, k: number): Tensor {
  if (x.ndim < 2) throw new Error(`${op}: needs a tensor of at least 2 dims (a matrix or a batch of them), got shape ${fmt(x.shape)}. Fix: x.reshape(1, -1).${op}(${k}).`);
  if (!Number.isInteger(k)) throw new Error(`${op}: the diagonal k must be an integer, got ${String(k)}.`);
  const [n, m] = x.shape.slice(-2);
  const rows = arange(n, { device: x.device }).reshape(n, 1);
  const cols = arange(m, { device: x.device }).reshape(1, m);
  const offset = cols.sub(rows); // j - i
  return where(op === "tril" ? offset.le(k) : offset.ge(k), x, 0);
}

/**
 * The lower triangle of the last two dims: keeps x[..., i, j] where j − i ≤ k (k = 0 the main diagonal, k < 0 below
 * it), zero elsewhere. Any batch dims; differentiable (the gradient is masked alike).
 *
 * PyTorch: `torch.tril`.
 * @example wg.ones([3, 3]).tril() // tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]])
 */
export const tril = (x: Tensor, k = 0): Tensor => triangle("tril", x, k);
/**
 * The upper triangle of the last two dims: keeps x[..., i, j] where j − i ≥ k, zero elsewhere. Differentiable.
 *
 * PyTorch: `torch.triu`.
 * @example wg.ones([3, 3]).triu(1) // tensor([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
 */
export const triu = (x: Tensor, k = 0): Tensor => triangle("triu", x, k);

/**
 * x with `value` where mask is non-zero; mask (any dtype, e.g. a comparison) broadcasts to x's shape. A value
 * that is a 0-d tensor requiring grad gets the sum of g over the filled places; x gets g elsewhere.
 *
 * PyTorch: `torch.masked_fill` (its mask is bool).
 * @example wg.tensor([1, 2, 3]).maskedFill(wg.tensor([1, 0, 1]), -1) // tensor([-1, 2, -1])
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | Tensor): Tensor {
  if (!(mask instanceof Tensor)) throw new Error(`maskedFill: mask must be a tensor (e.g. x.gt(0)), got ${typeof mask}.`);
  let shape: number[] | null = null;
  try {
    shape = broadcastShapes("maskedFill", x.shape, mask.shape);
  } catch {
    shape = null;
  }
  if (!shape || !sameShape(shape, x.shape))
    throw new Error(`maskedFill: mask of shape ${fmt(mask.shape)} does not broadcast to the input's shape ${fmt(x.shape)}. Fix: give a mask of shape ${fmt(x.shape)} or one that expands to it (size-1 or missing leading dims).`);
  if (value instanceof Tensor && value.ndim !== 0)
    throw new Error(`maskedFill: value must be a number or a 0-d tensor, got a tensor of shape ${fmt(value.shape)}. Fix: value.reshape([]) if it holds one element.`);
  if (!(value instanceof Tensor) && typeof value !== "number")
    throw new Error(`maskedFill: value must be a number or a 0-d tensor, got ${typeof value}.`);
  return where(mask, value, x);
}
