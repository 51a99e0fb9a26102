/**
 * A character-level GPT (decoder-only transformer, as in Radford et al. 2019 /
 * nanoGPT): token + position embeddings, nLayer pre-LayerNorm blocks of causal
 * multi-head attention and a GELU MLP with residual connections, a final
 * LayerNorm, and a head tied to the token embedding (logits = h · Eᵀ).
 * Written against the public API only (nn and Tensor methods).
 */
import * as wg from "../index.js";
import type { Tensor } from "../tensor.js";

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

class CausalSelfAttention extends wg.nn.Module {
  readonly qkv: wg.nn.Linear;
  readonly proj: wg.nn.Linear;
  constructor(readonly c: GptConfig) {
    super();
    this.qkv = new nn.Linear(c.nEmbd, 3 * c.nEmbd);
    this.proj = new nn.Linear(c.nEmbd, c.nEmbd);
  }
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape;
    const H = this.c.nHead;
    const qkv = this.qkv.forward(x);
    // [B, T, C] → [B, H, T, C/H]: each head attends over its own slice of the channels.
    const heads = (i: number) => qkv.slice(2, i * C, (i + 1) * C).reshape([B, T, H, C / H]).transpose(1, 2);
    const y = F.scaledDotProductAttention(heads(0), heads(1), heads(2), { isCausal: true });
    return this.proj.forward(y.transpose(1, 2).reshape([B, T, C]));
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
    this.ln1 = new nn.LayerNorm(c.nEmbd);
    this.attn = new CausalSelfAttention(c);
    this.ln2 = new nn.LayerNorm(c.nEmbd);
    this.fc = new nn.Linear(c.nEmbd, 4 * c.nEmbd);
    this.out = new nn.Linear(4 * c.nEmbd, c.nEmbd);
  }
  forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.ln1.forward(x)));
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
    this.lnF = new nn.LayerNorm(c.nEmbd);
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith("bias")) wg.noGrad(() => p.zero_());
      // The projections into the residual stream are scaled by 1/√(2·nLayer), so its variance stays O(1) with depth.
      else if (/\.(proj|out)\.weight$/.test(name)) normalInit(p, 0.02 / Math.sqrt(2 * c.nLayer));
      else if (p.ndim === 2) normalInit(p, 0.02);
    }
  }

  /** idx: int32 [B, T] with T ≤ blockSize → logits [B, T, vocabSize]. */
  forward(idx: Tensor): Tensor {
    const { blockSize } = this.config;
    if (idx.ndim !== 2 || idx.dtype !== "int32")
      throw new Error(`Gpt.forward: expected int32 token ids [B, T], got ${idx.dtype} [${idx.shape.join(", ")}].`);
    const T = idx.shape[1];
    if (T > blockSize) throw new Error(`Gpt.forward: ${T} tokens is longer than blockSize ${blockSize}. Fix: pass the last ${blockSize} tokens (idx.slice(1, T - ${blockSize}, T)).`);
    let x = this.tokens.forward(idx).add(this.positions.weight.slice(0, 0, T));
    for (const block of this.blocks as unknown as Iterable<Block>) x = block.forward(x);
    return this.lnF.forward(x).matmul(this.tokens.weight.T);
  }

  /** Mean cross-entropy (nats per character) of the next-token predictions. */
  loss(idx: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(idx);
    const [B, T, V] = logits.shape;
    return F.crossEntropy(logits.reshape([B * T, V]), targets.reshape([B * T]));
  }
}
