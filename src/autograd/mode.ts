/** Gradient mode: whether ops record a graph. */

let gradEnabled = true;
let inference = false;

/**
 * Whether ops record a graph for backward now: false inside `noGrad` and `inferenceMode`, true otherwise (and inside
 * `enableGrad`).
 *
 * PyTorch: `torch.is_grad_enabled`.
 * @example wg.noGrad(() => wg.isGradEnabled()) // false
 */
export const isGradEnabled = (): boolean => gradEnabled;
export const isInferenceMode = (): boolean => inference;

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * Run fn with the mode set, restoring it afterwards. An async fn keeps the mode
 * until its promise settles (JavaScript has no per-task state to scope it tighter).
 */
function withMode<T>(grad: boolean, infer: boolean, fn: () => T): T {
  const prev = [gradEnabled, inference] as const;
  const restore = () => ([gradEnabled, inference] = prev);
  gradEnabled = grad;
  inference = infer;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (isThenable(result)) return Promise.resolve(result).finally(restore) as T;
  restore();
  return result;
}

/**
 * Runs `fn` with graph recording off and returns its result: nothing computed inside requires grad or saves values for
 * backward (evaluation, and in-place parameter updates as optimizers do). An async `fn` keeps the mode until its promise
 * settles, which also affects other code that runs meanwhile (JavaScript has no per-task state).
 *
 * PyTorch: `torch.no_grad`.
 * @example wg.noGrad(() => wg.tensor([1], { requiresGrad: true }).mul(2)).requiresGrad // false
 */
export const noGrad = <T>(fn: () => T): T => withMode(false, inference, fn);
/**
 * Runs `fn` with graph recording on, even inside `noGrad` or `inferenceMode`, and returns its result; an async `fn`
 * keeps the mode until its promise settles.
 *
 * PyTorch: `torch.enable_grad`.
 * @example wg.noGrad(() => wg.enableGrad(() => wg.tensor([1], { requiresGrad: true }).mul(2))).requiresGrad // true
 */
export const enableGrad = <T>(fn: () => T): T => withMode(true, false, fn);
/**
 * `noGrad`, and tensors made inside are marked `isInference`: an op that would later save one for backward throws, so a
 * tensor of an evaluation pass cannot end up in a training graph. Returns `fn`'s result.
 *
 * PyTorch: `torch.inference_mode`.
 * @example wg.inferenceMode(() => wg.ones([2]).mul(2)).isInference // true
 */
export const inferenceMode = <T>(fn: () => T): T => withMode(false, true, fn);
export const setGradEnabled = (on: boolean): void => {
  gradEnabled = on;
};
