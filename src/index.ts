/** webgrad's public API (shared/API.md). Both entry points, node.ts and browser.ts, export exactly this. */
import { grad as autogradGrad } from "./autograd/engine.js";
import { detectAnomaly, setDetectAnomaly } from "./autograd/anomaly.js";
import { Tensor } from "./tensor.js";
import * as ops from "./ops/index.js";

export { Tensor };
export type { DType, TypedArray, ArrayOf, NestedList } from "./dtype.js";
export type { Device, AdapterInfo } from "./backend/backend.js";
export { init, defaultDevice, flush, memory, type InitOptions } from "./engine/device.js";
export { tidy, keep } from "./engine/scope.js";
export { emptyCache } from "./engine/device.js";
export { profile, formatProfile, type ProfileReport } from "./engine/profile.js";
export { noGrad, enableGrad, inferenceMode, isGradEnabled } from "./autograd/mode.js";
export { grad, valueAndGrad, vjp, jvp, jacobian, hessian } from "./autograd/functional.js";
export { gradcheck, type GradcheckOptions, type GradcheckResult } from "./autograd/gradcheck.js";
export type { BackwardOptions, GradOptions } from "./autograd/engine.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export { save, load } from "./io/safetensors.js";
export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, eye, rand, randn, manualSeed,
  where, cat, stack, einsum, matmul, type CreateOptions,
} from "./ops/index.js";

/**
 * The `torch.autograd` namespace: `grad(outputs, inputs, opts)` (gradients of outputs with respect to inputs),
 * `detectAnomaly(fn)` and `setDetectAnomaly(on)` (a NaN or Inf from any op's forward or backward throws, naming the op).
 *
 * PyTorch: `torch.autograd`.
 * @example wg.autograd.grad(x.pow(2).sum(), [x]) // [tensor 2x]
 */
export const autograd = { grad: autogradGrad, detectAnomaly, setDetectAnomaly };

type Operand = Tensor | number;
/**
 * Adds `a + b` elementwise with NumPy broadcasting; either side may be a number. Differentiable.
 *
 * PyTorch: `torch.add`.
 * @example wg.add(wg.tensor([1, 2]), 10) // tensor([11, 12])
 */
export const add = (a: Operand, b: Operand) => ops.binary("add", a, b);
/**
 * Subtracts `a - b` elementwise with broadcasting; either side may be a number. Differentiable.
 *
 * PyTorch: `torch.sub`.
 * @example wg.sub(wg.tensor([5, 7]), wg.tensor([1, 2])) // tensor([4, 5])
 */
export const sub = (a: Operand, b: Operand) => ops.binary("sub", a, b);
/**
 * Multiplies `a * b` elementwise with broadcasting; either side may be a number. Differentiable.
 *
 * PyTorch: `torch.mul`.
 * @example wg.mul(wg.tensor([[1], [2]]), wg.tensor([3, 4])) // tensor([[3, 4], [6, 8]])
 */
export const mul = (a: Operand, b: Operand) => ops.binary("mul", a, b);
/**
 * Divides `a / b` elementwise with broadcasting (true division, as PyTorch; x / 0 is ±Inf or NaN). Differentiable.
 *
 * PyTorch: `torch.div`.
 * @example wg.div(wg.tensor([1, 3]), 2) // tensor([0.5, 1.5])
 */
export const div = (a: Operand, b: Operand) => ops.binary("div", a, b);
/**
 * Raises `a` to the power `b` elementwise with broadcasting; differentiable in both (d/db needs a > 0).
 *
 * PyTorch: `torch.pow`.
 * @example wg.pow(wg.tensor([1, 2, 3]), 2) // tensor([1, 4, 9])
 */
export const pow = (a: Operand, b: Operand) => ops.binary("pow", a, b);
/**
 * The elementwise larger of `a` and `b` with broadcasting; NaN if either is NaN. Differentiable (a tie splits the gradient in half).
 *
 * PyTorch: `torch.maximum`.
 * @example wg.maximum(wg.tensor([1, 5]), wg.tensor([3, 2])) // tensor([3, 5])
 */
