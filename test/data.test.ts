/**
 * Data loading internals: IDX parsing of small synthetic files and its errors,
 * gunzip on both platforms, the folder and URL readers, seeded shuffling, and
 * the browser bundle. The public wg.data API is tested in data-api.test.ts.
 */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { permutation, Rng } from "../src/data/batches.js";
import { datasetFromIdx, head, toSplit } from "../src/data/dataset.js";
import { gunzip as browserGunzip, fetchIdx } from "../src/data/fetch.js";
import { IdxInflater, IMAGES_MAGIC, LABELS_MAGIC, MAX_IDX_BYTES, parseIdxImages, parseIdxLabels } from "../src/data/idx.js";
import { gunzip as nodeGunzip } from "../src/data/node-files.js";

/** An IDX file: big-endian uint32 header words, then the bytes. */
function idx(words: number[], body: number[]): Uint8Array {
  const out = new Uint8Array(4 * words.length + body.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w, false));
  out.set(body, 4 * words.length);
  return out;
}
const images = (n: number, rows: number, cols: number, pixels = Array.from({ length: n * rows * cols }, (_, i) => (i * 37) % 256)) =>
  idx([IMAGES_MAGIC, n, rows, cols], pixels);
const labels = (ls: number[]) => idx([LABELS_MAGIC, ls.length], ls);

