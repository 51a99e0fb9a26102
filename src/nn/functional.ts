/**
 * nn.functional: losses and layer functions as plain compositions of tensor
 * ops (no kernels or rules of their own, except cross-entropy's fused rows).
 * Each checks its inputs first and names the function, the shapes and the fix.
 */
import { rand } from "../ops/creation.js";
import { crossEntropyMean, crossEntropyRows, meanOverKept } from "../ops/softmax.js";
import { gatherIndexed } from "../ops/gather.js";
import { checkRange } from "../ops/check.js";
import { where } from "../ops/elementwise.js";
import { fmt, sameShape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { tidy } from "../engine/scope.js";

/**
 * How a loss reduces its per-element losses: their mean, their sum, or none (the unreduced tensor).
 *
 * PyTorch: the `reduction` argument of the `torch.nn.functional` losses.
 * @example wg.nn.functional.mseLoss(pred, target, { reduction: "sum" })
 */
export type Reduction = "mean" | "sum" | "none";
/**
 * Options every loss takes.
 *
 * PyTorch: the `reduction` argument of `torch.nn.functional.mse_loss`.
 * @example wg.nn.functional.mseLoss(pred, target, { reduction: "none" }) // pred's shape
 */
export interface LossOptions {
  /** "mean" (the default), "sum" or "none". */
  reduction?: Reduction;
}

function tensorArg(op: string, what: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor, got ${x === null ? "null" : typeof x}. Fix: wrap the data, e.g. wg.tensor(${what}).`);
  return x;
}

function floatArg(op: string, what: string, x: unknown): Tensor {
  const t = tensorArg(op, what, x);
  if (t.dtype === "int32") throw new Error(`${op}: ${what} must be a float tensor, got int32 of shape ${fmt(t.shape)}. Fix: ${what}.float().`);
  return t;
}

function sameShapes(op: string, a: Tensor, b: Tensor, names: string): void {
  if (!sameShape(a.shape, b.shape))
    throw new Error(`${op}: ${names} must have the same shape, got ${fmt(a.shape)} and ${fmt(b.shape)}. Fix: reshape one to match (no broadcasting in losses).`);
}

function reductionOf(op: string, opts: LossOptions): Reduction {
  const r = opts.reduction ?? "mean";
  if (r !== "mean" && r !== "sum" && r !== "none")
    throw new Error(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(r)}. Fix: e.g. { reduction: "sum" }.`);
  return r;
}

const reduce = (loss: Tensor, r: Reduction): Tensor => (r === "mean" ? loss.mean() : r === "sum" ? loss.sum() : loss);

/**
 * Options of the class-index losses (`nllLoss`, `crossEntropy`): `reduction`, and `ignoreIndex`.
 *
 * PyTorch: the `ignore_index` and `reduction` arguments of `torch.nn.functional.nll_loss`.
 * @example wg.nn.functional.nllLoss(logProbs, targets, { ignoreIndex: 0 })
 */
export interface ClassLossOptions extends LossOptions {
  /**
   * A target value that adds 0 loss and 0 gradient and is left out of the mean (default -100,
   * as PyTorch); the mean is NaN when every target is ignored, as in PyTorch.
   */
  ignoreIndex?: number;
}
/**
 * Options of `crossEntropy`: `reduction`, `ignoreIndex` and `labelSmoothing`.
 *
 * PyTorch: the keyword arguments of `torch.nn.functional.cross_entropy` (no class `weight`).
 * @example wg.nn.functional.crossEntropy(logits, labels, { labelSmoothing: 0.1 })
 */
export interface CrossEntropyOptions extends ClassLossOptions {
  /** Mix the target with the uniform distribution: (1 − ε)·target + ε/C (PyTorch's label_smoothing; default 0, in [0, 1]). */
  labelSmoothing?: number;
}

function ignoreIndexOf(op: string, opts: ClassLossOptions): number {
  const ii = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ii) || Math.abs(ii) > 2 ** 31 - 1)
    throw new Error(`${op}: ignoreIndex must be an int32 integer, got ${String(ii)}. Fix: e.g. { ignoreIndex: -100 } (the default).`);
  return ii;
}

/** mean over the targets that are not ignoreIndex (PyTorch: 0/0 = NaN when all are ignored). */
function reduceKept(loss: Tensor, targets: Tensor, ignore: number, r: Reduction): Tensor {
  return r === "mean" ? meanOverKept(() => loss, targets, ignore) : reduce(loss, r);
}

