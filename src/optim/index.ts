/** wg.optim: optimizers that update parameters in place with one fused kernel per parameter. */
export { Optimizer } from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Adam, AdamW, type AdamOptions } from "./adam.js";
