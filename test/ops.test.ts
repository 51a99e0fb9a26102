/**
 * Every op, table-driven: forward and the backward of sum(op(x) * r) with a
 * random r, on every device, against a float64 CPU reference; then gradcheck
 * (central differences, float64) of the same scalar.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { crossEntropyMean, crossEntropyRows, unary, type BinaryName, type UnaryName } from "../src/ops/index.js";
import { DEVICES, expectClose, randomData, startWebgpu } from "./helpers.js";

interface Input {
  shape: number[];
  lo?: number;
  hi?: number;
  /** int32 values in [lo, hi) */
  int?: boolean;
  /** A constant operand: no gradient taken. */
  fixed?: boolean;
}
interface Row {
  name: string;
  inputs: Input[];
  f: (...xs: Tensor[]) => Tensor;
  /** Parity tolerance against the float64 reference (absolute; relative is 10x). */
  atol?: number;
  /** false: forward only (comparisons, argmax, casts). */
  grad?: boolean;
  /** false: too large for finite differences. */
  gradcheck?: boolean;
}

const F = wg.nn.functional;
const x = (...shape: number[]): Input => ({ shape });
const pos = (...shape: number[]): Input => ({ shape, lo: 0.5, hi: 2 });
const away = (...shape: number[]): Input => ({ shape, lo: 0.5, hi: 2, fixed: false });

