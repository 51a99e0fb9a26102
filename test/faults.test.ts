/** Faults that used to crash the process or poison the library: concurrent init, GPU out-of-memory, the pool cap, the CPU size limit. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { DEFAULT_POOL_LIMIT } from "../src/backend/webgpu/memory.js";
import { DEFAULT_CPU_TENSOR_LIMIT } from "../src/backend/cpu/cpu-backend.js";
import { DEVICES, settle, startWebgpu, values } from "./helpers.js";

let gpu: WebGpuBackend;
beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as WebGpuBackend;
});

test("three concurrent first init() calls in a fresh process make one device and exit 0", () => {
  const bundle = resolve("dist/node/index.js");
  expect(existsSync(bundle), "dist/node/index.js (run node scripts/build.mjs)").toBe(true);
  const r = spawnSync(process.execPath, [resolve("test/fixtures/concurrent-init.mjs"), pathToFileURL(bundle).href], { encoding: "utf8", timeout: 60_000 });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toEqual({ devices: ["webgpu", "webgpu", "webgpu"], same: true, values: [2, 4, 6] });
});

test("webgrad train on IDX files with 0 training examples exits 1 naming the split, writing no model", () => {
  const dir = mkdtempSync(join(tmpdir(), "webgrad-empty-idx-"));
  try {
    const header = (words: number[]) => {
      const b = Buffer.alloc(4 * words.length);
      words.forEach((w, i) => b.writeUInt32BE(w, 4 * i));
      return b;
    };
    const put = (name: string, words: number[], body: number[] = []) => writeFileSync(join(dir, name), Buffer.concat([header(words), Buffer.from(body)]));
    put("train-images-idx3-ubyte", [0x803, 0, 28, 28]);
    put("train-labels-idx1-ubyte", [0x801, 0]);
    put("t10k-images-idx3-ubyte", [0x803, 1, 28, 28], new Array(784).fill(7));
    put("t10k-labels-idx1-ubyte", [0x801, 1], [3]);
    const out = join(dir, "out");
    const r = spawnSync(process.execPath, [resolve("dist/node/cli.js"), "train", "--data", dir, "--out", out, "--device", "cpu", "--epochs", "1"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/train split: the IDX files hold 0 examples/);
    expect(existsSync(join(out, "model.safetensors"))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** One SGD step of a small MLP; returns the loss before and after, so a broken device shows as an Error or a loss that did not fall. */
async function trainStep(device: "webgpu" | "cpu"): Promise<[number, number]> {
  wg.manualSeed(3);
  const model = new wg.nn.Sequential(new wg.nn.Linear(8, 16, { device }), new wg.nn.Tanh(), new wg.nn.Linear(16, 1, { device }));
  const x = wg.randn([32, 8], { device });
  const y = x.sum(1, true).mul(0.1);
  const opt = new wg.optim.SGD(model.parameters(), { lr: 0.1 });
  const lossOf = () => wg.nn.functional.mseLoss(model.forward(x), y);
  const before = lossOf();
  before.backward();
  opt.step();
  const after = await wg.noGrad(lossOf).item();
  return [await before.item(), after];
}

describe("GPU out of memory", () => {
  test("surfaces as an Error with the bytes asked; nothing invalid stays pooled; a training step works after", async () => {
    wg.tidy(() => wg.zeros([4], { device: "webgpu" }).sum()); // the cached constants these ops use, made before measuring
    await settle();
    const start = wg.memory();
    const n = Math.floor(gpu.caps.maxStorageBinding / 4);
    const held: Tensor[] = [];
    let error: Error | null = null;
    // SwiftShader fails the first buffer of maxStorageBufferBindingSize; a real GPU fails once its memory is full.
    for (let i = 0; i < 256 && !error; i++) {
      held.push(wg.zeros([n], { device: "webgpu" }));
      error = await wg.flush().then(() => null, (e: Error) => e);
    }
    expect(error?.message).toMatch(new RegExp(`out of memory: a float32 tensor of ${n} elements asked for ${n * 4} bytes.*Fix: dispose`));
    const failed = held.pop()!;
    expect(() => failed.sum()).toThrow(/holds no data: allocating it ran out of GPU memory/);
    failed.dispose();
    for (const t of held) t.dispose();
    expect(wg.memory().bytesPooled).toBeLessThan(n * 4); // neither the invalid buffer nor its bucket came back
    await settle(); // the handle the refused sum() made before its launch threw goes to the finalizer
    expect([wg.memory().tensors, wg.memory().bytesInUse]).toEqual([start.tensors, start.bytesInUse]);
    await wg.flush();
    const [before, after] = await trainStep("webgpu");
    expect(after).toBeLessThan(before);
    expect(await values(wg.tensor([1, 2], { device: "webgpu" }).mul(3))).toEqual([3, 6]);
  });
});

