/** Sequence-model ops: embedding (its own primitive pair, ops/embedding.ts) and leakyRelu. */
import { fmt } from "../shape.js";
import { where } from "./elementwise.js";
import { embeddingRows } from "./embedding.js";
import type { Tensor } from "../tensor.js";

/**
 * x where x > 0, else negativeSlope·x (default 0.01); the gradient at 0 is the slope, as in PyTorch.
 *
 * PyTorch: `torch.nn.functional.leaky_relu`.
 * @example wg.nn.functional.leakyRelu(wg.tensor([-1, 2]), 0.1) // tensor([-0.1, 2])
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (typeof negativeSlope !== "number" || !Number.isFinite(negativeSlope))
    throw new Error(`leakyRelu: negativeSlope must be a finite number, got ${String(negativeSlope)}.`);
  if (x.dtype === "int32") throw new Error(`leakyRelu: needs a float tensor, got int32 of shape ${fmt(x.shape)}. Fix: x.float().leakyRelu().`);
  return where(x.gt(0), x, x.mul(negativeSlope));
}

/**
 * Rows of weight [num, dim] picked by int32 indices of any shape → [...indices.shape, dim].
 * Repeated indices add their gradients (the backward sums the gradient rows per index). An index outside
 * [0, num) throws: at once on the CPU, at the next sync point on WebGPU (the kernel's check).
 * No paddingIdx or maxNorm. Note the argument order is PyTorch's: indices first.
 *
 * PyTorch: `torch.nn.functional.embedding`.
 * @example wg.nn.functional.embedding(wg.tensor([[0, 2]], { dtype: "int32" }), wg.tensor([[1, 1], [2, 2], [3, 3]])) // tensor([[[1, 1], [3, 3]]])
 */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  if (indices.dtype !== "int32")
    throw new Error(`embedding: indices must be int32, got ${indices.dtype} ${fmt(indices.shape)}. Fix: indices.int(), or wg.tensor(data, { dtype: "int32" }).`);
  if (weight.ndim !== 2 || weight.dtype === "int32")
    throw new Error(`embedding: weight must be a float matrix [num, dim], got ${weight.dtype} ${fmt(weight.shape)}.`);
  const [num, dim] = weight.shape;
  const message = (k: number) =>
    `embedding: index ${k} is out of range: indices must lie in [0, ${num - 1}] for a weight of ${num} embeddings ${fmt(weight.shape)}. ` +
    `Fix: check the tokenizer or vocabulary size (nn.Embedding(num, dim) needs num > the largest index).`;
  return embeddingRows(indices, weight, message).reshape([...indices.shape, dim]);
}
