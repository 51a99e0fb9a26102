/**
 * Numbers used as operands become one-element tensors, cached per device,
 * dtype and value, so a step that multiplies by 0.5 every time uploads it once.
 */
import type { Device } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { fmt } from "../shape.js";
import { allocate, isCurrent, upload } from "../engine/scheduler.js";
import { pin } from "../engine/scope.js";
import { typedArrayFor } from "../dtype.js";
import { Tensor } from "../tensor.js";

const LIMIT = 512;
const cache = new Map<string, Tensor>();
/** The cache's key: -0 apart from 0. */
const keyOf = (device: Device, dtype: DType, value: number) => `${device}:${dtype}:${Object.is(value, -0) ? "-0" : value}`;

/** A cached scalar tensor holding `value`, with the dtype and device of `like` (or `dtype`). */
export function constant(op: string, value: number, like: Tensor, dtype: DType = like.dtype): Tensor {
  if (typeof value !== "number")
    throw new Error(`${op}: expected a tensor or a number, got ${typeof value}.`);
  if (dtype === "int32" && !Number.isInteger(value))
    throw new Error(
      `${op}: cannot combine an int32 tensor of shape ${fmt(like.shape)} with the non-integer number ${value}. ` +
        `Fix: cast the tensor first, e.g. x.float().${op}(${value}).`,
    );
  return scalarTensor(value, dtype, like.device);
}

/** The cached 0-d tensor of `value` on `device` (pinned, so tidy never frees it; the cache holds at most LIMIT). */
export function scalarTensor(value: number, dtype: DType, device: Device): Tensor {
  const key = keyOf(device, dtype, value);
  let t = cache.get(key);
  // A constant made on a device that has since been replaced (lost, then init again) is not reused.
  if (t && !t.isDisposed && isCurrent(t.handle.storage, device)) {
    cache.delete(key); // most recently used goes last
    cache.set(key, t);
    return t;
  }
  const storage = allocate(device, dtype, 1);
  const data = typedArrayFor(dtype, 1);
  data[0] = value;
  upload(storage, data);
  t = pin(new Tensor(storage, [], dtype));
  cache.set(key, t);
  if (cache.size > LIMIT) {
    const [oldKey, old] = cache.entries().next().value as [string, Tensor];
    cache.delete(oldKey);
    old.dispose();
  }
  return t;
}

/** Whether t reads the cached scalar constant of `value` (itself or a view of it, such as backward()'s expanded seed). */
export function isScalarConstant(t: Tensor, value: number): boolean {
  const c = cache.get(keyOf(t.device, t.dtype, value));
  return c !== undefined && !c.isDisposed && !t.isDisposed && c.handle.storage === t.handle.storage;
}

const BIAS_LIMIT = 16;
const BIAS_MAX_ELEMENTS = 1 << 22;
const biases = new Map<string, Tensor>();

/**
 * The causal attention bias [L, S]: 0 where key j ≤ query i, -Infinity above the diagonal
 * (PyTorch's is_causal, top-left aligned). Written on the host and uploaded, so it costs no launch,
 * and kept pinned per device and size (at most BIAS_LIMIT, each up to 2^22 elements), so a
 * training step that asks for it every layer uploads it once.
 */
export function causalBias(L: number, S: number, device: Device): Tensor {
  const key = `${device}:${L}:${S}`;
  const hit = biases.get(key);
  if (hit && !hit.isDisposed && isCurrent(hit.handle.storage, device)) {
    biases.delete(key); // most recently used goes last
    biases.set(key, hit);
    return hit;
  }
  const data = new Float32Array(L * S);
  for (let i = 0; i < L; i++) data.fill(-Infinity, i * S + Math.min(i + 1, S), (i + 1) * S);
  const storage = allocate(device, "float32", L * S);
  upload(storage, data);
  const t = new Tensor(storage, [L, S], "float32");
  if (L * S > BIAS_MAX_ELEMENTS) return t;
  biases.set(key, pin(t));
  if (biases.size > BIAS_LIMIT) {
    const [oldKey, old] = biases.entries().next().value as [string, Tensor];
    biases.delete(oldKey);
    old.dispose();
  }
  return t;
}