describe("IDX parsing", () => {
  test("images: header fields and row-major pixels", () => {
    const im = parseIdxImages(images(2, 2, 3, [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]));
    expect([im.n, im.rows, im.cols]).toEqual([2, 2, 3]);
    expect(Array.from(im.pixels)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  test("labels", () => {
    expect(Array.from(parseIdxLabels(labels([3, 0, 9])))).toEqual([3, 0, 9]);
  });

  test("a view into a larger buffer (byteOffset ≠ 0) parses the same", () => {
    const file = labels([7, 1]);
    const padded = new Uint8Array(file.length + 5);
    padded.set(file, 5);
    expect(Array.from(parseIdxLabels(padded.subarray(5)))).toEqual([7, 1]);
  });

  test.each([
    ["labels as images", () => parseIdxImages(labels([1, 2])), /bad magic 0x00000801, expected 0x00000803/],
    ["images as labels", () => parseIdxLabels(images(1, 2, 2)), /bad magic 0x00000803, expected 0x00000801/],
    ["gzip bytes", () => parseIdxLabels(gzipSync(labels([1]))), /gzip-compressed: gunzip them first/],
    ["short header", () => parseIdxImages(images(1, 2, 2).subarray(0, 10)), /shorter than the 16-byte header/],
    ["truncated body", () => parseIdxImages(images(3, 2, 2).subarray(0, 16 + 11)), /promises 12 data bytes but only 11 follow/],
    ["truncated labels", () => parseIdxLabels(labels([1, 2, 3]).subarray(0, 10)), /promises 3 data bytes but only 2/],
    ["trailing bytes", () => parseIdxLabels(new Uint8Array([...labels([1]), 0, 0])), /2 bytes follow the 1/],
  ])("error: %s", (_, f, message) => {
    expect(f).toThrow(message);
  });

  test("toSplit scales pixels to [0, 1] and rejects mismatched counts", () => {
    const s = toSplit(parseIdxImages(images(2, 1, 2, [0, 255, 51, 102])), parseIdxLabels(labels([4, 2])));
    expect(Array.from(s.images)).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(s.labels).toBeInstanceOf(Int32Array);
    expect([s.n, s.features]).toEqual([2, 2]);
    expect(() => toSplit(parseIdxImages(images(2, 1, 2)), parseIdxLabels(labels([1, 2, 3])), "train split")).toThrow(
      "train split: 2 images but 3 labels",
    );
  });

  test("datasetFromIdx rejects a label outside the 10 classes", () => {
    const ok = { trainImages: images(2, 2, 2), testImages: images(1, 2, 2), testLabels: labels([0]) };
    expect(datasetFromIdx({ ...ok, trainLabels: labels([9, 0]) }).train.n).toBe(2);
    expect(() => datasetFromIdx({ ...ok, trainLabels: labels([1, 10]) })).toThrow(/train label 1 is 10/);
  });

  test("head takes the first n examples", () => {
    const s = toSplit(parseIdxImages(images(3, 1, 2)), parseIdxLabels(labels([5, 6, 7])));
    const h = head(s, 2);
    expect([h.n, h.images.length, Array.from(h.labels)]).toEqual([2, 4, [5, 6]]);
    expect(head(s, 10)).toBe(s);
  });
});

describe("gunzip", () => {
  const raw = images(4, 3, 3);
  test.each([
    ["node:zlib", nodeGunzip],
    ["DecompressionStream (browser)", browserGunzip],
  ])("%s inverts gzip", async (_, gunzip) => {
    expect(Array.from(await gunzip(gzipSync(raw)))).toEqual(Array.from(raw));
  });
});

describe("IDX files that would train on nothing, and gzip bombs", () => {
  test("0 examples or 0×0 images are refused, naming the split", () => {
    expect(() => parseIdxImages(images(5, 0, 0))).toThrow(/IDX images: the header says 0×0 images, which have no pixels/);
    expect(() => parseIdxImages(images(5, 28, 0))).toThrow(/28×0 images/);
    const ok = { trainImages: images(2, 1, 2), trainLabels: labels([1, 2]), testImages: images(1, 1, 2), testLabels: labels([3]) };
    expect(() => datasetFromIdx({ ...ok, trainImages: images(0, 1, 2), trainLabels: labels([]) })).toThrow(/^train split: the IDX files hold 0 examples/);
    expect(() => datasetFromIdx({ ...ok, testImages: images(0, 28, 28), testLabels: labels([]) })).toThrow(/^test split: the IDX files hold 0 examples/);
  });

  /** A label file whose header promises 10 labels, followed by `members` gzip members of 16 MiB of zeros each (about 16 KiB compressed). */
  function bomb(members: number): Uint8Array {
    const zeros = gzipSync(new Uint8Array(2 ** 24));
    const parts = [gzipSync(labels([1, 2, 3, 4, 5, 6, 7, 8, 9, 0])), ...Array.from({ length: members }, () => zeros)];
    return Buffer.concat(parts);
  }

  test.each([
    ["node:zlib", nodeGunzip],
    ["DecompressionStream (browser)", browserGunzip],
  ])("%s stops at the size the header promises (a 4 GiB bomb is refused, not inflated)", async (_, gunzip) => {
    await expect(gunzip(bomb(256), "labels.gz")).rejects.toThrow(/^labels\.gz: it decompresses to more than the 18 bytes its IDX header promises.*gzip bomb/);
    const honest = gzipSync(images(2, 2, 2));
    expect(Array.from(await gunzip(honest, "images.gz"))).toEqual(Array.from(images(2, 2, 2)));
    await expect(gunzip(gzipSync(new Uint8Array(64)), "zeros.gz")).rejects.toThrow(/^zeros\.gz: bad magic 0x00000000 after gunzip/);
    const huge = idx([IMAGES_MAGIC, 60000, 4096, 4096], []);
    await expect(gunzip(gzipSync(huge), "big.gz")).rejects.toThrow(new RegExp(`^big\\.gz: its IDX header promises \\d+ bytes, over the ${MAX_IDX_BYTES}-byte limit`));
  });

  test("IdxInflater refuses the first chunk past the header's size, whatever the chunking", () => {
    const file = images(3, 2, 2);
    for (const size of [1, 5, 16, 28]) {
      const inf = new IdxInflater("f");
      for (let i = 0; i < file.length; i += size) inf.add(file.subarray(i, i + size));
      expect(Array.from(inf.result())).toEqual(Array.from(file));
      expect(() => inf.add(new Uint8Array(1))).toThrow(/more than the 28 bytes/);
    }
  });

  test("fashionMnist refuses a folder whose train set is empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "webgrad-idx0-"));
    const put = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
    put("train-images-idx3-ubyte", images(0, 28, 28));
    put("train-labels-idx1-ubyte", labels([]));
    put("t10k-images-idx3-ubyte", images(2, 28, 28));
    put("t10k-labels-idx1-ubyte", labels([4, 5]));
    await expect(wg.data.fashionMnist({ dir, device: "cpu" })).rejects.toThrow(/^data\.fashionMnist: .*train split: the IDX files hold 0 examples/);
  });
});

describe("fashionMnist({ dir }): the folder reader", () => {
  function folder(gz: boolean): string {
    const dir = mkdtempSync(join(tmpdir(), "webgrad-idx-"));
    const put = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
    put("train-images-idx3-ubyte", images(3, 28, 28));
    put("train-labels-idx1-ubyte", labels([1, 2, 3]));
    put("t10k-images-idx3-ubyte", images(2, 28, 28));
    put("t10k-labels-idx1-ubyte", labels([4, 5]));
    return dir;
  }

  test.each([true, false])("reads the four files (gzipped: %s)", async (gz) => {
    const d = await wg.data.fashionMnist({ dir: folder(gz), device: "cpu" });
    expect([d.train.images.shape, d.test.images.shape, d.train.labels.shape, d.classes.length]).toEqual([[3, 784], [2, 784], [3], 10]);
    expect(Array.from(await d.test.labels.data())).toEqual([4, 5]);
    expect((await d.train.images.data())[1]).toBeCloseTo(37 / 255, 6);
    d.dispose();
  });

  test("missing data names the Debian package and --data", async () => {
    const empty = mkdtempSync(join(tmpdir(), "webgrad-empty-"));
    const err = wg.data.fashionMnist({ dir: join(empty, "nope"), device: "cpu" });
    await expect(err).rejects.toThrow(`data.fashionMnist: Fashion-MNIST not found: ${join(empty, "nope", "train-images-idx3-ubyte")}(.gz) does not exist`);
    await expect(err).rejects.toThrow(/apt-get install -y dataset-fashion-mnist/);
    await expect(err).rejects.toThrow(/wg\.data\.fashionMnist\(\{ dir \}\), or --data DIR/);
    expect(readdirSync(empty)).toEqual([]);
  });
});

describe("fetchIdx (the URL reader)", () => {
  const files: Record<string, Uint8Array> = {
    "train-images-idx3-ubyte": images(3, 28, 28),
    "train-labels-idx1-ubyte": labels([1, 2, 3]),
    "t10k-images-idx3-ubyte": images(2, 28, 28),
    "t10k-labels-idx1-ubyte": labels([4, 5]),
  };
  const urls: string[] = [];
  /** Serves the .gz files; `plain` names ones the server sends already decompressed (Content-Encoding: gzip). */
  const server = (plain: string[] = []) => async (url: string | URL | Request) => {
    urls.push(String(url));
    const name = String(url).split("/").pop()!.replace(/\.gz$/, "");
    const body = files[name];
    if (!body) return new Response("no", { status: 404, statusText: "Not Found" });
    return new Response(new Uint8Array(plain.includes(name) ? body : gzipSync(body)));
  };

  test("fetches the four .gz files under the base URL, gzipped or already inflated", async () => {
    const d = datasetFromIdx(await fetchIdx("http://127.0.0.1:8000/data/", server(["t10k-labels-idx1-ubyte"]) as typeof fetch));
    expect([d.train.n, d.test.n, Array.from(d.test.labels)]).toEqual([3, 2, [4, 5]]);
    expect(urls).toContain("http://127.0.0.1:8000/data/train-images-idx3-ubyte.gz");
  });

  test("a missing file names the URL and the status", async () => {
    delete files["t10k-labels-idx1-ubyte"];
    await expect(fetchIdx("/data", server() as typeof fetch)).rejects.toThrow("data.fashionMnist: GET /data/t10k-labels-idx1-ubyte.gz answered 404");
    const down = (async () => { throw new TypeError("fetch failed"); }) as typeof fetch;
    await expect(fetchIdx("http://127.0.0.1:9/x", down)).rejects.toThrow("data.fashionMnist: GET http://127.0.0.1:9/x/train-images-idx3-ubyte.gz failed (fetch failed)");
  });
});

describe("shuffling", () => {
  test("the same seed gives the same permutation; another seed another one", () => {
    const a = permutation(1000, new Rng(7));
    expect(Array.from(permutation(1000, new Rng(7)))).toEqual(Array.from(a));
    expect(Array.from(permutation(1000, new Rng(8)))).not.toEqual(Array.from(a));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(a.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("successive epochs from one generator get different orders", () => {
    const rng = new Rng(1);
    expect(Array.from(permutation(50, rng))).not.toEqual(Array.from(permutation(50, rng)));
  });

  test("every position is roughly equally likely (no Fisher–Yates off-by-one bias)", () => {
    const rng = new Rng(3);
    const counts = [0, 0, 0, 0];
    for (let t = 0; t < 4000; t++) counts[permutation(4, rng)[0]]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });
});

test("the data, model and plot modules bundle for the browser (no node:* imports)", async () => {
  const entry = ["batches", "dataset", "fetch", "idx", "fashion-mnist", "text", "index"].map((m) => `export * from "./src/data/${m}.js";`).join("\n") +
    ["trainer", "models", "plot-svg", "progress"].map((m) => `\nexport * from "./src/train/${m}.js";`).join("");
  const out = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), loader: "ts" },
    bundle: true, write: false, platform: "browser", format: "esm", logLevel: "silent", loader: { ".wgsl": "text" },
  });
  expect(out.outputFiles[0].text).not.toMatch(/from\s+["']node:|require\(["']node:/);
});
