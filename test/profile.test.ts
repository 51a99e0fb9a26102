/** wg.profile: per-kernel times grouped by op, from timestamp queries on WebGPU and host time on the CPU. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { fusionEnabled } from "../src/engine/device.js";
import { DEVICES, startWebgpu } from "./helpers.js";

beforeAll(startWebgpu);

describe.each(DEVICES)("profile on %s", (device) => {
  test("counts every launch under its op name, with non-negative times that add up", async () => {
    const a = wg.randn([64, 64], { device });
    const b = wg.randn([64, 64], { device });
    const report = await wg.profile(() => {
      let c = a.matmul(b);
      for (let i = 0; i < 3; i++) c = c.add(1).relu();
      return c.sum();
    }, device);
    expect(report.source).toBe(device === "webgpu" ? "timestamp-query" : "host");
    const count = (name: string) => report.kernels.find((k) => k.name === name)?.count;
    expect(count("sum")).toBe(1);
    if (device === "webgpu" && fusionEnabled()) {
      // The six elementwise ops are the matmul's epilogue, one generated kernel listed under its own name.
      expect(count("matmul+fused(add, relu)")).toBe(1);
      expect(report.launches).toBe(2);
    } else {
      expect(count("matmul")).toBe(1);
      expect(count("add")).toBe(3);
      expect(count("relu")).toBe(3);
      expect(report.launches).toBe(8);
    }
    expect(report.kernels.every((k) => k.totalMs >= 0)).toBe(true);
    expect(report.kernels.reduce((s, k) => s + k.share, 0)).toBeCloseTo(1, 5);
    expect(report.totalMs).toBeGreaterThan(0);
    expect(await report.result.item()).toBeGreaterThan(0);
    expect(wg.formatProfile(report)).toMatch(/matmul.*\s1\s/);
  });
});
