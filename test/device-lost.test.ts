/** A lost WebGPU device becomes clear Errors, and init() afterwards gives a working device again. */
import { expect, test } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { startWebgpu, values } from "./helpers.js";

test("a destroyed device: ops throw naming the loss and the fix; init() recovers", async () => {
  await startWebgpu();
  const old = webgpuBackend() as WebGpuBackend;
  const a = wg.ones([4], { device: "webgpu" }).mul(2);
  expect(await values(a)).toEqual([2, 2, 2, 2]);
  const pending = a.add(1); // recorded, not yet submitted
  old.destroy();
  await old.gpu.lost;
  await expect(pending.data()).rejects.toThrow(/webgpu: .*(lost|destroyed)/i);
  expect(() => wg.ones([2], { device: "webgpu" })).toThrow(/GPU device was lost.*await wg.init\(\)/);

  const { device } = await wg.init({ device: "webgpu", quiet: true });
  expect(device).toBe("webgpu");
  expect(webgpuBackend()).not.toBe(old);
  const b = wg.tensor([1, 2, 3, 4], { device: "webgpu" });
  expect(await values(b.mul(2).add(0.5))).toEqual([2.5, 4.5, 6.5, 8.5]);
  expect(() => a.add(b)).toThrow(/earlier WebGPU device/);
});

test("loadStateDict with a tensor of a lost device loads nothing, naming the key", async () => {
  await startWebgpu();
  const old = webgpuBackend() as WebGpuBackend;
  const stale = wg.ones([2], { device: "webgpu" });
  old.destroy();
  await old.gpu.lost;
  await wg.init({ device: "webgpu", quiet: true });
  const model = new wg.nn.Linear(2, 2, { device: "webgpu" });
  const weight = await model.weight.tolist();
  const dict = { weight: wg.full([2, 2], 5, { device: "webgpu" }), bias: stale }; // the good key first: a half-load would copy it
  expect(() => model.loadStateDict(dict)).toThrow(/^loadStateDict: nothing was loaded: "bias" \[2\]: the dict's tensor cannot be read, its WebGPU device was lost/);
  expect(await model.weight.tolist()).toEqual(weight);
  model.loadStateDict({ weight: dict.weight, bias: wg.zeros([2], { device: "webgpu" }) });
  expect(await model.weight.tolist()).toEqual([[5, 5], [5, 5]]);
});
