/**
 * The WebGPU error flag behind index checks: an out-of-range index throws at the next sync point
 * (flush or readback), names the op that launched it, costs no readback per op, and leaves the
 * library working. The CPU backend throws at the op itself with the same words.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { ErrorFlag, type FlagWindow } from "../src/backend/webgpu/error-flag.js";
import { randomData, startWebgpu, values } from "./helpers.js";

const device = "webgpu" as const;
let gpu: WebGpuBackend;
beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as WebGpuBackend;
});

const int = (v: number[], shape?: number[], d: "cpu" | "webgpu" = device) =>
  wg.tensor(Int32Array.from(v), { dtype: "int32", device: d, shape: shape ?? [v.length] });

describe("webgpu error flag", () => {
  test("a bad gather index throws at the readback with the launch's call site; the next op works", async () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]], { device });
    const y = x.gather(1, int([0, 7, 1, 2], [2, 2]));
    await expect(y.data()).rejects.toThrow(/gather: index 7 is out of range for dim 1 of size 3 .*0 to 2[\s\S]*the launch was made at:[\s\S]*index-checks\.test\.ts/);
    expect(await values(x.gather(1, int([2, 0, 1, 1], [2, 2])))).toEqual([3, 1, 5, 5]);
  });

  test("a checked launch after unchecked ones in the same pass still reports (the flag is bound when first needed)", async () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]], { device });
    await wg.flush();
    const before = gpu.stats.submits;
    // A fused chain (no error flag in its layout), a bad gather, a chain again, a good gather: one batch.
    const y = wg.tidy(() => x.mul(2).add(1).gather(1, int([0, 3, 1, 2], [2, 2])).mul(3).add(1).gather(1, int([0, 0, 1, 1], [2, 2])));
    await expect(y.data()).rejects.toThrow(/gather: index 3 is out of range for dim 1 of size 3/);
    expect(gpu.stats.submits).toBe(before + 1);
    // The other order in one pass: a good check first, then an unchecked chain, then a bad check.
    const z = wg.tidy(() => x.gather(1, int([0, 0, 1, 1], [2, 2])).exp().neg().gather(1, int([0, 2, 1, 1], [2, 2])));
    await expect(z.data()).rejects.toThrow(/gather: index 2 is out of range for dim 1 of size 2/);
    expect(await values(x.mul(2).gather(1, int([2, 0, 1, 1], [2, 2])))).toEqual([6, 2, 10, 10]);
  });

  test("flush() is a sync point: it reports the error without a readback, and clears it", async () => {
    const x = wg.tensor([1, 2, 3], { device });
    const before = { ...gpu.stats };
    x.gather(0, int([3]));
    await expect(wg.flush()).rejects.toThrow(/gather: index 3 is out of range for dim 0 of size 3/);
    expect(gpu.stats.readbacks).toBe(before.readbacks);
    expect(gpu.stats.flagReads).toBe(before.flagReads + 1);
    await wg.flush(); // cleared: nothing pending, nothing reported
    expect(gpu.stats.flagReads).toBe(before.flagReads + 1);
  });

  test("the first bad launch is the one reported", async () => {
    const x = wg.tensor([1, 2, 3], { device });
    x.gather(0, int([5]));
    const logits = wg.zeros([2, 4], { device });
    const loss = wg.nn.functional.crossEntropy(logits, int([1, 9]));
    await expect(loss.data()).rejects.toThrow(/^gather: index 5 is out of range/);
    // One Error per sync point: the first failure; the flag is clear afterwards.
    expect(await values(x.gather(0, int([2])))).toEqual([3]);
  });

  test("two readbacks in flight each answer for the launches before them", async () => {
    const x = wg.tensor([1, 2, 3], { device });
    const good = x.mul(2);
    const first = good.data();
    const bad = x.gather(0, int([-4]));
    const second = bad.data();
    expect(Array.from(await first)).toEqual([2, 4, 6]);
    await expect(second).rejects.toThrow(/gather: index -4 is out of range/);
  });

  test("a bad label in a training step: no readback per step, the Error at the step's flush", async () => {
    const W = wg.randn([4, 3], { device, requiresGrad: true });
    const x = wg.randn([5, 4], { device });
    const step = (labels: number[]) =>
      wg.tidy(() => {
        W.grad?.dispose();
        W.grad = null;
        wg.nn.functional.crossEntropy(x.matmul(W), int(labels)).backward();
        wg.noGrad(() => W.sub_(W.grad!.mul(0.1)));
      });
    for (let i = 0; i < 3; i++) step([0, 1, 2, 0, 1]);
    await wg.flush();
    const before = { ...gpu.stats };
    for (let i = 0; i < 3; i++) step([0, 1, 2, 0, 1]);
    step([0, 1, 3, 0, 1]);
    expect(gpu.stats.readbacks).toBe(before.readbacks);
    expect(gpu.stats.buffersCreated).toBe(before.buffersCreated);
    await expect(wg.flush()).rejects.toThrow(/crossEntropy: target 3 in row 2 is out of range for 3 classes/);
    step([0, 1, 2, 0, 1]);
    await wg.flush();
    expect(Number.isFinite(await W.sum().item())).toBe(true);
  });

  test("the pending-check table stays bounded without a sync point, and a dropped launch still reports", () => {
    const flag = new ErrorFlag(gpu.gpu);
    const check = { idWord: 0, message: (bits: number, at: number) => `op: bad ${bits | 0} at ${at}` };
    const ids = Array.from({ length: (1 << 16) + 10 }, () => flag.register("op", check));
    const table = (flag as unknown as { table: FlagWindow }).table;
    expect(table.size).toBe(1 << 16);
    expect(ErrorFlag.verdict(table, Uint32Array.from([ids[(1 << 16) + 9], 0xffffffff, 4, 0]))).toMatch(/^op: bad -1 at 4\n[\s\S]*the launch was made at/);
    expect(ErrorFlag.verdict(table, Uint32Array.from([ids[0], 1, 0, 0]))).toMatch(/details were dropped .* Fix: call await wg.flush\(\) more often/);
    expect(ErrorFlag.verdict(table, Uint32Array.from([0, 0, 0, 0]))).toBeNull();
  });
});

describe("cpu: the same words, at the op itself", () => {
  test("gather, crossEntropy and nllLoss throw synchronously", () => {
    const x = wg.tensor([[1, 2, 3]], { device: "cpu" });
    expect(() => x.gather(1, int([3], [1, 1], "cpu"))).toThrow(/^gather: index 3 is out of range for dim 1 of size 3/);
    expect(() => wg.nn.functional.crossEntropy(x, int([3], [1], "cpu"))).toThrow(/^crossEntropy: target 3 in row 0 is out of range for 3 classes/);
    expect(() => wg.nn.functional.nllLoss(x, int([-2], [1], "cpu"))).toThrow(/^nllLoss: target -2 is out of range for 3 classes/);
  });

  test("a refused op leaves no tensor behind", async () => {
    const x = wg.tensor([[1, 2, 3]], { device: "cpu" });
    const i = int([3], [1, 1], "cpu");
    const before = wg.memory("cpu").tensors;
    for (let k = 0; k < 3; k++) expect(() => x.gather(1, i)).toThrow(/gather: index 3/);
    wg.autograd.detectAnomaly(() => expect(() => x.div(0)).toThrow(/anomaly detected: div produced Infinity/));
    expect(wg.memory("cpu").tensors).toBe(before);
  });
});

describe("ignoreIndex gradients against finite differences (float64, CPU)", () => {
  const F = wg.nn.functional;
  const f64 = (shape: number[], seed: number) =>
    wg.tensor(randomData(shape[0] * shape[1], -2, 2, seed), { shape, dtype: "float64", device: "cpu" });
  const labels = int([2, -100, 0, 3], [4], "cpu");
  const rows: { name: string; f: (x: wg.Tensor) => wg.Tensor }[] = [
    { name: "crossEntropy mean, an ignored row", f: (x) => F.crossEntropy(x, labels) },
    { name: "crossEntropy none, weighted rows", f: (x) => F.crossEntropy(x, labels, { reduction: "none" }).mul(wg.tensor([1, 2, 3, 4], { dtype: "float64", device: "cpu" })).sum() },
    { name: "crossEntropy labelSmoothing 0.2", f: (x) => F.crossEntropy(x, labels, { labelSmoothing: 0.2 }) },
    { name: "nllLoss ignoreIndex 0", f: (x) => F.nllLoss(x.logSoftmax(-1), int([2, 1, 0, 3], [4], "cpu"), { ignoreIndex: 0 }) },
    {
      // Second order: the gradient of crossEntropy, itself differentiated (its rules mask ignored rows).
      name: "d/dx of sum(dCE/dx · r), an ignored row",
      f: (x) => {
        const [g] = wg.autograd.grad(F.crossEntropy(x, labels, { reduction: "sum" }), x, { createGraph: true });
        return g!.mul(wg.tensor(randomData(16, -1, 1, 9), { shape: [4, 4], dtype: "float64", device: "cpu" })).sum();
      },
    },
  ];
  test.each(rows)("$name", async ({ f }) => {
    const res = await wg.gradcheck(f, [f64([4, 4], 3)], { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });
});
