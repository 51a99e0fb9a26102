/**
 * clipGradNorm: total norms and clipped gradients against
 * torch.nn.utils.clip_grad_norm_ 1.13 (values written in), WebGPU against a
 * float64 reference on gradients longer than one partial pass, NaN and Inf
 * as torch, errorIfNonfinite, residency (no readback, buffer, bind group or
 * pipeline per clipped step after warm-up), no leaks, and bad input.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { multiTensorMode } from "../src/engine/scheduler.js";
import { DEVICES, expectClose, randomData, settle, startWebgpu, values } from "./helpers.js";

const { clipGradNorm } = wg.nn.utils;
type Dev = (typeof DEVICES)[number];

beforeAll(startWebgpu);

/** Three parameters ([2, 3], [4], a scalar) with fixed gradients, as in the torch run. */
function three(device: Dev, nanAt: number | null = null, value = NaN): Tensor[] {
  const grads = [[0.5, -1.5, 2.0, 0.25, -3.0, 1.0], [4.0, -0.5, 0.75, -2.0], [-6.0]];
  if (nanAt !== null) grads[1][nanAt] = value;
  const shapes = [[2, 3], [4], []];
  return shapes.map((shape, i) => {
    const p = wg.zeros(shape, { device, requiresGrad: true });
    p.grad = wg.tensor(grads[i], { shape, device });
    return p;
  });
}

const allGrads = async (ps: Tensor[]) => (await Promise.all(ps.map((p) => values(p.grad!)))).flat();

const rows = [
  {
    name: "2-norm, clipped to 5",
    normType: 2, maxNorm: 5, total: 8.565920849505908,
    grads: [0.2918541686373432, -0.8755625059120296, 1.1674166745493728, 0.1459270843186716, -1.751125011824059, 0.5837083372746864, 2.3348333490987456, -0.2918541686373432, 0.4377812529560148, -1.1674166745493728, -3.502250023648118],
  },
  {
    name: "infinity-norm, clipped to 2",
    normType: Infinity, maxNorm: 2, total: 6,
    grads: [0.16666663888889352, -0.49999991666668053, 0.6666665555555741, 0.08333331944444676, -0.9999998333333611, 0.33333327777778704, 1.3333331111111482, -0.16666663888889352, 0.24999995833334027, -0.6666665555555741, -1.9999996666667221],
  },
  {
    name: "1-norm, clipped to 10",
    normType: 1, maxNorm: 10, total: 21.5,
    grads: [0.23255812871822656, -0.6976743861546797, 0.9302325148729063, 0.11627906435911328, -1.3953487723093594, 0.46511625743645313, 1.8604650297458125, -0.23255812871822656, 0.34883719307733985, -0.9302325148729063, -2.7906975446187188],
  },
  { name: "2-norm under maxNorm 100: unchanged", normType: 2, maxNorm: 100, total: 8.565920849505908, grads: [0.5, -1.5, 2.0, 0.25, -3.0, 1.0, 4.0, -0.5, 0.75, -2.0, -6.0] },
];

