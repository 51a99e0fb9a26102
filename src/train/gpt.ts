/**
 * A character-level GPT (decoder-only transformer, as in Radford et al. 2019 /
 * nanoGPT): token + position embeddings, nLayer pre-LayerNorm blocks of causal
 * multi-head attention and a GELU MLP with residual connections, a final
 * LayerNorm, and a head tied to the token embedding (logits = h · Eᵀ).
 * Written against the public API (nn and Tensor methods), but for the head split and merge kernels.
 */
import * as wg from "../index.js";
import type { Tensor } from "../tensor.js";
import { mergeHeads, splitHeads } from "../ops/attention-heads.js";

const { nn } = wg;
const F = nn.functional;

export interface GptConfig {
  vocabSize: number;
  /** The longest context the position table holds. */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** Embedding width C; a multiple of nHead. */
  nEmbd: number;
}

function checkConfig(c: GptConfig): GptConfig {
  for (const k of ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"] as const)
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`Gpt: config.${k} must be a positive integer, got ${c[k]}.`);
  if (c.nEmbd % c.nHead !== 0) throw new Error(`Gpt: nEmbd (${c.nEmbd}) must be a multiple of nHead (${c.nHead}). Fix: e.g. nEmbd ${c.nHead * Math.max(1, Math.round(c.nEmbd / c.nHead))}.`);
  return c;
}

/** Overwrite a parameter with N(0, std²): GPT-2's initialisation keeps early logits small and residual sums bounded. */
function normalInit(p: Tensor, std: number): void {
  wg.noGrad(() => wg.tidy(() => void p.copy_(wg.randn(p.shape, { device: p.device }).mul(std))));
}

/**
 * No biases in the linear layers and layer norms (as nanoGPT's bias=False): as good a model, and each
 * bias gradient is a sum over every token into few outputs, among the slowest reductions on emulators.
 */
const NO_BIAS = { bias: false } as const;

/**
 * Keys and values of the tokens a Gpt has already seen, per block ([1, H, t, D] each), so that
 * generation runs one new token through the model instead of the whole window. Its tensors live
 * outside any tidy(); dispose() releases them.
 */
export class KvCache {
  private keys: (Tensor | null)[];
  private values: (Tensor | null)[];
  /** Tokens cached: the position of the next one. */
  length = 0;
  constructor(readonly nLayer: number) {
    this.keys = Array(nLayer).fill(null);
    this.values = Array(nLayer).fill(null);
  }
  /** Block `layer`'s keys and values with the new ones appended; the cache keeps them. */
  extend(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const grow = (old: Tensor | null, t: Tensor) => wg.keep(old ? wg.cat([old, t], 2) : t.clone());
    const [kAll, vAll] = [grow(this.keys[layer], k), grow(this.values[layer], v)];
    this.keys[layer]?.dispose();
    this.values[layer]?.dispose();
    [this.keys[layer], this.values[layer]] = [kAll, vAll];
    return [kAll, vAll];
  }
  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.length = 0;
  }
}

class CausalSelfAttention extends wg.nn.Module {
  readonly qkv: wg.nn.Linear;
  readonly proj: wg.nn.Linear;
  constructor(readonly c: GptConfig) {
    super();
    this.qkv = new nn.Linear(c.nEmbd, 3 * c.nEmbd, NO_BIAS);
    this.proj = new nn.Linear(c.nEmbd, c.nEmbd, NO_BIAS);
  }
  /** x: [B·T, C] rows of B sequences of T tokens → [B·T, C]. With a cache, the tokens follow those it holds. */
  forward(x: Tensor, B: number, T: number, cache?: KvCache, layer = 0): Tensor {
    const C = this.c.nEmbd;
    const H = this.c.nHead;
    // [B·T, 3C] → [3, B, H, T, C/H]: q, k, v as contiguous per-head blocks (heads on their own
    // slices of the channels), by one flat-index kernel each way instead of permuted copies.
    const qkv = splitHeads(this.qkv.forward(x).reshape([B, T, 3 * C]), 3, H);
    const part = (i: number) => qkv.slice(0, i, i + 1).squeeze(0);
    let [k, v] = [part(1), part(2)];
    // After the first tokens, one token at a time: it may see every cached key, so no mask.
    const causal = !cache || cache.length === 0;
    if (cache) [k, v] = cache.extend(layer, k, v);
    const y = F.scaledDotProductAttention(part(0), k, v, { isCausal: causal });
    return this.proj.forward(mergeHeads(y.unsqueeze(0)).reshape([B * T, C]));
  }
}

