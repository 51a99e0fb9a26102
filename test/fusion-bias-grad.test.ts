// The bias gradient beside the weight gradient on WebGPU: sum(G, 0) followed by Gᵀ @ X (Linear's
// backward) is one matmul launch that also writes the row sums of Gᵀ, for every matmul variant and
// both dispatch layouts, with the unfused sum's values (float32 sums in another order: 1e-5) and
// the CPU's, the same memory() and gradients. What does not match the pattern launches as before.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { gpu, launched, mlpGrads, on, withDispatchLimit } from "./fusion-helpers.js";
import { expectClose, settle, startWebgpu } from "./helpers.js";

/** [sum(G, 0), Gᵀ @ X] for G [M, N] and X [M, K] with seeded values. */
function pair(device: "cpu" | "webgpu", [M, N, K]: number[]) {
  const g = on(device, M * N, 1, [M, N]);
  const x = on(device, M * K, 2, [M, K]);
  return { inputs: [g, x], run: () => [g.sum(0), g.T.matmul(x)] };
}

async function values(ts: wg.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
}

describe("bias gradients fused into the weight gradient's matmul (webgpu)", () => {
  beforeAll(async () => {
    await startWebgpu();
    await wg.init({ fusion: true });
  });
  afterAll(() => gpu().setForce({}));

  const variants = () => ["tiled", "blocked", "wide", ...(gpu().caps.subgroups ? ["subgroup", "narrow"] : [])];

  test.each([[[37, 29, 19]], [[128, 10, 70]], [[5, 300, 3]], [[1, 7, 1]]])("every matmul variant, [M, N, K] = %j: one launch, the sum as unfused, both as the CPU's", async (sizes) => {
    const ref = pair("cpu", sizes);
    const want = await values(ref.run());
    for (const matmul of variants()) {
      gpu().setForce({ matmul });
      const w = pair("webgpu", sizes);
      const { value, names } = await launched(w.run);
      expect(names, matmul).toEqual(["matmul"]);
      const fused = await values(value);
      await wg.init({ fusion: false });
      const unfusedTensors = w.run();
      const unfused = await values(unfusedTensors);
      await wg.init({ fusion: true });
      expectClose(fused[0], unfused[0], 1e-5, 1e-5, `${matmul}: the row sums vs the unfused sum`);
      expect(Array.from(fused[1]), `${matmul}: the product vs unfused`).toEqual(Array.from(unfused[1]));
      fused.forEach((v, k) => expectClose(v, want[k], 1e-5, 1e-5, `${matmul} output ${k} vs cpu`));
      for (const t of [...w.inputs, ...value, ...unfusedTensors]) t.dispose();
    }
    gpu().setForce({});
  });

  test("a split dispatch (the flat layout, spare workgroups) writes the same row sums", async () => {
    const want = await values(pair("cpu", [33, 70, 9]).run());
    for (const matmul of variants()) {
      await withDispatchLimit(5, { matmul }, async () => {
        const w = pair("webgpu", [33, 70, 9]);
        const { value, names } = await launched(w.run);
        expect(names, matmul).toEqual(["matmul"]);
        (await values(value)).forEach((v, k) => expectClose(v, want[k], 1e-5, 1e-5, `${matmul} output ${k}`));
        for (const t of [...w.inputs, ...value]) t.dispose();
      });
    }
  });

  test("what is not a column sum beside Gᵀ @ X launches as before, with the right values", async () => {
    const cases: [string, (g: wg.Tensor, x: wg.Tensor) => wg.Tensor[], string[]][] = [
      ["a sum over the last dim", (g, x) => [g.sum(1), g.T.matmul(x)], ["sum", "matmul"]],
      ["the matmul reads another tensor", (g, x) => [g.sum(0), x.T.matmul(x)], ["sum", "matmul"]],
      ["the matmul reads G untransposed", (g, x) => [g.sum(0), g.matmul(x.T.matmul(x))], ["sum", "matmul", "matmul"]],
      ["the sum has consumers of its own", (g, x) => [g.sum(0).mul(2), g.T.matmul(x)], ["sum+fused(mul)", "matmul"]],
      ["a batched product", (g, x) => [g.sum(0), g.T.unsqueeze(0).matmul(x.unsqueeze(0))], ["sum", "matmul"]],
    ];
    for (const [what, f, launches] of cases) {
      const [g, x] = [on("webgpu", 8 * 6, 3, [8, 6]), on("webgpu", 8 * 6, 4, [8, 6])];
      const [gc, xc] = [on("cpu", 8 * 6, 3, [8, 6]), on("cpu", 8 * 6, 4, [8, 6])];
      const { value, names } = await launched(() => f(g, x));
      expect(names, what).toEqual(launches);
      const [got, want] = [await values(value), await values(f(gc, xc))];
      got.forEach((v, k) => expectClose(v, want[k], 1e-5, 1e-5, `${what}: output ${k}`));
      for (const t of [g, x, ...value]) t.dispose();
    }
  });

  test("a sum dropped before it is written still leaves memory() as unfused; one read right after sees the sums", async () => {
    await settle();
    const held = wg.memory("webgpu");
    const [g, x] = [on("webgpu", 6 * 4, 5, [6, 4]), on("webgpu", 6 * 3, 6, [6, 3])];
    const [gc, xc] = [on("cpu", 6 * 4, 5, [6, 4]), on("cpu", 6 * 3, 6, [6, 3])];
    // The sum's output is dropped when the tidy ends, after the matmul took it over.
    const { value: dw, names } = await launched(() => wg.tidy(() => (g.sum(0), g.T.matmul(x))));
    expect(names).toEqual(["matmul"]);
    expectClose(await dw.data(), await gc.T.matmul(xc).data(), 1e-5, 1e-5, "the product");
    expect(wg.memory("webgpu").tensors).toBe(held.tensors + 3);
    for (const t of [g, x, dw]) t.dispose();
    await settle();
    expect(wg.memory("webgpu").tensors).toBe(held.tensors);
    expect(wg.memory("webgpu").bytesInUse).toBe(held.bytesInUse);
    // G [1, N] and X [1, 1]: the product and the sums have N elements each. An elementwise op on the
    // sums must not join the product's chain, which writes them.
    const [g1, x1] = [on("webgpu", 5, 7, [1, 5]), on("webgpu", 1, 8, [1, 1])];
    const r = wg.tidy(() => {
      const db = g1.sum(0);
      const dw1 = g1.T.matmul(x1);
      return [db.add(1), dw1.reshape([5]).add(db)];
    });
    const [gc1, xc1] = [on("cpu", 5, 7, [1, 5]), on("cpu", 1, 8, [1, 1])];
    expectClose(await r[0].data(), await gc1.sum(0).add(1).data(), 1e-6, 1e-6, "sums + 1");
    expectClose(await r[1].data(), await gc1.T.matmul(xc1).reshape([5]).add(gc1.sum(0)).data(), 1e-6, 1e-6, "product + sums");
    for (const t of [g1, x1, ...r]) t.dispose();
  });

  test("an MLP's backward: no bias-gradient sum launches; every gradient as the CPU's", async () => {
    const [g, c] = [await mlpGrads("webgpu"), await mlpGrads("cpu")];
    // Forward: two matmuls (bias, ReLU and ·r in their epilogues) and the loss's sum; backward: the
    // upstream gradient's ·r, then per layer the weight gradient (with the bias's) and the input's (with ReLU's mask).
    expect(g.names).toEqual(["matmul+fused(add, relu)", "matmul+fused(add, mul)", "sum", "mul", "matmul", "matmul+fused(gt, mul)", "matmul"]);
    g.values.forEach((v, k) => expectClose(v, c.values[k], 1e-5, 1e-4, `grad ${k}`));
  });

  test("an MLP training step with crossEntropy and SGD: 7 launches, none for the loss's backward; the CPU's parameters", async () => {
    const step = (device: "cpu" | "webgpu") => {
      wg.manualSeed(7);
      const model = new wg.nn.Sequential(new wg.nn.Linear(20, 16, { device }), new wg.nn.ReLU(), new wg.nn.Linear(16, 5, { device }));
      const opt = new wg.optim.SGD(model.parameters(), { lr: 0.1 });
      const x = on(device, 12 * 20, 3, [12, 20]);
      const t = wg.tensor([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, -100, 2], { dtype: "int32", device });
      return {
        model,
        run: () => wg.tidy(() => {
          opt.zeroGrad();
          wg.nn.functional.crossEntropy(model.forward(x), t).backward();
          opt.step();
        }),
      };
    };
    const [g, c] = [step("webgpu"), step("cpu")];
    g.run(); // warm-up: the optimizer's first step takes its other branch
    c.run();
    const { names } = await launched(() => g.run());
    c.run();
    // Forward: two matmuls with their epilogues, the loss with its gradient; backward: per layer the
    // weight gradient (with the bias's) and the input's (with ReLU's mask); one update for the four
    // parameters (small enough to share a launch on an emulator too).
    expect(names).toEqual(["matmul+fused(add, relu)", "matmul+fused(add)", "crossEntropyMean", "matmul", "matmul+fused(gt, mul)", "matmul", "optimizerStep"]);
    const [gp, cp] = [g.model.parameters(), c.model.parameters()];
    for (let k = 0; k < gp.length; k++) expectClose(await gp[k].data(), await cp[k].data(), 1e-5, 1e-5, `parameter ${k}`);
  });
});
