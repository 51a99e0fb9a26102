// Shared by the fusion tests: seeded operands and the names of the kernels a function launches.
import { vi } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { randomData } from "./helpers.js";

export const gpu = () => webgpuBackend() as WebGpuBackend;

/** A float32 tensor of n seeded values in [-1, 1) on `device`. */
export const on = (device: "cpu" | "webgpu", n: number, seed: number, shape: number[]) => wg.tensor(Float32Array.from(randomData(n, -1, 1, seed)), { device, shape });

/** Names of the kernels `fn` launches, flushed before and after. */
export async function launched<T>(fn: () => T): Promise<{ value: T; names: string[] }> {
  await wg.flush();
  const names: string[] = [];
  const spy = vi.spyOn(gpu(), "run").mockImplementation(function (this: WebGpuBackend, ...args) {
    names.push(args[0].name);
    return WebGpuBackend.prototype.run.apply(this, args);
  });
  try {
    const value = fn();
    await wg.flush();
    return { value, names };
  } finally {
    spy.mockRestore();
  }
}
