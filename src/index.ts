/** webgrad's public API (shared/API.md). Both entry points, node.ts and browser.ts, export exactly this. */
import { grad as autogradGrad } from "./autograd/engine.js";
import { detectAnomaly, setDetectAnomaly } from "./autograd/anomaly.js";
import { Tensor } from "./tensor.js";
import * as ops from "./ops/index.js";

export { Tensor };
export type { DType, TypedArray } from "./dtype.js";
export type { Device, AdapterInfo } from "./backend/backend.js";
export { init, defaultDevice, flush, memory, type InitOptions } from "./engine/device.js";
export { tidy, keep } from "./engine/scope.js";
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
