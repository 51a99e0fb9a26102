/**
 * Mini-batches of an in-memory Split as device tensors, in a shuffled order
 * that depends only on the seed (its own PRNG, so wg.manualSeed and model
 * initialisation do not change the data order, and the reverse).
 */
import type { Device } from "../backend/backend.js";
import { tensor } from "../ops/index.js";
import type { Tensor } from "../tensor.js";
import type { Split } from "./dataset.js";

/** mulberry32: a tiny 32-bit PRNG; plenty for shuffling, reproducible everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface Batch {
  /** float32 [B, features] */
  x: Tensor;
  /** int32 [B] */
  y: Tensor;
  /** Releases x and y. */
  dispose(): void;
}

export interface BatchOptions {
  batchSize: number;
  /** Draw a fresh order from this generator (one permutation per call); omitted: examples in file order. */
  shuffle?: Rng;
  device?: Device;
}

export const batchCount = (n: number, batchSize: number) => Math.ceil(n / batchSize);

/**
 * Yield the split in batches of `batchSize` (the last one smaller when n is
 * not a multiple). Each batch's tensors belong to the caller: call
 * batch.dispose() when done with it (tidy() does not reach them, because the
 * generator creates them outside the caller's scope).
 */
export function* batches(split: Split, opts: BatchOptions): Generator<Batch> {
  const { batchSize, device } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}.`);
  const order = opts.shuffle ? permutation(split.n, opts.shuffle) : null;
  const f = split.features;
  for (let start = 0; start < split.n; start += batchSize) {
    const b = Math.min(batchSize, split.n - start);
    const xs = new Float32Array(b * f);
    const ys = new Int32Array(b);
    for (let i = 0; i < b; i++) {
      const k = order ? order[start + i] : start + i;
      xs.set(split.images.subarray(k * f, (k + 1) * f), i * f);
      ys[i] = split.labels[k];
    }
    const x = tensor(xs, { shape: [b, f], device });
    const y = tensor(ys, { shape: [b], dtype: "int32", device });
    yield {
      x,
      y,
      dispose() {
        x.dispose();
        y.dispose();
      },
    };
  }
}
