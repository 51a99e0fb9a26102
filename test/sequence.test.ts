/**
 * Sequence-model ops and modules against PyTorch 1.13's numbers (written in; no Python at test
 * time), on every device: layerNorm, embedding, the activations, Embedding, LayerNorm,
 * MultiheadAttention, ModuleList; their bad-input errors; second-order gradients of layerNorm;
 * no leaks.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { DEVICES, expectClose, settle, startWebgpu, values } from "./helpers.js";

const F = wg.nn.functional;
const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

beforeAll(startWebgpu);

// torch.nn.functional.layer_norm(x, [5], w, b, 1e-5) and the gradients of sum(y * r), float64.
const LN = {
  y: [-0.8787915178, 0.8026357588, 1.4431359481, 0.4434098144, -2.002195373, -0.3274604181, -1.173050838, -0.9801781394, 0.4256347836, 2.5867934112],
  dx: [1.7528641787, 1.1463804769, -0.4181303697, -1.5221124552, -0.9590018306, -0.0688602709, 0.0457491605, 0.0675192353, -0.1109525801, 0.0665444551],
  dw: [-0.843313437, -0.5614899804, -1.1162624737, -0.3416366447, -0.6369329547],
  db: [1.2836621855, 1.5004725925, 0.3377554178, -1.1354925304, -1.5647738827],
};

describe.each(DEVICES)("sequence ops on %s", (device) => {
  const t = (data: number[], shape: number[], requiresGrad = false) => wg.tensor(data, { shape, device, requiresGrad });

  test("layerNorm matches torch: biased variance, eps 1e-5, weight and bias, all three gradients", async () => {
    const x = t(seq(10, (i) => Math.sin(0.7 * i + 0.3) * 2 + 0.5), [2, 5], true);
    const w = t(seq(5, (i) => 1 + 0.1 * i), [5], true);
    const b = t(seq(5, (i) => 0.05 * i - 0.1), [5], true);
    const y = F.layerNorm(x, [5], { weight: w, bias: b });
    y.mul(t(seq(10, Math.cos), [2, 5])).sum().backward();
    expectClose(await values(y), LN.y, 1e-5, 1e-5, "y");
    expectClose(await values(x.grad!), LN.dx, 1e-5, 1e-4, "dx");
    expectClose(await values(w.grad!), LN.dw, 1e-5, 1e-4, "dw");
    expectClose(await values(b.grad!), LN.db, 1e-5, 1e-4, "db");
  });

  test("layerNorm of rows with a large mean keeps its precision (one pass, shifted sums)", async () => {
    const x = t(seq(512, (i) => 1000 + Math.sin(i)), [2, 256]);
    const ref = t(seq(512, (i) => Math.sin(i)), [2, 256]);
    expectClose(await values(F.layerNorm(x, 256)), await values(F.layerNorm(ref, 256)), 2e-3, 1e-3, "shifted");
  });

  test("layerNorm rejects a normalizedShape that is not the trailing dims, and a weight of another shape", () => {
    const x = wg.zeros([2, 3, 4], { device });
    expect(() => F.layerNorm(x, [3])).toThrow(/layerNorm: normalizedShape \[3\] must equal the trailing dims of the input \[2, 3, 4\]/);
    expect(() => F.layerNorm(x, [2, 3, 4, 1])).toThrow(/trailing dims/);
    expect(() => F.layerNorm(x, [4], { weight: wg.ones([3], { device }) })).toThrow(/weight has shape \[3\], expected normalizedShape \[4\]/);
  });

  test("embedding picks rows and adds the gradients of repeated indices", async () => {
    const w = t(seq(12, (i) => i), [4, 3], true);
    const idx = wg.tensor([[3, 0], [3, 3]], { dtype: "int32", device });
    const y = F.embedding(idx, w);
    expect(y.shape).toEqual([2, 2, 3]);
    expect(await values(y)).toEqual([9, 10, 11, 0, 1, 2, 9, 10, 11, 9, 10, 11]);
    y.mul(t(seq(12, (i) => i + 1), [2, 2, 3])).sum().backward();
    // Row 3 collects positions 0, 2, 3 ((1,2,3) + (7,8,9) + (10,11,12)), row 0 position 1.
    expect(await values(w.grad!)).toEqual([4, 5, 6, 0, 0, 0, 0, 0, 0, 18, 21, 24]);
  });

  test("embedding checks its indices: dtype, and range", async () => {
    const w = wg.zeros([4, 3], { device });
    expect(() => F.embedding(wg.tensor([1, 2], { device }), w)).toThrow(/embedding: indices must be int32/);
    const bad = wg.tensor([1, 4], { dtype: "int32", device });
    if (device === "cpu") expect(() => F.embedding(bad, w)).toThrow(/embedding: index 4 is out of range.*\[0, 3\] for a weight of 4 embeddings \[4, 3\]/);
    else {
      // On WebGPU the check is gather's, surfacing at the next sync point: an error, or (before the
      // device-side index checks land) a poisoned NaN row; never a silently wrong value.
      const got = await F.embedding(bad, w).data().then((d) => Array.from(d), (e: Error) => e);
      if (got instanceof Error) expect(got.message).toMatch(/out of range/);
      else expect(got.slice(3).every(Number.isNaN)).toBe(true);
    }
  });

  test("silu, softplus, leakyRelu match torch (softplus threshold region included)", async () => {
    const x = t([-30, -2, -0.5, 0, 0.5, 2, 25], [7]);
    expectClose(await values(F.silu(x)), [-2.8072e-12, -0.2384058, -0.1887703, 0, 0.3112297, 1.7615942, 25], 1e-6, 1e-5, "silu");
    expectClose(await values(F.softplus(x)), [9.3576e-14, 0.126928, 0.474077, 0.693147, 0.974077, 2.126928, 25], 1e-6, 1e-5, "softplus");
    expect(await values(F.leakyRelu(x, 0.1))).toEqual([-3, -0.2, -0.05, 0, 0.5, 2, 25].map(Math.fround));
    const z = t([0], [1], true);
    F.leakyRelu(z, 0.1).sum().backward();
    expect(await values(z.grad!)).toEqual([Math.fround(0.1)]); // PyTorch: the slope at 0
  });
});

// torch.nn.MultiheadAttention(4, 2, batch_first=True), float64, weights set from these formulas.
const MHA = {
  out: [0.7296280773, 0.6082775858, -0.0004980295, -0.6009974216, -0.2009429976, -0.4169437233, -0.3121264228, 0.0466423635, -0.1850958574, -0.319450998, -0.2098474465, 0.0730749688],
  weights: [0.9999000899, 1.69148e-5, 8.29952e-5, 0.0020643112, 0.8243750882, 0.1735606006, 0.001254479, 0.5808603277, 0.4178851933],
  causal: [0.7296722004, 0.608349629, -0.0004548622, -0.6010171615, -0.2230178369, -0.4900418997, -0.3786202809, 0.0391739009, -0.1850958574, -0.319450998, -0.2098474465, 0.0730749688],
  pad: [0.7296690213, 0.6083335925, -0.0004711137, -0.6010208159, -0.2230178369, -0.4900418997, -0.3786202809, 0.0391739009, -0.2236010661, -0.4904707699, -0.3785566881, 0.0396798226],
};

describe.each(DEVICES)("modules on %s", (device) => {
  test("MultiheadAttention: PyTorch's parameter names, shapes and initial values", async () => {
    const m = new wg.nn.MultiheadAttention(8, 2, { device });
    expect(m.namedParameters().map(([n, p]) => `${n} ${p.shape.join("x")}`)).toEqual(["in_proj_weight 24x8", "in_proj_bias 24", "out_proj.weight 8x8", "out_proj.bias 8"]);
    const w = await values(m.in_proj_weight);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 32)); // xavier-uniform bound
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.8 * Math.sqrt(6 / 32));
    expect(await values(m.in_proj_bias!)).toEqual(Array(24).fill(0));
    expect(await values(m.out_proj.bias!)).toEqual(Array(8).fill(0));
    expect(() => new wg.nn.MultiheadAttention(6, 4)).toThrow(/embedDim 6 must be divisible by numHeads 4/);
  });

  test("MultiheadAttention forward matches torch: plain, weights, causal mask, key padding; backward reaches every parameter", async () => {
    const m = new wg.nn.MultiheadAttention(4, 2, { device });
    m.loadStateDict({
      in_proj_weight: wg.tensor(seq(48, (i) => Math.sin(0.37 * i)), { shape: [12, 4], device }),
      in_proj_bias: wg.tensor(seq(12, (i) => 0.01 * i), { device }),
      "out_proj.weight": wg.tensor(seq(16, (i) => Math.cos(0.23 * i) * 0.5), { shape: [4, 4], device }),
      "out_proj.bias": wg.tensor(seq(4, (i) => 0.02 * i - 0.03), { device }),
    });
    const x = wg.tensor(seq(12, (i) => Math.sin(0.5 * i + 1)), { shape: [1, 3, 4], device });
    const [out, weights] = m.forward(x, x, x, { needWeights: true });
    expectClose(await values(out), MHA.out, 1e-5, 1e-4, "out");
    expectClose(await values(weights!), MHA.weights, 1e-5, 1e-4, "weights");
    const causal = wg.tensor([[0, 1, 1], [0, 0, 1], [0, 0, 0]], { dtype: "int32", device }); // PyTorch's bool: true = masked
    expectClose(await values(m.forward(x, x, x, { attnMask: causal })[0]), MHA.causal, 1e-5, 1e-4, "attnMask");
    expectClose(await values(m.forward(x, x, x, { isCausal: true })[0]), MHA.causal, 1e-5, 1e-4, "isCausal");
    const pad = wg.tensor([[0, 0, 1]], { dtype: "int32", device });
    expectClose(await values(m.forward(x, x, x, { keyPaddingMask: pad })[0]), MHA.pad, 1e-5, 1e-4, "keyPaddingMask");
    m.forward(x)[0].square().sum().backward();
    for (const [name, p] of m.namedParameters()) expect((await values(p.grad!)).some((g) => g !== 0), name).toBe(true);
  });

  test("MultiheadAttention with batchFirst false takes [seq, batch, embed]", async () => {
    const m = new wg.nn.MultiheadAttention(4, 2, { device });
    const x = wg.randn([2, 3, 4], { device });
    const [a] = m.forward(x);
    const seqFirst = new wg.nn.MultiheadAttention(4, 2, { device, batchFirst: false });
    seqFirst.loadStateDict(m.stateDict());
    const [b] = seqFirst.forward(x.transpose(0, 1));
    expect(a.shape).toEqual([2, 3, 4]);
    expect(b.shape).toEqual([3, 2, 4]);
    expectClose(await values(b.transpose(0, 1)), await values(a), 1e-6, 1e-5, "seq-first");
    expect(() => m.forward(wg.zeros([2, 3, 5], { device }))).toThrow(/MultiheadAttention\(4, 2\): query \[2, 3, 5\]/);
  });

  test("Embedding, LayerNorm, SiLU, LeakyReLU, ModuleList: names, init, forward", async () => {
    wg.manualSeed(0);
    const list = new wg.nn.ModuleList([new wg.nn.Embedding(10, 4, { device }), new wg.nn.LayerNorm(4, { device })]);
    list.append(new wg.nn.SiLU()).append(new wg.nn.LeakyReLU(0.2));
    expect(list.length).toBe(4);
    expect(list.namedParameters().map(([n]) => n)).toEqual(["0.weight", "1.weight", "1.bias"]);
    expect(await values((list.at(1) as wg.nn.LayerNorm).weight!)).toEqual([1, 1, 1, 1]);
    const w = await values((list.at(0) as wg.nn.Embedding).weight);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.5); // N(0, 1) over 40 draws
    let h: Tensor = wg.tensor([[1, 9]], { dtype: "int32", device });
    for (const mod of list) h = mod.forward(h);
    expect(h.shape).toEqual([1, 2, 4]);
    expect(() => list.forward()).toThrow(/ModuleList: has no forward/);
    expect(() => list.at(0.5)).toThrow(/^ModuleList: index 0.5 is not an integer/);
    expect(list.at(-1)).toBe(list.at(3));
    expect(() => list.at(4)).toThrow(/index 4 is out of range for a list of 4/);
  });
});

describe("layerNorm higher order and memory", () => {
  test("second-order gradcheck through layerNorm (createGraph takes the differentiable path)", async () => {
    const x = wg.tensor(seq(12, (i) => Math.sin(1.3 * i)), { shape: [3, 4], dtype: "float64", device: "cpu", requiresGrad: true });
    const w = wg.tensor(seq(4, (i) => 1 + 0.2 * i), { dtype: "float64", device: "cpu", requiresGrad: true });
    const r = wg.tensor(seq(12, Math.cos), { shape: [3, 4], dtype: "float64", device: "cpu" });
    const gradSum = (a: Tensor, b: Tensor) => {
      const y = F.layerNorm(a, [4], { weight: b }).mul(r).sum();
      const [ga, gb] = wg.autograd.grad(y, [a, b], { createGraph: true });
      return ga!.square().sum().add(gb!.mul(gb!).sum());
    };
    const res = await wg.gradcheck(gradSum, [x, w], { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });

  test.each(DEVICES)("a layerNorm training step leaks nothing on %s", async (device) => {
    const m = new wg.nn.LayerNorm(8, { device });
    const step = () => wg.tidy(() => { m.forward(wg.randn([4, 8], { device })).square().sum().backward(); });
    step();
    m.zeroGrad();
    await settle();
    const before = wg.memory().tensors;
    for (let i = 0; i < 3; i++) { step(); m.zeroGrad(); }
    await settle();
    expect(wg.memory().tensors).toBe(before);
  });
});
