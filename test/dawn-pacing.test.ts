// Pacing Dawn's polling (src/platform/dawn-pacing.ts): on an emulator, while webgrad waits for
// its device, Dawn's native ticks sleep between polls after the first millisecond; every other
// setImmediate call behaves as Node's; results are the same either way.
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { dawnPacer, dawnPacingStats, isDawnTick } from "../src/platform/dawn-pacing.js";
import { startWebgpu } from "./helpers.js";

beforeAll(startWebgpu);

describe("Dawn's polling, paced on emulators", () => {
  test("only Dawn's tick is recognized: not promise resolvers, arrows, named or plain functions", async () => {
    let resolver: unknown;
    await new Promise<void>((r) => ((resolver = r), r()));
    expect([resolver, () => {}, function named() {}, function () {}, Math.max, setImmediate].map(isDawnTick)).toEqual([false, false, false, false, false, false]);
  });

  test("setImmediate keeps Node's behaviour for everything else: order, arguments, clearImmediate, promisify", async () => {
    const seen: string[] = [];
    await new Promise<void>((done) => {
      setImmediate((a: string, b: string) => seen.push(a + b), "x", "y");
      const cancelled = setImmediate(() => seen.push("cancelled"));
      clearImmediate(cancelled);
      setImmediate(() => (seen.push("last"), done()));
    });
    expect(seen).toEqual(["xy", "last"]);
    expect(await promisify(setImmediate)("value")).toBe("value");
  });

  test("on this adapter the backend's waits are paced (a long one sleeps between polls) and values are exact", async () => {
    const gpu = webgpuBackend() as unknown as { info: { emulated: boolean }; pacer: unknown };
    if (!gpu.info.emulated || process.env.WEBGRAD_DAWN_POLL === "spin") return void expect(gpu.pacer).toBeNull();
    expect(gpu.pacer).not.toBeNull();
    expect(dawnPacingStats().installed).toBe(true);
    const before = dawnPacingStats().pacedTicks;
    // A wait of many milliseconds on SwiftShader: 512² @ 512².
    const a = wg.tensor(Float32Array.from({ length: 512 * 512 }, (_, i) => (i % 7) - 3), { shape: [512, 512] });
    const c = a.matmul(a.T).sum(1);
    const got = await c.data();
    expect(dawnPacingStats().pacedTicks).toBeGreaterThan(before);
    // Row r of a·aᵀ summed: Σ_j Σ_k a[r,k]·a[j,k] = Σ_k a[r,k]·(column sum k), each column sum the same.
    const col = Array.from({ length: 512 }, (_, k) => Array.from({ length: 512 }, (_, j) => ((j * 512 + k) % 7) - 3).reduce((s, v) => s + v, 0));
    for (const r of [0, 1, 300, 511]) {
      let want = 0;
      for (let k = 0; k < 512; k++) want += (((r * 512 + k) % 7) - 3) * col[k];
      expect(got[r]).toBeCloseTo(want, 0);
    }
    a.dispose();
    c.dispose();
  });

  test("WEBGRAD_DAWN_POLL=spin keeps Dawn's own polling; =pace paces a GPU too", () => {
    const old = process.env.WEBGRAD_DAWN_POLL;
    try {
      process.env.WEBGRAD_DAWN_POLL = "spin";
      expect(dawnPacer(true)).toBeNull();
      process.env.WEBGRAD_DAWN_POLL = "pace";
      expect(dawnPacer(false)).not.toBeNull();
      delete process.env.WEBGRAD_DAWN_POLL;
      expect(dawnPacer(false)).toBeNull();
      expect(dawnPacer(true)).not.toBeNull();
    } finally {
      if (old === undefined) delete process.env.WEBGRAD_DAWN_POLL;
      else process.env.WEBGRAD_DAWN_POLL = old;
    }
  });
});
