/**
 * Fused scaledDotProductAttention against the composite (matmul, softmax, matmul) in float64 on
 * the CPU: forward and the backward of sum(out * r), on odd sizes (L = 1, 7, 65; S ≠ L; head dims
 * 1 and 80), with boolean (int32) and additive (float) masks broadcast over batch and heads,
 * causal, on every device and both WebGPU variants; PyTorch 1.13's numbers; a fully masked row;
 * first- and second-order gradcheck; bad input; launches and leaks.
 */
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { attentionComposite, type AttentionOptions } from "../src/ops/index.js";
import { causalBias } from "../src/ops/constants.js";
import { mergeHeads, splitHeads } from "../src/ops/attention-heads.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { expectClose, randomData, settle, startWebgpu, values } from "./helpers.js";

const sdpa = wg.nn.functional.scaledDotProductAttention;
const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
let gpu: WebGpuBackend;

beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as WebGpuBackend;
});

interface Case {
  name: string;
  batch: number[];
  L: number;
  S: number;
  E: number;
  EV: number;
  causal?: boolean;
  /** A mask of this shape: "bool" int32 0/1 (no row fully masked), "add" float with some -Infinity. */
  mask?: { kind: "bool" | "add"; shape: number[] };
  scale?: number;
}

const cases: Case[] = [
  { name: "L = S = 1", batch: [2], L: 1, S: 1, E: 4, EV: 4 },
  { name: "L 7, S 5, head dim 1", batch: [3], L: 7, S: 5, E: 1, EV: 3 },
  { name: "L 65 causal, two batch dims", batch: [1, 2], L: 65, S: 65, E: 8, EV: 8, causal: true },
  { name: "L 7, S 40, head dim 80", batch: [2], L: 7, S: 40, E: 80, EV: 80 },
  { name: "L 65, S 33, boolean mask [L, S]", batch: [2], L: 65, S: 33, E: 16, EV: 12, mask: { kind: "bool", shape: [65, 33] } },
  { name: "additive mask [B, 1, L, S] over heads", batch: [2, 3], L: 9, S: 17, E: 8, EV: 8, mask: { kind: "add", shape: [2, 1, 9, 17] } },
  { name: "key-padding mask [B, 1, 1, S], scale 0.3", batch: [2, 2], L: 5, S: 6, E: 4, EV: 4, mask: { kind: "bool", shape: [2, 1, 1, 6] }, scale: 0.3 },
  { name: "causal, L > S", batch: [1], L: 7, S: 3, E: 4, EV: 2, causal: true },
];

function maskData(c: Case): Float64Array | Int32Array {
  const n = c.mask!.shape.reduce((a, b) => a * b, 1);
  const S = c.mask!.shape[c.mask!.shape.length - 1];
  const r = randomData(n, 0, 1, n);
  // Key 0 always attends, so no row is fully masked (that case has its own test).
  if (c.mask!.kind === "bool") return Int32Array.from(r, (u, i) => (i % S === 0 || u > 0.4 ? 1 : 0));
  return Float64Array.from(r, (u, i) => (i % S !== 0 && u < 0.3 ? -Infinity : u * 2 - 1));
}

function inputs(c: Case, device: "cpu" | "webgpu", dtype: "float32" | "float64") {
  const mk = (rows: number, dim: number, seed: number) => {
    const shape = [...c.batch, rows, dim];
    return wg.tensor(randomData(shape.reduce((a, b) => a * b, 1), -1, 1, seed), { shape, dtype, device, requiresGrad: true });
  };
  const q = mk(c.L, c.E, 1), k = mk(c.S, c.E, 2), v = mk(c.S, c.EV, 3);
  const opts: AttentionOptions = { isCausal: c.causal, scale: c.scale };
  if (c.mask) {
    const d = maskData(c);
    opts.attnMask = d instanceof Int32Array ? wg.tensor(d, { shape: c.mask.shape, dtype: "int32", device }) : wg.tensor(d, { shape: c.mask.shape, dtype, device });
  }
  return { q, k, v, opts };
}

async function run(c: Case, f: typeof sdpa, device: "cpu" | "webgpu", dtype: "float32" | "float64") {
  const { q, k, v, opts } = inputs(c, device, dtype);
  const out = f(q, k, v, opts);
  const r = wg.tensor(randomData(out.size, -1, 1, 7), { shape: out.shape, dtype, device });
  out.mul(r).sum().backward();
  return Promise.all([out, q.grad!, k.grad!, v.grad!].map(values));
}

const VARIANTS = [["cpu", {}], ["webgpu", { attention: "tiled" }], ["webgpu", { attention: "direct" }]] as const;

