// Matmul epilogues on WebGPU: elementwise consumers of a product (bias with broadcasting, ReLU,
// GELU, a scale) run in the matmul's store, one launch, for every matmul variant, with the values
// of the unfused kernels (the same accumulator and ops in the same order: equal to the last bit)
// and of the CPU (float32 sums in another order: 1e-5 relative), the same memory() and gradients.
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import * as wg from "../src/node.js";
import { gpu, launched, mlpGrads, on } from "./fusion-helpers.js";
import { expectClose, settle, startWebgpu } from "./helpers.js";

/** relu(a @ b + bias) · 0.5 and gelu(a @ b + bias) on [batch, M, K] @ [K, N] with odd sizes. */
function layer(device: "cpu" | "webgpu", [batch, M, K, N]: number[]) {
  const a = on(device, batch * M * K, 1, [batch, M, K]);
  const b = on(device, K * N, 2, [K, N]);
  const bias = on(device, N, 3, [N]);
  return { a, b, bias, run: () => wg.tidy(() => [a.matmul(b).add(bias).relu().mul(0.5), a.matmul(b).add(bias).gelu()]) };
}

describe("matmul epilogues (webgpu)", () => {
  beforeAll(async () => {
    await startWebgpu();
    await wg.init({ fusion: true });
  });
  afterAll(() => gpu().setForce({}));

  const variants = () => ["tiled", "blocked", "wide", ...(gpu().caps.subgroups ? ["subgroup", "narrow"] : [])];
  test.each([[[1, 37, 19, 29]], [[3, 5, 70, 66]]])("every matmul variant, sizes %j: one launch each, the unfused values exactly, the CPU's closely", async (sizes) => {
    const ref = layer("cpu", sizes);
    const want = await Promise.all(ref.run().map((t) => t.data()));
    for (const matmul of variants()) {
      gpu().setForce({ matmul });
      const g = layer("webgpu", sizes);
      const { value, names } = await launched(g.run);
      expect(names.length, matmul).toBe(2);
      expect(names[0]).toBe("matmul+fused(add, relu, mul)");
      expect(names[1]).toBe("matmul+fused(add, gelu)"); // the exact gelu is one op
      const fused = await Promise.all(value.map((t) => t.data()));
      await wg.init({ fusion: false });
      const unfusedTensors = g.run();
      const unfused = await Promise.all(unfusedTensors.map((t) => t.data()));
      await wg.init({ fusion: true });
      fused.forEach((v, k) => {
        expect(Array.from(v), `${matmul} output ${k} vs unfused`).toEqual(Array.from(unfused[k]));
        expectClose(v, want[k], 1e-5, 1e-5, `${matmul} output ${k} vs cpu`);
      });
      // Disposed here, not left to the FinalizationRegistry: a collection during a later test would
      // change the tensor counts that test compares.
      for (const t of [g.a, g.b, g.bias, ...value, ...unfusedTensors]) t.dispose();
    }
    gpu().setForce({});
  });

  test("values a caller still holds are written too; memory() is as unfused", async () => {
    // The inputs are returned with the results so that they stay reachable: a garbage collection
    // while launched() awaits must not lower the count.
    const run = (device: "cpu" | "webgpu") => {
      const { a, b, bias } = layer(device, [1, 9, 7, 5]);
      const z = a.matmul(b);
      const h = z.add(bias);
      return { inputs: [a, b, bias], results: [z, h, h.relu()] };
    };
    await settle();
    const held = wg.memory("webgpu");
    const { value } = await launched(() => run("webgpu"));
    // Every tensor made so far in this file was disposed, and every one made here is reachable:
    // only the 3 inputs and the 3 results are live, no intermediate.
    expect(wg.memory("webgpu").tensors).toBe(held.tensors + 3 + 3);
    const ref = run("cpu");
    for (let k = 0; k < 3; k++) expectClose(await value.results[k].data(), await ref.results[k].data(), 1e-5, 1e-5, `value ${k}`);
    for (const t of [...value.inputs, ...value.results]) t.dispose();
  });

  test("more live outputs than bindings: the matmul alone, then the chain, same values", async () => {
    const run = (device: "cpu" | "webgpu") => {
      const a = on(device, 12, 4, [3, 4]);
      const b = on(device, 20, 5, [4, 5]);
      const t = on(device, 15, 6, [3, 5]);
      // The sum realizes the chain inside the tidy, so all 13 values are live: 2 + 1 + 1 + 13 bindings.
      return wg.tidy(() => {
        let y = a.matmul(b).add(t);
        for (let k = 0; k < 12; k++) y = y.mul(1.01).add(t);
        return [y, y.sum()];
      });
    };
    const { value, names } = await launched(() => run("webgpu"));
    expect(names[0]).toBe("matmul");
    expect(names.length).toBeGreaterThan(2);
    const ref = run("cpu");
    for (let k = 0; k < 2; k++) expectClose(await value[k].data(), await ref[k].data(), 1e-5, 1e-5, `value ${k}`);
  });

  test("a dense operand repeated over leading dims (a bias [N], [5, N] over [2, 5, N]) fuses into a plain chain too", async () => {
    const run = (device: "cpu" | "webgpu") => {
      const x = on(device, 2 * 5 * 7, 40, [2, 5, 7]);
      const [bias, rows] = [on(device, 7, 41, [7]), on(device, 35, 42, [1, 5, 7])];
      return wg.tidy(() => x.mul(2).add(bias).sub(rows).exp());
    };
    const { value, names } = await launched(() => run("webgpu"));
    expect(names).toEqual(["fused(mul, add, sub, exp)"]);
    expectClose(await value.data(), await run("cpu").data(), 1e-6, 1e-5, "chain");
  });

  test("gradients through a fused Linear + ReLU match the CPU (backward of sum(f(x)·r))", async () => {
    const grads = async (device: "cpu" | "webgpu") => {
      const x = on(device, 6 * 5, 20, [6, 5]).requiresGrad_();
      const w = on(device, 7 * 5, 21, [7, 5]).requiresGrad_();
      const bias = on(device, 7, 22, [7]).requiresGrad_();
      const r = on(device, 6 * 7, 23, [6, 7]);
      wg.tidy(() => wg.nn.functional.linear(x, w, bias).relu().mul(r).sum().backward());
      return Promise.all([x, w, bias].map((t) => t.grad!.data()));
    };
    const [g, c] = [await grads("webgpu"), await grads("cpu")];
    g.forEach((v, k) => expectClose(v, c[k], 1e-5, 1e-4, `grad ${k}`));
  });

  test("backward of a two-layer MLP: the ReLU mask joins the input-gradient matmul's epilogue (weight gradients go first); gradients as the CPU's", async () => {
    const [g, c] = [await mlpGrads("webgpu"), await mlpGrads("cpu")];
    expect(g.names).toContain("matmul+fused(gt, mul)");
    expect(g.names).not.toContain("fused(gt, mul)");
    g.values.forEach((v, k) => expectClose(v, c.values[k], 1e-5, 1e-4, `grad ${k}`));
  });

  test("linear() leaves its raw product unwritten: the epilogue stores the biased result (and what follows), not x @ wᵀ", async () => {
    const x = on("webgpu", 6 * 5, 50, [6, 5]);
    const w = on("webgpu", 4 * 5, 51, [4, 5]).requiresGrad_();
    const b = on("webgpu", 4, 52, [4]).requiresGrad_();
    // The sum realizes the chain inside the tidy, which keeps every intermediate alive until it
    // ends: z and relu(z) are written, the product not.
    const { value, names, written } = await launched(() => wg.tidy(() => {
      const z = wg.nn.functional.linear(x, w, b);
      const h = z.relu();
      return [z, h, h.sum()];
    }));
    expect(names).toEqual(["matmul+fused(add, relu)", "sum"]);
    expect(written[0]).toBe(2);
    const want = x.matmul(w.T).add(b);
    expectClose(await value[0].data(), await want.data(), 1e-6, 1e-6, "z");
    for (const t of [x, w, b, want, ...value]) t.dispose();
  });

  test("WEBGRAD_DEBUG=kernels prints the generated epilogue once", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    process.env.WEBGRAD_DEBUG = "kernels";
    try {
      const [a, b] = [on("webgpu", 6, 30, [2, 3]), on("webgpu", 9, 31, [3, 3])];
      for (let k = 0; k < 2; k++) await wg.tidy(() => a.matmul(b).mul(3).exp().sigmoid()).data();
      const printed = log.mock.calls.map((c) => String(c[0])).filter((s) => s.includes("generated kernel matmul+fused(mul, exp, sigmoid)"));
      expect(printed.length).toBe(1);
      expect(printed[0]).toMatch(/fn store_c\(i: u32, acc: f32\) \{\n {2}let x0 = in0\[.*\];\n {2}let v0 = acc;\n {2}let v1 = op1\(v0, x0, v0\);/);
    } finally {
      delete process.env.WEBGRAD_DEBUG;
      log.mockRestore();
    }
  });
});
