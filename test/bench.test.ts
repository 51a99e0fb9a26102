/**
 * Smoke test of the benchmark runner (the suite itself never runs in npm test):
 * a few tiny cases, few runs, on WebGPU; figures must be sane and the counts
 * taken from the wrapped WebGPU prototypes must match what the cases do.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { suite, type BenchCase } from "../bench/cases.js";
import { installCounters, peakBytes, resetPeak, since, snapshot } from "../bench/counters.js";
import { resultsTable } from "../bench/report.js";
import { runSuite, type Library } from "../bench/runner.js";
import { webgradImpl, webgradLiveTensors } from "../bench/webgrad-impl.js";
import { runBench } from "../src/cli/bench.js";
import { webgpuBackend } from "../src/engine/device.js";
import { dawnGpu } from "../src/platform/node.js";
import { startWebgpu } from "./helpers.js";

const TINY: BenchCase[] = [
  { id: "matmul 32", shape: "32x32 @ 32x32", spec: { kind: "matmul", batch: 0, n: 32 }, flops: 2 * 32 ** 3, readbacks: 0 },
  { id: "chain 10", shape: "10 ops on [256]", spec: { kind: "chain", size: 256, ops: 10 }, ops: 10, readbacks: 1 },
  { id: "readback 4K", shape: "[4096]", spec: { kind: "readback", size: 4096 }, bytes: 4096 * 4, readbacks: 1 },
];

beforeAll(async () => {
  await startWebgpu();
  installCounters();
});

describe("bench runner", () => {
  test("the counters see what webgrad's backend did", async () => {
    const stats = (webgpuBackend() as unknown as { stats: { launches: number; submits: number; readbacks: number } }).stats;
    const [before, own] = [snapshot(), { ...stats }];
    const x = wg.randn([64, 64]);
    await x.matmul(x).relu().sum().data();
    x.dispose();
    const d = since(before);
    expect(d.launches).toBe(stats.launches - own.launches);
    expect(d.submits).toBe(stats.submits - own.submits);
    expect(d.readbacks).toBe(1);
  });

  test("tiny cases give positive times, rates and the expected counts", async () => {
    const lib: Library = { name: "webgrad", impl: webgradImpl("webgpu"), liveTensors: () => webgradLiveTensors("webgpu") };
    const results = await runSuite(TINY, [lib], { warmup: 1, runs: 2, minRuns: 2, budgetMs: 0 });
    expect(results.map((m) => m.caseId)).toEqual(TINY.map((c) => c.id));
    for (const [i, m] of results.entries()) {
      expect(m.error, m.caseId).toBeUndefined();
      expect(m.runs).toBe(2);
      expect(m.minMs).toBeGreaterThan(0);
      expect(m.minMs <= m.medianMs && m.medianMs <= m.maxMs).toBe(true);
      expect(m.medianHostMs).toBeGreaterThanOrEqual(0);
      expect(m.leakedTensors).toBe(0);
      expect(m.counts!.readbacks).toBe(TINY[i].readbacks);
      expect(m.counts!.submits).toBeGreaterThanOrEqual(1);
    }
    const [matmul, chain, readback] = results;
    expect(matmul.gflops).toBeGreaterThan(0);
    expect(matmul.counts!.launches).toBe(1);
    expect(chain.usPerOp).toBeGreaterThan(0);
    expect(chain.counts!.launches).toBeGreaterThan(0);
    expect(chain.counts!.launches).toBeLessThanOrEqual(10);
    expect(readback.gbps).toBeGreaterThan(0);
    expect(readback.counts!.launches).toBe(0);
    // After warm-up, nothing new is compiled and no buffer is created.
    for (const m of results) expect([m.counts!.pipelines, m.counts!.buffers]).toEqual([0, 0]);
    expect(resultsTable(results)).toMatch(/chain 10\s+webgrad/);
  });

  test("case ids are unique and the quick suite is part of the default one", () => {
    const ids = suite().map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(suite(true).every((c) => ids.includes(c.id))).toBe(true);
  });

  test("webgrad bench --json writes every figure", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "webgrad-bench-")), "bench.json");
    const code = await runBench(["--quick", "--filter", "^readback", "--runs", "2", "--warmup", "1", "--json", file]);
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(file, "utf8"));
    expect(doc.adapter.vendor).toBeTypeOf("string");
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({ caseId: "readback 1M", library: "webgrad", runs: 2 });
    expect(doc.results[0].counts.readbacks).toBe(1);
    expect(await runBench(["--filter", "no such case"])).toBe(2);
  });

  test("peak memory: a device's live buffer bytes, up at createBuffer and down at destroy", () => {
    const device = (webgpuBackend() as unknown as { gpu: GPUDevice }).gpu;
    resetPeak(device);
    const start = peakBytes(device);
    const a = device.createBuffer({ size: 1 << 20, usage: GPUBufferUsage.STORAGE });
    const b = device.createBuffer({ size: 1 << 16, usage: GPUBufferUsage.STORAGE });
    expect(peakBytes(device) - start).toBe((1 << 20) + (1 << 16));
    a.destroy();
    b.destroy();
    // The peak stays; a new one starts from what the device holds now, without the two buffers.
    expect(peakBytes(device) - start).toBe((1 << 20) + (1 << 16));
    resetPeak(device);
    expect(peakBytes(device)).toBe(start);
  });

  test("each case reports the peak GPU memory of the library's own device", async () => {
    const lib: Library = {
      name: "webgrad", impl: webgradImpl("webgpu"), liveTensors: () => webgradLiveTensors("webgpu"),
      gpuDevice: () => (webgpuBackend() as unknown as { gpu: GPUDevice }).gpu,
    };
    const [m] = await runSuite([TINY[0]], [lib], { warmup: 1, runs: 2, minRuns: 2, budgetMs: 0 });
    // At least both 32x32 inputs and the output are held while it runs.
    expect(m.peakBytes).toBeGreaterThanOrEqual(3 * 32 * 32 * 4);
    expect(resultsTable([m])).toMatch(/Peak GPU memory[^]*matmul 32 +\d/);
  });
});

describe("jax-js comparison (--compare jax)", () => {
  test("jax-js runs the cases on the same adapter: counted launches and readbacks, nothing failing", async () => {
    const { loadJax } = await import("../bench/jax-impl.js");
    const jax = await loadJax(dawnGpu()!);
    expect(jax.version).toMatch(/^0\.1\./);
    const lib: Library = { name: "jax", impl: jax.impl, liveTensors: jax.liveTensors, gpuDevice: jax.gpuDevice };
    const mlp: BenchCase = { id: "mlp tiny", shape: "8-4-3", spec: { kind: "mlpStep", batch: 4, sizes: [8, 4, 3], optimizer: "adam" }, readbacks: 0 };
    const sum: BenchCase = { id: "sum tiny", shape: "[8, 8].sum(1)", spec: { kind: "sum", rows: 8, cols: 8, dim: 1 }, readbacks: 0 };
    const results = await runSuite([...TINY, mlp, sum], [lib], { warmup: 1, runs: 2, minRuns: 2, budgetMs: 0 });
    for (const m of results) {
      expect(m.error, m.caseId).toBeUndefined();
      expect(m.peakBytes, m.caseId).toBeGreaterThan(0);
    }
    const [matmul, chain, readback, step, reduce] = results;
    expect(matmul.counts!.launches).toBe(1);
    // jit fuses the whole chain; the run ends with its one readback.
    expect(chain.counts!.launches).toBe(1);
    expect(chain.counts!.readbacks).toBe(1);
    expect(readback.counts!.launches).toBe(0);
    expect(step.counts!.launches).toBeGreaterThan(5);
    expect(reduce.counts!.launches).toBe(1);
    // The device is jax-js's own, not webgrad's.
    expect(jax.gpuDevice()).not.toBe((webgpuBackend() as unknown as { gpu: GPUDevice }).gpu);
  });
});
