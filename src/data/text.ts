/**
 * Character-level text data: a vocabulary of the corpus's characters (sorted
 * by code point), encode/decode, a train/validation split (the last
 * `valFraction` of the text is validation, so no window straddles both), and
 * random windows as [B, T] int32 tensors: x = text[i, i+T), y = text[i+1, i+T+1).
 * Platform-neutral; data/fortunes.ts reads the Node corpus.
 */
import type { Device } from "../backend/backend.js";
import { tensor } from "../ops/index.js";
import type { Tensor } from "../tensor.js";
import { Rng } from "./batches.js";

/** Options of wg.data.text. */
export interface TextOptions {
  /** Context length T of each window. */
  blockSize: number;
  /** Share of the text, at the end, kept for validation (default 0.1). */
  valFraction?: number;
  /** The vocabulary to use (e.g. a saved model's); default: the corpus's own characters. */
  vocab?: string[];
}

/** One batch of text windows; the caller owns it (call dispose when done). */
export interface TextBatch {
  /** int32 [B, T]: the inputs. */
  x: Tensor;
  /** int32 [B, T]: the next character after each input. */
  y: Tensor;
  /** Releases x and y. */
  dispose(): void;
}

/** Options of TextData.batches. */
export interface TextBatchOptions {
  /** Windows per batch: a positive integer. */
  batchSize: number;
  /** "train" (default) or "val". */
  split?: "train" | "val";
  /** Seeds the window positions (its own generator: wg.manualSeed does not move it). Default 0. */
  seed?: number;
  /** Where the batches go (default wg.defaultDevice()). */
  device?: Device;
}

/** What wg.data.text returns: the vocabulary, the encoded splits, encode/decode and a batch stream. */
export interface TextData {
  /** The characters, sorted by code point; a character's id is its index. */
  vocab: string[];
  /** The context length T of every window. */
  blockSize: number;
  /** The encoded training split (the first 1 − valFraction of the text). */
  train: Int32Array;
  /** The encoded validation split (the last valFraction of the text). */
  val: Int32Array;
  /** The ids of a string's characters; a character outside the vocabulary throws, naming it and its position. */
  encode(s: string): Int32Array;
  /** The string of a sequence of ids; an id outside the vocabulary throws. */
  decode(ids: ArrayLike<number>): string;
  /** An endless stream of random windows (take as many as you need; each batch is yours to dispose). */
  batches(opts: TextBatchOptions): Generator<TextBatch, never>;
}

function checkOptions(corpus: string, opts: TextOptions): number {
  if (typeof corpus !== "string") throw new Error(`data.text: corpus must be a string, got ${typeof corpus}.`);
  const { blockSize, valFraction = 0.1 } = opts ?? ({} as TextOptions);
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new Error(`data.text: blockSize must be a positive integer, got ${blockSize}. Fix: e.g. wg.data.text(corpus, { blockSize: 64 }).`);
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`data.text: valFraction must be in [0, 1), got ${valFraction}.`);
  return valFraction;
}

/** Split `corpus` into characters (code points, so a surrogate pair is one character). */
const characters = (s: string): string[] => Array.from(s);

/**
 * Prepares a character-level language-modelling corpus: a vocabulary of its characters (code points, sorted),
 * encode/decode, a train/validation split (the last `valFraction`, default 0.1, is validation), and an endless
 * stream of random windows as int32 [B, blockSize] tensors, x = text[i, i+T) and y = text[i+1, i+T+1).
 *
 * PyTorch: none (webgrad only; nanoGPT's character-level data preparation).
 * @example const d = wg.data.text("hello world", { blockSize: 4 }); d.decode(d.encode("low")) // "low"
 */
export function text(corpus: string, opts: TextOptions): TextData {
  const valFraction = checkOptions(corpus, opts);
  const { blockSize } = opts;
  const chars = characters(corpus);
  const vocab = opts.vocab ? [...opts.vocab] : [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const index = new Map(vocab.map((c, i) => [c, i]));
  const encode = (s: string): Int32Array => {
    const cs = characters(s);
    const out = new Int32Array(cs.length);
    cs.forEach((c, i) => {
      const id = index.get(c);
      if (id === undefined)
        throw new Error(`data.text encode: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}) at position ${i} is not in the ${vocab.length}-character vocabulary. Fix: remove it from the text.`);
      out[i] = id;
    });
    return out;
  };
  const decode = (ids: ArrayLike<number>): string => {
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const c = vocab[ids[i]];
      if (c === undefined) throw new Error(`data.text decode: id ${ids[i]} at position ${i} is outside the vocabulary [0, ${vocab.length}).`);
      s += c;
    }
    return s;
  };
  const all = encode(corpus);
  const cut = Math.floor(all.length * (1 - valFraction));
  const train = all.subarray(0, cut);
  const val = all.subarray(cut);
  return { vocab, blockSize, train, val, encode, decode, batches: (o) => windows(o.split === "val" ? val : train, blockSize, o) };
}

function* windows(ids: Int32Array, T: number, opts: TextBatchOptions): Generator<TextBatch, never> {
  const { batchSize: B, split = "train", seed = 0, device } = opts;
  if (!Number.isInteger(B) || B < 1) throw new Error(`data.text batches: batchSize must be a positive integer, got ${B}.`);
  // A window needs T inputs plus the one target after the last.
  if (ids.length < T + 1)
    throw new Error(`data.text batches: the ${split} split has ${ids.length} characters, fewer than blockSize + 1 = ${T + 1}. Fix: a longer corpus or a smaller blockSize.`);
  const rng = new Rng(seed);
  for (;;) {
    const xs = new Int32Array(B * T);
    const ys = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = rng.int(ids.length - T);
      xs.set(ids.subarray(start, start + T), b * T);
      ys.set(ids.subarray(start + 1, start + T + 1), b * T);
    }
    const x = tensor(xs, { shape: [B, T], dtype: "int32", device });
    const y = tensor(ys, { shape: [B, T], dtype: "int32", device });
    yield { x, y, dispose: () => (x.dispose(), y.dispose()) };
  }
}
