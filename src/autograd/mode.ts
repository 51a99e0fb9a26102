/** Gradient mode: whether ops record a graph. */

let gradEnabled = true;
let inference = false;

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

export const noGrad = <T>(fn: () => T): T => withMode(false, inference, fn);
export const enableGrad = <T>(fn: () => T): T => withMode(true, false, fn);
/** noGrad, and tensors made inside cannot later be saved for backward. */
export const inferenceMode = <T>(fn: () => T): T => withMode(false, true, fn);
export const setGradEnabled = (on: boolean): void => {
  gradEnabled = on;
};
