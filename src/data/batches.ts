/**
 * Mini-batches of a dataset held as tensors on one device. The data never
 * leaves the device: an unshuffled batch is a view (a row slice), a shuffled
 * one two indexSelect kernels on a permutation uploaded once per epoch, so a
 * training loop reads nothing back and uploads nothing per batch. The order
 * depends only on the seed (its own PRNG, so wg.manualSeed and model
 * initialisation do not change the data order, and the reverse), and is the
 * same on every device.
 */
import { noGrad } from "../autograd/mode.js";
import { keep, tidy } from "../engine/scope.js";
import { tensor } from "../ops/index.js";
import { Tensor } from "../tensor.js";

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

/** A dataset for wg.data.batches: `images` [N, ...] and `labels` [N] on one device, as each split of wg.data.fashionMnist (PyTorch: `TensorDataset(images, labels)`). */
export interface LabeledData {
  /** [N, ...]: one example per row (any dtype). */
  images: Tensor;
  /** [N]: one label per example (int32 for class indices). */
  labels: Tensor;
}

/** One mini-batch: rows of the dataset's images and their labels, on the dataset's device. */
export interface Batch {
  /** [B, ...] rows of `images`. */
  x: Tensor;
  /** [B] the matching `labels`. */
  y: Tensor;
}

/** Options of wg.data.batches: PyTorch's DataLoader batch_size, shuffle and drop_last, and a seed in place of its generator. */
export interface BatchOptions {
  /** Examples per batch: a positive integer. */
  batchSize: number;
  /** A fresh random order every epoch (default false: file order). */
  shuffle?: boolean;
  /** Seeds the shuffling (default 0); its own generator, so wg.manualSeed does not move it. */
  seed?: number;
  /** Skip the last batch when it would be smaller than batchSize (default false, as PyTorch's DataLoader). */
  dropLast?: boolean;
}

/** What wg.data.batches returns: each pass (for...of) is one epoch; make it once and iterate it every epoch, so the shuffled orders follow one another from the seed. */
export interface Batches extends Iterable<Batch> {
  /** Batches per epoch (as `len(DataLoader)`). */
  readonly length: number;
}

const OPTION_NAMES = ["batchSize", "shuffle", "seed", "dropLast"];

function checkData(data: LabeledData): number {
  const what = (t: unknown) => (t instanceof Tensor ? `a tensor of shape [${t.shape.join(", ")}]` : t === undefined ? "missing" : typeof t);
  if (!data || !(data.images instanceof Tensor) || !(data.labels instanceof Tensor))
    throw new Error(
      `data.batches: the dataset must be { images: Tensor, labels: Tensor }; images is ${what(data?.images)}, labels is ${what(data?.labels)}. ` +
        `Fix: pass a split of wg.data.fashionMnist(), e.g. wg.data.batches(data.train, { batchSize: 64 }).`,
    );
  const { images, labels } = data;
  if (images.ndim < 1 || labels.ndim !== 1 || images.shape[0] !== labels.shape[0])
    throw new Error(
      `data.batches: images [${images.shape.join(", ")}] and labels [${labels.shape.join(", ")}] must hold the same number of examples ` +
        `(images [N, ...], labels [N]). Fix: take the same rows of both.`,
    );
  if (images.device !== labels.device)
    throw new Error(`data.batches: images are on ${images.device} but labels on ${labels.device}. Fix: move both to one device with await t.to(device).`);
  checkAlive(data);
  return labels.shape[0];
}

function checkOptions(opts: BatchOptions): Required<BatchOptions> {
  if (opts === null || typeof opts !== "object") throw new Error(`data.batches: options must be an object, e.g. { batchSize: 64 }; got ${String(opts)}.`);
  const unknown = Object.keys(opts).filter((k) => !OPTION_NAMES.includes(k));
  if (unknown.length) throw new Error(`data.batches: unknown option ${unknown.join(", ")}; the options are ${OPTION_NAMES.join(", ")}.`);
  const { batchSize, shuffle = false, seed = 0, dropLast = false } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`data.batches: batchSize must be a positive integer, got ${String(batchSize)}. Fix: e.g. { batchSize: 64 }.`);
  if (typeof shuffle !== "boolean" || typeof dropLast !== "boolean")
    throw new Error(`data.batches: shuffle and dropLast must be true or false, got ${String(shuffle)} and ${String(dropLast)}.`);
  if (!Number.isInteger(seed)) throw new Error(`data.batches: seed must be an integer, got ${String(seed)}.`);
  return { batchSize, shuffle, seed, dropLast };
}

/**
 * Iterates `data` in mini-batches `{ x, y }` of `batchSize` rows, on the data's device; each pass over the result
 * is one epoch (with `shuffle`, a new order each epoch, drawn from `seed`: the same on every device). The last
 * batch is smaller unless `dropLast`. A batch is released when the next one is drawn and when the loop ends:
 * `clone()` what must outlive it. Nothing is read back; a shuffled epoch uploads its permutation once.
 *
 * PyTorch: `torch.utils.data.DataLoader` over a `TensorDataset`.
 * @example for (const { x, y } of wg.data.batches(data.train, { batchSize: 64, shuffle: true })) step(x, y);
 */
export function batches(data: LabeledData, opts: BatchOptions): Batches {
  const n = checkData(data);
  const o = checkOptions(opts);
  const rng = new Rng(o.seed);
  const length = o.dropLast ? Math.floor(n / o.batchSize) : Math.ceil(n / o.batchSize);
  return { length, [Symbol.iterator]: () => epoch(data, o, length, o.shuffle ? rng : null) };
}

/** A disposed dataset (e.g. after FashionMnist.dispose()) is refused by name, before and between epochs. */
function checkAlive({ images, labels }: LabeledData): void {
  const gone = [images.isDisposed && "images", labels.isDisposed && "labels"].filter(Boolean);
  if (gone.length) throw new Error(`data.batches: the dataset's ${gone.join(" and ")} tensor${gone.length > 1 ? "s were" : " was"} disposed. Fix: dispose the data after the last epoch, or load it again.`);
}

function* epoch(data: LabeledData, o: Required<BatchOptions>, count: number, rng: Rng | null): Generator<Batch, void, undefined> {
  checkAlive(data);
  const n = data.labels.shape[0];
  const { images, labels } = data;
  // Drawn even for an epoch of no batches, so the k-th epoch's order depends on the seed and k only.
  const order = rng ? permutation(n, rng) : null;
  const perm = order && count > 0 ? keep(tensor(order, { shape: [n], dtype: "int32", device: labels.device })) : null;
  let last: Batch | null = null;
  const release = () => {
    last?.x.dispose();
    last?.y.dispose();
    last = null;
  };
  try {
    for (let i = 0; i < count; i++) {
      const start = i * o.batchSize;
      const end = Math.min(start + o.batchSize, n);
      release();
      last = noGrad(() => tidy(() => (perm ? pick(images, labels, perm.slice(0, start, end)) : rows(images, labels, start, end))));
      yield last;
    }
  } finally {
    release();
    perm?.dispose();
  }
}

/** Rows `index` of images and labels: two gather kernels. */
const pick = (images: Tensor, labels: Tensor, index: Tensor): Batch => ({ x: images.indexSelect(0, index), y: labels.indexSelect(0, index) });

/** Rows [start, end) as views, no copy: each its own handle, even over the full range, so disposing a batch keeps the dataset. */
const rows = (images: Tensor, labels: Tensor, start: number, end: number): Batch => ({
  x: images.slice(0, start, end),
  y: labels.slice(0, start, end),
});