/**
 * The squared error (pred − target)², averaged by default (`reduction`). pred and target must be
 * float tensors of one shape (no broadcasting, unlike PyTorch's warning-only rule). Differentiable.
 *
 * PyTorch: `torch.nn.functional.mse_loss`.
 * @example wg.nn.functional.mseLoss(wg.tensor([1, 2]), wg.tensor([1, 4])) // tensor(2)
 */
export function mseLoss(pred: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  floatArg("mseLoss", "pred", pred);
  floatArg("mseLoss", "target", target);
  sameShapes("mseLoss", pred, target, "pred and target");
  const r = reductionOf("mseLoss", opts);
  const d = pred.sub(target);
  return reduce(d.mul(d), r);
}

/**
 * Cross-entropy of logits [N, C] (or [C]), stable through log-softmax: with int32 class indices
 * [N] (or []) through the fused row kernel, −log softmax(x)[n, t_n]; with float targets of the
 * logits' shape as probabilities, −Σ_c t_c · log softmax(x)_c. With label smoothing ε the per-row
 * loss is (1 − ε)·CE + ε·mean_c(−log softmax(x)_c). A class index outside [0, C) other than
 * ignoreIndex is an Error (on WebGPU at the next sync point). Class-index targets take 1-D or 2-D
 * logits only; with probability targets the classes are the last dim (PyTorch: dim 1). Differentiable.
 *
 * PyTorch: `torch.nn.functional.cross_entropy`.
 * @example wg.nn.functional.crossEntropy(wg.zeros([2, 4]), wg.tensor([0, 3], { dtype: "int32" })) // tensor(1.3863) (= ln 4)
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  floatArg("crossEntropy", "logits", logits);
  tensorArg("crossEntropy", "targets", targets);
  const r = reductionOf("crossEntropy", opts);
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== "number" || !(eps >= 0 && eps <= 1))
    throw new Error(`crossEntropy: labelSmoothing must be a number in [0, 1], got ${String(eps)}. Fix: e.g. { labelSmoothing: 0.1 }.`);
  if (targets.dtype === "int32") {
    if (!sameShape(targets.shape, logits.shape.slice(0, -1)) || logits.ndim < 1 || logits.ndim > 2)
      throw new Error(
        `crossEntropy: logits ${fmt(logits.shape)} and class-index targets ${fmt(targets.shape)} do not match. ` +
          `Fix: pass logits [N, C] with int32 targets [N] (or [C] with a scalar target).`,
      );
    const ii = ignoreIndexOf("crossEntropy", opts);
    if (eps === 0 && r === "mean") return crossEntropyMean(logits, targets, ii);
    let loss = crossEntropyRows(logits, targets, ii);
    if (eps > 0) loss = loss.mul(1 - eps).add(logits.logSoftmax(-1).mean(-1).mul(targets.ne(ii)).mul(-eps));
    return reduceKept(loss, targets, ii, r);
  }
  if (!sameShape(targets.shape, logits.shape))
    throw new Error(
      `crossEntropy: float targets are class probabilities and must have the logits' shape ${fmt(logits.shape)}, got ${fmt(targets.shape)}. ` +
        `Fix: pass int32 class indices of shape ${fmt(logits.shape.slice(0, -1))}, or probabilities of shape ${fmt(logits.shape)}.`,
    );
  const t = eps > 0 ? targets.mul(1 - eps).add(eps / logits.shape[logits.ndim - 1]) : targets;
  return reduce(t.mul(logits.logSoftmax(-1)).sum(-1).neg(), r);
}

/**
 * The negative log-likelihood −logProbs[n, t_n] of log-probabilities [N, C] (or [C]) and int32
 * targets [N] (or []), averaged over the targets that are not ignoreIndex by default. A target
 * outside [0, C) other than ignoreIndex is an Error (on WebGPU at the next sync point). Differentiable.
 *
 * PyTorch: `torch.nn.functional.nll_loss`.
 * @example wg.nn.functional.nllLoss(logits.logSoftmax(1), labels) // same as crossEntropy(logits, labels)
 */