export const maximum = (a: Operand, b: Operand) => ops.binary("maximum", a, b);
/**
 * The elementwise smaller of `a` and `b` with broadcasting; NaN if either is NaN. Differentiable (a tie splits the gradient in half).
 *
 * PyTorch: `torch.minimum`.
 * @example wg.minimum(wg.tensor([1, 5]), wg.tensor([3, 2])) // tensor([1, 2])
 */
export const minimum = (a: Operand, b: Operand) => ops.binary("minimum", a, b);
/**
 * eˣ elementwise. Differentiable.
 *
 * PyTorch: `torch.exp`.
 * @example wg.exp(wg.tensor([0, 1])) // tensor([1, 2.7183])
 */
export const exp = (x: Tensor) => x.exp();
/**
 * The natural logarithm elementwise: log(0) = -Inf, log of a negative number = NaN, as PyTorch. Differentiable.
 *
 * PyTorch: `torch.log`.
 * @example wg.log(wg.tensor([1, Math.E])) // tensor([0, 1])
 */
export const log = (x: Tensor) => x.log();
/**
 * The square root elementwise (NaN below 0). Differentiable.
 *
 * PyTorch: `torch.sqrt`.
 * @example wg.sqrt(wg.tensor([4, 9])) // tensor([2, 3])
 */
export const sqrt = (x: Tensor) => x.sqrt();
/**
 * The hyperbolic tangent elementwise. Differentiable.
 *
 * PyTorch: `torch.tanh`.
 * @example wg.tanh(wg.tensor([0])) // tensor([0])
 */
export const tanh = (x: Tensor) => x.tanh();
/**
 * The logistic function 1 / (1 + e⁻ˣ) elementwise. Differentiable.
 *
 * PyTorch: `torch.sigmoid`.
 * @example wg.sigmoid(wg.tensor([0])) // tensor([0.5])
 */
export const sigmoid = (x: Tensor) => x.sigmoid();
/**
 * max(x, 0) elementwise (NaN stays NaN); the gradient at 0 is 0, as PyTorch.
 *
 * PyTorch: `torch.relu`.
 * @example wg.relu(wg.tensor([-1, 2])) // tensor([0, 2])
 */
export const relu = (x: Tensor) => x.relu();
/**
 * Sums over `dim` (a number, a negative number or an array; every element when omitted); `keepdim` keeps the reduced dims as size 1.
 * Integer tensors sum in int32. Differentiable.
 *
 * PyTorch: `torch.sum`.
 * @example wg.sum(wg.tensor([[1, 2], [3, 4]]), 1) // tensor([3, 7])
 */
export const sum = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.sum(dim, keepdim);
/**
 * The mean over `dim` (every element when omitted), with `keepdim` as `sum`. Float tensors only. Differentiable.
 *
 * PyTorch: `torch.mean`.
 * @example wg.mean(wg.tensor([[1, 2], [3, 4]]), 0) // tensor([2, 3])
 */
export const mean = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.mean(dim, keepdim);
/**
 * Softmax along `dim` (default -1, the last dim; PyTorch asks for it): exp(x - max) normalized, numerically stable. Differentiable.
 *
 * PyTorch: `torch.softmax`.
 * @example wg.softmax(wg.tensor([0, 0])) // tensor([0.5, 0.5])
 */
export const softmax = (x: Tensor, dim = -1) => x.softmax(dim);
/**
 * log(softmax(x)) along `dim` (default -1), computed stably (x - max - log Σ exp(x - max)). Differentiable.
 *
 * PyTorch: `torch.log_softmax`.
 * @example wg.logSoftmax(wg.tensor([0, 0])) // tensor([-0.6931, -0.6931])
 */
export const logSoftmax = (x: Tensor, dim = -1) => x.logSoftmax(dim);
export { explain, Explanation, type ExplainOptions, type ExplainData, type ExplainStep, type GradEdge, type Values } from "./autograd/explain.js";
// The rest of the torch.* free functions for the Tensor methods that PyTorch also offers as functions.
/**
 * -x elementwise. Differentiable.
 *
 * PyTorch: `torch.neg`.
 * @example wg.neg(wg.tensor([1, -2])) // tensor([-1, 2])
 */
