/** Every op, for tensor.ts and the public API. */
export { unary, binary, where, cast, unaryOps, binaryOps, type UnaryName, type BinaryName } from "./elementwise.js";
export { reduce, mean, argReduce } from "./reduce.js";
export { matmul } from "./matmul.js";
export { softmax, logSoftmax, crossEntropyMean, crossEntropyRows, oneHot } from "./softmax.js";
export { gather } from "./gather.js";
export {
  clone, contiguous, dense, detach, reshape, flatten, permute, transpose, matrixT, expand, unsqueeze, squeeze, slice, cat, stack,
  sumToShape, restoreDims,
} from "./layout.js";
export {
  tensor, full, zeros, ones, zerosLike, onesLike, fullLike, arange, eye, rand, randn, manualSeed, nest, toDevice,
  type CreateOptions,
} from "./creation.js";
export { clamp, gelu, einsum } from "./composite.js";
export { inplace } from "./inplace.js";
export { scalarTensor } from "./constants.js";
export { conv2d, type ConvOptions } from "./conv.js";
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, pad } from "./pool.js";
export { batchNorm } from "./batchnorm.js";
export { layerNorm, type LayerNormOptions } from "./layernorm.js";
export { leakyRelu, embedding } from "./sequence.js";
export { scaledDotProductAttention, attentionComposite, type AttentionOptions } from "./attention.js";
export { indexSelect, scatterAddInto } from "./gather.js";
export { split, chunk } from "./split.js";
export { sort, topk } from "./sort.js";
export { randint } from "./creation.js";
export { bernoulli, multinomial } from "./random.js";
export { variance, std, logsumexp, norm, type VarOptions } from "./statistics.js";
export { cumsum } from "./scan.js";
export { tril, triu, maskedFill } from "./triangular.js";
export { flip, repeat } from "./reorder.js";
export { linspace } from "./creation.js";
