/**
 * scaledDotProductAttention over [..., L, E] queries, [..., S, E] keys and [..., S, Ev] values,
 * as PyTorch's: softmax(q·kᵀ·scale + mask)·v, scale 1/√E by default. One fused kernel forward
 * (online softmax; the row log-sum-exp is saved) and two backward (dq with D = dO·O, then dk and
 * dv), none storing the L×S scores. The composite (matmul, softmax, matmul) is the reference, the
 * createGraph path (higher derivatives), and the path for dropout and for masks that require grad.
 *
 * Masks broadcast to [..., L, S]. Their dtype says what they are, as bool vs float in PyTorch:
 * an int32 mask is boolean (nonzero: attend), a float mask is added to the scores (-Infinity: masked).
 */
import template from "../../shaders/attention.wgsl";
import backwardTemplate from "../../shaders/attention-backward.wgsl";
import type { CpuView, GpuCaps, Kernel, View } from "../backend/backend.js";
import { fmt, numel } from "../shape.js";
import { isGradEnabled } from "../autograd/mode.js";
import type { Rule } from "../autograd/node.js";
import { apply, applyMulti, type MultiPrimitive, type Primitive } from "./primitive.js";
import { collapse, where } from "./elementwise.js";
import { rand } from "./creation.js";
import { causalBias } from "./constants.js";
import { contiguous, dense } from "./layout.js";
import { attentionDkv, attentionDq, attentionForward, type AttnDims } from "./attention-cpu.js";
import type { Tensor } from "../tensor.js";
import { specialize } from "../engine/wgsl.js";
import { adapterChoice } from "../engine/scheduler.js";
import { tidy } from "../engine/scope.js";

/**
 * Options of `nn.functional.scaledDotProductAttention`, PyTorch's keyword arguments.
 *
 * PyTorch: the `attn_mask`, `is_causal`, `scale`, `dropout_p` arguments of `torch.nn.functional.scaled_dot_product_attention`.
 * @example wg.nn.functional.scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP: 0.1 })
 */
export interface AttentionOptions {
  /**
   * Broadcasts to [..., L, S]. int32 is boolean (non-zero: attend; PyTorch's bool mask), float is added to the
   * scores (−Infinity hides a key). Default none.
   */
  attnMask?: Tensor | null;
  /** Query i attends to keys 0..i only (top-left aligned when L ≠ S, as PyTorch); not with attnMask. Default false. */
  isCausal?: boolean;
  /** Multiplies q·kᵀ; default (or `null`) 1/√E. */
  scale?: number | null;
  /** Probability of zeroing each attention weight (the rest scaled by 1/(1 − p)); default 0. Pass 0 in eval. */
  dropoutP?: number;
}

interface Attrs extends AttnDims {
  /** The gradients of the last backward through this node, shared by its three rules. */
  memo: { g: Tensor; createGraph: boolean; grads: Tensor[] } | null;
}

/** Head dims the WebGPU kernels take (private arrays are sized at pipeline creation). */
const MAX_HEAD_DIM = 256;

function pipelineSizes(a: AttnDims, caps: GpuCaps) {
  const need = Math.max(a.E, a.EV, 1);
  const maxd = [16, 32, 64, 128, 256].find((d) => d >= need)!;
  // Two tiles of BK rows (and two per-row values) must fit the adapter's workgroup memory.
  let bk = 32;
  while (bk > 1 && 4 * (2 * bk * maxd + 2 * bk) > caps.maxWorkgroupStorage) bk /= 2;
  const tiled = caps.force?.attention ? caps.force.attention === "tiled" : !caps.emulated;
  return { maxd, bk, tiled, wg: 64 };
}

function launch(a: AttnDims, caps: GpuCaps, entry: "forward" | "dq" | "dkv", rows: number) {
  const { maxd, bk, tiled, wg } = pipelineSizes(a, caps);
  const m = a.mask;
  const P = new ArrayBuffer(64);
  new Uint32Array(P).set([a.B, a.L, a.S, a.E, a.EV, 0, a.causal ? 1 : 0, a.maskKind, m.off, m.inner, m.sb1, m.sb2, m.sl, m.ss, Math.ceil(a.L / wg)]);
  new Float32Array(P)[5] = a.scale;
  const src = entry === "forward" ? template : backwardTemplate;
  const mask = a.maskKind ? 3 : null;
  return {
    key: `attention:${entry === "forward" ? "f" : "b"}:${maxd}:${bk}`,
    code: () => specialize("scaledDotProductAttention", src, [["const MAXD: u32 = 64u;", `const MAXD: u32 = ${maxd}u;`], ["const BK: u32 = 32u;", `const BK: u32 = ${bk}u;`]]),
    entryPoint: entry,
    constants: { WG: wg, TILED: tiled ? 1 : 0 },
    params: P,
    workgroups: a.B * Math.ceil(rows / wg),
    bindings: entry === "forward" ? [0, 1, 2, mask] : [0, 1, 2, mask, ...(a.maskKind ? [4, 5, 6] : [3, 4, 5])],
  };
}

