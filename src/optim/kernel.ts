/**
 * The fused optimizer updates: one kernel per parameter writes the parameter
 * and its state in place (outs = [param, state], ins = [grad]). The CPU loops
 * are the reference, written apart from shaders/optim.wgsl.
 */
import template from "../../shaders/optim.wgsl";
import type { Kernel } from "../backend/backend.js";
import { numel } from "../shape.js";

/** Per-step numbers, computed in JS; the kernel gets them as uniforms. */
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

export const updateKernel: Kernel<UpdateAttrs> = {
  name: "optimizerStep",
  cpu([param, state], [grad], a) {
    // Every view here is dense from element 0 (the optimizer checks parameters, clones odd gradients).
    // state is absent for plain SGD, whose loop never touches it.
    const p = param.data, s = state?.data, g = grad.data;
    const n = numel(param.shape);
    if (a.rule === "sgd") {
      for (let i = 0; i < n; i++) {
        let d = g[i] + a.weightDecay * p[i];
        if (a.useMomentum) {
          const buf = a.first ? d : a.momentum * s![i] + (1 - a.dampening) * d;
          s![i] = buf;
          d = a.nesterov ? d + a.momentum * buf : buf;
        }
        p[i] -= a.lr * d;
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const w = p[i] * a.decay;
      const d = g[i] + a.weightDecay * w;
      const m = a.beta1 * s![i] + (1 - a.beta1) * d;
      const v = a.beta2 * s![n + i] + (1 - a.beta2) * d * d;
      s![i] = m;
      s![n + i] = v;
      p[i] = w - (a.stepSize * m) / (Math.sqrt(v) / a.bc2Sqrt + a.eps);
    }
  },
  webgpu([param, state], _ins, a) {
    const n = numel(param.shape);
    const buf = new ArrayBuffer(64);
    new Uint32Array(buf, 0, 4).set([n, a.first ? 1 : 0, a.useMomentum ? 1 : 0, a.nesterov ? 1 : 0]);
    new Float32Array(buf, 16, 10).set([a.lr, a.weightDecay, a.decay, a.momentum, a.dampening, a.beta1, a.beta2, a.eps, a.stepSize, a.bc2Sqrt]);
    return {
      key: "optim",
      code: () => template,
      entryPoint: a.rule,
      constants: { WG: 256 },
      params: buf,
      workgroups: Math.ceil(n / 256),
      outputBindings: [0, state ? 1 : null], // the shader declares the state binding either way
    };
  },
};