const rows: Row[] = [
  // unary
  { name: "neg", inputs: [x(3, 4)], f: (a) => a.neg() },
  { name: "abs", inputs: [{ shape: [3, 4], lo: 0.1, hi: 1 }], f: (a) => a.sub(0.55).abs() },
  { name: "sign", inputs: [{ shape: [5], lo: 0.1, hi: 1 }], f: (a) => a.sub(0.55).sign().add(a) },
  { name: "relu", inputs: [x(4, 5)], f: (a) => a.relu() },
  { name: "exp", inputs: [x(3, 4)], f: (a) => a.exp() },
  { name: "log", inputs: [pos(3, 4)], f: (a) => a.log() },
  { name: "sqrt", inputs: [pos(3, 4)], f: (a) => a.sqrt() },
  { name: "tanh", inputs: [{ shape: [3, 4], lo: -3, hi: 3 }], f: (a) => a.tanh() },
  { name: "sigmoid", inputs: [{ shape: [3, 4], lo: -4, hi: 4 }], f: (a) => a.sigmoid() },
  { name: "erf", inputs: [{ shape: [12], lo: -3, hi: 3 }], f: (a) => a.erf() },
  { name: "sin", inputs: [x(6)], f: (a) => a.sin() },
  { name: "cos", inputs: [x(6)], f: (a) => a.cos() },
  { name: "gelu", inputs: [{ shape: [3, 5], lo: -3, hi: 3 }], f: (a) => a.gelu() },
  { name: "gelu tanh", inputs: [{ shape: [3, 5], lo: -3, hi: 3 }], f: (a) => a.gelu({ approximate: "tanh" }) },
  // The exact GELU's derivative, its own op (gelu's backward): its gradient is checked here, so gelu is twice differentiable.
  { name: "geluGrad", inputs: [{ shape: [3, 5], lo: -3, hi: 3 }], f: (a) => unary("geluGrad", a) },
  { name: "clamp", inputs: [{ shape: [4, 5], lo: -2, hi: 2 }], f: (a) => a.clamp(-0.7, 0.9) },
  { name: "square", inputs: [x(7)], f: (a) => a.square() },
  // binary, with broadcasting
  { name: "add", inputs: [x(3, 4), x(4)], f: (a, b) => a.add(b) },
  { name: "add scalar", inputs: [x(2, 3)], f: (a) => a.add(2.5) },
  { name: "sub", inputs: [x(2, 1, 3), x(4, 1)], f: (a, b) => a.sub(b) },
  { name: "mul", inputs: [x(3, 4), x(3, 1)], f: (a, b) => a.mul(b) },
  { name: "div", inputs: [x(3, 4), away(4)], f: (a, b) => a.div(b) },
  { name: "pow", inputs: [pos(3, 4), x(3, 4)], f: (a, b) => a.pow(b) },
  { name: "pow int exponent, negative base", inputs: [{ shape: [6], lo: -2, hi: -0.5 }], f: (a) => a.pow(3) },
  { name: "pow scalar base", inputs: [x(5)], f: (a) => wg.pow(2, a) },
  { name: "maximum", inputs: [x(3, 4), x(4)], f: (a, b) => a.maximum(b) },
  { name: "minimum", inputs: [x(3, 4), x(3, 1)], f: (a, b) => a.minimum(b) },
  { name: "eq", inputs: [{ shape: [3, 4], int: true, lo: 0, hi: 3 }, { shape: [4], int: true, lo: 0, hi: 3 }], f: (a, b) => a.eq(b), grad: false },
  { name: "ne", inputs: [{ shape: [6], int: true, lo: 0, hi: 2 }, { shape: [6], int: true, lo: 0, hi: 2 }], f: (a, b) => a.ne(b), grad: false },
  { name: "gt", inputs: [x(3, 4), x(4)], f: (a, b) => a.gt(b), grad: false },
  { name: "ge", inputs: [x(3, 4), x(4)], f: (a, b) => a.ge(b), grad: false },
  { name: "lt", inputs: [x(3, 4), x(4)], f: (a, b) => a.lt(b), grad: false },
  { name: "le", inputs: [x(3, 4), x(4)], f: (a, b) => a.le(b), grad: false },
  { name: "where", inputs: [x(3, 4), x(3, 4), x(4)], f: (c, a, b) => wg.where(c.gt(0), a, b) },
  { name: "cast float→int→float", inputs: [{ shape: [8], lo: -5, hi: 5 }], f: (a) => a.int().float(), grad: false },
  // reductions
  { name: "sum all", inputs: [x(3, 4)], f: (a) => a.sum() },
  { name: "sum dim", inputs: [x(3, 4, 5)], f: (a) => a.sum(1) },
  { name: "sum dims keepdim", inputs: [x(3, 4, 5)], f: (a) => a.sum([0, -1], true) },
  { name: "sum int32", inputs: [{ shape: [4, 6], int: true, lo: -5, hi: 5 }], f: (a) => a.sum(1), grad: false },
  { name: "sum over a transposed view", inputs: [x(4, 6)], f: (a) => a.T.sum(1) },
  { name: "sum large row", inputs: [x(2, 5000)], f: (a) => a.sum(1), gradcheck: false, atol: 1e-3 },
  { name: "mean", inputs: [x(3, 4, 5)], f: (a) => a.mean([1, 2]) },
  { name: "max dim", inputs: [x(3, 5)], f: (a) => a.max(1) },
  { name: "max all", inputs: [x(4, 5)], f: (a) => a.max() },
  { name: "min dim keepdim", inputs: [x(3, 5)], f: (a) => a.min(0, true) },
  { name: "argmax", inputs: [x(4, 7)], f: (a) => a.argmax(1), grad: false },
  { name: "argmin", inputs: [x(4, 7)], f: (a) => a.argmin(0), grad: false },
  { name: "argmax flat", inputs: [x(3, 5)], f: (a) => a.argmax(), grad: false },
  // linear algebra
  { name: "matmul 1x1", inputs: [x(1, 1), x(1, 1)], f: (a, b) => a.matmul(b) },
  { name: "matmul 3x5·5x2", inputs: [x(3, 5), x(5, 2)], f: (a, b) => a.matmul(b) },
  { name: "matmul 17", inputs: [x(17, 17), x(17, 17)], f: (a, b) => a.matmul(b), atol: 1e-4 },
  { name: "matmul 65x33·33x65", inputs: [x(65, 33), x(33, 65)], f: (a, b) => a.matmul(b), atol: 1e-4, gradcheck: false },
  { name: "matmul 257", inputs: [x(257, 257), x(257, 257)], f: (a, b) => a.matmul(b), atol: 1e-3, gradcheck: false },
  { name: "matmul vec·vec", inputs: [x(5), x(5)], f: (a, b) => a.matmul(b) },
  { name: "matmul vec·mat", inputs: [x(4), x(4, 3)], f: (a, b) => a.matmul(b) },
  { name: "matmul mat·vec", inputs: [x(3, 4), x(4)], f: (a, b) => a.matmul(b) },
  { name: "matmul batched broadcast", inputs: [x(2, 1, 3, 4), x(3, 4, 5)], f: (a, b) => a.matmul(b) },
  { name: "matmul transposed operands", inputs: [x(4, 3), x(5, 4)], f: (a, b) => a.T.matmul(b.T) },
  { name: "einsum ij,jk->ik", inputs: [x(3, 4), x(4, 2)], f: (a, b) => wg.einsum("ij,jk->ik", a, b) },
  { name: "einsum bij,bjk->bik", inputs: [x(2, 3, 4), x(2, 4, 2)], f: (a, b) => wg.einsum("bij,bjk->bik", a, b) },
  { name: "einsum i,i->", inputs: [x(5), x(5)], f: (a, b) => wg.einsum("i,i->", a, b) },
  { name: "einsum ijk->kj", inputs: [x(2, 3, 4)], f: (a) => wg.einsum("ijk->kj", a) },
  { name: "einsum ij,jk,kl->il", inputs: [x(2, 3), x(3, 4), x(4, 2)], f: (a, b, c) => wg.einsum("ij,jk,kl->il", a, b, c) },
  // softmax family
  { name: "softmax", inputs: [{ shape: [4, 6], lo: -3, hi: 3 }], f: (a) => a.softmax(-1) },
  { name: "softmax dim 0", inputs: [x(4, 3)], f: (a) => a.softmax(0) },
  { name: "softmax wide row", inputs: [x(2, 3000)], f: (a) => a.softmax(-1), gradcheck: false, atol: 1e-6 },
  { name: "logSoftmax", inputs: [{ shape: [4, 6], lo: -3, hi: 3 }], f: (a) => a.logSoftmax(-1) },
  { name: "logSoftmax dim 1 of 3-D", inputs: [x(2, 3, 4)], f: (a) => a.logSoftmax(1) },
  { name: "crossEntropy fused", inputs: [{ shape: [5, 4], lo: -2, hi: 2 }, { shape: [5], int: true, lo: 0, hi: 4 }], f: (l, t) => crossEntropyRows(l, t) },
  { name: "crossEntropy mean, one launch", inputs: [{ shape: [7, 4], lo: -2, hi: 2 }, { shape: [7], int: true, lo: 0, hi: 4 }], f: (l, t) => crossEntropyMean(l, t) },
  // The targets equal to 2 are ignored: fewer rows in the count.
  { name: "crossEntropy mean, ignoreIndex", inputs: [{ shape: [9, 3], lo: -2, hi: 2 }, { shape: [9], int: true, lo: 0, hi: 3 }], f: (l, t) => crossEntropyMean(l, t, 2) },
  { name: "crossEntropy mean, past the one-launch limit", inputs: [{ shape: [2, 140000], lo: -2, hi: 2 }, { shape: [2], int: true, lo: 0, hi: 140000 }], f: (l, t) => crossEntropyMean(l, t), gradcheck: false, atol: 1e-4 },
  // shape
  { name: "reshape", inputs: [x(3, 4)], f: (a) => a.reshape(2, -1).mul(a.reshape([2, 6])) },
  { name: "view of transposed (copies)", inputs: [x(3, 4)], f: (a) => a.T.view(12) },
  { name: "flatten", inputs: [x(2, 3, 4)], f: (a) => a.flatten(1) },
  { name: "transpose", inputs: [x(2, 3, 4)], f: (a) => a.transpose(0, 2).mul(a.transpose(0, 2)) },
  { name: "permute", inputs: [x(2, 3, 4)], f: (a) => a.permute(2, 0, 1).exp() },
  { name: "T", inputs: [x(3, 5)], f: (a) => a.T.mul(2) },
  { name: "expand", inputs: [x(3, 1)], f: (a) => a.expand(2, 3, 4).exp() },
  { name: "unsqueeze", inputs: [x(3, 4)], f: (a) => a.unsqueeze(1).mul(a.unsqueeze(0)) },
  { name: "squeeze", inputs: [x(3, 1, 4)], f: (a) => a.squeeze(1).exp() },
  { name: "slice", inputs: [x(5, 4)], f: (a) => a.slice(0, 1, 4).mul(a.slice(0, 0, 3)) },
  { name: "slice dim 1, negative start", inputs: [x(3, 5)], f: (a) => a.slice(1, -2).exp() },
  { name: "cat", inputs: [x(2, 3), x(4, 3)], f: (a, b) => wg.cat([a, b, a], 0) },
  { name: "cat dim 1", inputs: [x(2, 3), x(2, 1)], f: (a, b) => wg.cat([a, b], 1).exp() },
  { name: "stack", inputs: [x(2, 3), x(2, 3)], f: (a, b) => wg.stack([a, b], 1) },
  { name: "clone", inputs: [x(3, 4)], f: (a) => a.T.clone() },
  { name: "gather", inputs: [x(3, 5), { shape: [3, 2], int: true, lo: 0, hi: 5 }], f: (a, i) => a.gather(1, i) },
  { name: "gather dim 0 repeats", inputs: [x(4, 3), { shape: [6, 3], int: true, lo: 0, hi: 4 }], f: (a, i) => a.gather(0, i) },
  // convolution and pooling (issue 11)
  { name: "conv2d 3x3 pad 1, bias", inputs: [x(2, 3, 5, 5), x(4, 3, 3, 3), x(4)], f: (a, w, b) => F.conv2d(a, w, b, { padding: 1 }) },
  { name: "conv2d 1x1", inputs: [x(2, 3, 4, 4), x(5, 3, 1, 1)], f: (a, w) => F.conv2d(a, w) },
  { name: "conv2d 5x3 input, stride 2, pad 1", inputs: [x(1, 2, 5, 3), x(3, 2, 3, 3)], f: (a, w) => F.conv2d(a, w, null, { stride: 2, padding: 1 }) },
  { name: "conv2d dilation 2", inputs: [x(1, 2, 7, 6), x(2, 2, 3, 2)], f: (a, w) => F.conv2d(a, w, null, { dilation: 2 }) },
  { name: "conv2d groups 2", inputs: [x(2, 4, 5, 5), x(6, 2, 3, 3), x(6)], f: (a, w, b) => F.conv2d(a, w, b, { groups: 2, padding: [0, 1] }) },
  { name: "conv2d depthwise", inputs: [x(1, 3, 5, 5), x(6, 1, 3, 3)], f: (a, w) => F.conv2d(a, w, null, { groups: 3, stride: [2, 1], padding: 1 }) },
  { name: "conv2d 14x14, 8→16 channels", inputs: [x(3, 8, 14, 14), x(16, 8, 3, 3), x(16)], f: (a, w, b) => F.conv2d(a, w, b, { padding: 1 }), atol: 1e-4, gradcheck: false },
  { name: "maxPool2d 2x2", inputs: [x(2, 3, 6, 6)], f: (a) => F.maxPool2d(a, 2) },
  { name: "maxPool2d 3x3 stride 2 pad 1, 5x3 input", inputs: [x(1, 2, 5, 3)], f: (a) => F.maxPool2d(a, 3, { stride: 2, padding: 1 }) },
  { name: "maxPool2d overlapping windows", inputs: [x(1, 2, 5, 6)], f: (a) => F.maxPool2d(a, [3, 2], { stride: 1 }) },
  { name: "avgPool2d 2x2", inputs: [x(2, 2, 4, 6)], f: (a) => F.avgPool2d(a, 2) },
  { name: "avgPool2d 3x3 stride 2 pad 1", inputs: [x(1, 2, 5, 3)], f: (a) => F.avgPool2d(a, 3, { stride: 2, padding: 1 }) },
  { name: "adaptiveAvgPool2d 5x7→2x3", inputs: [x(2, 2, 5, 7)], f: (a) => F.adaptiveAvgPool2d(a, [2, 3]) },
  { name: "adaptiveAvgPool2d global", inputs: [x(2, 3, 4, 4)], f: (a) => F.adaptiveAvgPool2d(a, 1) },
  { name: "pad constant", inputs: [x(2, 3, 4)], f: (a) => F.pad(a, [1, 2, 0, 1], 0.5).exp() },
  { name: "pad crop", inputs: [x(2, 3, 4)], f: (a) => F.pad(a, [-1, 1, 2, -1]) },
  { name: "batchNorm training, 4-D", inputs: [x(3, 2, 3, 3), x(2), x(2)], f: (a, w, b) => F.batchNorm(a, null, null, { weight: w, bias: b, training: true }) },
  { name: "batchNorm training, 2-D", inputs: [x(5, 3)], f: (a) => F.batchNorm(a, null, null, { training: true }) },
  { name: "batchNorm eval", inputs: [x(2, 3, 2, 2), { ...x(3), fixed: true }, { ...pos(3), fixed: true }, x(3), x(3)], f: (a, m, v, w, b) => F.batchNorm(a, m, v, { weight: w, bias: b }) },
  { name: "dropout (seeded)", inputs: [x(4, 50)], f: (a) => (wg.manualSeed(3), F.dropout(a, 0.3, true)) },
  // sequence models (issue 12): activations, embedding, layerNorm, fused attention
  { name: "silu", inputs: [{ shape: [3, 5], lo: -4, hi: 4 }], f: (a) => a.silu() },
  { name: "softplus", inputs: [{ shape: [3, 5], lo: -4, hi: 4 }], f: (a) => a.softplus() },
  { name: "softplus large |x|", inputs: [{ shape: [6], lo: 20, hi: 40 }], f: (a) => wg.cat([a, a.neg()], 0).softplus() },
  { name: "leakyRelu", inputs: [x(4, 5)], f: (a) => a.leakyRelu(0.1) },
  { name: "embedding", inputs: [x(5, 3), { shape: [2, 4], int: true, lo: 0, hi: 5 }], f: (w, i) => wg.nn.functional.embedding(i, w) },
  { name: "layerNorm", inputs: [x(4, 6), x(6), x(6)], f: (a, w, b) => wg.nn.functional.layerNorm(a, [6], { weight: w, bias: b }) },
  { name: "layerNorm two dims, no affine", inputs: [x(3, 2, 5)], f: (a) => wg.nn.functional.layerNorm(a, [2, 5]) },
  { name: "layerNorm wide rows", inputs: [x(3, 300), x(300)], f: (a, w) => wg.nn.functional.layerNorm(a, 300, { weight: w }), gradcheck: false, atol: 1e-4 },
  { name: "attention", inputs: [x(2, 3, 4), x(2, 5, 4), x(2, 5, 3)], f: (q, k, v) => wg.nn.functional.scaledDotProductAttention(q, k, v) },
  { name: "attention causal", inputs: [x(1, 2, 4, 3), x(1, 2, 4, 3), x(1, 2, 4, 3)], f: (q, k, v) => wg.nn.functional.scaledDotProductAttention(q, k, v, { isCausal: true }) },
  // issue 12 part B: indexing, splitting, sorting
  { name: "indexSelect", inputs: [x(3, 5), { shape: [4], int: true, lo: 0, hi: 5 }], f: (a, i) => a.indexSelect(1, i) },
  { name: "indexSelect dim 0 repeats", inputs: [x(3, 2, 2), { shape: [5], int: true, lo: 0, hi: 3 }], f: (a, i) => a.indexSelect(0, i).exp() },
  { name: "scatterAdd", inputs: [x(3, 4), { shape: [5, 3], int: true, lo: 0, hi: 3, fixed: true }, x(6, 4)], f: (a, i, s) => a.scatterAdd(0, i, s) },
  { name: "scatterAdd dim 1", inputs: [x(2, 3), { shape: [2, 4], int: true, lo: 0, hi: 3 }, x(2, 4)], f: (a, i, s) => a.scatterAdd(1, i, s).exp() },
  { name: "split", inputs: [x(4, 5)], f: (a) => { const [p, q] = a.split([2, 3], 1); return p.sum(1, true).mul(q); } },
  { name: "chunk", inputs: [x(5, 3)], f: (a) => { const [p, q, r] = a.chunk(3, 0); return wg.cat([r.exp(), p.mul(q)], 0); } },
  { name: "sort", inputs: [x(3, 6)], f: (a) => a.sort(1).values.exp() },
  { name: "sort descending dim 0", inputs: [x(5, 3)], f: (a) => a.sort(0, { descending: true }).values },
  { name: "topk", inputs: [x(4, 7)], f: (a) => a.topk(3).values },
  { name: "topk smallest dim 0", inputs: [x(6, 2, 3)], f: (a) => a.topk(2, 0, { largest: false }).values.exp() },
  // more tensor methods (issue 12, part A)
  { name: "rsqrt", inputs: [pos(3, 4)], f: (a) => a.rsqrt() },
  { name: "log1p", inputs: [{ shape: [3, 4], lo: -0.9, hi: 3 }], f: (a) => a.log1p() },
  { name: "log1p tiny", inputs: [{ shape: [8], lo: -1e-4, hi: 1e-4 }], f: (a) => a.log1p().mul(1e4), atol: 1e-4 },
  { name: "expm1", inputs: [{ shape: [3, 4], lo: -3, hi: 3 }], f: (a) => a.expm1() },
  { name: "expm1 tiny", inputs: [{ shape: [8], lo: -1e-4, hi: 1e-4 }], f: (a) => a.expm1().mul(1e4), atol: 1e-4 },
  { name: "floor", inputs: [{ shape: [10], lo: -3, hi: 3 }], f: (a) => a.mul(1.7).floor().add(a) },
  { name: "ceil", inputs: [{ shape: [10], lo: -3, hi: 3 }], f: (a) => a.mul(1.7).ceil().mul(a) },
  { name: "round", inputs: [{ shape: [10], lo: -3, hi: 3 }], f: (a) => a.mul(1.7).round().mul(a) },
  { name: "var dim", inputs: [x(3, 5)], f: (a) => a.var(1) },
  { name: "var all, correction 0", inputs: [x(3, 4)], f: (a) => a.var(undefined, { correction: 0 }) },
  { name: "var dims keepdim", inputs: [x(2, 3, 4)], f: (a) => a.var([0, 2], { keepdim: true }) },
  { name: "std", inputs: [x(4, 6)], f: (a) => a.std(0) },
  { name: "logsumexp", inputs: [{ shape: [4, 6], lo: -3, hi: 3 }], f: (a) => a.logsumexp(-1) },
  { name: "logsumexp large values keepdim", inputs: [{ shape: [3, 5], lo: 80, hi: 90 }], f: (a) => a.logsumexp(0, true), atol: 1e-4 },
  { name: "norm 2 all", inputs: [x(3, 4)], f: (a) => a.norm() },
  { name: "norm 1 dim", inputs: [{ shape: [3, 4], lo: 0.1, hi: 1 }], f: (a) => a.sub(0.55).norm(1, 1) },
  { name: "norm 3 dim 0 keepdim", inputs: [x(3, 4)], f: (a) => a.norm(3, 0, true) },
  { name: "norm inf", inputs: [x(3, 5)], f: (a) => a.norm(Infinity, 1) },
  { name: "prod dim", inputs: [pos(3, 4)], f: (a) => a.prod(1) },
  { name: "prod all", inputs: [{ shape: [6], lo: -1.5, hi: 1.5 }], f: (a) => a.prod() },
  { name: "prod with zeros", inputs: [{ shape: [4, 3], lo: 0, hi: 3, int: true }, x(4, 3)], f: (z, a) => a.mul(z.ne(1)).prod(1) },
  { name: "prod keepdim dim 0", inputs: [pos(3, 4)], f: (a) => a.prod(0, true) },
  { name: "cumsum", inputs: [x(3, 5)], f: (a) => a.cumsum(1) },
  { name: "cumsum dim 0 of 3-D", inputs: [x(4, 2, 3)], f: (a) => a.cumsum(0) },
  { name: "cumsum of a transposed view", inputs: [x(3, 4)], f: (a) => a.T.cumsum(-1) },
  { name: "cumsum long row", inputs: [x(2, 3000)], f: (a) => a.cumsum(1), gradcheck: false, atol: 1e-3 },
  { name: "cumsum int32", inputs: [{ shape: [3, 4], int: true, lo: -5, hi: 5 }], f: (a) => a.cumsum(1), grad: false },
  { name: "tril", inputs: [x(4, 5)], f: (a) => a.tril() },
  { name: "tril k=-1 batched", inputs: [x(2, 3, 3)], f: (a) => a.tril(-1) },
  { name: "triu k=1", inputs: [x(3, 4)], f: (a) => a.triu(1) },
  { name: "maskedFill", inputs: [x(3, 4), x(4)], f: (a, m) => a.maskedFill(m.gt(0), -2.5) },
  { name: "maskedFill tensor value", inputs: [x(3, 4), x(3, 1), { shape: [], lo: 1, hi: 2 }], f: (a, m, v) => a.maskedFill(m.gt(0), v) },
  { name: "flip", inputs: [x(3, 4)], f: (a) => a.flip(0) },
  { name: "flip two dims", inputs: [x(2, 3, 4)], f: (a) => a.flip([0, -1]).mul(a) },
  { name: "repeat", inputs: [x(2, 3)], f: (a) => a.repeat(2, 1, 2) },
  { name: "repeat 1-D", inputs: [x(3)], f: (a) => a.repeat(3).exp() },
];

