/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
 * a big-endian header — magic 0x00000803 then n, rows, cols for images, magic
 * 0x00000801 then n for labels — followed by n·rows·cols (or n) uint8 values.
 * The parsers take bytes already decompressed (see gunzip in fetch.ts and node-files.ts).
 */

export const IMAGES_MAGIC = 0x00000803;
export const LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  n: number;
  rows: number;
  cols: number;
  /** n·rows·cols pixels, row-major, 0..255 (a view into the input bytes). */
  pixels: Uint8Array;
}

/** A gzip stream starts with 1f 8b: how loaders accept both the .gz files and uncompressed ones. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function header(bytes: Uint8Array, magic: number, words: number, what: string): number[] {
  const need = 4 * (1 + words);
  const short = () => new Error(`IDX ${what}: ${bytes.length} bytes is shorter than the ${need}-byte header; the file is truncated or not IDX.`);
  if (bytes.length < 4) throw short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0, false);
  if (got !== magic) {
    const hint = isGzip(bytes) ? " The bytes are gzip-compressed: gunzip them first." : "";
    throw new Error(`IDX ${what}: bad magic 0x${hex(got)}, expected 0x${hex(magic)}.${hint}`);
  }
  if (bytes.length < need) throw short();
  return Array.from({ length: words }, (_, i) => view.getUint32(4 * (i + 1), false));
}

function body(bytes: Uint8Array, offset: number, count: number, what: string): Uint8Array {
  const have = bytes.length - offset;
  if (have < count) throw new Error(`IDX ${what}: the header promises ${count} data bytes but only ${have} follow; the file is truncated.`);
  if (have > count) throw new Error(`IDX ${what}: ${have - count} bytes follow the ${count} the header promises; the file is corrupt.`);
  return bytes.subarray(offset, offset + count);
}

const hex = (v: number) => v.toString(16).padStart(8, "0");

export function parseIdxImages(bytes: Uint8Array): IdxImages {
  const [n, rows, cols] = header(bytes, IMAGES_MAGIC, 3, "images");
  return { n, rows, cols, pixels: body(bytes, 16, n * rows * cols, "images") };
}

export function parseIdxLabels(bytes: Uint8Array): Uint8Array {
  const [n] = header(bytes, LABELS_MAGIC, 1, "labels");
  return body(bytes, 8, n, "labels");
}
