/**
 * Optimizers: three steps with fixed gradients against torch.optim's formulas
 * worked out by hand, WebGPU against CPU over five training steps, state,
 * version bumps, zeroGrad, residency (a step creates no buffers and reads
 * nothing back) and flat memory over tidy'd training steps.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { multiTensorMode } from "../src/engine/scheduler.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { DEVICES, expectClose, randomData, startWebgpu, values } from "./helpers.js";

const { SGD, Adam, AdamW } = wg.optim;
type Make = (params: Tensor[]) => wg.optim.Optimizer;

/** p₀ = [1, −2]; the gradients of steps 1-3. */
const GRADS = [[0.5, -1], [0.1, 0.2], [-0.3, 0.4]];

interface Row {
  name: string;
  make: Make;
  /** p after steps 1, 2, 3 (torch.optim's update, in float64). */
  expected: number[][];
}

const rows: Row[] = [
  // p ← p − 0.1 g
  { name: "SGD", make: (ps) => new SGD(ps, { lr: 0.1 }), expected: [[0.95, -1.9], [0.94, -1.92], [0.97, -1.96]] },
  // buf₁ = g₁; buf₂ = 0.9 buf₁ + g₂ = [0.55, −0.7]; buf₃ = [0.195, −0.23]; p ← p − 0.1 buf
  { name: "SGD momentum", make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), expected: [[0.95, -1.9], [0.895, -1.83], [0.8755, -1.807]] },
  // p ← p − 0.1 (g + 0.9 buf): step 1 g₁ + 0.9 g₁ = [0.95, −1.9]
  { name: "SGD nesterov", make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }), expected: [[0.905, -1.81], [0.8455, -1.767], [0.85795, -1.7863]] },
  // d = g + 0.1 p; buf₁ = d₁ = [0.6, −1.2] (no dampening on the first step); buf ← 0.9 buf + 0.5 d
  {
    name: "SGD dampening + weightDecay",
    make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.1 }),
    expected: [[0.94, -1.88], [0.8763, -1.7726], [0.8295885, -1.687077]],
  },
  // step 1: m̂ = g, v̂ = g², so p ← p − 0.1 g/(|g| + ε) ≈ p − 0.1 sign(g)
  { name: "Adam", make: (ps) => new Adam(ps, { lr: 0.1 }), expected: [[0.9, -1.9], [0.819695906, -1.84889739], [0.798624612, -1.83547343]] },
  // L2: d = g + 0.1 p enters m and v
  {
    name: "Adam weightDecay, betas",
    make: (ps) => new Adam(ps, { lr: 0.1, betas: [0.8, 0.9], weightDecay: 0.1 }),
    expected: [[0.9, -1.9], [0.814499724, -1.83609886], [0.779377354, -1.8028026]],
  },
  // decoupled: p ← p (1 − 0.1·0.1) first, then Adam on g: step 1 [0.99, −1.98] − 0.1 sign(g)
  { name: "AdamW", make: (ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0.1 }), expected: [[0.89, -1.88], [0.800795906, -1.81009739], [0.771716653, -1.77857246]] },
  // defaults lr 1e-3, weightDecay 0.01: step 1 [1 − 1e-5 − 1e-3, −2 + 2e-5 + 1e-3]
  { name: "AdamW defaults", make: (ps) => new AdamW(ps), expected: [[0.99899, -1.99898], [0.998176969, -1.99844898], [0.997956274, -1.99829476]] },
];

beforeAll(startWebgpu);

