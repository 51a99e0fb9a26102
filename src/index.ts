/** webgrad's public API (shared/API.md). Both entry points, node.ts and browser.ts, export exactly this. */
import { grad as autogradGrad } from "./autograd/engine.js";
import { detectAnomaly, setDetectAnomaly } from "./autograd/anomaly.js";
import { Tensor } from "./tensor.js";
import * as ops from "./ops/index.js";

export { Tensor };
export type { DType, TypedArray, ArrayOf, NestedList } from "./dtype.js";
export type { Device, AdapterInfo } from "./backend/backend.js";
export { init, defaultDevice, flush, memory, type InitOptions } from "./engine/device.js";
export { tidy, keep } from "./engine/scope.js";
export { emptyCache } from "./engine/device.js";
export { profile, formatProfile, type ProfileReport } from "./engine/profile.js";
export { noGrad, enableGrad, inferenceMode, isGradEnabled } from "./autograd/mode.js";
export { grad, valueAndGrad, vjp, jvp, jacobian, hessian } from "./autograd/functional.js";
export { gradcheck, type GradcheckOptions, type GradcheckResult } from "./autograd/gradcheck.js";
export type { BackwardOptions, GradOptions } from "./autograd/engine.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export { save, load } from "./io/safetensors.js";
export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, eye, rand, randn, manualSeed,
  where, cat, stack, einsum, matmul, type CreateOptions,
} from "./ops/index.js";

/** torch.autograd's functional entry: gradients of outputs with respect to inputs; anomaly detection. */
export const autograd = { grad: autogradGrad, detectAnomaly, setDetectAnomaly };

type Operand = Tensor | number;
export const add = (a: Operand, b: Operand) => ops.binary("add", a, b);
export const sub = (a: Operand, b: Operand) => ops.binary("sub", a, b);
export const mul = (a: Operand, b: Operand) => ops.binary("mul", a, b);
export const div = (a: Operand, b: Operand) => ops.binary("div", a, b);
export const pow = (a: Operand, b: Operand) => ops.binary("pow", a, b);
export const maximum = (a: Operand, b: Operand) => ops.binary("maximum", a, b);
export const minimum = (a: Operand, b: Operand) => ops.binary("minimum", a, b);
export const exp = (x: Tensor) => x.exp();
export const log = (x: Tensor) => x.log();
export const sqrt = (x: Tensor) => x.sqrt();
export const tanh = (x: Tensor) => x.tanh();
export const sigmoid = (x: Tensor) => x.sigmoid();
export const relu = (x: Tensor) => x.relu();
export const sum = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.sum(dim, keepdim);
export const mean = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.mean(dim, keepdim);
export const softmax = (x: Tensor, dim = -1) => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim = -1) => x.logSoftmax(dim);
export { explain, Explanation, type ExplainOptions, type ExplainData, type ExplainStep, type GradEdge, type Values } from "./autograd/explain.js";
// The rest of the torch.* free functions for the Tensor methods that PyTorch also offers as functions.
export const neg = (x: Tensor) => x.neg();
export const abs = (x: Tensor) => x.abs();
export const gelu = (x: Tensor, opts?: { approximate?: "none" | "tanh" }) => x.gelu(opts);
export const clamp = (x: Tensor, min?: number | null, max?: number | null) => x.clamp(min, max);
export const eq = (a: Tensor, b: Operand) => a.eq(b);
export const ne = (a: Tensor, b: Operand) => a.ne(b);
export const gt = (a: Tensor, b: Operand) => a.gt(b);
export const ge = (a: Tensor, b: Operand) => a.ge(b);
export const lt = (a: Tensor, b: Operand) => a.lt(b);
export const le = (a: Tensor, b: Operand) => a.le(b);
export const max = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.max(dim, keepdim);
export const min = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.min(dim, keepdim);
export const argmax = (x: Tensor, dim?: number, keepdim?: boolean) => x.argmax(dim, keepdim);
export const argmin = (x: Tensor, dim?: number, keepdim?: boolean) => x.argmin(dim, keepdim);
export const reshape = (x: Tensor, shape: readonly number[]) => x.reshape([...shape]);
export const flatten = (x: Tensor, startDim?: number, endDim?: number) => x.flatten(startDim, endDim);
export const transpose = (x: Tensor, d0: number, d1: number) => x.transpose(d0, d1);
export const permute = (x: Tensor, dims: readonly number[]) => x.permute([...dims]);
export const unsqueeze = (x: Tensor, dim: number) => x.unsqueeze(dim);
export const squeeze = (x: Tensor, dim?: number) => x.squeeze(dim);
export const gather = (x: Tensor, dim: number, index: Tensor) => x.gather(dim, index);
export { loadMetadata } from "./io/safetensors.js";
export const indexSelect = (x: Tensor, dim: number, index: Tensor) => x.indexSelect(dim, index);
export const scatterAdd = (x: Tensor, dim: number, index: Tensor, src: Tensor) => x.scatterAdd(dim, index, src);
export const split = (x: Tensor, sizeOrSizes: number | number[], dim?: number) => x.split(sizeOrSizes, dim);
export const chunk = (x: Tensor, n: number, dim?: number) => x.chunk(n, dim);
export const sort = (x: Tensor, dim?: number, opts?: { descending?: boolean }) => x.sort(dim, opts);
export const topk = (x: Tensor, k: number, dim?: number, opts?: { largest?: boolean }) => x.topk(k, dim, opts);
export { randint, bernoulli, multinomial } from "./ops/index.js";
export { linspace } from "./ops/index.js";
export const logsumexp = (x: Tensor, dim: number | number[], keepdim?: boolean) => x.logsumexp(dim, keepdim);
export const cumsum = (x: Tensor, dim: number) => x.cumsum(dim);
export const prod = (x: Tensor, dim?: number | number[], keepdim?: boolean) => x.prod(dim, keepdim);
export const tril = (x: Tensor, k?: number) => x.tril(k);
export const triu = (x: Tensor, k?: number) => x.triu(k);
export const flip = (x: Tensor, dims: number | number[]) => x.flip(dims);
export * as data from "./data/index.js";
