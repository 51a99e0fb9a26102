/** wg.nn: modules, layers, and wg.nn.functional. */
export { Module, parameter, type LoadOptions } from "./module.js";
export { Linear, Sequential, ReLU, Sigmoid, Tanh, GELU, Softmax, Dropout, type LinearOptions } from "./layers.js";
/**
 * Losses, activations and layer functions as plain functions of tensors (what the modules call).
 *
 * PyTorch: `torch.nn.functional`.
 * @example wg.nn.functional.crossEntropy(logits, labels)
 */
export * as functional from "./functional.js";
/**
 * Training helpers: `clipGradNorm`.
 *
 * PyTorch: `torch.nn.utils`.
 * @example wg.nn.utils.clipGradNorm(model.parameters(), 1.0)
 */
export * as utils from "./utils.js";
export { Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d, Flatten, type Conv2dOptions, type BatchNormModuleOptions } from "./conv.js";
export { Embedding, LayerNorm, MultiheadAttention, ModuleList, SiLU, LeakyReLU, type MultiheadAttentionOptions, type MultiheadAttentionCall } from "./sequence.js";
