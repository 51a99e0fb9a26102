/**
 * The multi-tensor optimizer step: parameters sharing hyperparameters update in as few launches
 * as the adapter's storage bindings allow, with exactly the numbers of one optimizer per
 * parameter (one launch each), on WebGPU and on the CPU, and within float32 rounding of each other.
 * Every WebGPU variant runs (force optim: "multi", the real-GPU default; "small", the emulators'
 * default, which packs only parameters whose masked cost is small; "single", one per launch).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { multiTensorMode } from "../src/engine/scheduler.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { DEVICES, expectClose, randomData, startWebgpu, values } from "./helpers.js";

const { SGD, Adam, AdamW } = wg.optim;
type Groups = { params: Tensor[]; lr?: number; weightDecay?: number }[];
type Make = (groups: Groups) => wg.optim.Optimizer;

/** Odd sizes: empty, one element, one past a workgroup, several workgroups. */
const SIZES = [5, 0, 1, 257, 3, 1000, 64, 2];

const rows: { name: string; make: Make }[] = [
  { name: "SGD", make: (g) => new SGD(g, { lr: 0.1 }) },
  { name: "SGD momentum + weightDecay", make: (g) => new SGD(g, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }) },
  { name: "SGD nesterov", make: (g) => new SGD(g, { lr: 0.05, momentum: 0.8, nesterov: true }) },
  { name: "Adam", make: (g) => new Adam(g, { lr: 0.01 }) },
  { name: "Adam weightDecay", make: (g) => new Adam(g, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.9] }) },
  { name: "AdamW", make: (g) => new AdamW(g, { lr: 0.01 }) },
];

beforeAll(startWebgpu);

/** Parameter k's group: 0 takes the defaults, 1 its own lr and weightDecay, 2 its own lr. */
const groupOf = (k: number) => (k < 3 ? 0 : k < 5 ? 1 : 2);
const SPECS = [{}, { lr: 0.02, weightDecay: 0.05 }, { lr: 0.03 }];

/** Three steps on SIZES parameters in three groups: one optimizer, or one optimizer per parameter. */
async function run(device: "cpu" | "webgpu", make: Make, perParam: boolean): Promise<number[][]> {
  const ps = SIZES.map((n, k) => wg.tensor(randomData(n, -1, 1, 10 + k), { device, requiresGrad: true }));
  const opts = perParam
    ? ps.map((p, k) => make([{ params: [p], ...SPECS[groupOf(k)] }]))
    : [make(SPECS.map((spec, g) => ({ params: ps.filter((_, k) => groupOf(k) === g), ...spec })))];
  for (let step = 0; step < 3; step++) {
    ps.forEach((p, k) => (p.grad = wg.tensor(randomData(SIZES[k], -1, 1, 100 * step + k), { device })));
    for (const o of opts) o.step();
    for (const o of opts) o.zeroGrad();
  }
  const out = await Promise.all(ps.map(values));
  ps.forEach((p) => p.dispose());
  return out;
}

const VARIANTS = ["multi", "small", "single"] as const;
const forcing = (optim: string) => {
  beforeAll(() => (webgpuBackend() as WebGpuBackend).setForce({ optim }));
  afterAll(() => (webgpuBackend() as WebGpuBackend).setForce({}));
};

describe.each(VARIANTS.flatMap((variant) => rows.map((r) => ({ ...r, variant }))))("$name ($variant)", ({ make, variant }) => {
  forcing(variant);
  test.each(DEVICES)("on %s, one optimizer over all parameters gives exactly one optimizer per parameter's numbers", async (device) => {
    const [together, apart] = [await run(device, make, false), await run(device, make, true)];
    together.forEach((p, k) => expect(p, `parameter ${k} (${SIZES[k]} elements)`).toEqual(apart[k]));
  });

  test("WebGPU matches the CPU", async () => {
    const [gpu, cpu] = [await run("webgpu", make, false), await run("cpu", make, false)];
    cpu.forEach((p, k) => expectClose(gpu[k], p, 1e-6, 1e-5, `parameter ${k}`));
  });
});

