/** In-memory datasets: what the loaders produce and the batcher and trainer consume. */
import { parseIdxImages, parseIdxLabels, type IdxImages } from "./idx.js";

/** An in-memory split: pixels scaled to [0, 1], one row of rows·cols floats per example. */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  n: number;
  /** rows·cols (784 for 28×28). */
  features: number;
}

export interface Dataset {
  train: Split;
  test: Split;
  classes: number;
}

/** Join parsed images and labels into a Split, checking that they describe the same examples. */
export function toSplit(images: IdxImages, labels: Uint8Array, what = "split"): Split {
  if (images.n !== labels.length)
    throw new Error(`${what}: ${images.n} images but ${labels.length} labels; the files do not belong together.`);
  if (images.n === 0) throw new Error(`${what}: the IDX files hold 0 examples; training or testing on it would give NaN. Fix: use the full files.`);
  const out = new Float32Array(images.pixels.length);
  for (let i = 0; i < out.length; i++) out[i] = images.pixels[i] / 255;
  return { images: out, labels: Int32Array.from(labels), n: images.n, features: images.rows * images.cols };
}

/** The first `n` examples of a split (views, no copy); n ≥ split.n returns the split itself. */
export function head(split: Split, n: number): Split {
  if (n >= split.n) return split;
  return { images: split.images.subarray(0, n * split.features), labels: split.labels.subarray(0, n), n, features: split.features };
}

/** The four standard file names (without .gz), as Debian's dataset-fashion-mnist and the original site ship them. */
export const IDX_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

export type IdxBytes = Record<keyof typeof IDX_FILES, Uint8Array>;

/** Parse the four decompressed IDX files into a 10-class Dataset (MNIST and Fashion-MNIST both have 10). */
export function datasetFromIdx(bytes: IdxBytes): Dataset {
  // A parse error names the file it came from.
  const parse = <T>(key: keyof IdxBytes, f: (b: Uint8Array) => T): T => {
    try {
      return f(bytes[key]);
    } catch (e) {
      throw new Error(`${IDX_FILES[key]}: ${(e as Error).message}`);
    }
  };
  const train = toSplit(parse("trainImages", parseIdxImages), parse("trainLabels", parseIdxLabels), "train split");
  const test = toSplit(parse("testImages", parseIdxImages), parse("testLabels", parseIdxLabels), "test split");
  if (train.features !== test.features)
    throw new Error(`dataset: train images have ${train.features} pixels but test images ${test.features}.`);
  const classes = 10;
  for (const [name, split] of [["train", train], ["test", test]] as const) {
    const bad = split.labels.findIndex((l) => l >= classes);
    if (bad >= 0) throw new Error(`dataset: ${name} label ${bad} is ${split.labels[bad]}, outside the ${classes} classes 0..${classes - 1}.`);
  }
  return { train, test, classes };
}
