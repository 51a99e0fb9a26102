/**
 * In-place ops write into the tensor's own storage and bump its version, so
 * autograd can refuse a saved value that changed. With history to keep, the
 * new value is computed out of place and written back, and the tensor takes
 * over the new node (PyTorch's rebase).
 */
import type { Kernel } from "../backend/backend.js";
import { isGradEnabled, noGrad } from "../autograd/mode.js";
import { launch } from "../engine/scheduler.js";
import { broadcastShapes, fmt, sameShape } from "../shape.js";
import { binary, elementwiseKernel, binaryOps } from "./elementwise.js";
import { constant } from "./constants.js";
import { commonDevice } from "./primitive.js";
import { clone, copyKernel, expand } from "./layout.js";
import { Tensor } from "../tensor.js";

/** The in-place Tensor methods this file implements. */
export type InplaceName = "add_" | "sub_" | "mul_" | "div_" | "copy_" | "fill_" | "zero_";

type Arith = "add_" | "sub_" | "mul_" | "div_";
const kernels = new Map<Arith, Kernel<void>>();
/** Built on first use: the op table is not yet defined while the ops' import cycle is loading this file. */
function kernelFor(name: Arith): Kernel<void> {
  let k = kernels.get(name);
  if (!k) {
    const row = binaryOps[name.slice(0, -1) as "add" | "sub" | "mul" | "div"];
    k = elementwiseKernel(name.slice(0, -1), row.wgsl, row.cpu);
    kernels.set(name, k);
  }
  return k;
}

/**
 * Writes `name`'s result into `t` itself (other broadcasts to t's shape and cannot grow it; an expanded view is
 * refused) and bumps t's version, so a backward that saved the old value throws instead of using it. Returns `t`.
 *
 * PyTorch: `Tensor.add_` / `sub_` / `mul_` / `div_` / `copy_` / `fill_` / `zero_`.
 * @example x.mul_(2) // x doubled in place, as inplace("mul_", x, 2)
 */
export function inplace<T extends Tensor>(name: InplaceName, t: T, other: Tensor | number): T {
  const src = other instanceof Tensor ? other : constant(name, other, t);
  commonDevice(name, [t, src]);
  if (!sameShape(broadcastShapes(name, t.shape, src.shape), t.shape))
    throw new Error(`${name}: a value of shape ${fmt(src.shape)} cannot be written into a tensor of shape ${fmt(t.shape)} in place (it would grow it). Fix: use the out-of-place op.`);
  // A tensor with no elements has zero strides (its contiguous strides multiply by a 0 dim) but no shared element.
  if (t.size > 0 && t.strides.some((s, i) => s === 0 && t.shape[i] > 1))
    throw new Error(`${name}: the tensor ${fmt(t.shape)} is an expanded view whose elements share memory; writing it in place is ambiguous. Fix: clone() it first.`);
  const isCopy = name === "copy_" || name === "fill_" || name === "zero_";
  if (isCopy ? src.dtype !== t.dtype && t.dtype === "int32" && src.dtype !== "int32" : src.dtype !== t.dtype)
    throw new Error(`${name}: cannot write ${src.dtype} values into a ${t.dtype} tensor of shape ${fmt(t.shape)} in place. Fix: cast first, e.g. other.cast("${t.dtype}").`);
  if (name === "div_" && t.dtype === "int32")
    throw new Error(`div_: int32 tensors (shape ${fmt(t.shape)}) cannot be divided in place. Fix: x.float().div(...).`);

  if (isGradEnabled() && (t.requiresGrad || src.requiresGrad)) return rebase(name, t, src);
  // No history: one kernel writes straight into t (reading t itself, when the op needs its old value).
  const value = src.handle.storage === t.storage ? src.clone() : src;
  if (isCopy) launch(t.device, copyKernel, [t], [value.dtype === t.dtype ? value : value.cast(t.dtype)], undefined);
  else launch(t.device, kernelFor(name as Arith), [t], [t, value], undefined);
  bump(t, name);
  if (value !== src) value.dispose();
  return t;
}

function bump(t: Tensor, name: string): void {
  t.storage.version++;
  t.storage.lastInplaceOp = name;
}

function rebase<T extends Tensor>(name: InplaceName, t: T, src: Tensor): T {
  if (t.isLeaf && t.requiresGrad)
    throw new Error(
      `${name}: a leaf tensor that requires grad (shape ${fmt(t.shape)}) cannot be changed in place while grad is on: ` +
        `autograd would lose the value it was created with. Fix: wrap the update in wg.noGrad(() => ...) (as optimizers do), ` +
        `or use the out-of-place op.`,
    );
  if (t.isView)
    throw new Error(`${name}: in-place ops on a view (shape ${fmt(t.shape)}) that takes part in autograd are not supported. Fix: clone() the view first, or use the out-of-place op.`);
  const isCopy = name === "copy_" || name === "fill_" || name === "zero_";
  const op = name.slice(0, -1) as "add" | "sub" | "mul" | "div";
  // mul and div save their left operand; give them a copy so the write below cannot invalidate it.
  const left = op === "mul" || op === "div" ? t.clone() : t;
  const result = isCopy ? clone(expand(src.cast(t.dtype), t.shape)) : binary(op, left, src);
  noGrad(() => launch(t.device, copyKernel, [t], [result], undefined));
  bump(t, name);
  t.gradFn = result.gradFn;
  result.dispose();
  if (left !== t) left.dispose();
  return t;
}
