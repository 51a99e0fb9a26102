/**
 * Issue 9's faults as a table: each row runs on the devices it names and either throws an Error
 * matching `error` or returns `value`. The cases needing a fresh process, a lost device or a
 * forced out-of-memory live in faults.test.ts and device-lost.test.ts.
 */
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { datasetFromIdx } from "../src/data/dataset.js";
import { IMAGES_MAGIC, LABELS_MAGIC } from "../src/data/idx.js";
import { gunzip } from "../src/data/node-files.js";
import { DEFAULT_POOL_LIMIT } from "../src/backend/webgpu/memory.js";
import { DEVICES, startWebgpu, type TestDevice } from "./helpers.js";

beforeAll(startWebgpu);

type Row = { name: string; devices: readonly TestDevice[] } & (
  | { run: (device: TestDevice) => Promise<unknown>; error: RegExp }
  | { run: (device: TestDevice) => Promise<number[]>; value: number[] }
);

/** An IDX file: big-endian uint32 header words, then the bytes. */
function idx(words: number[], body: number[] = []): Uint8Array {
  const out = new Uint8Array(4 * words.length + body.length);
  words.forEach((w, i) => new DataView(out.buffer).setUint32(4 * i, w, false));
  out.set(body, 4 * words.length);
  return out;
}

/** A safetensors file with one F32 tensor "t" of `n` elements 0, 1, 2, ..., as a Node Buffer inside a larger pool. */
function pooledFile(header: object, data: Float32Array): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data.buffer)]); // concat of small parts comes from the shared pool
}

const rows: Row[] = [
  {
    name: "CPU: a tensor over the size limit is refused before allocating",
    devices: ["cpu"],
    run: async (device) => wg.zeros([2 ** 31], { device }),
    error: /^cpu: a float32 tensor of 2147483648 elements needs 8589934592 bytes, over the CPU backend's limit .*cpuTensorLimitBytes/,
  },
  {
    name: "WebGPU: a tensor over maxStorageBufferBindingSize is refused before any work",
    devices: ["webgpu"],
    run: async (device) => wg.zeros([2 ** 31], { device }),
    error: /needs 8589934592 bytes, over this adapter's maxStorageBufferBindingSize/,
  },
  {
    name: "load from a pooled Node Buffer reads its own bytes",
    devices: DEVICES,
    run: async (device) => {
      const buf = pooledFile({ t: { dtype: "F32", shape: [3], data_offsets: [0, 12] } }, new Float32Array([1.5, -2, 8]));
      if (buf.byteOffset === 0) throw new Error("test setup: expected a Buffer inside Node's pool");
      return Array.from(await wg.load(buf, { device }).t.data());
    },
    value: [1.5, -2, 8],
  },
  {
    name: 'load: a tensor named "__proto__" is an own key, the dict an ordinary object',
    devices: DEVICES,
    run: async (device) => {
      const d = wg.load(pooledFile({ ["__proto__"]: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Float32Array([7])), { device });
      return [Object.keys(d).length, Object.getPrototypeOf(d) === Object.prototype ? 1 : 0, ...(await (Object.getOwnPropertyDescriptor(d, "__proto__")!.value as Tensor).data())];
    },
    value: [1, 1, 7],
  },
  {
    name: "load: an unknown dtype is named",
    devices: DEVICES,
    run: async (device) => wg.load(pooledFile({ t: { dtype: "F8_E4M3", shape: [4], data_offsets: [0, 4] } }, new Float32Array([0])), { device }),
    error: /^load: not a valid safetensors file: "t" has dtype "F8_E4M3"; webgrad loads F32 and I32/,
  },
  {
    name: "tidy(async fn) throws its documented Error",
    devices: DEVICES,
    run: async (device) => wg.tidy(async () => wg.ones([4], { device })),
    error: /^tidy: fn returned a Promise; tidy tracks synchronous work only/,
  },
  {
    name: "grad outside a transform: its result backpropagates to the input (d/dx Σ 3x² = 6x)",
    devices: DEVICES,
    run: async (device) => {
      const x = wg.tensor([1, -2], { device, requiresGrad: true });
      (wg.grad((v: Tensor) => v.pow(3).sum())(x) as Tensor).sum().backward();
      return Array.from(await x.grad!.data());
    },
    value: [6, -12],
  },
  {
    name: "emptyCache leaves nothing pooled",
    devices: DEVICES,
    run: async (device) => {
      wg.tidy(() => wg.ones([5000], { device }).add(1));
      await wg.flush(device);
      wg.emptyCache(device);
      return [wg.memory(device).bytesPooled];
    },
    value: [0],
  },
  {
    name: "init: a negative poolLimitBytes",
    devices: DEVICES,
    run: async (device) => wg.init({ device, poolLimitBytes: -5 }),
    error: /^init: poolLimitBytes is -5; expected a whole number of bytes >= 0/,
  },
  {
    name: "init: a fractional cpuTensorLimitBytes",
    devices: DEVICES,
    run: async (device) => wg.init({ device, cpuTensorLimitBytes: 1.5 }),
    error: /^init: cpuTensorLimitBytes is 1.5; expected a whole number/,
  },
  {
    name: "IDX: a train split with 0 examples",
    devices: ["cpu"],
    run: async () =>
      datasetFromIdx({ trainImages: idx([IMAGES_MAGIC, 0, 28, 28]), trainLabels: idx([LABELS_MAGIC, 0]), testImages: idx([IMAGES_MAGIC, 1, 1, 1], [9]), testLabels: idx([LABELS_MAGIC, 1], [2]) }),
    error: /^train split: the IDX files hold 0 examples/,
  },
  {
    name: "IDX: 0×0 images",
    devices: ["cpu"],
    run: async () =>
      datasetFromIdx({ trainImages: idx([IMAGES_MAGIC, 2, 0, 0]), trainLabels: idx([LABELS_MAGIC, 2], [1, 2]), testImages: idx([IMAGES_MAGIC, 1, 1, 1], [9]), testLabels: idx([LABELS_MAGIC, 1], [2]) }),
    error: /IDX images: the header says 0×0 images, which have no pixels/,
  },
  {
    name: "IDX: a gzip stream longer than its header promises",
    devices: ["cpu"],
    run: async () => gunzip(Buffer.concat([gzipSync(idx([LABELS_MAGIC, 2], [1, 2])), gzipSync(new Uint8Array(2 ** 20))]), "labels.gz"),
    error: /^labels\.gz: it decompresses to more than the 10 bytes its IDX header promises/,
  },
];

describe.each(DEVICES)("bad input and faults on %s", (device) => {
  const mine = rows.filter((r) => r.devices.includes(device));
  test.each(mine.map((r) => [r.name, r] as const))("%s", async (_, row) => {
    try {
      if ("error" in row) await expect(row.run(device)).rejects.toThrow(row.error);
      else expect(await row.run(device)).toEqual(row.value);
    } finally {
      await wg.init({ device: "webgpu", poolLimitBytes: DEFAULT_POOL_LIMIT, quiet: true });
    }
  });
});
