/** The CNN modules: PyTorch's default init, buffers in the state dict, train/eval. */
import { describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { expectClose, values } from "./helpers.js";

const device = "cpu" as const;

describe("CNN modules", () => {
  test("Conv2d: weight [out, in / groups, kH, kW] and bias within ±1/√fanIn, spread as a uniform", async () => {
    wg.manualSeed(1);
    const conv = new wg.nn.Conv2d(8, 16, [3, 2], { groups: 2, device });
    expect(conv.weight.shape).toEqual([16, 4, 3, 2]);
    expect(conv.bias!.shape).toEqual([16]);
    const bound = 1 / Math.sqrt(4 * 3 * 2);
    const w = await values(conv.weight);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeGreaterThan((bound * bound) / 3 * 0.8); // U(−b, b) has variance b²/3
    expect(variance).toBeLessThan((bound * bound) / 3 * 1.2);
    expect(new wg.nn.Conv2d(1, 2, 3, { bias: false, device }).bias).toBeNull();
    expect(conv.forward(wg.zeros([2, 8, 5, 5], { device })).shape).toEqual([2, 16, 3, 4]);
  });

  test("BatchNorm2d: buffers are in stateDict, not in parameters, and survive a safetensors round trip", async () => {
    const net = new wg.nn.Sequential(new wg.nn.Conv2d(1, 2, 3, { device }), new wg.nn.BatchNorm2d(2, { device }));
    expect(net.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
    expect(Object.keys(net.stateDict())).toEqual(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"]);
    const x = wg.randn([4, 1, 5, 5], { device });
    net.forward(x);
    net.forward(x);
    const bn = net.modules[1] as wg.nn.BatchNorm2d;
    expect(await values(bn.numBatchesTracked!)).toEqual([2]);
    const mean = await values(bn.runningMean!);
    expect(mean.some((v) => v !== 0)).toBe(true);
    const copy = new wg.nn.Sequential(new wg.nn.Conv2d(1, 2, 3, { device }), new wg.nn.BatchNorm2d(2, { device }));
    copy.loadStateDict(wg.load(await wg.save(net.stateDict())));
    const bn2 = copy.modules[1] as wg.nn.BatchNorm2d;
    expectClose(await values(bn2.runningMean!), mean, 0);
    expectClose(await values(bn2.runningVar!), await values(bn.runningVar!), 0);
    expect(await values(bn2.numBatchesTracked!)).toEqual([2]);
    net.eval();
    copy.eval();
    expectClose(await values(copy.forward(x)), await values(net.forward(x)), 1e-6);
  });

  test("train() and eval() switch batch norm between batch and running statistics, and dropout off", async () => {
    const bn = new wg.nn.BatchNorm1d(3, { device });
    const x = wg.tensor([[1, 2, 3], [3, 6, 9]], { device });
    // Training: each column normalized by its own batch statistics → ±1 (up to eps).
    expectClose(await values(bn.forward(x)), [-1, -1, -1, 1, 1, 1], 1e-4);
    expectClose(await values(bn.runningMean!), [0.2, 0.4, 0.6], 1e-6);
    expectClose(await values(bn.runningVar!), [0.9 + 0.1 * 2, 0.9 + 0.1 * 8, 0.9 + 0.1 * 18], 1e-6); // unbiased batch variance
    bn.eval();
    const rm = [0.2, 0.4, 0.6], rv = [1.1, 1.7, 2.7];
    expectClose(await values(bn.forward(x)), [1, 2, 3, 3, 6, 9].map((v, i) => (v - rm[i % 3]) / Math.sqrt(rv[i % 3] + 1e-5)), 1e-5);
    expect(await values(bn.numBatchesTracked!)).toEqual([1]);
    const net = new wg.nn.Sequential(new wg.nn.Dropout(0.5), new wg.nn.Flatten());
    const ones = wg.ones([4, 2, 3], { device });
    expect((await values(net.forward(ones))).some((v) => v === 0)).toBe(true);
    net.eval();
    expect(await values(net.forward(ones))).toEqual(new Array(24).fill(1));
    expect(net.forward(ones).shape).toEqual([4, 6]);
  });

  test("registerBuffer refuses a tensor that requires grad, and a dotted name", () => {
    class M extends wg.nn.Module {
      forward(x: wg.Tensor) { return x; }
    }
    expect(() => new M().registerBuffer("a.b", wg.zeros([1]))).toThrow(/registerBuffer: name must be a non-empty string without dots/);
    expect(() => new M().registerBuffer("w", wg.zeros([1], { requiresGrad: true }))).toThrow(/requires grad; a buffer is never trained/);
  });

  test("BatchNorm refuses a bad eps or momentum where it is made, not at its first forward", () => {
    expect(() => new wg.nn.BatchNorm2d(4, { eps: 0 })).toThrow(/^BatchNorm2d: eps must be > 0 and momentum in \[0, 1\], got eps 0, momentum 0.1/);
    expect(() => new wg.nn.BatchNorm1d(4, { momentum: 1.5 })).toThrow(/^BatchNorm1d: eps must be > 0 and momentum in \[0, 1\], got eps 0.00001, momentum 1.5/);
    expect(new wg.nn.BatchNorm2d(4, { momentum: 0 }).momentum).toBe(0);
  });
});