/** The inputs in (q, k, v, mask, ...rest) roles, mask undefined when there is none. */
const roles = (a: AttnDims, ins: readonly CpuView[]): (CpuView | undefined)[] =>
  a.maskKind ? [...ins] : [ins[0], ins[1], ins[2], undefined, ...ins.slice(3)];

const forwardKernel: Kernel<Attrs> = {
  name: "attention",
  cpu: (outs, ins, a) => attentionForward(a, outs, roles(a, ins)),
  webgpu: (_outs, _ins, a, caps) => launch(a, caps, "forward", a.L),
};
const dqKernel: Kernel<Attrs> = {
  name: "attentionDq",
  cpu: (outs, ins, a) => attentionDq(a, outs, roles(a, ins)),
  webgpu: (_outs, _ins, a, caps) => launch(a, caps, "dq", a.L),
};
const dkvKernel: Kernel<Attrs> = {
  name: "attentionDkv",
  cpu: (outs, ins, a) => attentionDkv(a, outs, roles(a, ins)),
  webgpu: (_outs, _ins, a, caps) => launch(a, caps, "dkv", a.S),
};

// The backward kernels run under noGrad only: under createGraph the rules use the composite.
const firstOrder = (name: string, kernel: Kernel<Attrs>, shape: (a: Attrs) => number[]): Primitive<Attrs> => ({
  name,
  infer: ([q], a) => ({ shape: shape(a), dtype: q.dtype }),
  kernel,
  grads: [],
  docs: [],
});
// One buffer each: dq then D; dk then dv (so each gradient is a contiguous view, reshaped for free).
const dqPrim = firstOrder("attentionDq", dqKernel, (a) => [a.B * a.L * (a.E + 1)]);
const dkvPrim = firstOrder("attentionDkv", dkvKernel, (a) => [a.B * a.S * (a.E + a.EV)]);

/** dq, dk, dv from the fused kernels; saved = [q, k, v, (mask), out, lse], all [B, rows, dim]. */
function fusedGrads(g: Tensor, saved: Tensor[], a: Attrs): Tensor[] {
  const [q, k, v] = saved;
  const mask = a.maskKind ? [saved[3]] : [];
  const [out, lse] = saved.slice(a.maskKind ? 4 : 3);
  const go = dense(g);
  const dqd = apply(dqPrim, [q, k, v, ...mask, go, lse, out], a);
  const dkv = apply(dkvPrim, [q, k, v, ...mask, go, lse, dqd], a);
  const nk = a.B * a.S * a.E;
  return [
    dqd.slice(0, 0, a.B * a.L * a.E).reshape([a.B, a.L, a.E]),
    dkv.slice(0, 0, nk).reshape([a.B, a.S, a.E]),
    dkv.slice(0, nk).reshape([a.B, a.S, a.EV]),
  ];
}

/** The same gradients from differentiable ops (the createGraph path). */
function compositeGrads(g: Tensor, saved: Tensor[], a: Attrs): Tensor[] {
  const [q, k, v] = saved;
  const p = scores(q, k, a.maskKind ? saved[3] : null, a).softmax(-1);
  const dp = g.matmul(v.transpose(-1, -2));
  const ds = p.mul(dp.sub(dp.mul(p).sum(-1, true)));
  return [ds.matmul(k).mul(a.scale), ds.transpose(-1, -2).matmul(q).mul(a.scale), p.transpose(-1, -2).matmul(g)];
}

function grads(g: Tensor, saved: Tensor[], a: Attrs): Tensor[] {
  const createGraph = isGradEnabled();
  const m = a.memo;
  if (m && m.g === g && m.createGraph === createGraph && !m.grads.some((t) => t.isDisposed)) return m.grads;
  const out = createGraph ? compositeGrads(g, saved, a) : fusedGrads(g, saved, a);
  a.memo = { g, createGraph, grads: out };
  return out;
}

const rule = (k: number): Rule<Attrs> => (g, saved, a) => grads(g, saved, a)[k];
const DOCS = [
  "d attn/dq = scale·dS·k, dS = P⊙(g·vᵀ - rowsum(g⊙out)), P recomputed from the saved log-sum-exp",
  "d attn/dk = scale·dSᵀ·q",
  "d attn/dv = Pᵀ·g",
];

