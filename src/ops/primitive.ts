/**
 * How an op runs: check inputs, allocate the output, hand the kernel to the
 * device's backend, and (when grad is on) record a Node with the rules and
 * the tensors they need.
 */
import type { Device, Kernel } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { checkIndexable, fmt } from "../shape.js";
import { checkForward, rememberSite } from "../autograd/anomaly.js";
import { checkDevice, isCurrent, launch } from "../engine/scheduler.js";
import { isGradEnabled } from "../autograd/mode.js";
import { Node, type Rule } from "../autograd/node.js";
import { Tensor } from "../tensor.js";

/** One kernel op: its shape/dtype rule, kernel, what it saves, and one gradient rule per input (the op table's row). */
export interface Primitive<A> {
  /** The op's name in errors, profiles and `gradFn` (`"<Name>Backward"`). */
  readonly name: string;
  /** Output shape and dtype. Throws the op's shape and dtype errors, before any device work. */
  infer(ins: readonly Tensor[], attrs: A): { shape: number[]; dtype: DType };
  readonly kernel: Kernel<A>;
  /** The tensors the rules need (inputs and/or the output). */
  /** The tensors the rules read, by position; a hole where no rule that will run reads that one. */
  save?(ins: readonly Tensor[], out: Tensor, attrs: A): (Tensor | undefined)[];
  /** One rule per input; null where the input gets no gradient. */
  readonly grads: readonly (Rule<A> | null)[];
  /** One line per input: its rule in words (`d tanh(x)/dx = 1 - tanh²(x)`), null where grads is; wg.explain shows it. */
  readonly docs: readonly (string | null)[];
}

const backwardName = (op: string) => op[0].toUpperCase() + op.slice(1) + "Backward";

/** The device all `ins` share; an Error naming `op` for a disposed input, a stale WebGPU device or mixed devices. */
export function commonDevice(op: string, ins: readonly Tensor[]): Device {
  const device = ins[0].device;
  checkDevice(device);
  for (const t of ins) {
    if (t.isDisposed) throw new Error(`${op}: an input of shape ${fmt(t.shape)} was disposed; it cannot be used any more.`);
    if (t.device === device && !isCurrent(t.handle.storage, device))
      throw new Error(`${op}: an input of shape ${fmt(t.shape)} belongs to an earlier WebGPU device (lost or replaced); recreate it on the current one.`);
    if (t.device !== device)
      throw new Error(
        `${op}: inputs are on different devices (${ins.map((x) => `${fmt(x.shape)} on ${x.device}`).join(", ")}). ` +
          `webgrad never copies silently. Fix: move one with await t.to("${device}").`,
      );
  }
  return device;
}

/** Run a kernel primitive on its inputs and record its history. */
export function apply<A>(p: Primitive<A>, ins: readonly Tensor[], attrs: A): Tensor {
  const device = commonDevice(p.name, ins);
  const { shape, dtype } = p.infer(ins, attrs);
  for (const t of ins) checkIndexable(p.name, t.shape, "an input");
  checkIndexable(p.name, shape, "its output");
  const out = Tensor.empty(shape, dtype, device);
  try {
    launch(device, p.kernel, [out], ins, attrs);
    checkForward(p.name, ins, out);
  } catch (e) {
    out.dispose(); // a refused or failed op leaves nothing behind
    throw e;
  }
  if (isGradEnabled()) record(p.name, ins, out, p.grads, () => p.save?.(ins, out, attrs) ?? [], attrs, p.docs);
  return out;
}

/** Attach a Node to `out` when grad mode is on and an input with a rule requires grad. */
export function record<A>(
  name: string,
  ins: readonly Tensor[],
  out: Tensor,
  rules: readonly (Rule<A> | null)[],
  save: () => (Tensor | undefined)[],
  attrs: A,
  docs: readonly (string | null)[] = [],
): void {
  if (!isGradEnabled() || !ins.some((t, i) => rules[i] && t.requiresGrad)) return;
  const next = ins.map((t, i) => (rules[i] && t.requiresGrad ? (t.gradFn ?? t.accumulator()) : null));
  const saved = save();
  const roles = saved.flatMap((t) => (t === undefined ? [] : [t === out ? -1 : ins.indexOf(t)]));
  const forward = { op: name, docs, outShape: out.shape, output: new WeakRef(out), saved: roles };
  out.gradFn = new Node(backwardName(name), next, ins.map((t) => t.shape), rules as readonly (Rule | null)[], saved, attrs, forward);
  rememberSite(out.gradFn);
}

/** A tensor that shares `x`'s storage under a new shape and strides (reshape, permute, expand, slice). */
export function view(
  name: string,
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  rule: Rule<void>,
  doc: string,
): Tensor {
  commonDevice(name, [x]);
  const out = new Tensor(x.storage, shape, x.dtype, strides, offset, true);
  record(name, [x], out, [rule], () => [], undefined, [doc]);
  return out;
}

/**
 * A primitive whose kernel writes extra outputs that only its rules read (layerNorm's mean and
 * rstd, attention's row log-sum-exp): the user gets the first output; the rest are saved.
 */
export interface MultiPrimitive<A> extends Omit<Primitive<A>, "infer" | "save"> {
  infer(ins: readonly Tensor[], attrs: A): { shape: number[]; dtype: DType; extras: number[][] };
  save(ins: readonly Tensor[], out: Tensor, extras: readonly Tensor[], attrs: A): Tensor[];
}

/** Run a MultiPrimitive; the extra outputs live only as saved values (disposed when nothing records). */
export function applyMulti<A>(p: MultiPrimitive<A>, ins: readonly Tensor[], attrs: A): Tensor {
  const device = commonDevice(p.name, ins);
  const { shape, dtype, extras } = p.infer(ins, attrs);
  const out = Tensor.empty(shape, dtype, device);
  const more = extras.map((s) => Tensor.empty(s, dtype, device));
  try {
    launch(device, p.kernel, [out, ...more], ins, attrs);
    checkForward(p.name, ins, out);
    record(p.name, ins, out, p.grads, () => p.save(ins, out, more, attrs), attrs, p.docs);
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    // Saved values hold their own reference to the storage; these handles are not needed.
    for (const t of more) t.dispose();
  }
  return out;
}
