/**
 * Text generation from a Gpt: the forward pass runs on the model's device over
 * the last blockSize tokens (no KV cache: each token recomputes the window);
 * the temperature-scaled softmax of the last position is read back (vocabSize
 * floats) and the top-k draw is made on the host with a seeded generator,
 * because wg.multinomial and topk are not in the library yet.
 */
import * as wg from "../index.js";
import { Rng } from "../data/batches.js";
import type { Gpt } from "./gpt.js";

export interface SampleOptions {
  tokens: number;
  /** Divides the logits: < 1 sharper, > 1 flatter (default 1). */
  temperature?: number;
  /** Draw only among the k most likely characters (default: all). */
  topK?: number;
  seed?: number;
}

function checkSample(o: SampleOptions, vocab: number): void {
  if (!Number.isInteger(o.tokens) || o.tokens < 0) throw new Error(`sample: tokens must be a non-negative integer, got ${o.tokens}.`);
  const t = o.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new Error(`sample: temperature must be a positive number, got ${t}. Fix: e.g. 0.8.`);
  const k = o.topK ?? vocab;
  if (!Number.isInteger(k) || k < 1) throw new Error(`sample: topK must be a positive integer, got ${k}.`);
}

/** Draw one index from probabilities p restricted to its k largest entries. */
export function drawTopK(p: Float32Array, k: number, rng: Rng): number {
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, Math.min(k, p.length));
  const total = order.reduce((s, i) => s + p[i], 0);
  let u = rng.next() * total;
  for (const i of order) if ((u -= p[i]) < 0) return i;
  return order[order.length - 1];
}

/** Continue `prompt` (token ids) by `tokens` ids; returns only the new ids. */
export async function generate(model: Gpt, prompt: ArrayLike<number>, opts: SampleOptions): Promise<number[]> {
  const { vocabSize, blockSize } = model.config;
  checkSample(opts, vocabSize);
  if (prompt.length === 0) throw new Error("sample: the prompt is empty. Fix: give at least one character (e.g. a newline).");
  const device = model.parameters()[0].device;
  const rng = new Rng(opts.seed ?? 0);
  const ids = Array.from(prompt);
  const out: number[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let n = 0; n < opts.tokens; n++) {
      const ctx = ids.slice(-blockSize);
      const probs = wg.noGrad(() => wg.tidy(() => {
        const idx = wg.tensor(Int32Array.from(ctx), { shape: [1, ctx.length], dtype: "int32", device });
        const logits = model.forward(idx).slice(1, ctx.length - 1, ctx.length).reshape([vocabSize]);
        return logits.div(opts.temperature ?? 1).softmax(0);
      }));
      const p = (await probs.data()) as Float32Array;
      probs.dispose();
      const next = drawTopK(p, opts.topK ?? vocabSize, rng);
      ids.push(next);
      out.push(next);
    }
  } finally {
    if (wasTraining) model.train();
  }
  return out;
}