function forwardPrim(hasMask: boolean): MultiPrimitive<Attrs> {
  return {
    name: "attention",
    infer: ([q], a) => ({ shape: [a.B, a.L, a.EV], dtype: q.dtype, extras: [[a.B, a.L]] }),
    kernel: forwardKernel,
    save: (ins, out, [lse]) => [...ins, out, lse],
    grads: [rule(0), rule(1), rule(2), ...(hasMask ? [null] : [])],
    docs: [...DOCS, ...(hasMask ? [null] : [])],
  };
}
const prims = [forwardPrim(false), forwardPrim(true)];

/** scale·q·kᵀ with the mask applied: -Infinity where a boolean or causal mask hides a key. */
function scores(q: Tensor, k: Tensor, mask: Tensor | null, a: { scale: number; causal: boolean; maskKind: number }): Tensor {
  const [L, S] = [q.shape[q.ndim - 2], k.shape[k.ndim - 2]];
  // The causal mask as an added [L, S] bias of 0 and -Infinity: the same scores as a where(), and its
  // gradient passes through an add with no launch. Built before the product, so that the scale and
  // the add join the matmul's epilogue (built between them, its small launches would end the chain).
  // In a tidy: the raw and scaled products are then freed before the chain runs, so the matmul's
  // epilogue writes the masked scores only (mul saves no copy of its operand for a constant scale).
  return tidy(() => {
    const causal = a.causal ? causalBias(L, S, q.device) : null;
    let s = q.matmul(k.transpose(-1, -2)).mul(a.scale);
    if (causal) s = s.add(causal);
    // A boolean mask also as an added 0/-Infinity bias (PyTorch's math path): a fully masked row's NaN then
    // reaches its gradient, as in the fused kernels.
    if (mask && a.maskKind === 1) s = s.add(where(mask.ne(0), 0, -Infinity));
    if (mask && a.maskKind === 2) s = s.add(mask);
    return s;
  });
}

/**
 * The composite: matmul, softmax, (dropout,) matmul. The reference for the fused kernels, and what
 * scaledDotProductAttention falls back to (dropout, a mask that requires grad, a head dim the kernels do not take).
 */
export function attentionComposite(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const a = check(q, k, v, opts);
  let p = scores(q, k, opts.attnMask ?? null, a).softmax(-1);
  const drop = opts.dropoutP ?? 0;
  if (drop > 0) p = drop >= 1 ? p.mul(0) : p.mul(rand(p.shape, { device: p.device }).ge(drop)).mul(1 / (1 - drop));
  return p.matmul(v);
}

/** Shapes, dtypes and options, checked before any work; the mask kind and the scale. */
function check(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions) {
  const op = "scaledDotProductAttention";
  const shapes = `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`;
  for (const [n, t] of [["q", q], ["k", k], ["v", v]] as const) {
    if (t.ndim < 2) throw new Error(`${op}: ${n} must be [..., rows, dim], got ${fmt(t.shape)} (${shapes}).`);
    if (t.dtype === "int32") throw new Error(`${op}: ${n} must be a float tensor, got int32 ${fmt(t.shape)}. Fix: ${n}.float().`);
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) throw new Error(`${op}: q, k, v must share a dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}.`);
  const batch = q.shape.slice(0, -2);
  if (k.shape.slice(0, -2).join() !== batch.join() || v.shape.slice(0, -2).join() !== batch.join())
    throw new Error(`${op}: the batch and head dims (all but the last two) must match: ${shapes}. Fix: reshape or expand them to one shape.`);
  const [L, E] = q.shape.slice(-2);
  const [S, Ek] = k.shape.slice(-2);
  if (Ek !== E) throw new Error(`${op}: q and k must have the same embedding dim (last dim): ${shapes}.`);
  if (v.shape[v.ndim - 2] !== S) throw new Error(`${op}: k and v must have the same number of keys (dim -2): ${shapes}.`);
  const { attnMask = null, isCausal = false, scale = null, dropoutP = 0 } = opts;
  if (attnMask && isCausal) throw new Error(`${op}: give attnMask or isCausal, not both (as PyTorch). Fix: fold the causal mask into attnMask.`);
  if (!(dropoutP >= 0 && dropoutP <= 1)) throw new Error(`${op}: dropoutP must be in [0, 1], got ${dropoutP}.`);
  if (scale !== null && !Number.isFinite(scale)) throw new Error(`${op}: scale must be a finite number, got ${scale}.`);
  if (attnMask) {
    const want = [...batch, L, S];
    const m = attnMask.shape;
    const fits = m.length <= want.length && m.every((d, i) => d === 1 || d === want[want.length - m.length + i]);
    if (!fits)
      throw new Error(`${op}: attnMask ${fmt(m)} does not broadcast to the scores' shape ${fmt(want)} ([..., L, S]; ${shapes}). Fix: give it shape [L, S] or ${fmt(want)}.`);
  }
  const maskKind = !attnMask ? 0 : attnMask.dtype === "int32" ? 1 : 2;
  return { batch, L, S, E, EV: v.shape[v.ndim - 1], causal: isCausal, maskKind: maskKind as 0 | 1 | 2, scale: scale ?? 1 / Math.sqrt(E) };
}