class Block extends wg.nn.Module {
  readonly ln1: wg.nn.LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln2: wg.nn.LayerNorm;
  readonly fc: wg.nn.Linear;
  readonly out: wg.nn.Linear;
  constructor(c: GptConfig) {
    super();
    this.ln1 = new nn.LayerNorm(c.nEmbd, NO_BIAS);
    this.attn = new CausalSelfAttention(c);
    this.ln2 = new nn.LayerNorm(c.nEmbd, NO_BIAS);
    this.fc = new nn.Linear(c.nEmbd, 4 * c.nEmbd, NO_BIAS);
    this.out = new nn.Linear(4 * c.nEmbd, c.nEmbd, NO_BIAS);
  }
  /** x: [B·T, C] (2-D, so each Linear's weight gradient is one matmul, not a batch of them summed). */
  forward(x: Tensor, B: number, T: number, cache?: KvCache, layer = 0): Tensor {
    const h = x.add(this.attn.forward(this.ln1.forward(x), B, T, cache, layer));
    return h.add(this.out.forward(this.fc.forward(this.ln2.forward(h)).gelu()));
  }
}

export class Gpt extends wg.nn.Module {
  readonly config: GptConfig;
  readonly tokens: wg.nn.Embedding;
  readonly positions: wg.nn.Embedding;
  readonly blocks: wg.nn.ModuleList;
  readonly lnF: wg.nn.LayerNorm;

  constructor(config: GptConfig) {
    super();
    const c = (this.config = checkConfig({ ...config }));
    this.tokens = new nn.Embedding(c.vocabSize, c.nEmbd);
    this.positions = new nn.Embedding(c.blockSize, c.nEmbd);
    this.blocks = new nn.ModuleList(Array.from({ length: c.nLayer }, () => new Block(c)));
    this.lnF = new nn.LayerNorm(c.nEmbd, NO_BIAS);
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith("bias")) wg.noGrad(() => p.zero_());
      // The projections into the residual stream are scaled by 1/√(2·nLayer), so its variance stays O(1) with depth.
      else if (/\.(proj|out)\.weight$/.test(name)) normalInit(p, 0.02 / Math.sqrt(2 * c.nLayer));
      else if (p.ndim === 2) normalInit(p, 0.02);
    }
  }

  /**
   * idx: int32 [B, T] with T ≤ blockSize → logits [B, T, vocabSize]. With a cache (B = 1): the
   * tokens come after the cache's, at positions cache.length, ...; the first call may pass several,
   * later ones one each, and the cache then holds them too.
   */
  forward(idx: Tensor, cache?: KvCache): Tensor {
    const { blockSize } = this.config;
    if (idx.ndim !== 2 || idx.dtype !== "int32")
      throw new Error(`Gpt.forward: expected int32 token ids [B, T], got ${idx.dtype} [${idx.shape.join(", ")}].`);
    const [B, T] = idx.shape;
    const p0 = cache?.length ?? 0;
    if (p0 + T > blockSize) throw new Error(`Gpt.forward: ${p0 + T} tokens is longer than blockSize ${blockSize}. Fix: pass the last ${blockSize} tokens (idx.slice(1, T - ${blockSize}, T)), or start a new cache.`);
    if (cache && (B !== 1 || (p0 > 0 && T !== 1))) throw new Error(`Gpt.forward: a KV cache takes one sequence ([1, T]), then one token at a time ([1, 1]); got [${B}, ${T}] after ${p0} cached tokens.`);
    const C = this.config.nEmbd;
    let x = this.tokens.forward(idx).add(this.positions.weight.slice(0, p0, p0 + T)).reshape([B * T, C]);
    [...(this.blocks as unknown as Iterable<Block>)].forEach((block, l) => (x = block.forward(x, B, T, cache, l)));
    if (cache) cache.length += T;
    return this.lnF.forward(x).matmul(this.tokens.weight.T).reshape([B, T, this.config.vocabSize]);
  }

  /** Mean cross-entropy (nats per character) of the next-token predictions. */
  loss(idx: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(idx);
    const [B, T, V] = logits.shape;
    return F.crossEntropy(logits.reshape([B * T, V]), targets.reshape([B * T]));
  }
}
