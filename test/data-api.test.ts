/**
 * The public data API (wg.data.fashionMnist, wg.data.batches): the real
 * Fashion-MNIST's shapes, dtypes, ranges and class counts; the folder and URL
 * readers on synthetic IDX files; batches that cover every example once per
 * epoch in a seeded order that is the same on every device, with no readback,
 * no per-batch upload and no leak; and the errors for bad input.
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { setIdxDirReader } from "../src/data/fashion-mnist.js";
import { IMAGES_MAGIC, LABELS_MAGIC } from "../src/data/idx.js";
import { readIdxDir } from "../src/data/node-files.js";
import { webgpuBackend } from "../src/engine/device.js";
import { DEVICES, settle, startWebgpu } from "./helpers.js";

const CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

describe("fashionMnist: Debian's dataset-fashion-mnist", () => {
  let data: wg.data.FashionMnist;
  beforeAll(async () => {
    await wg.init({ device: "cpu" });
    data = await wg.data.fashionMnist();
  }, 60_000);
  afterAll(() => data.dispose());

  test("shapes, dtypes, device and class names", () => {
    const { train, test } = data;
    expect([train.images.shape, train.labels.shape, test.images.shape, test.labels.shape]).toEqual([[60000, 784], [60000], [10000, 784], [10000]]);
    expect([train.images.dtype, train.labels.dtype, test.images.dtype, test.labels.dtype]).toEqual(["float32", "int32", "float32", "int32"]);
    expect([train.images.device, test.labels.device]).toEqual(["cpu", "cpu"]);
    expect(data.classes).toEqual(CLASSES);
  });

  test("pixels are bytes / 255 in [0, 1], every image uses the range, labels are 0..9", async () => {
    const px = (await data.test.images.slice(0, 0, 500).data()) as Float32Array;
    expect([px.reduce((a, b) => Math.min(a, b)), px.reduce((a, b) => Math.max(a, b))]).toEqual([0, 1]);
    const offGrid = Array.from(px).filter((v) => Math.abs(v * 255 - Math.round(v * 255)) > 1e-4);
    expect(offGrid).toEqual([]);
    // The known first examples of the files: train 0 is an ankle boot, test 0 an ankle boot, test 1 a pullover.
    expect(Array.from(await data.train.labels.slice(0, 0, 1).data())).toEqual([9]);
    expect(Array.from(await data.test.labels.slice(0, 0, 2).data())).toEqual([9, 2]);
    const [lo, hi] = [await data.train.images.min().item(), await data.train.images.max().item()];
    expect([lo, hi]).toEqual([0, 1]);
  });

  test("each class has 1,000 test and 6,000 training examples", async () => {
    const histogram = async (t: wg.Tensor) => {
      const counts = new Array(10).fill(0);
      for (const l of await t.data()) counts[l]++;
      return counts;
    };
    expect(await histogram(data.test.labels)).toEqual(new Array(10).fill(1000));
    expect(await histogram(data.train.labels)).toEqual(new Array(10).fill(6000));
  });

  test("dispose releases the four tensors", async () => {
    const d = await wg.data.fashionMnist({ device: "cpu" });
    const live = wg.memory("cpu").tensors;
    d.dispose();
    expect(wg.memory("cpu").tensors).toBe(live - 4);
    expect(d.train.images.isDisposed && d.test.labels.isDisposed).toBe(true);
  }, 60_000);
});

/** An IDX file: big-endian uint32 header words, then the bytes. */
function idx(words: number[], body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 * words.length + body.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w, false));
  out.set(body, 4 * words.length);
  return out;
}
const images = (n: number) => idx([IMAGES_MAGIC, n, 28, 28], Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256));
const labels = (ls: number[]) => idx([LABELS_MAGIC, ls.length], ls);
const FILES = (): Record<string, Uint8Array> => ({
  "train-images-idx3-ubyte": images(3),
  "train-labels-idx1-ubyte": labels([1, 2, 3]),
  "t10k-images-idx3-ubyte": images(2),
  "t10k-labels-idx1-ubyte": labels([4, 5]),
});

/** A folder of the four files (gzipped), with `change` applied to the file list first. */
function folder(change: (f: Record<string, Uint8Array>) => void = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), "webgrad-data-api-"));
  const files = FILES();
  change(files);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
  return dir;
}