/** The mask as a view over [B, L, S] and where (b, i, j) is in its storage; copied only when its batch strides do not fit two. */
function maskLayout(mask: Tensor, batch: number[], L: number, S: number): { view: Tensor; at: AttnDims["mask"] } {
  let view = mask.expand([...batch, L, S]);
  let c = collapse(batch, [view.strides.slice(0, -2)]);
  if (c.shape.length > 2) {
    view = contiguous(view);
    c = collapse(batch, [view.strides.slice(0, -2)]);
  }
  const [s1, s2] = c.shape.length === 2 ? c.strides[0] : [0, c.strides[0][0] ?? 0];
  const inner = c.shape.length === 2 ? c.shape[1] : (c.shape[0] ?? 1);
  const [sl, ss] = view.strides.slice(-2);
  return { view, at: { off: view.offset, inner, sb1: s1, sb2: s2, sl, ss } };
}

/**
 * Whether this WebGPU adapter runs attention as the composite. On emulators it does: there the
 * composite's register-blocked matmuls and one-subgroup softmax beat the fused kernels' per-row loops
 * (SwiftShader, fwd+bwd: README, "Sequence models"); on GPUs the fused kernels. `force: { attention }`
 * picks a path ("composite"; "tiled" or "direct" for the fused kernels).
 */
function compositeOnAdapter(): boolean {
  const { emulated, forced } = adapterChoice("webgpu", "attention");
  return forced ? forced === "composite" : emulated;
}

/**
 * softmax(q·kᵀ·scale + mask)·v over q [..., L, E], k [..., S, E], v [..., S, Ev] → [..., L, Ev] (leading batch/head
 * dims must match exactly). On GPUs one fused kernel that never stores the L×S scores; on emulators the composite
 * (matmul, softmax, matmul), which is faster there. A row with every key masked gives NaN.
 * Differentiable in q, k, v (and a float mask) to any order.
 *
 * PyTorch: `torch.nn.functional.scaled_dot_product_attention` (PyTorch 2.0+).
 * @example wg.nn.functional.scaledDotProductAttention(wg.randn([2, 4, 5, 8]), wg.randn([2, 4, 7, 8]), wg.randn([2, 4, 7, 16])) // shape [2, 4, 5, 16]
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const c = check(q, k, v, opts);
  const onGpu = q.device === "webgpu";
  if (onGpu && (!kernelsTake(c) || compositeOnAdapter())) return attentionComposite(q, k, v, opts);
  return attentionFused(q, k, v, opts);
}

/**
 * Whether the WebGPU kernels take these head dims: at most MAX_HEAD_DIM, and not 0 (the kernels
 * clamp their loads to the last element of a row, which an empty row lacks).
 */
function kernelsTake(c: { E: number; EV: number }): boolean {
  return Math.max(c.E, c.EV) <= MAX_HEAD_DIM && Math.min(c.E, c.EV) > 0;
}

/** The fused kernels on every adapter (the composite only for dropout, a mask that requires grad, or a head dim past 256 on WebGPU). */
export function attentionFused(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const c = check(q, k, v, opts);
  const mask = opts.attnMask ?? null;
  const onGpu = q.device === "webgpu";
  if ((opts.dropoutP ?? 0) > 0 || mask?.requiresGrad || (onGpu && !kernelsTake(c))) return attentionComposite(q, k, v, opts);
  const B = numel(c.batch);
  const layout = mask ? maskLayout(mask, c.batch, c.L, c.S) : null;
  const a: Attrs = {
    B, L: c.L, S: c.S, E: c.E, EV: c.EV, scale: c.scale, causal: c.causal, maskKind: c.maskKind,
    mask: layout?.at ?? { off: 0, inner: 1, sb1: 0, sb2: 0, sl: 0, ss: 0 }, memo: null,
  };
  const flat = (t: Tensor, rows: number) => dense(t).reshape([B, rows, t.shape[t.ndim - 1]]);
  const ins = [flat(q, c.L), flat(k, c.S), flat(v, c.S), ...(layout ? [layout.view] : [])];
  return applyMulti(prims[layout ? 1 : 0], ins, a).reshape([...c.batch, c.L, c.EV]);
}
