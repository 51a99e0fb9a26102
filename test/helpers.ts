import { expect } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";

export const DEVICES = ["cpu", "webgpu"] as const;
export type TestDevice = (typeof DEVICES)[number];

/** Start WebGPU; a missing adapter fails the suite (it must never silently skip in CI). */
export async function startWebgpu(): Promise<void> {
  const { device, adapterInfo } = await wg.init({ device: "webgpu", quiet: true });
  expect(device).toBe("webgpu");
  if (!(globalThis as { __printed?: boolean }).__printed) {
    (globalThis as { __printed?: boolean }).__printed = true;
    console.log(`webgpu adapter: ${adapterInfo.description} (vendor ${adapterInfo.vendor}, architecture ${adapterInfo.architecture})`);
  }
}

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
export function randomData(n: number, lo = -1, hi = 1, seed = 1): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4, what = ""): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0)
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}

export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/**
 * Collect garbage and let FinalizationRegistry callbacks run, so tensors that earlier
 * code dropped without dispose() are released before a memory measurement.
 */
export async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("settle: run node with --expose-gc (vitest.config.ts passes it)");
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}
