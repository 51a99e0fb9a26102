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
