/**
 * Gradient clipping kernels (shaders/grad-norm.wgsl), K gradients per launch:
 * `partial` writes PARTS partial values per gradient, `total` reduces them to
 * [norm, min(1, maxNorm / (norm + 1e-6))], `scale` multiplies gradients in
 * place by that coefficient, read on the device. P gradients take
 * 2·⌈P/K⌉ + 1 launches and no readback. The CPU loops are the reference,
 * written apart from the WGSL.
 */
import template from "../../shaders/grad-norm.wgsl";
import type { Kernel } from "../backend/backend.js";
import { isCurrent, launch as schedule } from "../engine/scheduler.js";
import { noGrad } from "../autograd/mode.js";
import { dense } from "../ops/layout.js";
import { pin } from "../engine/scope.js";
import { numel } from "../shape.js";
import { Tensor } from "../tensor.js";

/** 0: Σ|g| (p = 1), 1: Σg² (p = 2), 2: max|g| (p = ∞). */
export type NormKind = 0 | 1 | 2;
/** Gradients per launch: 4 read + 4 read_write bindings stay within WebGPU's default 8 storage buffers. */
const K = 4;
/** Partial values per gradient: the workgroups one gradient gets in `partial`. */
const PARTS = 32;
const WG = 256;
const SLOTS = [0, 1, 2, 3];

/** max that keeps NaN, as torch's. */
const combine = (kind: NormKind, a: number, b: number) => (kind !== 2 ? a + b : Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));

function params(n: number[], start: number[], slot: number, kind: NormKind, maxNorm: number): ArrayBuffer {
  const buf = new ArrayBuffer(48);
  const words = new Uint32Array(buf, 0, 11);
  SLOTS.forEach((k) => ((words[k] = n[k] ?? 0), (words[4 + k] = start[k] ?? 0)));
  words.set([slot, kind, 0x7fc00000], 8);
  new Float32Array(buf, 44, 1)[0] = maxNorm;
  return buf;
}

/**
 * Invocations per `partial` workgroup on a CPU emulator: one SIMD group, so its tree has two
 * barrier steps, not eight. SwiftShader runs a barrier by switching every invocation out and back
 * in: the GPT's 28 gradients took 1.3-1.6 s with 256 (2 loaded cores), against ~10 ms with 4.
 */
const EMULATOR_WG = 4;

/** Every launch gets K outputs (padded with spares(), never written) and up to K inputs. */
const launch = (entryPoint: string, buf: ArrayBuffer, workgroups: number, nIn: number, wg = WG) => ({
  key: wg === WG ? "grad-norm" : `grad-norm|wg${wg}`, code: () => template, entryPoint, constants: { WG: wg, PARTS }, params: buf, workgroups,
  bindings: SLOTS.map((k) => (k < nIn ? k : null)),
});

const spareSets = new Map<string, Tensor[]>();

/**
 * K − 1 one-element tensors that fill the write bindings a launch leaves unused: WebGPU
 * forbids binding one buffer writable twice in a dispatch, so the backend's single unused
 * buffer cannot fill several. Made once per backend, engine-owned.
 */
function spares(device: Tensor["device"]): Tensor[] {
  let set = spareSets.get(device);
  // A set made on a device since replaced (lost, then init again) is made anew.
  if (!set || set.some((t) => t.isDisposed || !isCurrent(t.handle.storage, device))) {
    set = SLOTS.slice(1).map(() => pin(Tensor.empty([1], "float32", device)));
    spareSets.set(device, set);
  }
  return set;
}

const padded = (outs: Tensor[]) => [...outs, ...spares(outs[0].device).slice(0, K - outs.length)];

const partialKernel: Kernel<{ kind: NormKind; slot: number }> = {
  name: "gradNormPartial",
  cpu([out], grads, { kind, slot }) {
    grads.forEach((g, k) => {
      let a = 0;
      for (let i = 0; i < numel(g.shape); i++) a = combine(kind, a, kind === 1 ? g.data[i] * g.data[i] : Math.abs(g.data[i]));
      out.data.fill(0, (slot + k) * PARTS, (slot + k + 1) * PARTS);
      out.data[(slot + k) * PARTS] = a;
    });
  },
  webgpu(_outs, grads, { kind, slot }, caps) {
    const wg = caps.emulated && caps.force?.gradNorm !== "wide" ? EMULATOR_WG : WG;
    return launch("partial", params(grads.map((g) => numel(g.shape)), [], slot, kind, 0), grads.length * PARTS, grads.length, wg);
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
    return launch("total", params([numel(parts.shape)], [], 0, kind, maxNorm), 1, 1);
  },
};

/** outs: `count` dense gradients, scaled in place, then spares; ins: [norm, coefficient]. */
const scaleKernel: Kernel<{ count: number }> = {
  name: "gradNormScale",
  cpu(outs, [res], { count }) {
    const c = res.data[res.offset + res.strides[0]];
    for (const g of outs.slice(0, count)) for (let i = 0; i < numel(g.shape); i++) g.data[i] *= c;
  },
  webgpu(outs, _ins, { count }) {
    const n = outs.slice(0, count).map((g) => numel(g.shape));
    const start: number[] = [];
    let wg = 0;
    for (const m of n) start.push(wg), (wg += Math.ceil(m / WG));
    return launch("scale", params(n, start, 0, 0, 0), wg, 1);
  },
};

const chunks = <T>(xs: readonly T[]) => Array.from({ length: Math.ceil(xs.length / K) }, (_, i) => xs.slice(i * K, i * K + K));

/** [total norm, clip coefficient] of `grads` (one device, one dtype, at least one), with no readback. */
export function normAndCoefficient(grads: readonly Tensor[], kind: NormKind, maxNorm: number): Tensor {
  const { device, dtype } = grads[0];
  const parts = Tensor.empty([grads.length * PARTS], dtype, device);
  chunks(grads).forEach((chunk, c) => {
    const ds = chunk.map((g) => noGrad(() => dense(g))); // the kernel reads element i at i
    schedule(device, partialKernel, padded([parts]), ds, { kind, slot: c * K });
    ds.forEach((d, k) => d !== chunk[k] && d.dispose());
  });
  const out = Tensor.empty([2], dtype, device);
  schedule(device, totalKernel, padded([out]), [parts], { kind, maxNorm });
  parts.dispose();
  return out;
}

/** g ← g · res[1] for every gradient, in place: dense ones K per launch, strided views through mul_. */
export function scaleByCoefficient(grads: readonly Tensor[], res: Tensor): void {
  const isDense = (g: Tensor) => g.offset === 0 && g.isContiguous();
  for (const chunk of chunks(grads.filter(isDense))) {
    schedule(res.device, scaleKernel, padded(chunk), [res], { count: chunk.length });
    for (const g of chunk) bump(g);
  }
  const strided = grads.filter((g) => !isDense(g));
  if (strided.length === 0) return;
  noGrad(() => {
    const row = res.slice(0, 1, 2);
    const coef = row.reshape([]);
    for (const g of strided) g.mul_(coef);
    coef.dispose();
    row.dispose();
  });
}

function bump(t: Tensor): void {
  t.storage.version++;
  t.storage.lastInplaceOp = "clipGradNorm";
}