describe.each(VARIANTS)("launches (webgpu, %s)", (variant) => {
  forcing(variant);
  const stats = () => (webgpuBackend() as WebGpuBackend).stats;
  const limit = () => (webgpuBackend() as WebGpuBackend).caps.maxStorageBuffers ?? 8;

  test.each([
    ["SGD (no state: 2 bindings each)", (ps: Tensor[]) => new SGD(ps, { lr: 0.1 }), 2],
    ["Adam (state: 3 bindings each)", (ps: Tensor[]) => new Adam(ps), 3],
  ] as const)("%s: ⌈P / ⌊limit / bindings⌋⌉ launches, none for zeroGrad, nothing created after the first step", async (_name, make, bindings) => {
    const P = 9;
    const ps = Array.from({ length: P }, (_, k) => wg.randn([k + 3], { device: "webgpu", requiresGrad: true }));
    const opt = make(ps);
    const step = () => {
      ps.forEach((p) => (p.grad = wg.onesLike(p)));
      opt.step();
      opt.zeroGrad();
    };
    step();
    await wg.flush();
    ps.forEach((p) => (p.grad = wg.onesLike(p)));
    await wg.flush();
    const before = { ...stats() };
    opt.step();
    // Parameters of 3 to 11 elements: "small" packs them as "multi" does.
    const perLaunch = variant !== "single" ? Math.min(7, Math.floor(limit() / bindings)) : 1;
    expect(multiTensorMode("webgpu")).toBe(variant);
    expect(stats().launches - before.launches).toBe(Math.ceil(P / perLaunch));
    opt.zeroGrad();
    await wg.flush();
    const after = stats();
    expect(after.launches - before.launches).toBe(Math.ceil(P / perLaunch));
    expect([after.buffersCreated, after.pipelinesCreated, after.bindGroupsCreated, after.readbacks]).toEqual([before.buffersCreated, before.pipelinesCreated, before.bindGroupsCreated, before.readbacks]);
    expect(ps.every((p) => p.grad === null)).toBe(true);
    ps.forEach((p) => p.dispose());
  });

  test("groups whose hyperparameters differ beyond lr launch apart; the same lr or not, one launch", async () => {
    const ps = [0, 1, 2, 3].map(() => wg.randn([10], { device: "webgpu", requiresGrad: true }));
    const count = async (opt: wg.optim.Optimizer) => {
      ps.forEach((p) => (p.grad = wg.onesLike(p)));
      await wg.flush(); // the fills may wait in the fusion queue
      const before = stats().launches;
      opt.step();
      opt.zeroGrad();
      return stats().launches - before;
    };
    // Four 10-element parameters: "small" packs them as "multi" does.
    expect(await count(new SGD([{ params: ps.slice(0, 2) }, { params: ps.slice(2), lr: 0.5 }], { lr: 0.1 }))).toBe(variant !== "single" ? 1 : 4);
    expect(await count(new SGD([{ params: ps.slice(0, 2) }, { params: ps.slice(2), weightDecay: 0.5 }], { lr: 0.1 }))).toBe(variant !== "single" ? 2 : 4);
    await wg.flush();
    ps.forEach((p) => p.dispose());
  });
});

describe.each(VARIANTS.flatMap((variant) => DEVICES.map((device) => ({ device, variant }))))("aliasing on $device ($variant)", ({ device, variant }) => {
  forcing(variant);
  test("a gradient that is another parameter of the step is read as it was before that parameter's update", async () => {
    const [a, b] = [wg.tensor([1, -2], { device, requiresGrad: true }), wg.tensor([3, 4], { device, requiresGrad: true })];
    a.grad = wg.tensor([1, 1], { device });
    b.grad = a; // b's update runs after a's (the step order), so it reads a's new values, as one launch per parameter did
    new SGD([a, b], { lr: 0.5 }).step();
    expect(await values(a)).toEqual([0.5, -2.5]);
    expect(await values(b)).toEqual([3 - 0.25, 4 + 1.25]);
  });
});

describe("an emulator's packing (webgpu, small)", () => {
  forcing("small");
  test("the MLP's parameters: the 784x256 weight alone, its three small ones in one launch; the numbers of one launch each", async () => {
    const sizes = [256 * 784, 256, 10 * 256, 10];
    const stepsOf = async (optim: string) => {
      (webgpuBackend() as WebGpuBackend).setForce({ optim });
      const ps = sizes.map((n, k) => wg.tensor(randomData(n, -1, 1, 40 + k), { device: "webgpu", requiresGrad: true }));
      const opt = new SGD(ps, { lr: 0.1, momentum: 0.9 });
      const stats = (webgpuBackend() as WebGpuBackend).stats;
      let launches = 0;
      for (let step = 0; step < 2; step++) {
        ps.forEach((p, k) => (p.grad = wg.tensor(randomData(sizes[k], -1, 1, 70 + 10 * step + k), { device: "webgpu" })));
        await wg.flush();
        const before = stats.launches;
        opt.step();
        await wg.flush();
        launches = stats.launches - before;
        opt.zeroGrad();
      }
      const out = await Promise.all(ps.map(values));
      ps.forEach((p) => p.dispose());
      return { launches, out };
    };
    const [small, single] = [await stepsOf("small"), await stepsOf("single")];
    (webgpuBackend() as WebGpuBackend).setForce({ optim: "small" });
    expect(small.launches).toBe(2);
    expect(single.launches).toBe(4);
    small.out.forEach((p, k) => expect(p, `parameter ${k}`).toEqual(single.out[k]));
  });
});