describe.each(DEVICES)("clipGradNorm on %s", (device) => {
  test.each(rows)("$name, against torch", async ({ normType, maxNorm, total, grads }) => {
    const ps = three(device);
    const t = clipGradNorm(ps, maxNorm, { normType });
    expect(t.shape).toEqual([]);
    expect(t.device).toBe(device);
    expectClose([await t.item()], [total], 1e-5, 1e-6, "total norm");
    expectClose(await allGrads(ps), grads, 1e-6, 1e-5, "clipped gradients");
  });

  test("a NaN gradient gives a NaN norm and NaN gradients, as torch (2-norm and infinity-norm)", async () => {
    for (const normType of [2, Infinity]) {
      const ps = three(device, 2);
      expect(Number.isNaN(await clipGradNorm(ps, 1, { normType }).item())).toBe(true);
      expect((await values(ps[0].grad!)).every(Number.isNaN)).toBe(true);
    }
  });

  test("an infinite gradient gives norm Inf and coefficient 0: finite gradients become 0, the Inf NaN (torch)", async () => {
    const ps = three(device, 2, Infinity);
    expect(await clipGradNorm(ps, 1).item()).toBe(Infinity);
    expect((await values(ps[0].grad!)).map(Math.abs)).toEqual([0, 0, 0, 0, 0, 0]);
    const g1 = await values(ps[1].grad!);
    expect(Number.isNaN(g1[2])).toBe(true);
  });

  test("errorIfNonfinite: a NaN norm rejects and leaves the gradients alone; a finite one resolves and clips", async () => {
    const bad = three(device, 2);
    await expect(clipGradNorm(bad, 1, { errorIfNonfinite: true })).rejects.toThrow(/clipGradNorm: the total 2-norm of the gradients of 3 parameters is NaN, so they cannot be clipped \(the gradients are left as they are\)\. Fix/);
    expect(await values(bad[0].grad!)).toEqual([0.5, -1.5, 2.0, 0.25, -3.0, 1.0]);
    const good = three(device);
    const t = await clipGradNorm(good, 5, { errorIfNonfinite: true });
    expectClose([await t.item()], [8.565920849505908], 1e-5, 1e-6, "total");
    expectClose(await values(good[2].grad!), [-3.502250023648118], 1e-6, 1e-5, "clipped");
  });

  test("errorIfNonfinite inside tidy: the scaling after the readback still has its coefficient; the norm is the caller's", async () => {
    const ps = three(device);
    let pending: Promise<Tensor> | null = null;
    wg.tidy(() => {
      pending = clipGradNorm(ps, 5, { errorIfNonfinite: true });
    });
    const t = await pending!;
    expectClose([await t.item()], [8.565920849505908], 1e-5, 1e-6, "total");
    expectClose(await values(ps[2].grad!), [-3.502250023648118], 1e-6, 1e-5, "clipped");
    t.dispose();
  });

  test("a strided gradient (a transposed view) and a dense one are clipped alike", async () => {
    const data = randomData(6, -3, 3, 12);
    const strided = wg.zeros([3, 2], { device, requiresGrad: true });
    strided.grad = wg.tensor(data, { shape: [2, 3], device }).T;
    const plain = wg.zeros([3, 2], { device, requiresGrad: true });
    plain.grad = wg.tensor(data, { shape: [2, 3], device }).T.contiguous();
    expect(strided.grad.isContiguous()).toBe(false);
    const a = await clipGradNorm([strided], 1).item();
    const b = await clipGradNorm([plain], 1).item();
    expect(a).toBe(b);
    expect(await values(strided.grad)).toEqual(await values(plain.grad));
    expect(Math.hypot(...(await values(plain.grad)))).toBeCloseTo(1, 5);
  });

  test("parameters without gradients are skipped; none at all gives a norm of 0", async () => {
    const ps = three(device);
    const idle = wg.ones([3], { device, requiresGrad: true });
    expectClose([await clipGradNorm([idle, ...ps], 5).item()], [8.565920849505908], 1e-5, 1e-6, "total");
    expect(idle.grad).toBeNull();
    expect(await clipGradNorm([idle], 1).item()).toBe(0);
    expect(await clipGradNorm(idle, 1).item()).toBe(0);
  });

  test("a gradient from backward, clipped, then an SGD step: p − lr · g · 1/(‖g‖ + 1e-6)", async () => {
    const x = wg.tensor([3, 4], { device, requiresGrad: true });
    x.mul(x).sum().backward(); // g = 2x = [6, 8], ‖g‖ = 10
    const t = clipGradNorm([x], 1);
    new wg.optim.SGD([x], { lr: 0.5 }).step();
    expectClose([await t.item()], [10], 1e-6, 1e-6, "norm");
    expectClose(await values(x), [3 - 0.3, 4 - 0.4], 1e-6, 1e-6, "p");
  });

  test("no leak without tidy: disposing the returned norm leaves memory as it was", async () => {
    const ps = three(device);
    clipGradNorm(ps, 5).dispose(); // warm the pool and the spare buffers
    (await clipGradNorm(ps, 5, { errorIfNonfinite: true })).dispose();
    await wg.flush();
    await settle();
    const before = wg.memory(device);
    clipGradNorm(ps, 5).dispose();
    (await clipGradNorm(ps, 5, { errorIfNonfinite: true })).dispose();
    await wg.flush();
    expect(wg.memory(device), "no garbage collection in between: every handle was disposed").toEqual(before);
  });

  test("errorIfNonfinite with no gradients still returns a Promise (of 0)", async () => {
    const pending = clipGradNorm([wg.ones([2], { device, requiresGrad: true })], 1, { errorIfNonfinite: true });
    expect(pending).toBeInstanceOf(Promise);
    expect(await (await pending).item()).toBe(0);
  });

  test("a generator of parameters without gradients: read once, the zero norm on the parameters' device", async () => {
    const other = device === "cpu" ? "webgpu" : "cpu";
    const p = wg.ones([2], { device: other, requiresGrad: true });
    function* gen() { yield p; }
    const norm = clipGradNorm(gen(), 1);
    expect(norm.device).toBe(other);
    expect(await norm.item()).toBe(0);
  });

  test("no leak: a tidy'd clip leaves memory as it was", async () => {
    const ps = three(device);
    clipGradNorm(ps, 5).dispose(); // warm the pool
    await settle();
    const before = wg.memory(device);
    wg.tidy(() => {
      clipGradNorm(ps, 5, { normType: Infinity });
    });
    await wg.flush();
    await settle();
    expect(wg.memory(device)).toEqual(before);
  });
});