export const neg = (x: Tensor) => x.neg();
/**
 * |x| elementwise; the gradient at 0 is 0, as PyTorch.
 *
 * PyTorch: `torch.abs`.
 * @example wg.abs(wg.tensor([-1, 2])) // tensor([1, 2])
 */
export const abs = (x: Tensor) => x.abs();
/**
 * The GELU activation x·Φ(x) elementwise: exact (erf) by default, or the tanh approximation with `{ approximate: "tanh" }`. Differentiable.
 *
 * PyTorch: `torch.nn.functional.gelu`.
 * @example wg.gelu(wg.tensor([0, 1])) // tensor([0, 0.8413])
 */
export const gelu = (x: Tensor, opts?: { approximate?: "none" | "tanh" }) => x.gelu(opts);
/**
 * Limits every element to [min, max]; `null` or omitted leaves that side open. NaN stays NaN. The gradient is 1 inside the range, 0 outside.
 *
 * PyTorch: `torch.clamp`.
 * @example wg.clamp(wg.tensor([-2, 0.5, 3]), 0, 1) // tensor([0, 0.5, 1])
 */
export const clamp = (x: Tensor, min?: number | null, max?: number | null) => x.clamp(min, max);
/**
 * `a == b` elementwise with broadcasting, as a float32 0/1 mask (webgrad has no bool dtype). Not differentiable.
 *
 * PyTorch: `torch.eq`.
 * @example wg.eq(wg.tensor([1, 2]), 2) // tensor([0, 1])
 */
export const eq = (a: Tensor, b: Operand) => a.eq(b);
/**
 * `a != b` elementwise with broadcasting, as a float32 0/1 mask. Not differentiable.
 *
 * PyTorch: `torch.ne`.
 * @example wg.ne(wg.tensor([1, 2]), 2) // tensor([1, 0])
 */
export const ne = (a: Tensor, b: Operand) => a.ne(b);
/**
 * `a > b` elementwise with broadcasting, as a float32 0/1 mask. Not differentiable.
 *
 * PyTorch: `torch.gt`.
 * @example wg.gt(wg.tensor([1, 3]), 2) // tensor([0, 1])
 */
export const gt = (a: Tensor, b: Operand) => a.gt(b);
/**
 * `a >= b` elementwise with broadcasting, as a float32 0/1 mask. Not differentiable.
 *
 * PyTorch: `torch.ge`.
 * @example wg.ge(wg.tensor([1, 2]), 2) // tensor([0, 1])
 */
export const ge = (a: Tensor, b: Operand) => a.ge(b);
/**
 * `a < b` elementwise with broadcasting, as a float32 0/1 mask. Not differentiable.
 *
 * PyTorch: `torch.lt`.
 * @example wg.lt(wg.tensor([1, 3]), 2) // tensor([1, 0])
 */
export const lt = (a: Tensor, b: Operand) => a.lt(b);
/**
 * `a <= b` elementwise with broadcasting, as a float32 0/1 mask. Not differentiable.
 *
 * PyTorch: `torch.le`.
 * @example wg.le(wg.tensor([2, 3]), 2) // tensor([1, 0])
 */
export const le = (a: Tensor, b: Operand) => a.le(b);
/**
 * The largest value over `dim` (every element when omitted), values only: unlike PyTorch's `max(dim)` there is no (values, indices) pair
 * (use `argmax`). NaN propagates. Differentiable (ties share the gradient).
 *
 * PyTorch: `torch.amax` (`torch.max` without a dim).
 * @example wg.max(wg.tensor([[1, 5], [7, 2]]), 1) // tensor([5, 7])
 */
export const max = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.max(dim, keepdim);
/**
 * The smallest value over `dim` (every element when omitted), values only (use `argmin` for indices). NaN propagates. Differentiable.
 *
 * PyTorch: `torch.amin` (`torch.min` without a dim).
 * @example wg.min(wg.tensor([[1, 5], [7, 2]]), 1) // tensor([1, 2])
 */
export const min = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.min(dim, keepdim);
/**
 * The int32 index of the largest value along `dim` (of the flattened tensor when omitted); the first on ties, a NaN counts as the largest.
 *
 * PyTorch: `torch.argmax`.
 * @example wg.argmax(wg.tensor([[1, 5], [7, 2]]), 1) // tensor([1, 0], dtype=int32)
 */
