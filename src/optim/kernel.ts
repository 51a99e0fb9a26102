/**
 * The fused multi-tensor optimizer update: one launch writes up to MAX_SLOTS
 * parameters and their states in place (outs = [params..., states...],
 * ins = [grads...]). The CPU loops are the reference, written apart from
 * shaders/optim.wgsl; the WGSL's per-slot bindings are generated from it.
 */
import template from "../../shaders/optim.wgsl";
import type { Kernel } from "../backend/backend.js";
import { uniformLayout } from "../engine/wgsl.js";
import { numel } from "../shape.js";

/** Per-parameter numbers for one step, computed in JS; the kernel gets them as uniforms. */
export interface UpdateAttrs {
  rule: "sgd" | "adam";
  first: boolean;
  useMomentum: boolean;
  nesterov: boolean;
  lr: number;
  weightDecay: number;
  /** AdamW's decoupled decay factor 1 − lr·wd (1 otherwise). */
  decay: number;
  momentum: number;
  dampening: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − β1^t) */
  stepSize: number;
  /** √(1 − β2^t) */
  bc2Sqrt: number;
}

/** One launch's parameters: their per-step numbers, and whether they carry state (all or none). */
export interface StepAttrs {
  readonly steps: readonly UpdateAttrs[];
  readonly state: boolean;
}

/** Parameters per launch at most: the uniform block holds this many slots. */
export const MAX_SLOTS = 7;
const WG = 256;

/** Workgroups of the update for a parameter of n elements (one invocation per element). */
export const workgroupsFor = (n: number): number => Math.ceil(n / WG);
const MARKER = "// ---- one slot's bindings and entry point";
const layout = uniformLayout(template);

/** Parameters whose attrs agree on this may share a launch (the rest are per slot). */
export function sharedKey(a: UpdateAttrs): string {
  return [a.rule, a.useMomentum, a.nesterov, a.weightDecay, a.momentum, a.dampening, a.beta1, a.beta2, a.eps].join();
}

/** Storage bindings one parameter takes: the gradient, the parameter, and its state if any. */
export const bindingsPerParam = (state: boolean): number => (state ? 3 : 2);

function cpuSgd(p: Float32Array | Float64Array, s: Float32Array | Float64Array | undefined, g: ArrayLike<number>, n: number, a: UpdateAttrs): void {
  for (let i = 0; i < n; i++) {
    let d = g[i] + a.weightDecay * p[i];
    if (a.useMomentum) {
      const buf = a.first ? d : a.momentum * s![i] + (1 - a.dampening) * d;
      s![i] = buf;
      d = a.nesterov ? d + a.momentum * buf : buf;
    }
    p[i] -= a.lr * d;
  }
}

function cpuAdam(p: Float32Array | Float64Array, s: Float32Array | Float64Array, g: ArrayLike<number>, n: number, a: UpdateAttrs): void {
  for (let i = 0; i < n; i++) {
    const w = p[i] * a.decay;
    const d = g[i] + a.weightDecay * w;
    const m = a.beta1 * s[i] + (1 - a.beta1) * d;
    const v = a.beta2 * s[n + i] + (1 - a.beta2) * d * d;
    s[i] = m;
    s[n + i] = v;
    p[i] = w - (a.stepSize * m) / (Math.sqrt(v) / a.bc2Sqrt + a.eps);
  }
}

/** The WGSL for K slots: the template's math, then K slots' bindings, update functions and dispatch. */
function wgsl(rule: "sgd" | "adam", K: number, state: boolean): string {
  const at = template.indexOf(MARKER);
  if (at < 0) throw new Error(`optimizerStep: internal error: shaders/optim.wgsl has no "${MARKER}" line.`);
  const slots = [...Array(K).keys()];
  const lines = [`// Generated for ${K} ${rule} slot${K > 1 ? "s" : ""}${state ? " with state" : ""} from shaders/optim.wgsl.`, template.slice(0, at)];
  slots.forEach((k) => lines.push(`@group(0) @binding(${k}) var<storage, read> g${k}: array<f32>;`));
  slots.forEach((k) => lines.push(`@group(0) @binding(${K + k}) var<storage, read_write> p${k}: array<f32>;`));
  if (state) slots.forEach((k) => lines.push(`@group(0) @binding(${2 * K + k}) var<storage, read_write> s${k}: array<f32>;`));
  lines.push(`@group(0) @binding(${(state ? 3 : 2) * K}) var<uniform> u: Params;`, "");
  for (const k of slots) {
    lines.push(`fn update${k}(i: u32) {`, `  let n = u.slot_u[${k}].y;`, "  if (i >= n) { return; }");
    if (rule === "adam") lines.push(`  let r = adam_step(u.slot_f[${k}], p${k}[i], g${k}[i], s${k}[i], s${k}[n + i]);`, `  p${k}[i] = r.x;`, `  s${k}[i] = r.y;`, `  s${k}[n + i] = r.z;`);
    else lines.push(`  let r = sgd_step(u.slot_u[${k}].z, u.slot_f[${k}], p${k}[i], g${k}[i], ${state ? `s${k}[i]` : "0.0"});`, `  p${k}[i] = r.x;`, ...(state ? [`  s${k}[i] = r.y;`] : []));
    lines.push("}", "");
  }
  lines.push(
    "@compute @workgroup_size(256)",
    "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    "  let w = wid.y * nwg.x + wid.x;",
    ...slots.map((k) => `  if (w < u.slot_u[${k}].x) { update${k}((w - ${k === 0 ? "0u" : `u.slot_u[${k - 1}].x`}) * 256u + lid); return; }`),
    "}",
    "",
  );
  return lines.join("\n");
}

export const updateKernel: Kernel<StepAttrs> = {
  name: "optimizerStep",
  cpu(outs, grads, { steps, state }) {
    // Every view here is dense from element 0 (the optimizer checks parameters, clones odd gradients).
    const K = steps.length;
    steps.forEach((a, k) => {
      const [p, s, g] = [outs[k].data as Float32Array, state ? (outs[K + k].data as Float32Array) : undefined, grads[k].data];
      const n = numel(outs[k].shape);
      if (a.rule === "sgd") cpuSgd(p, s, g, n, a);
      else cpuAdam(p, s!, g, n, a);
    });
  },
  webgpu(outs, _grads, { steps, state }) {
    const K = steps.length;
    const a = steps[0];
    const ends: number[] = [];
    const slotU: number[] = [];
    const slotF: number[] = [];
    steps.forEach((s, k) => {
      const n = numel(outs[k].shape);
      ends.push((ends[k - 1] ?? 0) + Math.ceil(n / WG));
      slotU.push(ends[k], n, s.first ? 1 : 0, 0);
      slotF.push(s.lr, s.decay, s.stepSize, s.bc2Sqrt);
    });
    const params = layout.pack({
      weight_decay: a.weightDecay, momentum: a.momentum, dampening: a.dampening, beta1: a.beta1, beta2: a.beta2, eps: a.eps,
      use_momentum: a.useMomentum ? 1 : 0, nesterov: a.nesterov ? 1 : 0, slot_u: slotU, slot_f: slotF,
    });
    const key = `optim|${a.rule}|${K}|${state ? "state" : "plain"}`;
    return { key, code: () => wgsl(a.rule, K, state), params, workgroups: ends[K - 1], noErrorFlag: true };
  },
};