export function nllLoss(logProbs: Tensor, targets: Tensor, opts: ClassLossOptions = {}): Tensor {
  floatArg("nllLoss", "logProbs", logProbs);
  tensorArg("nllLoss", "targets", targets);
  if (targets.dtype !== "int32")
    throw new Error(`nllLoss: targets must be int32 class indices, got ${targets.dtype} ${fmt(targets.shape)}. Fix: targets.int(), or wg.tensor(labels, { dtype: "int32" }).`);
  const rows = logProbs.ndim === 2 && targets.ndim === 1 && targets.shape[0] === logProbs.shape[0];
  if (!rows && !(logProbs.ndim === 1 && targets.ndim === 0))
    throw new Error(
      `nllLoss: logProbs ${fmt(logProbs.shape)} and targets ${fmt(targets.shape)} do not match. ` +
        `Fix: pass logProbs [N, C] with targets [N] (or [C] with a scalar target).`,
    );
  const r = reductionOf("nllLoss", opts);
  const ii = ignoreIndexOf("nllLoss", opts);
  const index = rows ? targets.unsqueeze(1) : targets.reshape([1]);
  const classes = logProbs.shape[logProbs.ndim - 1];
  const message = (k: number) =>
    `nllLoss: target ${k} is out of range for ${classes} classes (logProbs ${fmt(logProbs.shape)}): valid class indices are 0 to ${classes - 1} ` +
    `(or ignoreIndex, ${ii}). Fix: check the labels against the last dim.`;
  const picked = gatherIndexed(logProbs, logProbs.ndim - 1, index, ii, message);
  return reduceKept(picked.reshape(targets.shape).neg(), targets, ii, r);
}

/** log x clamped below at −100 as PyTorch's BCE does; where x ≤ 0 the value is −100 and the gradient 0, never NaN. */
function clampedLog(x: Tensor): Tensor {
  const ok = x.gt(0);
  return where(ok, where(ok, x, 1).log().clamp(-100), -100);
}

/**
 * Binary cross-entropy −(t · log p + (1 − t) · log(1 − p)) of probabilities p in [0, 1] and float
 * targets of the same shape, averaged by default; each log is clamped at −100 as PyTorch's, so
 * p = 0 or 1 gives a finite loss. A p outside [0, 1] (or NaN) is an Error as in PyTorch: at once
 * on the CPU, at the next sync point on WebGPU (a device-side check). Differentiable.
 *
 * PyTorch: `torch.nn.functional.binary_cross_entropy`.
 * @example wg.nn.functional.binaryCrossEntropy(wg.tensor([0.5]), wg.tensor([1])) // tensor(0.6931) (= ln 2)
 */
export function binaryCrossEntropy(probs: Tensor, targets: Tensor, opts: LossOptions = {}): Tensor {
  floatArg("binaryCrossEntropy", "probs", probs);
  floatArg("binaryCrossEntropy", "targets", targets);
  sameShapes("binaryCrossEntropy", probs, targets, "probs and targets");
  const shape = fmt(probs.shape);
  checkRange(probs, 0, 1, (v, i) =>
    `binaryCrossEntropy: every element of probs must be in [0, 1], got ${v} at flat element ${i} (probs ${shape}). ` +
      `Fix: pass probabilities, e.g. logits.sigmoid().`,
  );
  const r = reductionOf("binaryCrossEntropy", opts);
  const pos = targets.mul(clampedLog(probs));
  const neg = targets.neg().add(1).mul(clampedLog(probs.neg().add(1)));
  return reduce(pos.add(neg).neg(), r);
}

/**
 * x Wᵀ + b for x [..., in], weight [out, in] and an optional bias [out] (null or left out for
 * none), giving [..., out]. Wᵀ is a strided view the matmul kernel reads directly. Differentiable.
 *
 * PyTorch: `torch.nn.functional.linear`.
 * @example wg.nn.functional.linear(wg.ones([2, 3]), wg.ones([4, 3])).shape // [2, 4]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  floatArg("linear", "x", x);
  floatArg("linear", "weight", weight);
  if (weight.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== weight.shape[1])
    throw new Error(
      `linear: input ${fmt(x.shape)} and weight ${fmt(weight.shape)} do not fit: the weight must be [out, in] with in equal to the input's last dim. ` +
        `Fix: reshape the input to [..., ${weight.shape[1] ?? "in"}], or make the weight [out, ${x.shape[x.ndim - 1] ?? "in"}].`,
    );
  if (bias === undefined || bias === null) return x.matmul(weight.T);
  floatArg("linear", "bias", bias);
  if (!sameShape(bias.shape, [weight.shape[0]]))
    throw new Error(`linear: bias ${fmt(bias.shape)} must have shape [${weight.shape[0]}] for weight ${fmt(weight.shape)}. Fix: make the bias [out].`);
  // In a tidy: the product is freed before the matmul's epilogue runs, so the epilogue writes the
  // biased result only (nothing reads the raw product: the add's gradient needs neither operand).
  return tidy(() => x.matmul(weight.T).add(bias));
}

/**
 * Zeroes each element with probability `p` (default 0.5) and scales the rest by 1/(1 − p), with a
 * fresh mask from `wg.rand` (so `wg.manualSeed` repeats it); returns `x` itself when `training`
 * is false or p is 0. A `p` outside [0, 1] throws. Differentiable.
 *
 * PyTorch: `torch.nn.functional.dropout` (`training` defaults to true, as there).
 * @example wg.nn.functional.dropout(x, 0.2, model.training)
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkProbability("dropout", p);
  floatArg("dropout", "x", x);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const keepMask = rand(x.shape, { device: x.device }).ge(p);
  return x.mul(keepMask.mul(1 / (1 - p)));
}

/** @internal Dropout's argument check, shared by F.dropout and nn.Dropout. */
export function checkProbability(op: string, p: unknown): void {
  if (typeof p !== "number" || !(p >= 0 && p <= 1))
    throw new Error(`${op}: p is the probability of zeroing an element and must be a number in [0, 1], got ${String(p)}. Fix: e.g. ${op}(0.5).`);
}

