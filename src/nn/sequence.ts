/**
 * Sequence-model modules: Embedding, LayerNorm, MultiheadAttention (on the fused attention
 * kernel), ModuleList, SiLU, LeakyReLU. Parameter names and initial values follow PyTorch, so
 * state dicts line up with torch.nn's (in_proj_weight, out_proj.weight, ...).
 */
import type { Device } from "../backend/backend.js";
import { tidy } from "../engine/scope.js";
import { noGrad } from "../autograd/mode.js";
import { ones, rand, randn, zeros } from "../ops/creation.js";
import { causalBias } from "../ops/constants.js";
import { where } from "../ops/elementwise.js";
import { fmt } from "../shape.js";
import type { Tensor } from "../tensor.js";
import * as F from "./functional.js";
import { Linear } from "./layers.js";
import { Module, parameter } from "./module.js";

const positiveInt = (op: string, what: string, n: number) => {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${op}: ${what} must be a positive integer, got ${n}.`);
};

/**
 * A lookup table: int32 indices of any shape [...] pick rows of `weight` [numEmbeddings,
 * embeddingDim], giving [..., embeddingDim]; the gradient scatters back into the picked rows.
 * The weight starts N(0, 1), as PyTorch's. An index outside [0, numEmbeddings) is an Error
 * (on WebGPU at the next sync point). The only option is `{ device }`.
 *
 * PyTorch: `torch.nn.Embedding` (no paddingIdx, maxNorm or sparse).
 * @example new wg.nn.Embedding(65, 32).forward(wg.tensor([[1, 2, 3]], { dtype: "int32" })).shape // [1, 3, 32]
 */
export class Embedding extends Module {
  /**
   * The table [numEmbeddings, embeddingDim], a parameter (starts N(0, 1)).
   *
   * PyTorch: `torch.nn.Embedding.weight`.
   * @example new wg.nn.Embedding(10, 4).weight.shape // [10, 4]
   */
  readonly weight: Tensor;
  constructor(
    /** The vocabulary size: indices must lie in [0, numEmbeddings) (PyTorch: `num_embeddings`). */
    readonly numEmbeddings: number,
    /** The size of each embedding vector (PyTorch: `embedding_dim`). */
    readonly embeddingDim: number,
    { device }: { device?: Device } = {},
  ) {
    super();
    positiveInt("Embedding", "numEmbeddings", numEmbeddings);
    positiveInt("Embedding", "embeddingDim", embeddingDim);
    this.weight = parameter(randn([numEmbeddings, embeddingDim], { device }));
  }
  /**
   * `nn.functional.embedding(indices, weight)`: int32 indices [...] → [..., embeddingDim].
   *
   * PyTorch: `torch.nn.Embedding.forward`.
   * @example new wg.nn.Embedding(10, 4).forward(wg.tensor([0, 9], { dtype: "int32" })).shape // [2, 4]
   */
  forward(indices: Tensor): Tensor { return F.embedding(indices, this.weight); }
}

/**
 * Layer normalization over the trailing `normalizedShape` dims (a number is one dim):
 * y = (x − mean) / √(var + eps) · weight + bias, the input's shape [..., ...normalizedShape] out.
 * Options: `eps` (default 1e-5), `elementwiseAffine` (default true: learn weight, starting at 1,
 * and bias, starting at 0), `bias` (default true; false learns the weight only), `device`.
 *
 * PyTorch: `torch.nn.LayerNorm`.
 * @example new wg.nn.LayerNorm(64).forward(x) // [N, L, 64] -> [N, L, 64]
 */
export class LayerNorm extends Module {
  /**
   * The normalized trailing dims, as an array (a number given to the constructor becomes [n]).
   *
   * PyTorch: `torch.nn.LayerNorm.normalized_shape`.
   * @example new wg.nn.LayerNorm(64).normalizedShape // [64]
   */
  readonly normalizedShape: number[];
  /**
   * The learned scale [...normalizedShape] (starts at 1), a parameter; null without elementwiseAffine.
   *
   * PyTorch: `torch.nn.LayerNorm.weight`.
   * @example new wg.nn.LayerNorm(64).weight.shape // [64]
   */
  readonly weight: Tensor | null;
  /**
   * The learned shift [...normalizedShape] (starts at 0), a parameter; null without elementwiseAffine or with `bias: false`.
   *
   * PyTorch: `torch.nn.LayerNorm.bias`.
   * @example new wg.nn.LayerNorm(64, { bias: false }).bias // null
   */
  readonly bias: Tensor | null;
  constructor(
    normalizedShape: number | number[],
    /** The options as given: `eps` (default 1e-5), `elementwiseAffine` (default true), `bias` (default true), `device`. */
    readonly opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean; device?: Device } = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((n) => positiveInt("LayerNorm", "each dim of normalizedShape", n));
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? parameter(ones(this.normalizedShape, { device: opts.device })) : null;
    this.bias = affine && (opts.bias ?? true) ? parameter(zeros(this.normalizedShape, { device: opts.device })) : null;
  }
  /**
   * `nn.functional.layerNorm(x, normalizedShape, { weight, bias, eps })`; the trailing dims of `x` must equal normalizedShape.
   *
   * PyTorch: `torch.nn.LayerNorm.forward`.
   * @example new wg.nn.LayerNorm([2, 3]).forward(wg.randn([4, 2, 3])).shape // [4, 2, 3]
   */
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.opts.eps ?? 1e-5 });
  }
}

/**
 * Modules held in a list, their parameters named by position ("0.weight"), so a model can hold
 * a variable number of layers; it has no forward of its own, as in PyTorch: iterate over it.
 *
 * PyTorch: `torch.nn.ModuleList`.
 * @example const blocks = new wg.nn.ModuleList([new wg.nn.Linear(8, 8), new wg.nn.Linear(8, 8)]); for (const b of blocks) x = b.forward(x);
 */
export class ModuleList extends Module {
  private readonly items: Module[] = [];
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }
  /**
   * Adds `m` at the end (named by its index); returns the list. Throws if `m` is not a Module.
   *
   * PyTorch: `torch.nn.ModuleList.append`.
   * @example new wg.nn.ModuleList().append(new wg.nn.ReLU()).length // 1
   */
  append(m: Module): this {
    if (!(m instanceof Module)) throw new Error(`ModuleList: append takes a Module, got ${typeof m}.`);
    this.items.push(m);
    return this;
  }
  /**
   * The module at index `i` (negative counts from the end); throws when out of range.
   *
   * PyTorch: indexing `torch.nn.ModuleList` (`blocks[i]`).
   * @example blocks.at(-1) // the last module
   */
  at(i: number): Module {
    if (!Number.isInteger(i)) throw new Error(`ModuleList: index ${String(i)} is not an integer. Fix: list.at(0), or list.at(-1) for the last.`);
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new Error(`ModuleList: index ${i} is out of range for a list of ${this.items.length} modules.`);
    return m;
  }
  /**
   * How many modules the list holds.
   *
   * PyTorch: `len(torch.nn.ModuleList)`.
   * @example new wg.nn.ModuleList([new wg.nn.ReLU(), new wg.nn.Tanh()]).length // 2
   */
  get length(): number { return this.items.length; }
  /**
   * Iterates over the modules in order, so `for...of` and spreading work.
   *
   * PyTorch: `iter(torch.nn.ModuleList)`.
   * @example [...new wg.nn.ModuleList([new wg.nn.ReLU()])].length // 1
   */
  [Symbol.iterator](): Iterator<Module> { return this.items[Symbol.iterator](); }
  protected override members(): [string, Module][] {
    return this.items.map((m, i) => [String(i), m]);
  }
  /**
   * Always throws: a ModuleList has no forward of its own (as in PyTorch); call each module instead.
   *
   * PyTorch: `torch.nn.ModuleList` (which raises NotImplementedError on forward).
   * @example for (const m of list) x = m.forward(x);
   */
  forward(): never {
    throw new Error("ModuleList: has no forward(); iterate over it and call each module (for (const m of list) x = m.forward(x)).");
  }
}

/**
 * SiLU (swish) elementwise, x·sigmoid(x), any shape; no parameters.
 *
 * PyTorch: `torch.nn.SiLU`.
 * @example new wg.nn.SiLU().forward(wg.tensor([0])) // tensor([0])
 */
export class SiLU extends Module {
  /**
   * `x.silu()`: same shape as `x`.
   *
   * PyTorch: `torch.nn.SiLU.forward`.
   * @example new wg.nn.SiLU().forward(wg.tensor([0])) // tensor([0])
   */
  forward(x: Tensor): Tensor { return x.silu(); }
}

/**
 * x where x ≥ 0, negativeSlope·x below (negativeSlope default 0.01), elementwise, any shape; no parameters.
 *
 * PyTorch: `torch.nn.LeakyReLU`.
 * @example new wg.nn.LeakyReLU(0.1).forward(wg.tensor([-10, 2])) // tensor([-1, 2])
 */
export class LeakyReLU extends Module {
  constructor(
    /** The slope for negative inputs (default 0.01). */
    readonly negativeSlope = 0.01,
  ) { super(); }
  /**
   * `x.leakyRelu(negativeSlope)`: same shape as `x`.
   *
   * PyTorch: `torch.nn.LeakyReLU.forward`.
   * @example new wg.nn.LeakyReLU().forward(wg.tensor([-100])) // tensor([-1])
   */
  forward(x: Tensor): Tensor { return x.leakyRelu(this.negativeSlope); }
}

/**
 * Options of `nn.MultiheadAttention`.
 *
 * PyTorch: the keyword arguments of `torch.nn.MultiheadAttention` (no kdim, vdim, addBiasKv or addZeroAttn).
 * @example new wg.nn.MultiheadAttention(64, 4, { dropout: 0.1, bias: false })
 */
export interface MultiheadAttentionOptions {
  /** Learn in_proj_bias and out_proj.bias (default true). */
  bias?: boolean;
  /**
   * Inputs and output are [batch, seq, embed] (true, the default, unlike PyTorch's false; the
   * only layout webgrad's examples use) or [seq, batch, embed].
   */
  batchFirst?: boolean;
  /** Dropout probability on the attention weights while training (default 0; the composite path). */
  dropout?: number;
  /** Where the parameters live (default: `wg.defaultDevice()`). */
  device?: Device;
}

/**
 * The per-call options of `MultiheadAttention.forward` (PyTorch's keyword arguments of forward).
 *
 * PyTorch: the keyword arguments of `torch.nn.MultiheadAttention.forward` (weights are always averaged over heads).
 * @example mha.forward(x, x, x, { isCausal: true, needWeights: true })
 */
export interface MultiheadAttentionCall {
  /** [L, S] or [batch·heads, L, S]: int32 nonzero = masked out (PyTorch's bool), float = added to the scores. */
  attnMask?: Tensor | null;
  /** [batch, S]: int32 nonzero = a padding key to ignore, float = added. */
  keyPaddingMask?: Tensor | null;
  /** Mask out keys after each query (top-left aligned), on top of any masks given (default false). */
  isCausal?: boolean;
  /** Also return the attention weights averaged over heads (default false; computed by the composite, not the fused kernel). */
  needWeights?: boolean;
}

/**
 * Multi-head attention with E = embedDim split into numHeads heads of E / numHeads (embedDim must
 * divide): in-projection in_proj_weight [3E, E] (xavier-uniform) and in_proj_bias [3E] (zeros),
 * the heads on the fused attention kernel, out_proj a Linear(E, E) with zero bias. Parameter names
 * match torch's state dict. Input and output are [batch, seq, E] by default (`batchFirst`, unlike
 * PyTorch). forward returns [output, weights | null]; weights only with `needWeights` (PyTorch
 * computes them by default; here the fused kernel never forms them, so they cost a composite pass).
 *
 * PyTorch: `torch.nn.MultiheadAttention`.
 * @example const [y] = new wg.nn.MultiheadAttention(64, 4).forward(x) // x, y: [N, L, 64]
 */
export class MultiheadAttention extends Module {
  /**
   * The stacked query, key and value projections [3·embedDim, embedDim], a parameter (xavier-uniform).
   *
   * PyTorch: `torch.nn.MultiheadAttention.in_proj_weight`.
   * @example new wg.nn.MultiheadAttention(64, 4).in_proj_weight.shape // [192, 64]
   */
  readonly in_proj_weight: Tensor;
  /**
   * The in-projections' biases [3·embedDim], a parameter (starts at 0), or null with `{ bias: false }`.
   *
   * PyTorch: `torch.nn.MultiheadAttention.in_proj_bias`.
   * @example new wg.nn.MultiheadAttention(64, 4).in_proj_bias.shape // [192]
   */
  readonly in_proj_bias: Tensor | null;
  /**
   * The output projection, a Linear(embedDim, embedDim) whose bias starts at 0.
   *
   * PyTorch: `torch.nn.MultiheadAttention.out_proj`.
   * @example new wg.nn.MultiheadAttention(64, 4).out_proj.weight.shape // [64, 64]
   */
  readonly out_proj: Linear;
  /**
   * embedDim / numHeads, each head's width.
   *
   * PyTorch: `torch.nn.MultiheadAttention.head_dim`.
   * @example new wg.nn.MultiheadAttention(64, 4).headDim // 16
   */
  readonly headDim: number;
  /**
   * The layout of inputs and output: [batch, seq, embed] when true (the default), else [seq, batch, embed].
   *
   * PyTorch: `torch.nn.MultiheadAttention.batch_first` (default false there).
   * @example new wg.nn.MultiheadAttention(64, 4).batchFirst // true
   */
  readonly batchFirst: boolean;

  constructor(
    /** The model width E: queries have E features (PyTorch: `embed_dim`). */
    readonly embedDim: number,
    /** The number of heads; embedDim must be divisible by it (PyTorch: `num_heads`). */
    readonly numHeads: number,
    /** The options as given: `bias`, `batchFirst`, `dropout`, `device` (see MultiheadAttentionOptions). */
    readonly opts: MultiheadAttentionOptions = {},
  ) {
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

  /**
   * Attends `query` [batch, L, E] over `key` / `value` [batch, S, E] (self-attention when they are
   * left out; [L, E] unbatched works too) and returns [output [batch, L, E], weights [batch, L, S]
   * averaged over heads, or null without `needWeights`]. Dropout applies only in training mode.
   *
   * PyTorch: `torch.nn.MultiheadAttention.forward` (returns weights only with needWeights).
   * @example new wg.nn.MultiheadAttention(8, 2).forward(wg.randn([2, 5, 8]))[0].shape // [2, 5, 8]
   */
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

