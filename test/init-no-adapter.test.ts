/** init() where no WebGPU adapter exists: "webgpu" throws saying how to get one, "auto" falls back to CPU with one warning. */
import { expect, test, vi } from "vitest";
import * as wg from "../src/node.js";
import { setGpuProvider } from "../src/engine/device.js";

test("no adapter: webgpu throws with the fix, auto warns once and uses the CPU", async () => {
  setGpuProvider(async () => ({ gpu: null, reason: "this test's platform has no GPU" }));
  await expect(wg.init({ device: "webgpu" })).rejects.toThrow(
    /init: no WebGPU adapter: this test's platform has no GPU\. Fix: .*chromium-common libvulkan1.*device: "cpu"/,
  );
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  const { device, adapterInfo } = await wg.init({ device: "auto" });
  expect(device).toBe("cpu");
  expect(adapterInfo.architecture).toBe("cpu");
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0][0])).toMatch(/no WebGPU adapter .*using the CPU backend/);
  expect(wg.defaultDevice()).toBe("cpu");
  expect(await wg.ones([2]).add(1).tolist()).toEqual([2, 2]);
  expect(() => wg.ones([2], { device: "webgpu" })).toThrow(/WebGPU backend is not started.*init/);
  warn.mockRestore();
});
