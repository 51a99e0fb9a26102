/**
 * wg.nn.utils: clipGradNorm (torch.nn.utils.clip_grad_norm_). The total norm
 * and the clip coefficient min(1, maxNorm / (total + 1e-6)) stay on the device:
 * each gradient is scaled in place by the coefficient tensor, so a clipped
 * training step reads nothing back. Only errorIfNonfinite, which must look at
 * the norm before it scales, reads it back, and so returns a Promise.
 */
import { noGrad } from "../autograd/mode.js";
import { zeros } from "../ops/creation.js";
import { fmt } from "../shape.js";
import { Tensor } from "../tensor.js";
import { defaultDevice } from "../engine/device.js";
import { keep } from "../engine/scope.js";
import { normAndCoefficient, scaleByCoefficient, type NormKind } from "../optim/grad-norm.js";

/**
 * Options of `nn.utils.clipGradNorm`.
 *
 * PyTorch: the `norm_type` and `error_if_nonfinite` arguments of `torch.nn.utils.clip_grad_norm_`.
 * @example wg.nn.utils.clipGradNorm(model.parameters(), 1.0, { normType: Infinity })
 */
export interface ClipOptions {
  /** 1, 2 (default) or Infinity. */
  normType?: number;
  /** Throw (without scaling) when the total norm is NaN or infinite; needs a readback, so the call returns a Promise. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales the gradients of `params` in place so that their total norm (all gradients as one
 * vector; `normType` 2 by default) is at most `maxNorm`: each is multiplied by
 * min(1, maxNorm / (total + 1e-6)). Returns the total norm before clipping as a scalar Tensor;
 * it stays on the device, so a clipped step reads nothing back. Parameters without a gradient
 * are skipped. With `errorIfNonfinite: true` it returns a Promise (it must read the norm).
 *
 * PyTorch: `torch.nn.utils.clip_grad_norm_`.
 * @example const norm = wg.nn.utils.clipGradNorm(model.parameters(), 1.0) // scalar Tensor
 */
export function clipGradNorm(params: Iterable<Tensor> | Tensor, maxNorm: number, opts?: ClipOptions & { errorIfNonfinite?: false }): Tensor;
/**
 * With `errorIfNonfinite: true`: reads the total norm back first and rejects, leaving the
 * gradients unscaled, when it is NaN or infinite; otherwise clips and resolves to the norm.
 *
 * PyTorch: `torch.nn.utils.clip_grad_norm_` with `error_if_nonfinite=True`.
 * @example const norm = await wg.nn.utils.clipGradNorm(model.parameters(), 1.0, { errorIfNonfinite: true })
 */
export function clipGradNorm(params: Iterable<Tensor> | Tensor, maxNorm: number, opts: ClipOptions & { errorIfNonfinite: true }): Promise<Tensor>;
export function clipGradNorm(params: Iterable<Tensor> | Tensor, maxNorm: number, opts: ClipOptions = {}): Tensor | Promise<Tensor> {
  const { normType = 2, errorIfNonfinite = false } = opts ?? {};
  // Read a one-shot iterable (a generator) once: gradsOf and paramDevice both walk it.
  if (!(params instanceof Tensor) && params !== null && typeof (params as Iterable<Tensor>)?.[Symbol.iterator] === "function") params = Array.from(params);
  const grads = gradsOf(params);
  const kind = normKind(normType);
  if (typeof maxNorm !== "number" || !(maxNorm >= 0))
    throw new Error(`clipGradNorm: maxNorm must be a non-negative number, got ${String(maxNorm)}. Fix: e.g. wg.nn.utils.clipGradNorm(model.parameters(), 1.0).`);
  if (grads.length === 0) {
    const none = zeros([], { device: paramDevice(params) });
    return errorIfNonfinite ? Promise.resolve(none) : none;
  }
  const res = normAndCoefficient(grads, kind, maxNorm);
  const total = noGrad(() => {
    const row = res.slice(0, 0, 1);
    const t = row.reshape([]);
    row.dispose();
    return t;
  });
  if (!errorIfNonfinite) {
    scale(grads, res);
    return total;
  }
  // The continuation may run after an enclosing tidy() has ended: these two must outlive it (the caller owns total).
  keep(res);
  keep(total);
  return total.item().then((t) => {
    if (!Number.isFinite(t)) {
      res.dispose();
      total.dispose();
      throw new Error(`clipGradNorm: the total ${normType}-norm of the gradients of ${grads.length} parameters is ${t}, so they cannot be clipped (the gradients are left as they are). Fix: find where the NaN/Inf arises with wg.autograd.detectAnomaly, lower the learning rate, or pass errorIfNonfinite: false to scale anyway, as torch does.`);
    }
    scale(grads, res);
    return total;
  });
}

/** g ← g · coefficient, in place, the coefficient read on the device. */
function scale(grads: Tensor[], res: Tensor): void {
  scaleByCoefficient(grads, res);
  res.dispose();
}

function normKind(p: number): NormKind {
  if (p === 1) return 0;
  if (p === 2) return 1;
  if (p === Infinity) return 2;
  throw new Error(`clipGradNorm: normType ${String(p)} is not supported; webgrad computes the 1-, 2- and infinity-norms. Fix: { normType: 2 } (the default), 1 or Infinity.`);
}

/** The gradients to clip: of the tensors that have one, all on one device and of one dtype. */
function gradsOf(params: Iterable<Tensor> | Tensor): Tensor[] {
  const list = params instanceof Tensor ? [params] : params !== null && typeof (params as Iterable<Tensor>)?.[Symbol.iterator] === "function" ? Array.from(params) : null;
  if (!list) throw new Error(`clipGradNorm: params must be a Tensor or an array of tensors, got ${String(params)}. Fix: wg.nn.utils.clipGradNorm(model.parameters(), maxNorm).`);
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new Error(`clipGradNorm: parameter ${i} is ${typeof p}, not a Tensor. Fix: pass model.parameters().`);
  });
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  for (const g of grads) {
    if (g.device !== grads[0].device || g.dtype !== grads[0].dtype)
      throw new Error(`clipGradNorm: the gradients are on ${grads[0].device} (${grads[0].dtype}) and ${g.device} (${g.dtype}); the total norm needs them on one device, of one dtype. Fix: clip each device's parameters separately.`);
    if (g.dtype === "int32") throw new Error(`clipGradNorm: a gradient of shape ${fmt(g.shape)} is int32. Fix: float gradients.`);
    if (g.strides.some((s, i) => s === 0 && g.shape[i] > 1))
      throw new Error(`clipGradNorm: a gradient of shape ${fmt(g.shape)} is an expanded view, which cannot be scaled in place. Fix: assign p.grad = g.clone() first.`);
  }
  return grads;
}

function paramDevice(params: Iterable<Tensor> | Tensor) {
  const first = params instanceof Tensor ? params : Array.from(params)[0];
  return first?.device ?? defaultDevice();
}