describe("fashionMnist from a folder or a URL", () => {
  let server: Server;
  let base = "";
  beforeAll(async () => {
    const files = FILES();
    server = createServer((req, res) => {
      const body = files[(req.url ?? "").replace(/^\/mnist\//, "").replace(/\.gz$/, "")];
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200).end(gzipSync(body));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mnist`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  test("dir and baseUrl give the same tensors", async () => {
    const a = await wg.data.fashionMnist({ dir: folder(), device: "cpu" });
    const b = await wg.data.fashionMnist({ baseUrl: `${base}/`, device: "cpu" });
    expect(Array.from(await b.train.images.data())).toEqual(Array.from(await a.train.images.data()));
    expect(Array.from(await b.test.labels.data())).toEqual([4, 5]);
    expect((await a.train.images.data())[1]).toBeCloseTo(7 / 255, 6);
    a.dispose();
    b.dispose();
  });

  test("the tensors go to the default device, WebGPU here", async () => {
    await startWebgpu();
    const d = await wg.data.fashionMnist({ dir: folder() });
    expect([d.train.images.device, d.test.labels.device]).toEqual(["webgpu", "webgpu"]);
    expect(Array.from(await d.train.labels.data())).toEqual([1, 2, 3]);
    d.dispose();
    await wg.init({ device: "cpu" });
  });

  test.each([
    ["a missing folder", () => ({ dir: "/nonexistent/fmnist" }), /^data\.fashionMnist: Fashion-MNIST not found: \/nonexistent\/fmnist\/train-images-idx3-ubyte\(\.gz\) does not exist.*apt-get install -y dataset-fashion-mnist.*\{ dir \}/],
    ["a missing file", () => ({ dir: folder((f) => delete f["t10k-labels-idx1-ubyte"]) }), /not found: .*t10k-labels-idx1-ubyte\(\.gz\) does not exist/],
    ["a corrupt file (bad magic)", () => ({ dir: folder((f) => (f["train-labels-idx1-ubyte"] = images(3))) }), /^data\.fashionMnist: \/tmp\/.*: train-labels-idx1-ubyte: IDX labels: bad magic 0x00000803, expected 0x00000801/],
    ["a truncated file", () => ({ dir: folder((f) => (f["t10k-images-idx3-ubyte"] = images(2).subarray(0, 900))) }), /^data\.fashionMnist: .*: t10k-images-idx3-ubyte: IDX images: the header promises 1568 data bytes but only 884 follow; the file is truncated/],
    ["images and labels that do not match", () => ({ dir: folder((f) => (f["train-labels-idx1-ubyte"] = labels([1, 2]))) }), /^data\.fashionMnist: .*train split: 3 images but 2 labels; the files do not belong together/],
    ["a label outside 0..9", () => ({ dir: folder((f) => (f["t10k-labels-idx1-ubyte"] = labels([4, 12]))) }), /test label 1 is 12, outside the 10 classes/],
    ["dir and baseUrl together", () => ({ dir: "/tmp", baseUrl: "http://x" }), /pass dir \(a folder, Node\) or baseUrl \(a URL\), not both/],
    ["an unknown option", () => ({ path: "/tmp" }), /unknown option path; the options are dir, baseUrl and device/],
    ["an empty dir", () => ({ dir: "" }), /dir must be a non-empty string, got ""/],
    ["an unknown device", () => ({ device: "gpu" }), /unknown device "gpu"; expected "cpu" or "webgpu"/],
    ["a URL that answers 404", () => ({ baseUrl: `${base}/../nothing` }), /GET http:\/\/127\.0\.0\.1:\d+\/mnist\/\.\.\/nothing\/train-images-idx3-ubyte\.gz answered 404/],
  ])("error: %s", async (_, opts, message) => {
    await expect(wg.data.fashionMnist(opts() as wg.data.FashionMnistOptions)).rejects.toThrow(message);
  });

  test("a device too small for the images says so and how to load them instead, and leaves nothing behind", async () => {
    await wg.init({ device: "cpu", cpuTensorLimitBytes: 5000 }); // the train images need 3·784·4 = 9408 bytes
    const live = wg.memory("cpu").tensors;
    try {
      await expect(wg.data.fashionMnist({ dir: folder() })).rejects.toThrow(/^data\.fashionMnist: the train images \(3×784 float32, 9408 bytes\) do not fit on cpu: cpu: .*over the CPU backend.s limit of 5000 bytes per tensor/);
      expect(wg.memory("cpu").tensors).toBe(live);
    } finally {
      await wg.init({ device: "cpu", cpuTensorLimitBytes: 2 ** 31 });
    }
  });

  test("without a file system (the browser), a folder is refused, naming baseUrl", async () => {
    setIdxDirReader(null as unknown as typeof readIdxDir);
    try {
      await expect(wg.data.fashionMnist({ device: "cpu" })).rejects.toThrow(/no file system to read the default folder from\. Fix: pass \{ baseUrl \}/);
      expect((await wg.data.fashionMnist({ baseUrl: base, device: "cpu" })).train.labels.shape).toEqual([3]);
    } finally {
      setIdxDirReader(readIdxDir);
    }
  });
});

/** n examples of 3 features; example k's features are all k, its label k % 10 (so a batch shows which rows it holds). */
function synthetic(n: number, device: wg.Device): wg.data.LabeledData {
  const x = new Float32Array(n * 3).map((_, i) => Math.floor(i / 3));
  return { images: wg.tensor(x, { shape: [n, 3], device }), labels: wg.tensor(Int32Array.from({ length: n }, (_, k) => k % 10), { dtype: "int32", device }) };
}

/** One epoch: the example indices of each batch, checking that every row's label matches it. */
async function epochRows(loader: Iterable<wg.data.Batch>): Promise<number[][]> {
  const out: number[][] = [];
  for (const { x, y } of loader) {
    const [xs, ys] = [await x.data(), await y.data()];
    const rows = Array.from({ length: y.shape[0] }, (_, i) => xs[3 * i]);
    expect(Array.from(ys)).toEqual(rows.map((k) => k % 10));
    expect(Array.from(xs)).toEqual(rows.flatMap((k) => [k, k, k]));
    out.push(rows);
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe.each(DEVICES)("batches on %s", (device) => {
  let data: wg.data.LabeledData;
  beforeAll(async () => {
    if (device === "webgpu") await startWebgpu();
    data = synthetic(23, device);
  });
  afterAll(() => [data.images, data.labels].forEach((t) => t.dispose()));

  test("in file order: batches of batchSize, the last one smaller, on the data's device", async () => {
    const loader = wg.data.batches(data, { batchSize: 8 });
    expect(loader.length).toBe(3);
    const rows = await epochRows(loader);
    expect(rows).toEqual([range(8), range(8).map((i) => i + 8), range(7).map((i) => i + 16)]);
    for (const { x, y } of loader) expect([x.dtype, y.dtype, x.device, y.device]).toEqual(["float32", "int32", device, device]);
  });

  test("dropLast skips the smaller last batch; one batch of everything is a copy-free view that leaves the data alone", async () => {
    const loader = wg.data.batches(data, { batchSize: 8, dropLast: true });
    expect(loader.length).toBe(2);
    expect((await epochRows(loader)).map((r) => r.length)).toEqual([8, 8]);
    expect(wg.data.batches(data, { batchSize: 30, dropLast: true }).length).toBe(0);
    expect(await epochRows(wg.data.batches(data, { batchSize: 30, dropLast: true }))).toEqual([]);
    expect(await epochRows(wg.data.batches(data, { batchSize: 23 }))).toEqual([range(23)]);
    expect(data.images.isDisposed || data.labels.isDisposed).toBe(false);
  });

  test("shuffle: every example exactly once per epoch, a new order each epoch, the same orders for the same seed", async () => {
    const loader = wg.data.batches(data, { batchSize: 5, shuffle: true, seed: 3 });
    const [e1, e2] = [await epochRows(loader), await epochRows(loader)];
    for (const e of [e1, e2]) {
      expect(e.map((r) => r.length)).toEqual([5, 5, 5, 5, 3]);
      expect(e.flat().sort((a, b) => a - b)).toEqual(range(23));
    }
    expect(e1.flat()).not.toEqual(range(23));
    expect(e2.flat()).not.toEqual(e1.flat());
    const again = wg.data.batches(data, { batchSize: 5, shuffle: true, seed: 3 });
    expect([await epochRows(again), await epochRows(again)]).toEqual([e1, e2]);
    expect((await epochRows(wg.data.batches(data, { batchSize: 5, shuffle: true, seed: 4 }))).flat()).not.toEqual(e1.flat());
  });

  test("a batch is released when the next is drawn and when the loop ends or breaks: nothing leaks", async () => {
    await settle();
    const before = wg.memory(device).tensors;
    const kept: wg.data.Batch[] = [];
    for (const b of wg.data.batches(data, { batchSize: 4, shuffle: true })) {
      expect(wg.memory(device).tensors).toBe(before + 3); // x, y and the epoch's permutation
      kept.push(b);
    }
    expect(kept.every((b) => b.x.isDisposed && b.y.isDisposed)).toBe(true);
    for (const b of wg.data.batches(data, { batchSize: 4 })) if (b) break;
    const it = wg.data.batches(data, { batchSize: 4, shuffle: true })[Symbol.iterator]();
    it.next();
    it.return?.();
    expect(wg.memory(device).tensors).toBe(before);
  });
});

test("the shuffled order is the same on the CPU and on WebGPU", async () => {
  await startWebgpu();
  const [cpu, gpu] = [synthetic(40, "cpu"), synthetic(40, "webgpu")];
  const opts = { batchSize: 16, shuffle: true, seed: 11 };
  const [a, b] = [wg.data.batches(cpu, opts), wg.data.batches(gpu, opts)];
  expect([await epochRows(b), await epochRows(b)]).toEqual([await epochRows(a), await epochRows(a)]);
  for (const d of [cpu, gpu]) [d.images, d.labels].forEach((t) => t.dispose());
});

test("a WebGPU training epoch reads nothing back and uploads only the permutation", async () => {
  await startWebgpu();
  const stats = (webgpuBackend() as WebGpuBackend).stats;
  const data = synthetic(64, "webgpu");
  const model = new wg.nn.Linear(3, 10, { device: "webgpu" });
  const opt = new wg.optim.SGD(model.parameters(), { lr: 0.01 });
  const epoch = (loader: wg.data.Batches) => {
    for (const { x, y } of loader)
      wg.tidy(() => {
        opt.zeroGrad();
        wg.nn.functional.crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
  };
  const shuffled = wg.data.batches(data, { batchSize: 8, shuffle: true });
  epoch(shuffled); // warm-up: pipelines, optimizer state
  await wg.flush();
  let before = { ...stats };
  epoch(shuffled);
  expect([stats.readbacks - before.readbacks, stats.uploads - before.uploads]).toEqual([0, 1]);
  before = { ...stats };
  epoch(wg.data.batches(data, { batchSize: 8 }));
  expect([stats.readbacks - before.readbacks, stats.uploads - before.uploads]).toEqual([0, 0]);
  await wg.flush();
  for (const t of [data.images, data.labels, ...model.parameters()]) t.dispose();
});

describe("batches: bad input", () => {
  const data = () => synthetic(6, "cpu");
  test.each([
    ["batchSize 0", () => wg.data.batches(data(), { batchSize: 0 }), /^data\.batches: batchSize must be a positive integer, got 0\. Fix: e\.g\. \{ batchSize: 64 \}/],
    ["a negative batchSize", () => wg.data.batches(data(), { batchSize: -4 }), /batchSize must be a positive integer, got -4/],
    ["a fractional batchSize", () => wg.data.batches(data(), { batchSize: 2.5 }), /batchSize must be a positive integer, got 2\.5/],
    ["a batchSize string", () => wg.data.batches(data(), { batchSize: "8" as unknown as number }), /batchSize must be a positive integer, got 8/],
    ["no options", () => wg.data.batches(data(), undefined as unknown as wg.data.BatchOptions), /options must be an object, e\.g\. \{ batchSize: 64 \}/],
    ["a misspelled option", () => wg.data.batches(data(), { batchSize: 2, batch_size: 2 } as wg.data.BatchOptions), /unknown option batch_size; the options are batchSize, shuffle, seed, dropLast/],
    ["shuffle that is not a boolean", () => wg.data.batches(data(), { batchSize: 2, shuffle: 1 as unknown as boolean }), /shuffle and dropLast must be true or false/],
    ["a fractional seed", () => wg.data.batches(data(), { batchSize: 2, seed: 0.5 }), /seed must be an integer, got 0\.5/],
    ["arrays instead of tensors", () => wg.data.batches({ images: new Float32Array(4), labels: [1] } as unknown as wg.data.LabeledData, { batchSize: 2 }), /the dataset must be \{ images: Tensor, labels: Tensor \}; images is object, labels is object/],
    ["mismatched counts", () => wg.data.batches({ images: wg.zeros([5, 3]), labels: wg.zeros([4], { dtype: "int32" }) }, { batchSize: 2 }), /images \[5, 3\] and labels \[4\] must hold the same number of examples/],
    ["2-D labels", () => wg.data.batches({ images: wg.zeros([4, 3]), labels: wg.zeros([4, 1]) }, { batchSize: 2 }), /labels \[4, 1\] must hold the same number/],
  ])("%s", (_, f, message) => {
    expect(f).toThrow(message);
  });

  test("a disposed dataset, before the loader is made and between epochs", () => {
    const d = data();
    const loader = wg.data.batches(d, { batchSize: 4, shuffle: true });
    expect([...loader].length).toBe(2);
    d.images.dispose();
    expect(() => [...loader]).toThrow("data.batches: the dataset's images tensor was disposed. Fix: dispose the data after the last epoch, or load it again.");
    d.labels.dispose();
    expect(() => wg.data.batches(d, { batchSize: 4 })).toThrow("the dataset's images and labels tensors were disposed");
  });

  test("images and labels on different devices", async () => {
    await startWebgpu();
    const d = { images: wg.zeros([4, 3], { device: "cpu" }), labels: wg.zeros([4], { dtype: "int32", device: "webgpu" }) };
    expect(() => wg.data.batches(d, { batchSize: 2 })).toThrow(/images are on cpu but labels on webgpu\. Fix: move both to one device/);
    d.images.dispose();
    d.labels.dispose();
  });
});