export const argmax = (x: Tensor, dim?: number, keepdim?: boolean) => x.argmax(dim, keepdim);
/**
 * The int32 index of the smallest value along `dim` (of the flattened tensor when omitted); the first on ties.
 *
 * PyTorch: `torch.argmin`.
 * @example wg.argmin(wg.tensor([[1, 5], [7, 2]]), 1) // tensor([0, 1], dtype=int32)
 */
export const argmin = (x: Tensor, dim?: number, keepdim?: boolean) => x.argmin(dim, keepdim);
/**
 * The same elements in a new shape (one entry may be -1); a view when the strides allow, else a copy. Differentiable.
 *
 * PyTorch: `torch.reshape`.
 * @example wg.reshape(wg.arange(6), [2, 3]).shape // [2, 3]
 */
export const reshape = (x: Tensor, shape: readonly number[]) => x.reshape([...shape]);
/**
 * Merges dims `startDim`..`endDim` (default all) into one. Differentiable.
 *
 * PyTorch: `torch.flatten`.
 * @example wg.flatten(wg.zeros([2, 3, 4]), 1).shape // [2, 12]
 */
export const flatten = (x: Tensor, startDim?: number, endDim?: number) => x.flatten(startDim, endDim);
/**
 * Swaps dims `d0` and `d1` (a strided view, no copy). Differentiable.
 *
 * PyTorch: `torch.transpose`.
 * @example wg.transpose(wg.zeros([2, 3]), 0, 1).shape // [3, 2]
 */
export const transpose = (x: Tensor, d0: number, d1: number) => x.transpose(d0, d1);
/**
 * Reorders the dims as `dims` lists them (a strided view). Differentiable.
 *
 * PyTorch: `torch.permute`.
 * @example wg.permute(wg.zeros([2, 3, 4]), [2, 0, 1]).shape // [4, 2, 3]
 */
export const permute = (x: Tensor, dims: readonly number[]) => x.permute([...dims]);
/**
 * Inserts a dim of size 1 at `dim` (negative counts from the end). Differentiable.
 *
 * PyTorch: `torch.unsqueeze`.
 * @example wg.unsqueeze(wg.zeros([3]), 0).shape // [1, 3]
 */
export const unsqueeze = (x: Tensor, dim: number) => x.unsqueeze(dim);
/**
 * Removes `dim` if it has size 1, or every size-1 dim when `dim` is omitted. Differentiable.
 *
 * PyTorch: `torch.squeeze`.
 * @example wg.squeeze(wg.zeros([1, 3, 1])).shape // [3]
 */
export const squeeze = (x: Tensor, dim?: number) => x.squeeze(dim);
/**
 * Picks `x[..., index[i], ...]` along `dim`; `index` is int32 of the output's shape. An index out of range is an Error on every device
 * (at the next sync point on WebGPU). Differentiable in `x`.
 *
 * PyTorch: `torch.gather`.
 * @example wg.gather(wg.tensor([[1, 2], [3, 4]]), 1, wg.tensor([[1], [0]], { dtype: "int32" })) // tensor([[2], [3]])
 */
export const gather = (x: Tensor, dim: number, index: Tensor) => x.gather(dim, index);
export { loadMetadata } from "./io/safetensors.js";
/**
 * The slices of `x` at the int32 indices `index` (1-D) along `dim`; out-of-range indices are an Error. Differentiable in `x`.
 *
 * PyTorch: `torch.index_select`.
 * @example wg.indexSelect(wg.tensor([[1, 2], [3, 4]]), 0, wg.tensor([1, 1], { dtype: "int32" })) // tensor([[3, 4], [3, 4]])
 */
export const indexSelect = (x: Tensor, dim: number, index: Tensor) => x.indexSelect(dim, index);
/**
 * A copy of `x` with each `src` element added at its `index` position along `dim` (repeats add up). Differentiable in `x` and `src`.
 *
 * PyTorch: `torch.scatter_add`.
 * @example wg.scatterAdd(wg.zeros([3]), 0, wg.tensor([0, 0, 2], { dtype: "int32" }), wg.tensor([1, 2, 3])) // tensor([3, 0, 3])
 */