/** The row that covers each elementwise op: a new op in the table without a row here fails to compile. */
const ELEMENTWISE_ROWS: Record<UnaryName | BinaryName, string> = {
  neg: "neg", abs: "abs", sign: "sign", relu: "relu", exp: "exp", log: "log", sqrt: "sqrt", tanh: "tanh",
  sigmoid: "sigmoid", erf: "erf", sin: "sin", cos: "cos",
  add: "add", sub: "sub", mul: "mul", div: "div", pow: "pow", maximum: "maximum", minimum: "minimum",
  eq: "eq", ne: "ne", gt: "gt", ge: "ge", lt: "lt", le: "le",
  silu: "silu", softplus: "softplus", gelu: "gelu", geluGrad: "geluGrad",
  rsqrt: "rsqrt", log1p: "log1p", expm1: "expm1", floor: "floor", ceil: "ceil", round: "round",
};

test("every elementwise op in the table has a test row", () => {
  for (const row of Object.values(ELEMENTWISE_ROWS)) expect(rows.map((r) => r.name)).toContain(row);
});

function hostInputs(row: Row, seed: number) {
  return row.inputs.map((inp, k) => {
    const n = inp.shape.reduce((a, b) => a * b, 1);
    const raw = randomData(n, inp.lo ?? -1, inp.hi ?? 1, seed * 31 + k);
    return inp.int ? Int32Array.from(raw, Math.floor) : Float32Array.from(raw);
  });
}