describe("WebGPU against a float64 reference", () => {
  // "wide": the 256-invocation partial kernel of real GPUs; "": the adapter's choice (4 invocations on an emulator).
  const variants = [[2, ""], [1, ""], [Infinity, ""], [2, "wide"], [Infinity, "wide"]] as const;
  test.each(variants)("normType %s (partial kernel %j) over 9 gradients (3 launches of up to 4), one of 20000 elements, one empty", async (normType, gradNorm) => {
    (webgpuBackend() as WebGpuBackend).setForce(gradNorm ? { gradNorm } : {});
    const sizes = [20000, 300, 1, 7, 513, 0, 64, 1000, 3]; // the empty one inside a launch, between two others
    const data = sizes.map((n, i) => randomData(n, -2, 2, 40 + i));
    const flat = data.flatMap((d) => Array.from(d, Math.fround));
    const norm = normType === Infinity ? Math.max(...flat.map(Math.abs)) : normType === 1 ? flat.reduce((a, v) => a + Math.abs(v), 0) : Math.sqrt(flat.reduce((a, v) => a + v * v, 0));
    const coef = Math.min(1, 3 / (norm + 1e-6));
    const ps = data.map((d) => {
      const p = wg.zeros([d.length], { device: "webgpu", requiresGrad: true });
      p.grad = wg.tensor(d, { device: "webgpu" });
      return p;
    });
    const t = clipGradNorm(ps, 3, { normType });
    expectClose([await t.item()], [norm], 1e-4, 1e-5, "total");
    expectClose(await allGrads(ps), flat.map((v) => v * coef), 1e-7, 1e-4, "clipped");
    (webgpuBackend() as WebGpuBackend).setForce({});
  });
});

describe("clipGradNorm residency on WebGPU", () => {
  test("after warm-up a clipped Adam step is 2⌈P/4⌉ + 1 launches for clipping, ⌈P/k⌉ for the multi-tensor update; no buffer, bind group, pipeline, readback or upload", async () => {
    const stats = (webgpuBackend() as WebGpuBackend).stats;
    const model = new wg.nn.Sequential(new wg.nn.Linear(4, 8, { device: "webgpu" }), new wg.nn.ReLU(), new wg.nn.Linear(8, 2, { device: "webgpu" }));
    const opt = new wg.optim.Adam(model.parameters(), { lr: 0.01 });
    const x = wg.randn([5, 4], { device: "webgpu" });
    const step = () =>
      wg.tidy(() => {
        model.forward(x).square().mean().backward();
        clipGradNorm(model.parameters(), 0.5);
        opt.step();
        opt.zeroGrad();
      });
    for (let k = 0; k < 3; k++) step();
    const beforeStep = { ...stats };
    step();
    for (const k of ["buffersCreated", "bindGroupsCreated", "pipelinesCreated", "readbacks", "uploads"] as const) expect(stats[k], `${k} in a clipped training step`).toBe(beforeStep[k]);
    wg.tidy(() => model.forward(x).square().mean().backward());
    await wg.flush(); // the backward's last launches may wait in the fusion queue
    const before = { ...stats };
    wg.tidy(() => {
      clipGradNorm(model.parameters(), 0.5);
      opt.step();
    });
    opt.zeroGrad();
    const P = model.parameters().length;
    // Adam binds gradient, parameter and state: k = ⌊the adapter's storage buffers / 3⌋ parameters per launch (1 on an emulator).
    // Tiny parameters: an emulator's "small" mode packs them as "multi" does.
    const k = multiTensorMode("webgpu") !== "single" ? Math.min(7, Math.floor(((webgpuBackend() as WebGpuBackend).caps.maxStorageBuffers ?? 8) / 3)) : 1;
    expect(stats.launches - before.launches, "clipping: ⌈P/4⌉ partial + 1 total + ⌈P/4⌉ scale; then ⌈P/k⌉ updates").toBe(2 * Math.ceil(P / 4) + 1 + Math.ceil(P / k));
    expect(stats.readbacks).toBe(before.readbacks);
    await wg.flush();
  });
});

describe("clipGradNorm errors", () => {
  const ps = () => three("cpu");
  const cases: { name: string; run: () => unknown; error: RegExp }[] = [
    { name: "normType 3", run: () => clipGradNorm(ps(), 1, { normType: 3 }), error: /clipGradNorm: normType 3 is not supported; webgrad computes the 1-, 2- and infinity-norms\. Fix/ },
    { name: "negative maxNorm", run: () => clipGradNorm(ps(), -1), error: /clipGradNorm: maxNorm must be a non-negative number, got -1\. Fix/ },
    { name: "NaN maxNorm", run: () => clipGradNorm(ps(), NaN), error: /clipGradNorm: maxNorm must be a non-negative number, got NaN/ },
    { name: "not tensors", run: () => clipGradNorm([1, 2] as never, 1), error: /clipGradNorm: parameter 0 is number, not a Tensor/ },
    { name: "null", run: () => clipGradNorm(null as never, 1), error: /clipGradNorm: params must be a Tensor or an array of tensors, got null/ },
    { name: "two devices", run: () => clipGradNorm([...ps(), ...three("webgpu")], 1), error: /clipGradNorm: the gradients are on cpu \(float32\) and webgpu \(float32\).*Fix: clip each device's parameters separately/ },
  ];
  test.each(cases)("$name", ({ run, error }) => {
    expect(run).toThrow(error);
  });
});
