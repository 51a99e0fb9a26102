/**
 * Anomaly detection (wg.autograd.detectAnomaly / setDetectAnomaly): the first NaN or Inf of a forward
 * op or of a backward rule throws, naming the op, its input shapes and the forward call site; on
 * WebGPU at the next sync point, through the device's error flag, with no readback per op.
 */
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { DEVICES, settle, startWebgpu, values } from "./helpers.js";

beforeAll(startWebgpu);
afterEach(() => wg.autograd.setDetectAnomaly(false));

describe.each(DEVICES)("anomaly mode on %s", (device) => {
  // Inf − Inf is NaN under IEEE on every device (inputs may hold Inf: only an op's output is checked).
  const nanOf = () => wg.tensor([[1, Infinity, 2]], { device }).sub(wg.tensor([[1, Infinity, 1]], { device }));

  test("off by default: Inf − Inf is NaN, no Error", async () => {
    expect((await values(nanOf()))[1]).toBeNaN();
  });

  test("a forward NaN names the op, its input shapes and the call site", async () => {
    const run = wg.autograd.detectAnomaly(async () => {
      const y = nanOf().mul(3).sum(); // sub makes the NaN; mul and sum only carry it
      await y.data();
    });
    await expect(run).rejects.toThrow(/^anomaly detected: sub produced NaN at flat element 1 of its output \[1, 3\] \(input shapes \[1, 3\], \[1, 3\]\)[\s\S]*anomaly\.test\.ts/);
  });

  test("a forward Inf (exp overflow) throws the same way", async () => {
    wg.autograd.setDetectAnomaly(true);
    const x = wg.tensor([1, 100], { device });
    await expect((async () => x.exp().data())()).rejects.toThrow(/anomaly detected: exp produced Infinity at flat element 1 of its output \[2\]/);
  });

  test("a multi-output op is checked too: crossEntropy's one-launch mean of all-ignored rows (0/0)", async () => {
    const run = wg.autograd.detectAnomaly(async () => {
      const loss = wg.nn.functional.crossEntropy(wg.zeros([2, 3], { device }), wg.tensor([-100, -100], { dtype: "int32", device }));
      await loss.data();
    });
    await expect(run).rejects.toThrow(/^anomaly detected: crossEntropy produced NaN at flat element 0 of its output \[\] \(input shapes \[2, 3\], \[2\]\)/);
  });

  test("a backward Inf names the backward node and its forward call site", async () => {
    const x = wg.tensor([0, 4], { device, requiresGrad: true });
    const r = wg.tensor([2, 3], { device });
    const run = wg.autograd.detectAnomaly(async () => {
      const y = x.sqrt(); // finite forward; d sqrt = 1 / (2 sqrt x) is Inf at 0
      y.mul(r).sum().backward();
      await x.grad!.data();
    });
    await expect(run).rejects.toThrow(
      /anomaly detected: SqrtBackward returned Infinity at flat element 0 of the gradient for its input 0 \(gradient \[2\]; the node's input shapes \[2\]\)[\s\S]*Its forward op was called at:\n[\s\S]*anomaly\.test\.ts/,
    );
  });

  test("finite work passes and gives the same values; the mode is restored after detectAnomaly", async () => {
    const x = wg.tensor([0.5, 2], { device, requiresGrad: true });
    const y = await wg.autograd.detectAnomaly(async () => {
      const out = x.log().mul(x).sum();
      out.backward();
      return values(x.grad!);
    });
    expect(y[0]).toBeCloseTo(Math.log(0.5) + 1, 5);
    expect(y[1]).toBeCloseTo(Math.log(2) + 1, 5);
    expect((await values(nanOf()))[1]).toBeNaN(); // off again: no Error
  });

  test("no tensors leak from the checks", async () => {
    await settle();
    const before = wg.memory(device).tensors;
    wg.autograd.setDetectAnomaly(true);
    wg.tidy(() => {
      const x = wg.randn([8, 8], { device, requiresGrad: true });
      x.T.matmul(x).relu().sum().backward(); // x.T is a strided view: the check copies it densely
      x.grad!.dispose();
      x.dispose();
    });
    await wg.flush(device);
    await settle();
    expect(wg.memory(device).tensors).toBe(before);
  });
});

describe("anomaly mode on webgpu costs no readback per op", () => {
  test("twenty ops: no readback, one flag read at the flush", async () => {
    const gpu = webgpuBackend() as WebGpuBackend;
    const x = wg.rand([64], { device: "webgpu" });
    await wg.flush();
    const before = { ...gpu.stats };
    wg.autograd.setDetectAnomaly(true);
    let y = x;
    for (let i = 0; i < 20; i++) y = y.mul(1.01).add(0.1);
    await wg.flush();
    expect(gpu.stats.readbacks).toBe(before.readbacks);
    expect(gpu.stats.flagReads).toBe(before.flagReads + 1);
    expect(gpu.stats.launches - before.launches).toBe(80); // each op and its check
  });

  test("setDetectAnomaly rejects a non-boolean", () => {
    expect(() => wg.autograd.setDetectAnomaly("yes" as unknown as boolean)).toThrow(/setDetectAnomaly: expected true or false/);
  });
});