export const scatterAdd = (x: Tensor, dim: number, index: Tensor, src: Tensor) => x.scatterAdd(dim, index, src);
/**
 * Splits along `dim` (default 0) into pieces of `sizeOrSizes` (the last may be smaller) or of the listed sizes; the pieces are views.
 *
 * PyTorch: `torch.split`.
 * @example wg.split(wg.arange(5), 2).map((t) => t.shape) // [[2], [2], [1]]
 */
export const split = (x: Tensor, sizeOrSizes: number | number[], dim?: number) => x.split(sizeOrSizes, dim);
/**
 * Splits along `dim` (default 0) into `n` pieces of ⌈size / n⌉ (fewer when they run out), as PyTorch.
 *
 * PyTorch: `torch.chunk`.
 * @example wg.chunk(wg.arange(6), 3).length // 3
 */
export const chunk = (x: Tensor, n: number, dim?: number) => x.chunk(n, dim);
/**
 * Sorts along `dim` (default -1), ascending unless `{ descending: true }`; stable, NaN sorts as the largest. Returns
 * `{ values, indices }` (indices int32). Differentiable in the values.
 *
 * PyTorch: `torch.sort`.
 * @example wg.sort(wg.tensor([3, 1, 2])).values // tensor([1, 2, 3])
 */
export const sort = (x: Tensor, dim?: number, opts?: { descending?: boolean }) => x.sort(dim, opts);
/**
 * The `k` largest (or with `{ largest: false }` smallest) entries along `dim` (default -1), sorted, as `{ values, indices }`.
 *
 * PyTorch: `torch.topk`.
 * @example wg.topk(wg.tensor([1, 5, 3]), 2).values // tensor([5, 3])
 */
export const topk = (x: Tensor, k: number, dim?: number, opts?: { largest?: boolean }) => x.topk(k, dim, opts);
export { randint, bernoulli, multinomial } from "./ops/index.js";
export { linspace } from "./ops/index.js";
/**
 * log Σ exp(x) over `dim`, computed stably (the max is taken out first). Differentiable.
 *
 * PyTorch: `torch.logsumexp`.
 * @example wg.logsumexp(wg.tensor([0, 0]), 0) // tensor(0.6931)
 */
export const logsumexp = (x: Tensor, dim: number | number[], keepdim?: boolean) => x.logsumexp(dim, keepdim);
/**
 * The running sum along `dim`. Differentiable.
 *
 * PyTorch: `torch.cumsum`.
 * @example wg.cumsum(wg.tensor([1, 2, 3]), 0) // tensor([1, 3, 6])
 */
export const cumsum = (x: Tensor, dim: number) => x.cumsum(dim);
/**
 * The product over `dim` (every element when omitted), with `keepdim`. Differentiable (also where an element is 0).
 *
 * PyTorch: `torch.prod`.
 * @example wg.prod(wg.tensor([[1, 2], [3, 4]]), 1) // tensor([2, 12])
 */
export const prod = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.prod(dim, keepdim);
/**
 * Keeps the elements on and below the `k`-th diagonal of the last two dims, zeroing the rest. Differentiable.
 *
 * PyTorch: `torch.tril`.
 * @example wg.tril(wg.ones([2, 2])) // tensor([[1, 0], [1, 1]])
 */
export const tril = (x: Tensor, k?: number) => x.tril(k);
/**
 * Keeps the elements on and above the `k`-th diagonal of the last two dims, zeroing the rest. Differentiable.
 *
 * PyTorch: `torch.triu`.
 * @example wg.triu(wg.ones([2, 2])) // tensor([[1, 1], [0, 1]])
 */
export const triu = (x: Tensor, k?: number) => x.triu(k);
/**
 * Reverses the order of elements along each dim in `dims`. Differentiable.
 *
 * PyTorch: `torch.flip`.
 * @example wg.flip(wg.tensor([1, 2, 3]), 0) // tensor([3, 2, 1])
 */
export const flip = (x: Tensor, dims: number | number[]) => x.flip(dims);
export * as data from "./data/index.js";
