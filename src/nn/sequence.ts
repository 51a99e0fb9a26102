/**
 * Sequence-model modules: Embedding, LayerNorm, MultiheadAttention (on the fused attention
 * kernel), ModuleList, SiLU, LeakyReLU. Parameter names and initial values follow PyTorch, so
 * state dicts line up with torch.nn's (in_proj_weight, out_proj.weight, ...).
 */
import type { Device } from "../backend/backend.js";
import { tidy } from "../engine/scope.js";
import { noGrad } from "../autograd/mode.js";
import { arange, ones, rand, randn, zeros } from "../ops/creation.js";
import { where } from "../ops/elementwise.js";
import { fmt } from "../shape.js";
import type { Tensor } from "../tensor.js";
import * as F from "./functional.js";
import { Linear } from "./layers.js";
import { Module, parameter } from "./module.js";

const positiveInt = (op: string, what: string, n: number) => {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${op}: ${what} must be a positive integer, got ${n}.`);
};

/** A lookup table [num, dim] of rows picked by int32 indices; the weight starts N(0, 1), as PyTorch's. */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, { device }: { device?: Device } = {}) {
    super();
    positiveInt("Embedding", "numEmbeddings", numEmbeddings);
    positiveInt("Embedding", "embeddingDim", embeddingDim);
    this.weight = parameter(randn([numEmbeddings, embeddingDim], { device }));
  }
  forward(indices: Tensor): Tensor { return F.embedding(indices, this.weight); }
}

/** layerNorm over the trailing normalizedShape dims with a learned weight (ones) and bias (zeros). */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(normalizedShape: number | number[], readonly opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean; device?: Device } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((n) => positiveInt("LayerNorm", "each dim of normalizedShape", n));
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? parameter(ones(this.normalizedShape, { device: opts.device })) : null;
    this.bias = affine && (opts.bias ?? true) ? parameter(zeros(this.normalizedShape, { device: opts.device })) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.opts.eps ?? 1e-5 });
  }
}

/** Modules held in a list, named by position ("0.weight"); it has no forward of its own, as in PyTorch. */
export class ModuleList extends Module {
  private readonly items: Module[] = [];
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }
  append(m: Module): this {
    if (!(m instanceof Module)) throw new Error(`ModuleList: append takes a Module, got ${typeof m}.`);
    this.items.push(m);
    return this;
  }
  at(i: number): Module {
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new Error(`ModuleList: index ${i} is out of range for a list of ${this.items.length} modules.`);
    return m;
  }
  get length(): number { return this.items.length; }
  [Symbol.iterator](): Iterator<Module> { return this.items[Symbol.iterator](); }
  protected override members(): [string, Module][] {
    return this.items.map((m, i) => [String(i), m]);
  }
  forward(): never {
    throw new Error("ModuleList: has no forward(); iterate over it and call each module (for (const m of list) x = m.forward(x)).");
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor { return x.silu(); }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return x.leakyRelu(this.negativeSlope); }
}

export interface MultiheadAttentionOptions {
  bias?: boolean;
  /** Inputs and output are [batch, seq, embed] (true, the only layout webgrad's examples use) or [seq, batch, embed]. */
  batchFirst?: boolean;
  /** Dropout on the attention weights while training (the composite path). */
  dropout?: number;
  device?: Device;
}

export interface MultiheadAttentionCall {
  /** [L, S] or [batch·heads, L, S]: int32 nonzero = masked out (PyTorch's bool), float = added to the scores. */
  attnMask?: Tensor | null;
  /** [batch, S]: int32 nonzero = a padding key to ignore, float = added. */
  keyPaddingMask?: Tensor | null;
  isCausal?: boolean;
  /** Also return the attention weights averaged over heads (computed by the composite, not the fused kernel). */
  needWeights?: boolean;
}

/**
 * Multi-head attention as torch.nn.MultiheadAttention: in-projection in_proj_weight [3E, E]
 * (xavier-uniform) and in_proj_bias (zeros), heads of E / numHeads on the fused attention
 * kernel, out_proj a Linear(E, E) with zero bias. forward returns [output, weights | null];
 * weights only with needWeights (PyTorch computes them by default; here the fused kernel never
 * forms them, so they cost a composite pass when asked for).
 */
export class MultiheadAttention extends Module {
  readonly in_proj_weight: Tensor;
  readonly in_proj_bias: Tensor | null;
  readonly out_proj: Linear;
  readonly headDim: number;
  readonly batchFirst: boolean;

  constructor(readonly embedDim: number, readonly numHeads: number, readonly opts: MultiheadAttentionOptions = {}) {
    super();
    positiveInt("MultiheadAttention", "embedDim", embedDim);
    positiveInt("MultiheadAttention", "numHeads", numHeads);
    if (embedDim % numHeads !== 0)
      throw new Error(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}. Fix: e.g. new nn.MultiheadAttention(${numHeads * Math.max(1, Math.round(embedDim / numHeads))}, ${numHeads}).`);
    const { bias = true, device } = opts;
    this.batchFirst = opts.batchFirst ?? true;
    this.headDim = embedDim / numHeads;
    const bound = Math.sqrt(6 / (embedDim + 3 * embedDim)); // xavier_uniform_ over [3E, E]
    this.in_proj_weight = parameter(tidy(() => rand([3 * embedDim, embedDim], { device }).mul(2 * bound).sub(bound)));
    this.in_proj_bias = bias ? parameter(zeros([3 * embedDim], { device })) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias, device });
    const outBias = this.out_proj.bias;
    if (outBias) noGrad(() => outBias.zero_()); // PyTorch starts out_proj.bias at 0
  }

  forward(query: Tensor, key: Tensor = query, value: Tensor = key, call: MultiheadAttentionCall = {}): [Tensor, Tensor | null] {
    const unbatched = query.ndim === 2;
    const norm = (t: Tensor) => (unbatched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    const [q, k, v] = [norm(query), norm(key), norm(value)];
    const E = this.embedDim;
    if (q.ndim !== 3 || q.shape[2] !== E || k.shape[2] !== E || v.shape[2] !== E || k.shape.join() !== v.shape.join() || k.shape[0] !== q.shape[0])
      throw new Error(
        `MultiheadAttention(${E}, ${this.numHeads}): query ${fmt(query.shape)}, key ${fmt(key.shape)}, value ${fmt(value.shape)} must be ` +
          `${this.batchFirst ? "[batch, seq, embed]" : "[seq, batch, embed]"} (or [seq, embed]) with embed ${E}, key and value of one shape.`,
      );
    const [B, L] = q.shape;
    const S = k.shape[1];
    const w = this.in_proj_weight, b = this.in_proj_bias;
    const proj = (x: Tensor, i: number, n: number) =>
      F.linear(x, w.slice(0, i * E, (i + 1) * E), b ? b.slice(0, i * E, (i + 1) * E) : null).reshape([B, n, this.numHeads, this.headDim]).transpose(1, 2);
    const heads = [proj(q, 0, L), proj(k, 1, S), proj(v, 2, S)] as const;
    const mask = this.mask(call, B, L, S);
    const causal = (call.isCausal ?? false) && !mask;
    const dropoutP = this.training ? (this.opts.dropout ?? 0) : 0;
    const o = F.scaledDotProductAttention(...heads, { attnMask: mask, isCausal: causal, dropoutP });
    let out = this.out_proj.forward(o.transpose(1, 2).reshape([B, L, E]));
    out = unbatched ? out.squeeze(0) : this.batchFirst ? out : out.transpose(0, 1);
    if (!call.needWeights) return [out, null];
    const [qh, kh] = heads;
    let s = qh.matmul(kh.transpose(-1, -2)).mul(1 / Math.sqrt(this.headDim));
    if (mask) s = s.add(mask);
    else if (causal) s = s.add(causalBias(L, S, q.device));
    const weights = s.softmax(-1).mean(1);
    return [out, unbatched ? weights.squeeze(0) : weights];
  }

  /** attnMask and keyPaddingMask folded into one additive float mask broadcasting to [B, H, L, S] (null if neither). */
  private mask(call: MultiheadAttentionCall, B: number, L: number, S: number): Tensor | null {
    const additive = (m: Tensor) => (m.dtype === "int32" ? where(m.ne(0), -Infinity, 0) : m);
    let m: Tensor | null = null;
    if (call.attnMask) {
      const a = call.attnMask;
      const ok = (a.ndim === 2 && a.shape.join() === `${L},${S}`) || (a.ndim === 3 && a.shape.join() === `${B * this.numHeads},${L},${S}`);
      if (!ok) throw new Error(`MultiheadAttention: attnMask ${fmt(a.shape)} must be [L, S] = [${L}, ${S}] or [batch·heads, L, S] = [${B * this.numHeads}, ${L}, ${S}].`);
      m = additive(a.ndim === 3 ? a.reshape([B, this.numHeads, L, S]) : a);
    }
    if (call.keyPaddingMask) {
      const p = call.keyPaddingMask;
      if (p.shape.join() !== `${B},${S}`) throw new Error(`MultiheadAttention: keyPaddingMask ${fmt(p.shape)} must be [batch, S] = [${B}, ${S}].`);
      const pm = additive(p).reshape([B, 1, 1, S]);
      m = m ? m.add(pm) : pm;
    }
    if (m && call.isCausal) m = m.add(causalBias(L, S, m.device));
    return m;
  }
}

/** 0 where key j ≤ query i, -Infinity above the diagonal: PyTorch's is_causal, top-left aligned. */
function causalBias(L: number, S: number, device: Device): Tensor {
  return where(arange(S, { device }).gt(arange(L, { device }).unsqueeze(1)), -Infinity, 0);
}
