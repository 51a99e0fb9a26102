// Reduction prologues and epilogues on WebGPU: the pending elementwise chain that produces a
// reduction's input ((a - b)², a mask) runs inside the reduction's loads, and elementwise consumers
// of its result (a mean's scale) in its store; one launch, with the CPU's values (float32 sums in
// another order: 1e-5 relative), the unfused values, the same memory(), errors and gradients.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { crossEntropyRows } from "../src/ops/index.js";
import { gpu, launched, on } from "./fusion-helpers.js";
import { expectClose, settle, startWebgpu } from "./helpers.js";

describe("reduction prologues (webgpu)", () => {
  beforeAll(async () => {
    await startWebgpu();
    await wg.init({ fusion: true });
  });
  afterAll(() => gpu().setForce({}));

  const cases: [string, (a: Tensor, b: Tensor) => Tensor, string][] = [
    ["(a - b)² summed over the rows", (a, b) => a.sub(b).pow(2).sum(1), "fused(sub, pow)+sum"],
    ["(a - b)² summed over everything", (a, b) => a.sub(b).pow(2).sum(), "fused(sub, pow)+sum"],
    ["a column max of a·b + 1", (a, b) => a.mul(b).add(1).max(0), "fused(mul, add)+max"],
    ["the argmax of exp(a) - b per row", (a, b) => a.exp().sub(b).argmax(1), "fused(exp, sub)+argmax"],
    ["a count of a > b over dims (0, 2)", (a, b) => a.gt(b).reshape([4, 5, 7]).sum([0, 2]), "fused(gt)+sum"],
  ];
  test.each(cases)("%s: one launch, the CPU's and the unfused values", async (_name, f, name) => {
    const run = (device: "cpu" | "webgpu") => wg.tidy(() => f(on(device, 140, 1, [20, 7]), on(device, 140, 2, [20, 7])));
    const { value, names } = await launched(() => run("webgpu"));
    expect(names).toEqual([name]);
    await wg.init({ fusion: false });
    const unfused = await run("webgpu").data();
    await wg.init({ fusion: true });
    const got = await value.data();
    expectClose(got, unfused, 1e-6, 1e-6, "vs unfused");
    expectClose(got, await run("cpu").data(), 1e-5, 1e-5, "vs cpu");
  });

  test.each(["rows", "rows-strided", "threads"])("every reduce entry takes a prologue (reduce=%s)", async (reduce) => {
    gpu().setForce({ reduce });
    const run = (device: "cpu" | "webgpu") => wg.tidy(() => on(device, 6 * 300, 3, [6, 300]).mul(2).abs().sum(1));
    const { value, names } = await launched(() => run("webgpu"));
    gpu().setForce({});
    expect(names).toEqual(["fused(mul, abs)+sum"]);
    expectClose(await value.data(), await run("cpu").data(), 1e-5, 1e-5, reduce);
  });

  test("a value the caller still holds is written by the prologue; memory() is as unfused", async () => {
    const run = (device: "cpu" | "webgpu") => {
      const [a, b] = [on(device, 60, 4, [6, 10]), on(device, 60, 5, [6, 10])];
      const d = a.sub(b);
      return { inputs: [a, b], d, s: wg.tidy(() => d.square().sum(0)) };
    };
    await settle();
    const held = wg.memory("webgpu");
    const { value, names } = await launched(() => run("webgpu"));
    expect(names).toEqual(["fused(sub, mul)+sum"]);
    expect(wg.memory("webgpu").tensors).toBe(held.tensors + 2 + 2); // a, b, d and the sum: the square was never a tensor the caller holds
    const ref = run("cpu");
    expectClose(await value.d.data(), await ref.d.data(), 1e-6, 1e-6, "d");
    expectClose(await value.s.data(), await ref.s.data(), 1e-5, 1e-5, "sum");
    for (const t of [...value.inputs, value.d, value.s]) t.dispose();
  });

  test("a chain value read other than whole (a slice) is not a prologue: the chain runs, then the reduction", async () => {
    const run = (device: "cpu" | "webgpu") => wg.tidy(() => on(device, 60, 6, [6, 10]).exp().slice(1, 2, 8).sum(1));
    const { value, names } = await launched(() => run("webgpu"));
    expect(names).toEqual(["exp", "sum"]);
    expectClose(await value.data(), await run("cpu").data(), 1e-5, 1e-5, "sliced");
  });

  test("mseLoss forward and backward: the loss is one launch; gradients as the CPU's", async () => {
    const grads = async (device: "cpu" | "webgpu") => {
      const x = on(device, 35, 7, [5, 7]).requiresGrad_();
      const y = on(device, 35, 8, [5, 7]);
      const { value: loss, names } = device === "webgpu" ? await launched(() => wg.nn.functional.mseLoss(x, y, { reduction: "sum" })) : { value: wg.nn.functional.mseLoss(x, y, { reduction: "sum" }), names: [] };
      loss.backward();
      return { names, loss: await loss.data(), grad: await x.grad!.data() };
    };
    const [g, c] = [await grads("webgpu"), await grads("cpu")];
    expect(g.names).toHaveLength(1);
    expect(g.names[0]).toMatch(/^fused\(.*\)\+sum$/);
    expectClose(g.loss, c.loss, 1e-5, 1e-5, "loss");
    expectClose(g.grad, c.grad, 1e-5, 1e-5, "grad");
  });
});