/**
 * max(x, 0) elementwise (`x.relu()`). Differentiable (gradient 0 at 0, as PyTorch).
 *
 * PyTorch: `torch.nn.functional.relu`.
 * @example wg.nn.functional.relu(wg.tensor([-1, 2])) // tensor([0, 2])
 */
export const relu = (x: Tensor): Tensor => x.relu();
/**
 * 1 / (1 + e^−x) elementwise (`x.sigmoid()`). Differentiable.
 *
 * PyTorch: `torch.nn.functional.sigmoid`.
 * @example wg.nn.functional.sigmoid(wg.tensor([0])) // tensor([0.5])
 */
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
/**
 * tanh elementwise (`x.tanh()`). Differentiable.
 *
 * PyTorch: `torch.nn.functional.tanh`.
 * @example wg.nn.functional.tanh(wg.tensor([0])) // tensor([0])
 */
export const tanh = (x: Tensor): Tensor => x.tanh();
/**
 * GELU x·Φ(x) elementwise (`x.gelu(opts)`): exact erf by default, `{ approximate: "tanh" }` for
 * PyTorch's tanh approximation. Differentiable.
 *
 * PyTorch: `torch.nn.functional.gelu`.
 * @example wg.nn.functional.gelu(x, { approximate: "tanh" })
 */
export const gelu = (x: Tensor, opts?: { approximate?: "none" | "tanh" }): Tensor => x.gelu(opts);
/**
 * Softmax over `dim` (default -1, the last; PyTorch's default is an implicit, deprecated choice).
 * Differentiable.
 *
 * PyTorch: `torch.nn.functional.softmax`.
 * @example wg.nn.functional.softmax(wg.zeros([2, 4])) // each row 0.25s
 */
export const softmax = (x: Tensor, dim = -1): Tensor => x.softmax(dim);
/**
 * log softmax over `dim` (default -1), computed stably (x − logsumexp(x)). Differentiable.
 *
 * PyTorch: `torch.nn.functional.log_softmax`.
 * @example wg.nn.functional.logSoftmax(wg.zeros([2])) // tensor([-0.6931, -0.6931])
 */
export const logSoftmax = (x: Tensor, dim = -1): Tensor => x.logSoftmax(dim);
export { conv2d, type ConvOptions } from "../ops/conv.js";
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, pad, type PoolOptions } from "../ops/pool.js";
export { batchNorm, type BatchNormOptions } from "../ops/batchnorm.js";

// Sequence models: embedding, layer norm, attention and their activations (kernels in src/ops).
export { embedding, layerNorm, scaledDotProductAttention, type LayerNormOptions, type AttentionOptions } from "../ops/index.js";
/**
 * SiLU (swish) x·sigmoid(x) elementwise (`x.silu()`). Differentiable.
 *
 * PyTorch: `torch.nn.functional.silu`.
 * @example wg.nn.functional.silu(wg.tensor([0])) // tensor([0])
 */
export const silu = (x: Tensor): Tensor => x.silu();
/**
 * log(1 + eˣ) elementwise (`x.softplus()`), computed as max(x, 0) + log(1 + e^−|x|) so it never
 * overflows; beta is 1 (PyTorch's default) and there is no linear threshold. Differentiable.
 *
 * PyTorch: `torch.nn.functional.softplus`.
 * @example wg.nn.functional.softplus(wg.tensor([0])) // tensor([0.6931])
 */
export const softplus = (x: Tensor): Tensor => x.softplus();
/**
 * x where x ≥ 0 and negativeSlope·x below (negativeSlope default 0.01), elementwise. Differentiable.
 *
 * PyTorch: `torch.nn.functional.leaky_relu`.
 * @example wg.nn.functional.leakyRelu(wg.tensor([-10, 2]), 0.1) // tensor([-1, 2])
 */
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => x.leakyRelu(negativeSlope);
