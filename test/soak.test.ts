/**
 * Smoke test of the soak (`webgrad bench --soak`, issue 9): a short training run
 * of a small MLP whose memory must be identical at every checkpoint, the drift
 * check failing when a tensor leaks, and the loop without tidy staying bounded.
 */
import { beforeAll, describe, expect, test, vi } from "vitest";
import * as wg from "../src/node.js";
import { checkpoints, soakTraining, soakWithoutTidy } from "../bench/soak.js";
import { runBench } from "../src/cli/bench.js";
import { settle, startWebgpu } from "./helpers.js";

beforeAll(startWebgpu);

const SMALL = { sizes: [32, 16, 10], batch: 8 };

describe("soak", () => {
  test("checkpoints are the powers of ten below the step count, then the count", () => {
    expect(checkpoints(10_000)).toEqual([10, 100, 1000, 10_000]);
    expect(checkpoints(200)).toEqual([10, 100, 200]);
    expect(checkpoints(5)).toEqual([5]);
  });

  test("200 training steps: tensors, bytes in use and bytes pooled are the same at steps 10, 100 and 200", async () => {
    const before = wg.memory();
    const { rows, drift } = await soakTraining(200, "webgpu", undefined, SMALL);
    expect(rows.map((r) => r.step)).toEqual([10, 100, 200]);
    expect(drift).toEqual([]);
    expect(new Set(rows.map((r) => `${r.tensors} ${r.bytesInUse} ${r.bytesPooled}`)).size).toBe(1);
    expect(rows[0].tensors).toBeGreaterThan(before.tensors); // the model, its data and Adam's state are counted
    expect(rows[2].loss).toBeLessThan(rows[0].loss);
    expect(wg.memory().tensors).toBe(before.tensors);
  }, 300_000); // 20-50 s on the shared 2-core machine; it ran past the default minute once when the whole suite and a fuzz run shared it

  test("a tensor leaked between checkpoints is reported as drift", async () => {
    const leaked: wg.Tensor[] = [];
    const { drift } = await soakTraining(30, "webgpu", () => void leaked.push(wg.zeros([4])), SMALL);
    leaked.forEach((t) => t.dispose());
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatch(/^step 30: \d+ tensors/);
  });

  test("a loop without tidy stays bounded: dropped tensors are reclaimed by the FinalizationRegistry", async () => {
    const gc = (globalThis as { gc?: () => void }).gc!;
    const before = wg.memory().tensors;
    const loop = await soakWithoutTidy(300, "webgpu", gc);
    expect(loop.bounded, JSON.stringify(loop)).toBe(true);
    // Each step makes about a dozen tensors; after a collection only the loop's own few are live.
    expect(loop.late.tensors - before).toBeLessThan(30);
  }, 180_000);

  test("webgrad bench --soak prints the table and exits 0; a bad --steps is a usage error", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      // The tensors the earlier tests only dropped are finalized now, not between the soak's checkpoints
      // (where they would read as drift: one CI run failed so).
      await settle();
      // vitest runs node with --expose-gc, so the loop collects at every check and 40 steps suffice.
      expect(await runBench(["--soak", "--steps", "12", "--loop", "40"])).toBe(0);
      const out = log.mock.calls.map((c) => c.join(" ")).join("\n");
      expect(out).toMatch(/step\s+tensors\s+bytesInUse\s+bytesPooled\s+seconds\s+loss/);
      expect(out).toMatch(/^\s+10\s+\d+/m);
      expect(out).toMatch(/memory identical at every checkpoint from step 10/);
      expect(out).toMatch(/without tidy: 40 forward\/backward steps whose tensors are only dropped \(gc\(\) at every check\)/);
      expect(out).toMatch(/^bounded$/m);
      expect(await runBench(["--soak", "--steps", "0"])).toBe(2);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  }, 180_000);
});