describe.each(DEVICES)("optimizers on %s", (device) => {
  test.each(rows)("$name: three steps with fixed gradients", async (row) => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const opt = row.make([p]);
    for (let k = 0; k < 3; k++) {
      p.grad = wg.tensor(GRADS[k], { device });
      opt.step();
      expectClose(await values(p), row.expected[k], 1e-6, 1e-6, `${row.name} step ${k + 1}`);
    }
  });

  test("state: SGD's momentum buffer starts as the first gradient; Adam's [m; v] as (1−β)g, (1−β₂)g²", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const q = wg.tensor([1, -2], { device, requiresGrad: true });
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    const adam = new Adam([q]);
    expect(sgd.stateOf(p)).toBeNull();
    p.grad = wg.tensor(GRADS[0], { device });
    q.grad = wg.tensor(GRADS[0], { device });
    sgd.step();
    adam.step();
    expectClose(await values(sgd.stateOf(p)!), [0.5, -1], 0, 0, "momentum buffer");
    expect(adam.stateOf(q)!.shape).toEqual([2, 2]);
    expectClose(await values(adam.stateOf(q)!), [0.05, -0.1, 0.00025, 0.001], 1e-9, 1e-4, "adam m, v"); // 1 − β₂ is inexact in float32
  });

  test("a parameter without a gradient is skipped and gets no state", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const idle = wg.tensor([3, 4], { device, requiresGrad: true });
    const opt = new Adam([p, idle], { lr: 0.1 });
    p.grad = wg.tensor(GRADS[0], { device });
    opt.step();
    expect(await values(idle)).toEqual([3, 4]);
    expect(opt.stateOf(idle)).toBeNull();
    expectClose(await values(p), [0.9, -1.9], 1e-6, 1e-6, "updated parameter");
  });

  test("a gradient that aliases the parameter's storage is read as it was before the update", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    p.grad = p.detach();
    new SGD([p], { lr: 0.1 }).step();
    expectClose(await values(p), [0.9, -1.8], 1e-7, 1e-6, "p − 0.1 p");
  });

  test("step writes in place and bumps the version: a graph that saved the parameter refuses backward", () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1 });
    const y = p.mul(p).sum();
    p.grad = wg.tensor(GRADS[0], { device });
    const [storage, version] = [p.storage, p.version];
    opt.step();
    expect(p.storage).toBe(storage);
    expect(p.version).toBe(version + 1);
    expect(() => y.backward()).toThrow(/modified by an in-place operation \(SGD\.step\)/);
  });

  test("zeroGrad: setToNone disposes the gradients; setToNone false zeroes the same tensors", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1 });
    p.mul(p).sum().backward();
    const g = p.grad!;
    opt.zeroGrad({ setToNone: false });
    expect(p.grad).toBe(g);
    expect(await values(g)).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
  });

  test("memory is flat over tidy'd training steps with zeroGrad; the loss falls", async () => {
    wg.manualSeed(3);
    const model = new wg.nn.Sequential(new wg.nn.Linear(4, 8, { device }), new wg.nn.ReLU(), new wg.nn.Linear(8, 2, { device }));
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    const x = wg.tensor(randomData(24, -1, 1, 5), { shape: [6, 4], device });
    const y = wg.tensor(randomData(12, -1, 1, 6), { shape: [6, 2], device });
    const loss = () => wg.nn.functional.mseLoss(model.forward(x), y);
    const first = await wg.tidy(loss).item();
    const seen: ReturnType<typeof wg.memory>[] = [];
    for (let i = 0; i < 12; i++) {
      wg.tidy(() => {
        loss().backward();
        opt.step();
        opt.zeroGrad();
      });
      seen.push(wg.memory(device));
    }
    expect(seen[11]).toEqual(seen[1]);
    expect(await wg.tidy(loss).item()).toBeLessThan(first * 0.7);
  });
});

describe("WebGPU against CPU", () => {
  test.each(rows)("$name: five training steps of a small model", async (row) => {
    const w = randomData(12, -0.5, 0.5, 9), b = randomData(3, -0.5, 0.5, 10);
    const run = async (device: "cpu" | "webgpu") => {
      const model = new wg.nn.Linear(4, 3, { device });
      model.loadStateDict({ weight: wg.tensor(w, { shape: [3, 4], device }), bias: wg.tensor(b, { device }) });
      const opt = row.make(model.parameters());
      const x = wg.tensor(randomData(20, -1, 1, 7), { shape: [5, 4], device });
      const y = wg.tensor(randomData(15, -1, 1, 8), { shape: [5, 3], device });
      for (let i = 0; i < 5; i++) {
        wg.nn.functional.mseLoss(model.forward(x), y).backward();
        opt.step();
        opt.zeroGrad();
      }
      return Promise.all(model.parameters().map(values));
    };
    const [cpu, gpu] = [await run("cpu"), await run("webgpu")];
    expect(gpu[0]).not.toEqual(Array.from(Float32Array.from(w)));
    cpu.forEach((p, k) => expectClose(gpu[k], p, 1e-5, 1e-4, `${row.name} parameter ${k}`));
  });
});

