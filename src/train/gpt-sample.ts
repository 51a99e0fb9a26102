/**
 * Text generation from a Gpt, on the model's device: the prompt's last blockSize tokens go through
 * the model once, filling a KV cache, then each drawn token alone (its keys and values appended);
 * when the cache is full, the last blockSize/2 tokens fill a new one. Then topk, softmax and
 * multinomial of the last position's temperature-scaled logits; only the drawn id (one int32) is
 * read back per token. Draws come from the seeded device generator (wg.manualSeed(seed) at the start).
 * `kvCache: false` recomputes the last blockSize tokens for every token instead.
 */
import * as wg from "../index.js";
import type { Tensor } from "../tensor.js";
import { KvCache, type Gpt } from "./gpt.js";
export interface SampleOptions {
  tokens: number;
  /** Divides the logits: < 1 sharper, > 1 flatter (default 1). */
  temperature?: number;
  /** Draw only among the k most likely characters (default: all). */
  topK?: number;
  seed?: number;
  /** Keep the keys and values of the tokens seen (default true): one token per forward pass. */
  kvCache?: boolean;
}

function checkSample(o: SampleOptions, vocab: number): void {
  if (!Number.isInteger(o.tokens) || o.tokens < 0) throw new Error(`sample: tokens must be a non-negative integer, got ${o.tokens}.`);
  const t = o.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new Error(`sample: temperature must be a positive number, got ${t}. Fix: e.g. 0.8.`);
  const k = o.topK ?? vocab;
  if (!Number.isInteger(k) || k < 1) throw new Error(`sample: topK must be a positive integer, got ${k}.`);
}

/** The next id (int32 [1]) drawn from logits [V] among its k largest, softmax(logits / temperature) renormalised over them. */
export function drawNext(logits: Tensor, temperature: number, k: number): Tensor {
  return wg.tidy(() => {
    const { values, indices } = logits.div(temperature).topk(Math.min(k, logits.shape[0]), 0);
    return indices.gather(0, wg.multinomial(values.softmax(0), 1));
  });
}

/** How many of the last ids go through the model: the window without a cache, the new id with one, else a refill. */
function contextLength(cache: KvCache | undefined, n: number, blockSize: number): number {
  if (!cache || n === 0) return blockSize;
  return cache.length === 0 ? Math.max(1, blockSize >> 1) : 1;
}

/** Continue `prompt` (token ids) by `tokens` ids; returns only the new ids. */
export async function generate(model: Gpt, prompt: ArrayLike<number>, opts: SampleOptions): Promise<number[]> {
  const { vocabSize, blockSize } = model.config;
  checkSample(opts, vocabSize);
  if (prompt.length === 0) throw new Error("sample: the prompt is empty. Fix: give at least one character (e.g. a newline).");
  const device = model.parameters()[0].device;
  wg.manualSeed(opts.seed ?? 0);
  const ids = Array.from(prompt);
  const out: number[] = [];
  const wasTraining = model.training;
  model.eval();
  const cache = opts.kvCache === false ? undefined : new KvCache(model.config.nLayer);
  try {
    for (let n = 0; n < opts.tokens; n++) {
      if (cache && cache.length >= blockSize) cache.dispose(); // full: refill from the last blockSize / 2 tokens
      const ctx = ids.slice(-contextLength(cache, n, blockSize));
      const drawn = wg.noGrad(() => wg.tidy(() => {
        const idx = wg.tensor(Int32Array.from(ctx), { shape: [1, ctx.length], dtype: "int32", device });
        const logits = model.forward(idx, cache).slice(1, ctx.length - 1, ctx.length).reshape([vocabSize]);
        return drawNext(logits, opts.temperature ?? 1, opts.topK ?? vocabSize);
      }));
      const next = (await drawn.item()) | 0;
      drawn.dispose();
      ids.push(next);
      out.push(next);
    }
  } finally {
    cache?.dispose();
    if (wasTraining) model.train();
  }
  return out;
}
