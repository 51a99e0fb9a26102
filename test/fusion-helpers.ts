// Shared by the WebGPU tests: seeded operands, the kernels a function launches, a lowered dispatch limit.
import { vi } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { randomData } from "./helpers.js";
import type { TypedArray } from "../src/dtype.js";

export const gpu = () => webgpuBackend() as WebGpuBackend;

/** A float32 tensor of n seeded values in [-1, 1) on `device`. */
export const on = (device: "cpu" | "webgpu", n: number, seed: number, shape: number[]) => wg.tensor(Float32Array.from(randomData(n, -1, 1, seed)), { device, shape });

/**
 * Names of the kernels `fn` launches, flushed before and after, and per launch how many of its
 * outputs are still referenced (an epilogue binds a spare for a product nobody holds).
 */
export async function launched<T>(fn: () => T): Promise<{ value: T; names: string[]; written: number[] }> {
  await wg.flush();
  const names: string[] = [];
  const written: number[] = [];
  const spy = vi.spyOn(gpu(), "run").mockImplementation(function (this: WebGpuBackend, ...args) {
    names.push(args[0].name);
    written.push(args[1].filter((v) => v.storage.refs > 0).length);
    return WebGpuBackend.prototype.run.apply(this, args);
  });
  try {
    const value = fn();
    await wg.flush();
    return { value, names, written };
  } finally {
    spy.mockRestore();
  }
}

/** Run fn with the adapter's per-dimension workgroup limit lowered and `force` set, so small launches take the split path. */
export async function withDispatchLimit(limit: number, force: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const b = gpu() as unknown as { caps: { maxWorkgroupsPerDim: number } };
  const saved = b.caps;
  gpu().setForce(force);
  b.caps = { ...b.caps, maxWorkgroupsPerDim: limit };
  try {
    await fn();
  } finally {
    b.caps = saved;
    gpu().setForce({});
  }
}

/**
 * The gradients of a seeded two-layer MLP (6-8-3, ReLU, batch 9) through sum(f(x)·r), and on
 * WebGPU the kernels its forward and backward launch.
 */
export async function mlpGrads(device: "cpu" | "webgpu"): Promise<{ names: string[]; values: TypedArray[] }> {
  const x = on(device, 9 * 6, 30, [9, 6]);
  const l1 = new wg.nn.Linear(6, 8, { device });
  const l2 = new wg.nn.Linear(8, 3, { device });
  wg.noGrad(() => [...l1.parameters(), ...l2.parameters()].forEach((p, k) => p.copy_(on(device, p.size, 31 + k, p.shape))));
  const r = on(device, 9 * 3, 40, [9, 3]);
  const run = () => wg.tidy(() => l2.forward(l1.forward(x).relu()).mul(r).sum().backward());
  const { names } = device === "webgpu" ? await launched(run) : (run(), { names: [] });
  return { names, values: await Promise.all([...l1.parameters(), ...l2.parameters()].map((p) => p.grad!.data())) };
}