describe("reduction epilogues (webgpu)", () => {
  beforeAll(async () => {
    await startWebgpu();
    await wg.init({ fusion: true });
  });

  test("mean is one launch (the sum's store scales), and so is a normalized sum; the CPU's values", async () => {
    const run = (device: "cpu" | "webgpu") => {
      const x = on(device, 6 * 50, 9, [6, 50]);
      return [wg.tidy(() => x.mean(1)), wg.tidy(() => x.sum(0).mul(2).add(1).exp())];
    };
    const { value, names } = await launched(() => run("webgpu"));
    expect(names).toEqual(["sum+fused(mul)", "sum+fused(mul, add, exp)"]);
    const ref = run("cpu");
    for (let k = 0; k < 2; k++) expectClose(await value[k].data(), await ref[k].data(), 1e-5, 1e-5, `value ${k}`);
  });

  test("nllLoss's mean: the count is a prologue, the division the loss sum's epilogue", async () => {
    const run = (device: "cpu" | "webgpu") => {
      const logits = on(device, 8 * 5, 10, [8, 5]);
      const t = wg.tensor([0, 4, -100, 2, 2, 1, -100, 3], { dtype: "int32", device });
      return wg.nn.functional.nllLoss(logits.logSoftmax(1), t);
    };
    const { value, names } = await launched(() => run("webgpu"));
    expect(names).toEqual(["logSoftmax", "gather", "fused(neg, ne)+sum", "sum+fused(div)"]);
    expectClose(await value.data(), await run("cpu").data(), 1e-5, 1e-5, "loss");
  });

  test("crossEntropy's mean is one launch, and its backward none: the forward wrote the gradient; the values the CPU's", async () => {
    const run = (device: "cpu" | "webgpu") => {
      const logits = on(device, 8 * 5, 10, [8, 5]).requiresGrad_();
      const t = wg.tensor([0, 4, -100, 2, 2, 1, -100, 3], { dtype: "int32", device });
      const loss = wg.nn.functional.crossEntropy(logits, t);
      loss.backward();
      return [loss, logits.grad!];
    };
    const { value, names } = await launched(() => run("webgpu"));
    expect(names).toEqual(["crossEntropyMean"]);
    const want = run("cpu");
    for (let k = 0; k < 2; k++) expectClose(await value[k].data(), await want[k].data(), 1e-5, 1e-5, `value ${k}`);
    // Against the composite: the rows' losses summed over their count.
    const l = on("webgpu", 8 * 5, 10, [8, 5]);
    const t = wg.tensor([0, 4, -100, 2, 2, 1, -100, 3], { dtype: "int32", device: "webgpu" });
    const composite = crossEntropyRows(l, t).sum().div(t.ne(-100).sum());
    expectClose(await value[0].data(), await composite.data(), 1e-6, 1e-6, "vs composite");
    // Every target ignored: 0/0, NaN as PyTorch; the gradient is 0.
    const none = wg.tensor([-100, -100], { dtype: "int32", device: "webgpu" });
    const l2 = on("webgpu", 6, 11, [2, 3]).requiresGrad_();
    const nan = wg.nn.functional.crossEntropy(l2, none);
    nan.backward();
    expect(Number.isNaN(await nan.item())).toBe(true);
    expect(Array.from(await l2.grad!.data())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test.each(["webgpu", "cpu"] as const)("crossEntropy's gradient written in the forward (%s) is exactly the one backward computes from the logits", async (device) => {
    // Rows: kept, ignored, a NaN logit, and a row whose targets repeat; a [6, 7] batch.
    const data = Array.from({ length: 42 }, (_, i) => Math.sin(i * 1.7) * 3);
    data[3 * 7 + 2] = NaN;
    const targets = [0, -100, 6, 3, 3, 1];
    const make = () => wg.tensor(data, { device }).reshape([6, 7]).requiresGrad_();
    const t = wg.tensor(targets, { dtype: "int32", device });
    const grads = async (backward: (loss: Tensor, x: Tensor) => void) => {
      const x = make();
      const loss = wg.nn.functional.crossEntropy(x, t);
      backward(loss, x);
      return Array.from(await x.grad!.data());
    };
    // backward()'s own seed reads the forward's gradient; an explicit seed tensor and a graph-building
    // pass compute it from the logits (crossEntropyGrad). They must agree to the bit, NaN row included.
    const fromForward = await grads((loss) => loss.backward());
    const names = (await launched(() => wg.tidy(() => {
      const x = make();
      const loss = wg.nn.functional.crossEntropy(x, t);
      loss.backward(wg.onesLike(loss));
      return x.grad!;
    }))).names;
    if (device === "webgpu") expect(names).toContain("crossEntropyGrad");
    const seeded = await grads((loss) => loss.backward(wg.onesLike(loss)));
    const graph = await grads((loss, x) => void (x.grad = wg.autograd.grad(loss, [x], { createGraph: true })[0]!.detach()));
    expect(fromForward).toEqual(seeded);
    expect(fromForward).toEqual(graph);
    expect(fromForward.slice(7, 14)).toEqual(Array(7).fill(0));
    expect(fromForward.slice(21, 28).every(Number.isNaN)).toBe(true);
    // Twice with retainGraph: the saved gradient is read again, not consumed; a scaled loss scales it.
    const twice = await grads((loss) => (loss.backward(undefined, { retainGraph: true }), loss.backward()));
    expect(twice).toEqual(fromForward.map((v) => v * 2));
    const scaled = await grads((loss) => loss.mul(3).backward());
    expectClose(scaled, fromForward.map((v) => v * 3), 1e-6, 1e-7, "3 · loss");
  });

  test("crossEntropy's mean writes no gradient where backward cannot ask for it (noGrad, logits without grad)", async () => {
    const x = on("webgpu", 8 * 5, 10, [8, 5]).requiresGrad_();
    const t = wg.tensor([0, 4, -100, 2, 2, 1, -100, 3], { dtype: "int32", device: "webgpu" });
    // The launch's outputs: the loss and 1/kept, and the gradient only when a graph may need it.
    const outputs = async (f: () => Tensor) => {
      const { value, names, written } = await launched(() => wg.tidy(f));
      value.dispose();
      expect(names).toEqual(["crossEntropyMean"]);
      return written[0];
    };
    expect(await outputs(() => wg.nn.functional.crossEntropy(x, t))).toBe(3);
    expect(await outputs(() => wg.noGrad(() => wg.nn.functional.crossEntropy(x, t)))).toBe(2);
    expect(await outputs(() => wg.nn.functional.crossEntropy(x.detach(), t))).toBe(2);
    // Forced to the backward (a GPU's choice for large logits): two outputs, crossEntropyGrad's launch.
    gpu().setForce({ crossEntropy: "backward" });
    try {
      expect(await outputs(() => wg.nn.functional.crossEntropy(x, t))).toBe(2);
      const { names } = await launched(() => wg.tidy(() => wg.nn.functional.crossEntropy(x, t).backward()));
      expect(names).toEqual(["crossEntropyMean", "crossEntropyGrad"]);
      gpu().setForce({ crossEntropy: "sideways" });
      expect(() => wg.nn.functional.crossEntropy(x, t)).toThrow(/crossEntropy: unknown forced variant "sideways"/);
    } finally {
      gpu().setForce({});
    }
    x.grad = null;
    for (const v of [x, t]) v.dispose();
  });

  test("a refused reduction throws when called, not when its deferred launch is realized", () => {
    const x = wg.zeros(Array(18).fill(2), { device: "webgpu" });
    // Reversed dims never merge: 9 reduced strided dims, past the kernel's 8 addressed ones.
    const p = x.permute([...Array(18).keys()].reverse());
    expect(() => p.sum([0, 2, 4, 6, 8, 10, 12, 14, 16])).toThrow(/sum: webgpu reductions address at most 8 non-contiguous dims/);
    x.dispose();
  });
});
