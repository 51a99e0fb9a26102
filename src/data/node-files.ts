/**
 * Node-only: read Fashion-MNIST's IDX files from disk, gzipped or not. Kept
 * apart from the rest of src/data so the browser bundle never sees node:*;
 * src/node.ts hands readIdxDir to wg.data.fashionMnist.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createGunzip, gunzip as zlibGunzip } from "node:zlib";
import { IdxInflater, isGzip } from "./idx.js";
import { IDX_FILES, type IdxBytes } from "./dataset.js";

export const DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist";

const inflate = promisify(zlibGunzip);

/** Decompress gzip; with `idx` (the file's name for errors) the output is capped at the size its IDX header promises. */
export async function gunzip(bytes: Uint8Array, idx?: string): Promise<Uint8Array> {
  if (idx === undefined) return new Uint8Array(await inflate(bytes));
  const out = new IdxInflater(idx);
  const z = createGunzip();
  return new Promise((ok, fail) => {
    z.on("data", (chunk: Buffer) => {
      try {
        out.add(chunk);
      } catch (e) {
        z.destroy();
        fail(e);
      }
    });
    z.on("end", () => ok(out.result()));
    z.on("error", fail);
    z.end(bytes);
  });
}

/** The error users meet without the data: where it was looked for and the two ways to fix it. */
export function missingDataError(dir: string, file: string): Error {
  return new Error(
    `data.fashionMnist: Fashion-MNIST not found: ${join(dir, file)}(.gz) does not exist. ` +
      `Install Debian's dataset-fashion-mnist package (apt-get install -y dataset-fashion-mnist), ` +
      `which puts it in ${DEFAULT_DATA_DIR}, or name a folder that holds ` +
      `${Object.values(IDX_FILES).map((f) => `${f}.gz`).join(", ")} (uncompressed files work too): ` +
      `wg.data.fashionMnist({ dir }), or --data DIR for webgrad train and webgrad demo.`,
  );
}

/** The file's path, gzipped or not; the error names the first one missing. */
function locate(dir: string, file: string): string {
  const path = [join(dir, `${file}.gz`), join(dir, file)].find((p) => existsSync(p));
  if (!path) throw missingDataError(dir, file);
  return path;
}

async function readIdx(path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(path));
  try {
    return isGzip(bytes) ? await gunzip(bytes, path) : bytes;
  } catch (e) {
    throw new Error(`data.fashionMnist: ${path}: ${(e as Error).message}`);
  }
}

/** The four IDX files of `dir`, decompressed (wg.data.fashionMnist's reader in Node; node.ts registers it). */
export async function readIdxDir(dir = DEFAULT_DATA_DIR): Promise<{ bytes: IdxBytes; where: string }> {
  // Locate all four before reading any, so a half-present folder fails fast.
  const paths = Object.entries(IDX_FILES).map(([key, file]) => [key, locate(dir, file)] as const);
  const bytes = {} as IdxBytes;
  for (const [key, path] of paths) bytes[key as keyof IdxBytes] = await readIdx(path);
  return { bytes, where: dir };
}
