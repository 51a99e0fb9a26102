/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
 * a big-endian header — magic 0x00000803 then n, rows, cols for images, magic
 * 0x00000801 then n for labels — followed by n·rows·cols (or n) uint8 values.
 * The parsers take bytes already decompressed (see gunzip in fetch.ts and node-files.ts);
 * IdxInflater caps a decompression at the size the file's own header promises.
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
  if (rows === 0 || cols === 0) throw new Error(`IDX images: the header says ${rows}×${cols} images, which have no pixels; the file is corrupt.`);
  return { n, rows, cols, pixels: body(bytes, 16, n * rows * cols, "images") };
}

export function parseIdxLabels(bytes: Uint8Array): Uint8Array {
  const [n] = header(bytes, LABELS_MAGIC, 1, "labels");
  return body(bytes, 8, n, "labels");
}

/** An IDX file bigger than this is refused (Fashion-MNIST's largest is 47 MB): a header can promise up to 2^96 bytes. */
export const MAX_IDX_BYTES = 2 ** 30;

/**
 * The size of a whole IDX file from its first bytes (16 cover both headers), or null while fewer
 * have arrived. `what` names the file in errors; a magic that is neither IDX kind is refused.
 */
export function idxFileBytes(prefix: Uint8Array, what: string): number | null {
  if (prefix.length < 8) return null;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const magic = view.getUint32(0, false);
  let total: number;
  if (magic === LABELS_MAGIC) total = 8 + view.getUint32(4, false);
  else if (magic === IMAGES_MAGIC) {
    if (prefix.length < 16) return null;
    total = 16 + view.getUint32(4, false) * view.getUint32(8, false) * view.getUint32(12, false);
  } else throw new Error(`${what}: bad magic 0x${hex(magic)} after gunzip, expected 0x${hex(IMAGES_MAGIC)} (images) or 0x${hex(LABELS_MAGIC)} (labels); not an IDX file.`);
  if (total > MAX_IDX_BYTES)
    throw new Error(`${what}: its IDX header promises ${total} bytes, over the ${MAX_IDX_BYTES}-byte limit; the file is corrupt (nothing was decompressed past the header).`);
  return total;
}

/**
 * Collects a gunzip's output chunks and stops it as soon as it exceeds what the IDX header
 * promises: a gzip bomb costs at most one chunk past the real size, never its full expansion.
 */
export class IdxInflater {
  private chunks: Uint8Array[] = [];
  private got = 0;
  private limit: number | null = null;

  constructor(private what: string) {}

  /** Take one chunk; throws (so the caller stops decompressing) once the output is over the header's size. */
  add(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.got += chunk.length;
    this.limit ??= idxFileBytes(this.result(Math.min(this.got, 16)), this.what);
    if (this.limit !== null && this.got > this.limit)
      throw new Error(`${this.what}: it decompresses to more than the ${this.limit} bytes its IDX header promises; the file is corrupt (or a gzip bomb). Decompression was stopped.`);
  }

  /** The first `n` bytes collected (all by default), in one array. */
  result(n = this.got): Uint8Array {
    if (this.chunks.length === 1 && n === this.chunks[0].length) return this.chunks[0];
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      if (at >= n) break;
      out.set(c.subarray(0, n - at), at);
      at += Math.min(c.length, n - at);
    }
    return out;
  }
}
