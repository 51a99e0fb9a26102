/**
 * The total norm of many gradients and the clip coefficient, on the device:
 * one `partial` launch per gradient writes PARTS partial values, one `total`
 * launch reduces them to [norm, min(1, maxNorm / (norm + 1e-6))]. The CPU
 * loops are the reference, written apart from shaders/grad-norm.wgsl.
 */
import template from "../../shaders/grad-norm.wgsl";
import type { Kernel } from "../backend/backend.js";
import { backendFor } from "../engine/device.js";
import { noGrad } from "../autograd/mode.js";
import { dense } from "../ops/layout.js";
import { numel } from "../shape.js";
import { Tensor } from "../tensor.js";

/** 0: Σ|g| (p = 1), 1: Σg² (p = 2), 2: max|g| (p = ∞). */
export type NormKind = 0 | 1 | 2;
/** Partial values per gradient: the workgroups of one `partial` launch. */
const PARTS = 32;
const WG = 256;

/** max that keeps NaN, as torch's. */
const combine = (kind: NormKind, a: number, b: number) => (kind !== 2 ? a + b : Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));

function params(n: number, slot: number, kind: NormKind, maxNorm: number): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  new Uint32Array(buf, 0, 4).set([n, slot, kind, 0x7fc00000]);
  new Float32Array(buf, 16, 1)[0] = maxNorm;
  return buf;
}

const partialKernel: Kernel<{ kind: NormKind; slot: number }> = {
  name: "gradNormPartial",
  cpu([out], [g], { kind, slot }) {
    let a = 0;
    for (let i = 0; i < numel(g.shape); i++) a = combine(kind, a, kind === 1 ? g.data[i] * g.data[i] : Math.abs(g.data[i]));
    out.data.fill(0, slot * PARTS, (slot + 1) * PARTS);
    out.data[slot * PARTS] = a;
  },
  webgpu(_outs, [g], { kind, slot }) {
    return { key: "grad-norm", code: () => template, entryPoint: "partial", constants: { WG, PARTS }, params: params(numel(g.shape), slot, kind, 0), workgroups: PARTS };
  },
};

const totalKernel: Kernel<{ kind: NormKind; maxNorm: number }> = {
  name: "gradNormTotal",
  cpu([out], [parts], { kind, maxNorm }) {
    let a = 0;
    for (let i = 0; i < numel(parts.shape); i++) a = combine(kind, a, parts.data[i]);
    const t = kind === 1 ? Math.sqrt(a) : a;
    const c = maxNorm / (t + 1e-6);
    out.data[0] = t;
    out.data[1] = Number.isNaN(c) ? c : Math.min(c, 1);
  },
  webgpu(_outs, [parts], { kind, maxNorm }) {
    return { key: "grad-norm", code: () => template, entryPoint: "total", constants: { WG, PARTS }, params: params(numel(parts.shape), 0, kind, maxNorm), workgroups: 1 };
  },
};

/** [total norm, clip coefficient] of `grads` (one device, one dtype, at least one), with no readback. */
export function normAndCoefficient(grads: readonly Tensor[], kind: NormKind, maxNorm: number): Tensor {
  const { device, dtype } = grads[0];
  const backend = backendFor(device);
  const parts = Tensor.empty([grads.length * PARTS], dtype, device);
  grads.forEach((g, slot) => {
    const d = noGrad(() => dense(g)); // the kernel reads element i at i
    backend.run(partialKernel, [parts], [d], { kind, slot });
    if (d !== g) d.dispose();
  });
  const out = Tensor.empty([2], dtype, device);
  backend.run(totalKernel, [out], [parts], { kind, maxNorm });
  parts.dispose();
  return out;
}
