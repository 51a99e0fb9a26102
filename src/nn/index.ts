/** wg.nn: modules, layers, and wg.nn.functional. */
export { Module, parameter, type LoadOptions } from "./module.js";
export { Linear, Sequential, ReLU, Sigmoid, Tanh, GELU, Softmax, Dropout, type LinearOptions } from "./layers.js";
export * as functional from "./functional.js";
export * as utils from "./utils.js";
export { Embedding, LayerNorm, MultiheadAttention, ModuleList, SiLU, LeakyReLU, type MultiheadAttentionOptions, type MultiheadAttentionCall } from "./sequence.js";
