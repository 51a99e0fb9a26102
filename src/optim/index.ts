/** wg.optim: optimizers that update parameters in place with one fused kernel per parameter. */
export { Optimizer, type ParamGroup, type GroupSpec } from "./optimizer.js";
export { SGD, type SGDOptions, type SGDGroup } from "./sgd.js";
export { Adam, AdamW, type AdamOptions, type AdamGroup } from "./adam.js";
export { packStateDict, unpackStateDict, type OptimizerStateDict, type StateEntry } from "./state-dict.js";
/**
 * Learning-rate schedulers (StepLR, CosineAnnealingLR, LinearLR, LambdaLR, SequentialLR) that
 * write each parameter group's lr, with torch's semantics.
 *
 * PyTorch: `torch.optim.lr_scheduler`.
 * @example new wg.optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 1000 })
 */
export * as lrScheduler from "./lr-scheduler.js";
