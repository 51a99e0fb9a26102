/**
 * Anomaly detection (torch.autograd.detect_anomaly): while on, a NaN or ±Inf in any op's forward
 * output or in any gradient a backward rule returns throws an Error naming the op, its input shapes
 * and where the forward op was called. Forward ops remember their call site on their graph node.
 * The checks run on the tensor's device (ops/check.ts): on WebGPU a checking kernel per op reports
 * to the device's error flag, so the mode costs one small read per sync point, not one per op.
 */
import { fmt } from "../shape.js";
import { checkFinite } from "../ops/check.js";
import type { Node } from "./node.js";
import { captureSite, userFrames } from "../stack.js";
import type { Tensor } from "../tensor.js";

let enabled = false;
/** Inside backward the rules' own ops are not checked one by one: each rule's result is, naming the node. */
let backwardDepth = 0;
const sites = new WeakMap<Node, Error>();

export const isAnomalyEnabled = (): boolean => enabled;

/**
 * Turns anomaly detection on or off until it is set again (see `detectAnomaly` for what it checks); anything but a boolean
 * throws. Called as `wg.autograd.setDetectAnomaly`.
 *
 * PyTorch: `torch.autograd.set_detect_anomaly`.
 * @example wg.autograd.setDetectAnomaly(process.env.DEBUG === "1") // with DEBUG=1 every op checks its output and gradients
 */
export function setDetectAnomaly(on: boolean): void {
  if (typeof on !== "boolean") throw new Error(`autograd.setDetectAnomaly: expected true or false, got ${String(on)}.`);
  enabled = on;
}

/**
 * Runs `fn` with anomaly detection on and returns its result (an async `fn` keeps it on until its promise settles), then
 * restores the previous mode. While on, a NaN or ±Inf in any op's output or in a gradient a backward rule returns throws
 * an Error naming the op, its input shapes and where the forward op was called; on WebGPU the Error surfaces at the next
 * sync point (`flush()`, a readback). Each op then runs a check, so it is for debugging. Called as `wg.autograd.detectAnomaly`.
 *
 * PyTorch: `torch.autograd.detect_anomaly`.
 * @example wg.autograd.detectAnomaly(() => lossOf(model, batch).backward()) // throws at the first op that makes a NaN or Inf, naming it
 */
export function detectAnomaly<T>(fn: () => T): T {
  const before = enabled;
  enabled = true;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    enabled = before;
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => (enabled = before)) as T;
  enabled = before;
  return result;
}

const shapesOf = (ins: readonly { shape: readonly number[] }[]) => ins.map((t) => fmt(t.shape)).join(", ") || "none";

/** After a forward op: its output must be finite. */
export function checkForward(op: string, ins: readonly Tensor[], out: Tensor): void {
  if (!enabled || backwardDepth > 0 || ins.length === 0) return;
  const site = out.device === "cpu" ? `\nThe forward op was called at:\n${userFrames(captureSite())}` : "";
  checkFinite(out, (v, i) =>
    `anomaly detected: ${op} produced ${v} at flat element ${i} of its output ${fmt(out.shape)} (input shapes ${shapesOf(ins)}). ` +
      `Fix: look for log of 0 or negatives, division by 0, overflow in exp, or NaN inputs.${site}`,
  );
}

/** Record where the forward op of a graph node was called (anomaly mode only). */
export function rememberSite(node: Node): void {
  if (enabled) sites.set(node, captureSite());
}

/** Run a backward pass; the rules' inner ops are not checked one by one (checkRule checks their results). */
export function inBackward<T>(fn: () => T): T {
  backwardDepth++;
  try {
    return fn();
  } finally {
    backwardDepth--;
  }
}

/** After a backward rule: the gradient it returned for input i must be finite. */
export function checkRule(node: Node, i: number, grad: Tensor): void {
  if (!enabled) return;
  const site = sites.get(node);
  const where = site ? `\nIts forward op was called at:\n${userFrames(site)}` : " (its forward ran before anomaly detection was on, so its call site is unknown)";
  checkFinite(grad, (v, k) =>
    `anomaly detected: ${node.name} returned ${v} at flat element ${k} of the gradient for its input ${i} ` +
      `(gradient ${fmt(grad.shape)}; the node's input shapes ${shapesOf(node.inputShapes.map((shape) => ({ shape })))}).${where}`,
  );
}
