// Tensor lifetimes around tidy(): what a scope disposes, and what the FinalizationRegistry reclaims
// once nobody holds it. A tensor made inside a tidy is handed to the finalizer only when it outlives
// every scope (returned from the outermost, or kept), so each case below drops such a tensor and
// checks that a collection gives its memory back.
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { settle } from "./helpers.js";

describe("tidy and the finalizer (cpu)", () => {
  beforeAll(() => wg.init({ device: "cpu" }));

  /** Live tensors after `make` runs and its results are dropped and collected, relative to before. */
  async function leftAfterDrop(make: () => unknown): Promise<{ held: number; after: number }> {
    await settle();
    const before = wg.memory("cpu").tensors;
    let held = 0;
    (() => {
      make();
      held = wg.memory("cpu").tensors - before;
    })();
    await settle();
    return { held, after: wg.memory("cpu").tensors - before };
  }

  const x = () => wg.ones([64], { device: "cpu" });

  test("intermediates are disposed when the tidy ends; what it returns lives on", () => {
    const before = wg.memory("cpu").tensors;
    const y = wg.tidy(() => x().mul(2).add(1).exp());
    expect(wg.memory("cpu").tensors).toBe(before + 1);
    y.dispose();
    expect(wg.memory("cpu").tensors).toBe(before);
  });

  test.each([
    ["returned from a tidy", () => wg.tidy(() => x().mul(2))],
    ["returned from nested tidies", () => wg.tidy(() => wg.tidy(() => [x().mul(2), { a: x().add(1) }]))],
    ["kept inside a tidy", () => wg.tidy(() => void wg.keep(x().mul(3)))],
    ["kept inside nested tidies", () => wg.tidy(() => wg.tidy(() => void wg.keep(x().neg())))],
    ["made outside any tidy", () => x().mul(2)],
  ])("a tensor %s and then dropped is reclaimed by a collection", async (_what, make) => {
    const { held, after } = await leftAfterDrop(make);
    expect(held).toBeGreaterThan(0);
    expect(after).toBe(0);
  });

  test("a disposed tensor is not released twice by the finalizer", async () => {
    await settle();
    const before = wg.memory("cpu");
    (() => {
      const y = wg.tidy(() => x().mul(2));
      y.dispose();
      wg.keep(wg.tidy(() => x().add(1))).dispose();
    })();
    await settle();
    expect(wg.memory("cpu").tensors).toBe(before.tensors);
    expect(wg.memory("cpu").bytesInUse).toBe(before.bytesInUse);
  });
});