function make(row: Row, data: (Float32Array | Int32Array)[], device: "cpu" | "webgpu", dtype: "float32" | "float64") {
  return row.inputs.map((inp, k) =>
    inp.int
      ? wg.tensor(data[k], { shape: inp.shape, dtype: "int32", device })
      : wg.tensor(data[k], { shape: inp.shape, dtype, device, requiresGrad: row.grad !== false && !inp.fixed }),
  );
}

interface Result {
  y: number[];
  grads: (number[] | null)[];
}

async function run(row: Row, data: (Float32Array | Int32Array)[], r: Float64Array | null, device: "cpu" | "webgpu", dtype: "float32" | "float64"): Promise<Result> {
  const xs = make(row, data, device, dtype);
  const y = row.f(...xs);
  const out: Result = { y: Array.from(await y.data()), grads: [] };
  if (row.grad !== false && r) {
    const rt = wg.tensor(r, { shape: y.shape, dtype: y.dtype === "float64" ? "float64" : "float32", device });
    y.mul(rt).sum().backward();
    out.grads = await Promise.all(xs.map(async (t) => (t.grad ? Array.from(await t.grad.data()) : null)));
  }
  return out;
}

beforeAll(startWebgpu);

describe.each(DEVICES)("ops on %s", (device) => {
  test.each(rows)("$name", async (row) => {
    const seed = row.name.length * 7 + 3;
    const data = hostInputs(row, seed);
    const probe = make(row, data, "cpu", "float64");
    const shape = row.f(...probe).shape;
    const r = randomData(shape.reduce((a, b) => a * b, 1), -1, 1, seed + 1000);
    const ref = await run(row, data, r, "cpu", "float64");
    const got = await run(row, data, r, device, "float32");
    const atol = row.atol ?? 2e-5;
    expectClose(got.y, ref.y, atol, atol * 10, `${row.name} forward on ${device}`);
    if (row.grad !== false)
      ref.grads.forEach((g, k) => {
        if (g === null) return expect(got.grads[k]).toBeNull();
        expect(got.grads[k], `${row.name}: input ${k} got no gradient on ${device}`).not.toBeNull();
        expectClose(got.grads[k]!, g, atol * 2, atol * 20, `${row.name} grad ${k} on ${device}`);
      });
  });
});

describe("gradcheck (float64, CPU) of sum(op(x) * r)", () => {
  test.each(rows.filter((r) => r.grad !== false && r.gradcheck !== false))("$name", async (row) => {
    const seed = row.name.length * 7 + 3;
    const data = hostInputs(row, seed);
    const probe = make(row, data, "cpu", "float64");
    const y = row.f(...probe);
    const r = wg.tensor(randomData(y.size, -1, 1, seed + 1000), { shape: y.shape, dtype: "float64", device: "cpu" });
    const inputs = make(row, data, "cpu", "float64");
    const res = await wg.gradcheck((...xs) => row.f(...xs).mul(r).sum(), inputs, { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, `${row.name}: ${JSON.stringify(res.details)}`).toBe(true);
    expect(res.maxAbsError).toBeLessThan(1e-5);
  });
});