describe("residency on WebGPU", () => {
  const cases: { name: string; make: Make }[] = [
    { name: "SGD", make: (ps) => new SGD(ps, { lr: 0.1 }) },
    { name: "SGD momentum", make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 }) },
    { name: "Adam", make: (ps) => new Adam(ps) },
    { name: "AdamW", make: (ps) => new AdamW(ps) },
  ];
  test.each(cases)("$name: after warm-up a step is one launch for both parameters (one each on an emulator), zeroGrad none; no new buffer, no readback, no upload", async ({ make }) => {
    const stats = (webgpuBackend() as WebGpuBackend).stats;
    const model = new wg.nn.Linear(4, 3, { device: "webgpu" });
    const opt = make(model.parameters());
    const x = wg.randn([5, 4], { device: "webgpu" });
    const trainStep = () => wg.tidy(() => {
      model.forward(x).square().mean().backward();
      opt.step();
      opt.zeroGrad();
    });
    trainStep();
    trainStep();
    wg.tidy(() => model.forward(x).square().mean().backward());
    await wg.flush(); // the backward's last launches may wait in the fusion queue
    const before = { ...stats };
    opt.step();
    // Two tiny parameters share a launch in every mode but "single" (emulators group small ones).
    const launches = multiTensorMode("webgpu") === "single" ? 2 : 1;
    expect(stats.launches - before.launches, "weight and bias in one multi-tensor launch, or one each").toBe(launches);
    expect(stats.buffersCreated).toBe(before.buffersCreated);
    expect(stats.readbacks).toBe(before.readbacks);
    expect(stats.uploads).toBe(before.uploads);
    opt.zeroGrad();
    await wg.flush();
    expect(stats.launches - before.launches, "zeroGrad drops the gradients: no launch").toBe(launches);
    const beforeStep = { ...stats };
    trainStep();
    expect(stats.readbacks, "a whole training step reads nothing back").toBe(beforeStep.readbacks);
    await wg.flush();
  });
});

describe("optimizer argument errors", () => {
  const p = () => wg.tensor([1, 2], { device: "cpu", requiresGrad: true });
  const cases: { name: string; make: () => unknown; error: RegExp }[] = [
    { name: "SGD without lr", make: () => new SGD([p()], {} as { lr: number }), error: /SGD: lr must be a non-negative number \(it has no default\), got undefined\. Fix/ },
    { name: "SGD negative lr", make: () => new SGD([p()], { lr: -1 }), error: /SGD: lr must be .*got -1/ },
    { name: "SGD nesterov without momentum", make: () => new SGD([p()], { lr: 0.1, nesterov: true }), error: /SGD: nesterov needs momentum > 0 and dampening 0.*Fix/ },
    { name: "SGD negative momentum", make: () => new SGD([p()], { lr: 0.1, momentum: -0.5 }), error: /SGD: momentum must be/ },
    { name: "Adam beta1 = 1", make: () => new Adam([p()], { betas: [1, 0.999] }), error: /Adam: betas\[0\] must be in \[0, 1\), got 1/ },
    { name: "Adam one beta", make: () => new Adam([p()], { betas: [0.9] as unknown as [number, number] }), error: /Adam: betas must be a pair/ },
    { name: "Adam negative eps", make: () => new Adam([p()], { eps: -1 }), error: /Adam: eps must be/ },
    { name: "AdamW negative weightDecay", make: () => new AdamW([p()], { weightDecay: -0.1 }), error: /AdamW: weightDecay must be/ },
    { name: "empty parameter list", make: () => new Adam([]), error: /Adam: got an empty parameter list\. Fix/ },
    { name: "a single tensor", make: () => new Adam(p() as unknown as Tensor[]), error: /Adam: params must be an array of tensors, got a single Tensor\. Fix/ },
    { name: "a non-leaf", make: () => new SGD([p().mul(2)], { lr: 1 }), error: /SGD: parameter 0 \(shape \[2\]\) is not a leaf \(it comes from MulBackward\).*Fix/ },
    { name: "an int32 tensor", make: () => new SGD([wg.tensor([1], { dtype: "int32", device: "cpu" })], { lr: 1 }), error: /SGD: parameter 0 \(shape \[1\]\) is int32/ },
    { name: "a duplicate", make: () => { const t = p(); return new SGD([t, t], { lr: 1 }); }, error: /SGD: parameter 1 \(shape \[2\]\) appears twice/ },
    {
      name: "a strided view",
      make: () => new SGD([wg.zeros([2, 3], { device: "cpu" }).T.detach().requiresGrad_()], { lr: 1 }),
      error: /SGD: parameter 0 \(shape \[3, 2\]\) is a strided view.*Fix/,
    },
  ];
  test.each(cases)("$name", ({ make, error }) => {
    expect(make).toThrow(error);
  });
});