describe.each(VARIANTS)("fused attention on %s %j matches the float64 composite", (device, force) => {
  test.each(cases)("$name", async (c) => {
    if (device === "webgpu") gpu.setForce(force);
    try {
      const ref = await run(c, attentionComposite, "cpu", "float64");
      const got = await run(c, sdpa, device, "float32");
      ["out", "dq", "dk", "dv"].forEach((what, i) => expectClose(got[i], ref[i], 1e-5, 1e-4, `${c.name}: ${what}`));
    } finally {
      if (device === "webgpu") gpu.setForce({});
    }
  }, 240_000); // SwiftShader takes tens of seconds to build the tiled pipelines for head dim 80 under load
});

// torch.nn.functional._scaled_dot_product_attention (PyTorch 1.13) on these inputs, float32.
const TORCH = {
  bool: [-0.4041471183, 0.0861568749, NaN, NaN, 0.0601926856, 0.2771219313, 0.6390181184, 0.1155498475, NaN, NaN, 0.05096687, -0.0888802335],
  add: [0.568198204, 0.2913589478, -0.1383235008, 0.4949611127, 0.0205264986, 0.5304967165, -0.4597110748, -0.40596199, 0.4456269145, -0.2046333253, 0.1635539979, -0.3337588311],
  causal: [-0.3894183338, 0.4794255495, -0.0252799988, 0.5499505997, 0.1584996581, 0.2765524387, 0.7343971133, -0.0751511231, 0.3821153045, -0.2733360827, -0.2184183747, -0.1644816101],
};

describe.each(["cpu", "webgpu"] as const)("PyTorch's semantics on %s", (device) => {
  const q = () => wg.tensor(seq(24, (i) => Math.sin(0.3 * i)), { shape: [2, 3, 4], device });
  const k = () => wg.tensor(seq(40, (i) => Math.cos(0.2 * i + 0.1)), { shape: [2, 5, 4], device });
  const v = () => wg.tensor(seq(20, (i) => Math.sin(0.9 * i - 0.4)), { shape: [2, 5, 2], device });

  test("int32 mask = PyTorch's bool (nonzero attends; a fully masked row is NaN), float mask is added, isCausal is top-left", async () => {
    const bool = wg.tensor([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], { dtype: "int32", device });
    expectClose(await values(sdpa(q(), k(), v(), { attnMask: bool })), TORCH.bool, 1e-5, 1e-4, "bool");
    const add = wg.tensor(seq(15, (i) => (i % 4 ? -0.5 * i : -Infinity)), { shape: [3, 5], device });
    expectClose(await values(sdpa(q(), k(), v(), { attnMask: add })), TORCH.add, 1e-5, 1e-4, "additive");
    expectClose(await values(sdpa(q(), k(), v(), { isCausal: true })), TORCH.causal, 1e-5, 1e-4, "causal");
  });

  test("a fully masked row: NaN output and NaN gradient for that query, finite elsewhere, as the composite's forward", async () => {
    const mask = wg.tensor([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 1, 1, 1]], { dtype: "int32", device });
    const qq = q().requiresGrad_();
    const out = sdpa(qq, k(), v(), { attnMask: mask });
    expectClose(await values(out), await values(attentionComposite(q(), k(), v(), { attnMask: mask })), 1e-5, 1e-4, "forward");
    out.mul(wg.where(out.ne(out), 0, 1)).sum().backward();
    const dq = await values(qq.grad!);
    expect(dq.slice(4, 8).every(Number.isNaN)).toBe(true); // row 1 of batch 0
    expect(dq.slice(0, 4).every(Number.isFinite) && dq.slice(8, 12).every(Number.isFinite)).toBe(true);
  });

  test("bad input names the op, the shapes and the fix", () => {
    expect(() => sdpa(wg.zeros([2, 3, 4], { device }), wg.zeros([3, 5, 4], { device }), wg.zeros([3, 5, 4], { device }))).toThrow(
      /scaledDotProductAttention: the batch and head dims .* must match: q \[2, 3, 4\], k \[3, 5, 4\], v \[3, 5, 4\]/,
    );
    expect(() => sdpa(q(), wg.zeros([2, 5, 3], { device }), v())).toThrow(/q and k must have the same embedding dim/);
    expect(() => sdpa(q(), k(), wg.zeros([2, 4, 2], { device }))).toThrow(/k and v must have the same number of keys/);
    expect(() => sdpa(q(), k(), v(), { attnMask: wg.zeros([3, 4], { device }) })).toThrow(/attnMask \[3, 4\] does not broadcast to the scores' shape \[2, 3, 5\]/);
    expect(() => sdpa(q(), k(), v(), { attnMask: wg.zeros([3, 5], { device }), isCausal: true })).toThrow(/attnMask or isCausal, not both/);
    expect(() => sdpa(q(), k(), v(), { dropoutP: 1.5 })).toThrow(/dropoutP must be in \[0, 1\]/);
    expect(() => sdpa(q().int(), k(), v())).toThrow(/q must be a float tensor/);
  });
});

