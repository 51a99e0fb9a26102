/** Statistics over dims, as composites of differentiable ops: var, std, logsumexp, norm. */
import { fmt, normalizeDims } from "../shape.js";
import { where } from "./elementwise.js";
import { mean, reduce } from "./reduce.js";
import type { Tensor } from "../tensor.js";

type Dims = number | number[] | undefined;
/**
 * Options of `var` and `std` (as Tensor methods).
 *
 * PyTorch: the `correction`, `keepdim` keyword arguments of `torch.var` / `torch.std`.
 * @example x.var(0, { correction: 0, keepdim: true })
 */
export interface VarOptions {
  /** Subtracted from the element count in the divisor: 1 (the default) is Bessel's unbiased estimate, 0 the population variance. */
  correction?: number;
  /** Keep the reduced dims as size 1; default false. */
  keepdim?: boolean;
}

function floatOnly(op: string, x: Tensor): void {
  if (x.dtype === "int32") throw new Error(`${op}: needs a float tensor, got int32 of shape ${fmt(x.shape)}. Fix: x.float().${op}(...).`);
}

/**
 * The variance over `dim` (every dim when omitted): Σ(x − mean)² / max(0, n − correction), correction 1 by default.
 * PyTorch's rule: n − correction ≤ 0 divides by 0, so a non-zero sum gives Inf and a single element with correction
 * 1 gives NaN (0/0), as torch.var. Float only; differentiable.
 *
 * PyTorch: `torch.var`.
 * @example wg.tensor([1, 2, 3, 4]).var() // tensor(1.6667), as variance(x)
 */
export function variance(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  floatOnly("var", x);
  if (dim !== undefined && typeof dim !== "number" && !Array.isArray(dim))
    throw new Error(`var: dim must be a number, a list of numbers or undefined, got ${JSON.stringify(dim)}. Fix: options go second, x.var(undefined, { correction: 0 }).`);
  if (opts === null || typeof opts !== "object")
    throw new Error(`var: options must be an object like { correction: 1, keepdim: false }, got ${String(opts)}. Fix: x.var(dim, { correction: 0 }).`);
  const correction = opts.correction ?? 1;
  if (typeof correction !== "number" || !Number.isFinite(correction))
    throw new Error(`var: correction must be a finite number (1 is Bessel's correction, 0 the population variance), got ${String(correction)}.`);
  const dims = normalizeDims("var", dim, x.shape);
  const n = dims.reduce((k, d) => k * x.shape[d], 1);
  const d = x.sub(mean(x, dims, true));
  return reduce("sum", d.mul(d), dims, opts.keepdim ?? false).div(Math.max(0, n - correction));
}

/**
 * The standard deviation, √var, with var's `dim` and options (correction 1 by default). Float only; differentiable.
 *
 * PyTorch: `torch.std`.
 * @example wg.tensor([1, 2, 3, 4]).std(undefined, { correction: 0 }) // tensor(1.1180)
 */
export function std(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  floatOnly("std", x);
  return variance(x, dim, opts).sqrt();
}

/**
 * log Σ exp(x) over `dim` (required, a dim or a list), computed as m + log Σ exp(x − m) with m the (detached) max:
 * the shift cancels in the gradient (softmax), and exp never overflows. An infinite m is replaced by 0, so a row of
 * −Inf gives −Inf and a row with +Inf gives +Inf, as PyTorch. Float only; differentiable.
 *
 * PyTorch: `torch.logsumexp`.
 * @example wg.tensor([0, 0]).logsumexp(0) // tensor(0.6931)
 */
export function logsumexp(x: Tensor, dim: number | number[], keepdim = false): Tensor {
  floatOnly("logsumexp", x);
  if (dim === undefined) throw new Error(`logsumexp: needs a dim (or a list of dims), as torch.logsumexp; got none for shape ${fmt(x.shape)}. Fix: x.logsumexp(-1).`);
  const dims = normalizeDims("logsumexp", dim, x.shape);
  if (dims.length === 0) return x.clone();
  const max = reduce("max", x.detach(), dims, true);
  const m = where(max.abs().eq(Infinity), 0, max);
  const out = reduce("sum", x.sub(m).exp(), dims, true).log().add(m);
  return keepdim ? out : out.reshape(x.shape.filter((_, i) => !dims.includes(i)));
}

/**
 * The p-norm (Σ|x|ᵖ)^(1/p) over dims (all by default; p defaults to 2, `"fro"` is 2); p = Infinity / -Infinity:
 * max / min of |x|; p = 0: the count of non-zeros. At x = 0 the gradient is 0, as PyTorch (not 0/0). Float only.
 *
 * PyTorch: `torch.norm` / `torch.linalg.vector_norm`.
 * @example wg.tensor([3, -4]).norm() // tensor(5); norm(1) is 7, norm(Infinity) is 4
 */
export function norm(x: Tensor, p: number | "fro" = 2, dim?: Dims, keepdim = false): Tensor {
  floatOnly("norm", x);
  const q = p === "fro" ? 2 : p;
  if (typeof q !== "number" || Number.isNaN(q))
    throw new Error(`norm: p must be a number (2, 1, Infinity, ...) or "fro", got ${String(p)}.`);
  const dims = normalizeDims("norm", dim, x.shape);
  if (q === Infinity) return reduce("max", x.abs(), dims, keepdim);
  if (q === -Infinity) return reduce("min", x.abs(), dims, keepdim);
  if (q === 0) return reduce("sum", x.ne(0), dims, keepdim);
  if (q === 1) return reduce("sum", x.abs(), dims, keepdim);
  const s = reduce("sum", q === 2 ? x.mul(x) : x.abs().pow(q), dims, keepdim);
  // Where s = 0 the root's branch sees 1 instead, so its infinite slope never meets the zero upstream.
  const zero = s.eq(0);
  const safe = where(zero, 1, s);
  return where(zero, 0, q === 2 ? safe.sqrt() : safe.pow(1 / q));
}