describe("pool cap and emptyCache", () => {
  test("varied shapes never pool more than poolLimitBytes; emptyCache releases all of it", async () => {
    await wg.init({ device: "webgpu", poolLimitBytes: 2 ** 20, quiet: true });
    try {
      const keep = wg.arange(10, { device: "webgpu" });
      for (let i = 1; i <= 60; i++) {
        wg.tidy(() => wg.ones([i * 1000], { device: "webgpu" }).mul(i).sum());
        expect(wg.memory().bytesPooled).toBeLessThanOrEqual(2 ** 20);
      }
      await wg.flush();
      expect(wg.memory().bytesPooled).toBeGreaterThan(0);
      const live = wg.memory();
      wg.emptyCache();
      expect(wg.memory()).toEqual({ ...live, bytesPooled: 0 });
      expect(await values(keep.sum())).toEqual([45]);
      keep.dispose();
    } finally {
      await wg.init({ device: "webgpu", poolLimitBytes: DEFAULT_POOL_LIMIT, quiet: true });
    }
  });

  test("poolLimitBytes 0: buffers freed while unsubmitted work uses them are destroyed after the submit, values intact", async () => {
    await wg.init({ device: "webgpu", poolLimitBytes: 0, quiet: true });
    try {
      let x = wg.tensor([1, 2, 3, 4], { device: "webgpu" });
      for (let i = 0; i < 20; i++) {
        const next = x.mul(2).add(1);
        x.dispose(); // its buffer leaves the pool at once, while the recorded launch still reads it
        x = next;
      }
      expect(wg.memory().bytesPooled).toBe(0);
      expect(await values(x)).toEqual([1, 2, 3, 4].map((v) => (v + 1) * 2 ** 20 - 1));
      x.dispose();
    } finally {
      await wg.init({ device: "webgpu", poolLimitBytes: DEFAULT_POOL_LIMIT, quiet: true });
    }
  });

  test("the CPU backend pools nothing: emptyCache and bytesPooled agree on both devices", async () => {
    const t = wg.ones([1000], { device: "cpu" });
    t.dispose();
    wg.emptyCache("cpu");
    expect(wg.memory("cpu").bytesPooled).toBe(0);
    expect(() => wg.emptyCache("tpu" as "cpu")).toThrow(/emptyCache: unknown device "tpu"/);
    await expect(wg.init({ poolLimitBytes: -1 })).rejects.toThrow(/init: poolLimitBytes is -1; expected a whole number/);
  });
});

describe("CPU size limit", () => {
  test("a tensor over the limit is refused before allocating, naming the bytes, the limit and the option", async () => {
    const before = wg.memory("cpu");
    expect(() => wg.zeros([2 ** 32], { device: "cpu" })).toThrow(
      new RegExp(`cpu: a float32 tensor of 4294967296 elements needs 17179869184 bytes, over the CPU backend's limit of ${DEFAULT_CPU_TENSOR_LIMIT} bytes.*cpuTensorLimitBytes`),
    );
    expect(wg.memory("cpu")).toEqual(before);
    await wg.init({ device: "webgpu", cpuTensorLimitBytes: 4000, quiet: true });
    try {
      expect(() => wg.ones([1001], { device: "cpu" })).toThrow(/needs 4004 bytes, over the CPU backend's limit of 4000 bytes/);
      expect(await values(wg.ones([1000], { device: "cpu" }).sum())).toEqual([1000]);
    } finally {
      await wg.init({ device: "webgpu", cpuTensorLimitBytes: DEFAULT_CPU_TENSOR_LIMIT, quiet: true });
    }
    const [l0, l1] = await trainStep("cpu");
    expect(l1).toBeLessThan(l0);
  });
});

describe.each(DEVICES)("tidy(async fn) on %s", (device) => {
  test("throws its Error, disposes what was made before the first await, and a later throw reaches nobody", async () => {
    wg.tidy(() => wg.ones([100], { device }).mul(2)); // makes the cached constant 2 now, not inside the measurement
    await settle();
    const before = wg.memory(device);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      let resume!: () => void;
      const gate = new Promise<void>((r) => (resume = r));
      const body = async () => {
        wg.ones([100], { device }).mul(2);
        await gate;
        throw new Error("a throw after the first await");
      };
      expect(() => wg.tidy(body)).toThrow(/^tidy: fn returned a Promise; .*made before its first await were disposed.*Fix: await outside tidy/);
      const after = wg.memory(device);
      expect([after.tensors, after.bytesInUse]).toEqual([before.tensors, before.bytesInUse]);
      resume();
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
