/**
 * Batch normalization (torch.nn.functional.batch_norm) over [N, C], [N, C, L]
 * or [N, C, H, W], as a composite: autograd differentiates it, through the
 * batch statistics too. Written as y = x·scale + shift with per-channel
 * scale = w / √(var + eps) and shift = b − mean·scale, so only two ops touch
 * the whole tensor after the statistics.
 */
import { noGrad } from "../autograd/mode.js";
import { fmt } from "../shape.js";
import type { Tensor } from "../tensor.js";

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Batch statistics (and a running-statistics update) when true; the running statistics when false. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

function checkChannelVector(what: string, t: Tensor | null | undefined, x: Tensor): void {
  if (!t) return;
  const C = x.shape[1];
  if (t.ndim !== 1 || t.shape[0] !== C)
    throw new Error(`batchNorm: ${what} must be [${C}] (one per channel of input ${fmt(x.shape)}), got ${fmt(t.shape)}. Fix: make it [${C}].`);
  if (t.device !== x.device) throw new Error(`batchNorm: ${what} is on ${t.device}, the input ${fmt(x.shape)} on ${x.device}. Fix: await ${what}.to("${x.device}").`);
}

export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = opts;
  if (x.ndim < 2 || x.ndim > 4 || x.dtype === "int32")
    throw new Error(`batchNorm: input must be a float [N, C], [N, C, L] or [N, C, H, W] tensor, got ${x.dtype} ${fmt(x.shape)}. Fix: reshape it so channels are dim 1.`);
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    throw new Error(`batchNorm: eps must be > 0 and momentum in [0, 1], got eps ${eps}, momentum ${momentum}. Fix: the defaults are 1e-5 and 0.1.`);
  for (const [what, t] of [["runningMean", runningMean], ["runningVar", runningVar], ["weight", weight], ["bias", bias]] as const)
    checkChannelVector(what, t, x);
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
  const perChannel = x.size / x.shape[1];
  const shape = x.shape.map((s, i) => (i === 1 ? s : 1));
  let mean: Tensor, v: Tensor;
  if (training) {
    if (perChannel <= 1)
      throw new Error(
        `batchNorm: training needs more than one value per channel to take batch statistics, got input ${fmt(x.shape)}. ` +
          `Fix: use a batch of at least 2, or eval mode (model.eval()) to normalize with the running statistics.`,
      );
    mean = x.mean(dims, true);
    const d = x.sub(mean);
    v = d.mul(d).mean(dims, true); // biased, as PyTorch normalizes
    if (runningMean && runningVar) updateRunning(runningMean, runningVar, mean, v, momentum, perChannel);
  } else {
    if (!runningMean || !runningVar)
      throw new Error(`batchNorm: eval mode (training false) normalizes with the running statistics, but runningMean or runningVar is null (input ${fmt(x.shape)}). Fix: pass both, or { training: true }.`);
    mean = runningMean.reshape(shape);
    v = runningVar.reshape(shape);
  }
  let scale = v.add(eps).pow(-0.5);
  if (weight) scale = scale.mul(weight.reshape(shape));
  let shift = mean.mul(scale).neg();
  if (bias) shift = shift.add(bias.reshape(shape));
  return x.mul(scale).add(shift);
}

/** running ← (1 − m)·running + m·batch, with the unbiased variance (n / (n − 1)) as PyTorch. */
function updateRunning(rm: Tensor, rv: Tensor, mean: Tensor, v: Tensor, m: number, n: number): void {
  noGrad(() => {
    const bm = mean.reshape(rm.shape).mul(m), bv = v.reshape(rv.shape).mul((m * n) / (n - 1));
    rm.mul_(1 - m).add_(bm);
    rv.mul_(1 - m).add_(bv);
    bm.dispose();
    bv.dispose();
  });
}