describe("attention gradients, launches and memory", () => {
  const f64 = (shape: number[], seed: number) =>
    wg.tensor(randomData(shape.reduce((a, b) => a * b, 1), -1, 1, seed), { shape, dtype: "float64", device: "cpu", requiresGrad: true });

  test("gradcheck of the fused rules (float64, CPU), with an additive mask", async () => {
    const mask = wg.tensor(seq(12, (i) => (i % 5 === 4 ? -Infinity : 0.1 * i)), { shape: [3, 4], dtype: "float64", device: "cpu" });
    const r = f64([2, 3, 2], 9).detach();
    const res = await wg.gradcheck((q, k, v) => sdpa(q, k, v, { attnMask: mask }).mul(r).sum(), [f64([2, 3, 5], 1), f64([2, 4, 5], 2), f64([2, 4, 2], 3)], { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });

  test("second-order gradcheck through attention (createGraph takes the composite rules)", async () => {
    const r = f64([1, 3, 2], 9).detach();
    const gradNorm = (q: Tensor, k: Tensor, v: Tensor) => {
      const y = sdpa(q, k, v, { isCausal: true }).mul(r).sum();
      const gs = wg.autograd.grad(y, [q, k, v], { createGraph: true });
      return gs.reduce((acc: Tensor, g) => acc.add(g!.square().sum()), wg.zeros([], { dtype: "float64", device: "cpu" }));
    };
    const res = await wg.gradcheck(gradNorm, [f64([1, 3, 2], 1), f64([1, 3, 2], 2), f64([1, 3, 2], 3)], { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });

  test("one launch forward and two backward on WebGPU (the fused kernels); no leaks", async () => {
    gpu.setForce({ attention: "tiled" });
    const mk = (shape: number[]) => wg.randn(shape, { device: "webgpu", requiresGrad: true });
    const [q, k, v] = [mk([2, 4, 16, 8]), mk([2, 4, 16, 8]), mk([2, 4, 16, 8])];
    const g = wg.randn([2, 4, 16, 8], { device: "webgpu" });
    await wg.flush();
    const step = () => wg.tidy(() => {
      const before = gpu.stats.launches;
      const out = sdpa(q, k, v, { isCausal: true });
      const forward = gpu.stats.launches - before;
      wg.autograd.grad(out, [q, k, v], { gradOutputs: g });
      return [forward, gpu.stats.launches - before - forward];
    });
    expect(step()).toEqual([1, 2]);
    await settle();
    const tensors = wg.memory().tensors;
    for (let i = 0; i < 3; i++) step();
    await settle();
    expect(wg.memory().tensors).toBe(tensors);
    gpu.setForce({});
  });

  test("a head dim of 0 takes the composite on WebGPU with every path forced (the fused kernels' clamped loads need a last element)", async () => {
    const shapes: [number[], number[], number[]][] = [[[1, 4, 0], [1, 8, 0], [1, 8, 128]], [[1, 4, 128], [1, 8, 128], [1, 8, 0]]];
    for (const attention of ["tiled", "direct", "composite"]) {
      gpu.setForce({ attention });
      for (const [qs, ks, vs] of shapes) {
        const mk = (shape: number[], seed: number, device: "cpu" | "webgpu") => wg.tensor(randomData(shape.reduce((a, b) => a * b, 1), -1, 1, seed), { shape, device });
        const got = wg.nn.functional.scaledDotProductAttention(mk(qs, 1, "webgpu"), mk(ks, 2, "webgpu"), mk(vs, 3, "webgpu"));
        const want = attentionComposite(mk(qs, 1, "cpu"), mk(ks, 2, "cpu"), mk(vs, 3, "cpu"));
        expect(got.shape, attention).toEqual(want.shape);
        expect(Array.from(await got.data()), attention).toEqual(Array.from(await want.data()));
      }
    }
    gpu.setForce({});
  });

  test("the causal bias: 0 on and below the diagonal, -Infinity above (L < S and L > S); uploaded once per size, no launch, not a user tensor", async () => {
    await wg.flush();
    const [tensors, uploads, launches] = [wg.memory("webgpu").tensors, gpu.stats.uploads, gpu.stats.launches];
    const a = causalBias(3, 5, "webgpu");
    const b = causalBias(4, 2, "webgpu");
    const made = gpu.stats.uploads - uploads; // 2, less what earlier tests cached
    expect(made).toBeLessThanOrEqual(2);
    expect(causalBias(3, 5, "webgpu")).toBe(a);
    expect(causalBias(4, 2, "webgpu")).toBe(b);
    expect(gpu.stats.uploads - uploads).toBe(made);
    expect(gpu.stats.launches - launches).toBe(0);
    expect(wg.memory("webgpu").tensors).toBe(tensors);
    const I = -Infinity;
    expect(Array.from(await a.data())).toEqual([0, I, I, I, I, 0, 0, I, I, I, 0, 0, 0, I, I]);
    expect(Array.from(await b.data())).toEqual([0, I, 0, 0, 0, 0, 0, 0]);
    // Past 2^22 elements it is made anew each time (a tensor of the caller's, not kept).
    const big = [causalBias(2049, 2048, "webgpu"), causalBias(2049, 2048, "webgpu")];
    expect(big[1]).not.toBe(big[0]);
    expect(wg.memory("webgpu").tensors).toBe(tensors + 2);
    big.forEach((t) => t.dispose());
  });

  test("the path per adapter: the composite on an emulator, the fused kernels on a GPU; force picks either; same values", async () => {
    const mk = (seed: number) => wg.tensor(randomData(2 * 3 * 9 * 4, -1, 1, seed), { shape: [2, 3, 9, 4], device: "webgpu" });
    const [q, k, v] = [mk(1), mk(2), mk(3)];
    const launches = async (force: Record<string, string>) => {
      gpu.setForce(force);
      try {
        await wg.flush();
        const before = gpu.stats.launches;
        const out = sdpa(q, k, v, { isCausal: true });
        const got = await values(out);
        const n = gpu.stats.launches - before;
        out.dispose();
        return { n, got };
      } finally {
        gpu.setForce({});
      }
    };
    const fused = await launches({ attention: "tiled" });
    const composite = await launches({ attention: "composite" });
    const auto = await launches({});
    expect(fused.n).toBe(1);
    // QKᵀ with the scale and the cached causal bias in its epilogue, softmax, P·V.
    expect(composite.n).toBe(3);
    expect(auto.n).toBe(gpu.info.emulated ? composite.n : 1);
    expectClose(composite.got, fused.got, 1e-5, 1e-4, "composite vs fused");
    [q, k, v].forEach((t) => t.dispose());
  });
});

// splitHeads / mergeHeads: the GPT's [B, T, G·H·D] ↔ [G, B, H, T, D] layout kernels, each the other's gradient.
// On webgpu both kernels: one invocation per D-run (the emulator's) and per element (a GPU's, forced by heads=elements).
describe.each([["cpu", ""], ["webgpu", ""], ["webgpu", "elements"]] as const)("head split and merge on %s %s", (device, heads) => {
  afterEach(() => device === "webgpu" && gpu.setForce({}));
  test("splitHeads is the permute view made contiguous, mergeHeads its inverse; backward of sum(out * r)", async () => {
    if (device === "webgpu") gpu.setForce(heads ? { heads } : {});
    const [B, T, G, H, D] = [2, 5, 3, 2, 3];
    const x = wg.tensor(randomData(B * T * G * H * D, -1, 1, 4), { shape: [B, T, G * H * D], device, requiresGrad: true });
    const want = x.reshape([B, T, G, H, D]).permute([2, 0, 3, 1, 4]);
    const y = splitHeads(x, G, H);
    expect(y.shape).toEqual([G, B, H, T, D]);
    expect(await values(y)).toEqual(await values(want));
    const back = mergeHeads(y);
    expect(back.shape).toEqual([B, T, G * H * D]);
    expect(await values(back)).toEqual(await values(x));
    const r = wg.tensor(randomData(y.size, -1, 1, 5), { shape: y.shape, device });
    y.mul(r).sum().backward();
    // d/dx sum(split(x) · r) = r laid out like x: merge(r).
    expect(await values(x.grad!)).toEqual(await values(r.permute([1, 3, 0, 2, 4]).reshape([B, T, G * H * D])));
    expect(() => splitHeads(x, 4, 2)).toThrow(/splitHeads: expected a float \[B, T, groups·heads·D\] tensor with whole groups 4 and heads 2, got float32 \[2, 5, 18\]/);
  });
});
