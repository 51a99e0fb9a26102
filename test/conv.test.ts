/**
 * conv2d beyond the op table: both WebGPU kernel variants against the CPU
 * loops, PyTorch-checked literal values, second-order gradients, large
 * batches, memory, and every argument error.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { channelSumSq } from "../src/ops/batchnorm.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { expectClose, randomData, settle, startWebgpu, values } from "./helpers.js";
import { withDispatchLimit } from "./fusion-helpers.js";

const F = wg.nn.functional;
let gpu: WebGpuBackend;
beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as WebGpuBackend;
});

interface Case {
  x: number[];
  w: number[];
  bias: boolean;
  opts: wg.nn.functional.ConvOptions;
}
const cases: Case[] = [
  { x: [2, 3, 5, 5], w: [4, 3, 3, 3], bias: true, opts: { padding: 1 } },
  { x: [1, 2, 5, 3], w: [3, 2, 3, 3], bias: false, opts: { stride: 2, padding: 1 } },
  { x: [2, 4, 9, 7], w: [6, 2, 3, 2], bias: true, opts: { dilation: 2, groups: 2, padding: [1, 0] } },
  { x: [3, 3, 6, 6], w: [6, 1, 3, 3], bias: true, opts: { groups: 3, stride: [2, 1], padding: 1 } },
  { x: [5, 16, 10, 10], w: [70, 16, 1, 1], bias: true, opts: {} },
  { x: [4, 8, 14, 14], w: [20, 8, 3, 3], bias: true, opts: { padding: 1 } },
];

/** y, dx, dw, db of sum(conv(x) * r) on one device. */
async function convGrads(c: Case, device: "cpu" | "webgpu"): Promise<number[][]> {
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = wg.tensor(randomData(n(c.x), -1, 1, 1), { shape: c.x, device, requiresGrad: true });
  const w = wg.tensor(randomData(n(c.w), -1, 1, 2), { shape: c.w, device, requiresGrad: true });
  const b = c.bias ? wg.tensor(randomData(c.w[0], -1, 1, 3), { device, requiresGrad: true }) : null;
  const y = F.conv2d(x, w, b, c.opts);
  const r = wg.tensor(randomData(y.size, -1, 1, 4), { shape: y.shape, device });
  y.mul(r).sum().backward();
  const out = [await values(y), await values(x.grad!), await values(w.grad!)];
  if (b) out.push(await values(b.grad!));
  return out;
}

const VARIANTS = ["blocked", "tiled", "subgroup"];

/** False (after checking that forcing it says why) when the adapter cannot run the variant. */
function runnable(variant: string): boolean {
  if (variant !== "subgroup" || gpu.caps.subgroups) return true;
  gpu.setForce({ conv: variant });
  try {
    expect(() => F.conv2d(wg.ones([1, 1, 3, 3], { device: "webgpu" }), wg.ones([1, 1, 1, 1], { device: "webgpu" }))).toThrow(/needs the adapter's "subgroups" feature/);
  } finally {
    gpu.setForce({});
  }
  return false;
}

describe.each(VARIANTS)("conv2d, %s kernels", (variant) => {
  test.each(cases)("x $x, w $w, $opts", async (c) => {
    if (!runnable(variant)) return;
    gpu.setForce({ conv: variant });
    try {
      const ref = await convGrads(c, "cpu");
      const got = await convGrads(c, "webgpu");
      ["y", "dx", "dw", "db"].slice(0, ref.length).forEach((what, i) => expectClose(got[i], ref[i], 1e-4, 1e-3, `${what} (${variant})`));
      for (const op of [0, 1, 2]) expect(gpu.pipelineKeys().some((k) => k.includes(`:${op}:${variant}:`))).toBe(true);
    } finally {
      gpu.setForce({});
    }
  });
});

/** r = −1, 0, 1, 2, −1, ... over the output, as scripts/cnn-golden.py. */
const ramp = (y: Tensor) => wg.tensor(Array.from({ length: y.size }, (_, i) => (i % 4) - 1), { shape: y.shape, device: y.device });

async function backwardOf(y: Tensor, ...xs: Tensor[]): Promise<number[][]> {
  y.mul(ramp(y)).sum().backward();
  return Promise.all(xs.map((t) => values(t.grad!)));
}

// Values from PyTorch 1.13 (scripts/cnn-golden.py), on integer inputs small enough to check by hand.
describe.each(["cpu", "webgpu"] as const)("PyTorch values on %s", (device) => {
  const t = (data: number[], shape: number[]) => wg.tensor(data, { shape, device, requiresGrad: true });
  const img = () => t([1, 3, 3, 0, 2, 3, 1, 1, 0, 0, 2, 2, 1, 0, 2, 1], [1, 1, 4, 4]);

  test("conv2d, stride [2, 1], padding 1, bias", async () => {
    const x = t([1, 2, 0, 0, 1, 3, 2, 1, 1, 1, 0, 2], [1, 1, 4, 3]);
    const w = t([1, -1, 2, 0, 0, 1, 1, 1], [2, 1, 2, 2]);
    const b = t([0.5, -1], [2]);
    const y = F.conv2d(x, w, b, { stride: [2, 1], padding: 1 });
    expect(y.shape).toEqual([1, 2, 3, 4]);
    expectClose(await values(y), [0.5, 2.5, 4.5, 0.5, 0.5, 3.5, 0.5, 5.5, -0.5, 1.5, -1.5, 2.5, 0.0, 2.0, 1.0, -1.0, 1.0, 3.0, 4.0, 0.0, 0.0, -1.0, 1.0, -1.0], 1e-6);
    const [dx, dw, db] = await backwardOf(y, x, w, b);
    expectClose(dx, [-1.0, 3.0, 7.0, 0.0, 1.0, 2.0, -1.0, 3.0, 7.0, 0.0, 1.0, 2.0], 1e-6);
    expectClose(dw, [11.0, 4.0, 5.0, -2.0, 11.0, 4.0, 5.0, -2.0], 1e-6);
    expectClose(db, [6.0, 6.0], 1e-6);
  });

  test("maxPool2d 2x2: ties send the gradient to the first maximum", async () => {
    const x = img();
    const y = F.maxPool2d(x, 2);
    expect(await values(y)).toEqual([3.0, 3.0, 1.0, 2.0]);
    expect((await backwardOf(y, x))[0]).toEqual([0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
  });

  test("maxPool2d 3x3, stride 1, padding 1: overlapping windows add up", async () => {
    const x = img();
    const y = F.maxPool2d(x, 3, { stride: 1, padding: 1 });
    expect(await values(y)).toEqual([3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 1.0, 2.0, 2.0, 2.0]);
    expect((await backwardOf(y, x))[0]).toEqual([0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 0.0, -1.0, 0.0, 0.0, 0.0]);
  });

  test("avgPool2d 3x3, stride 2, padding 1 counts the padding", async () => {
    const x = img();
    const y = F.avgPool2d(x, 3, { stride: 2, padding: 1 });
    expectClose(await values(y), [1.0, 1.222222222222, 0.666666666667, 1.333333333333], 1e-6);
    expectClose((await backwardOf(y, x))[0], [-0.111111111111, -0.111111111111, 0.0, 0.0, 0.0, 0.222222222222, 0.222222222222, 0.222222222222, 0.111111111111, 0.333333333333, 0.222222222222, 0.222222222222, 0.111111111111, 0.333333333333, 0.222222222222, 0.222222222222], 1e-6);
  });

  test("adaptiveAvgPool2d 3x5 → 2x3: overlapping windows", async () => {
    const x = t(Array.from({ length: 15 }, (_, i) => i), [1, 1, 3, 5]);
    const y = F.adaptiveAvgPool2d(x, [2, 3]);
    expectClose(await values(y), [3.0, 4.5, 6.0, 8.0, 9.5, 11.0], 1e-5);
    expectClose((await backwardOf(y, x))[0], [-0.25, -0.25, 0.0, 0.25, 0.25, 0.25, 0.083333333333, -0.166666666667, 0.083333333333, 0.25, 0.5, 0.333333333333, -0.166666666667, -0.166666666667, 0.0], 1e-6);
  });

  test("batchNorm: batch statistics, running update, then eval with the running statistics", async () => {
    const x = t([1, 2, 3, 5, 0, 1, 4, 0], [4, 2]);
    const w = t([2, 0.5], [2]);
    const b = t([0, 1], [2]);
    const rm = wg.zeros([2], { device }), rv = wg.ones([2], { device });
    const y = F.batchNorm(x, rm, rv, { weight: w, bias: b, training: true });
    expectClose(await values(y), [-1.264908534253, 1.0, 1.264908534253, 1.801782580334, -2.529817068506, 0.732739139889, 2.529817068506, 0.465478279777], 1e-5);
    const [dx, dw, db] = await backwardOf(y, x, w, b);
    expectClose(dx, [-0.505966449469, -0.267260860111, 0.505966449469, 0.15272081875, 0.252975635314, -0.229080846324, -0.252975635314, 0.343620887686], 1e-5);
    expectClose(dw, [3.794725602758, 1.069043440446], 1e-5);
    expectClose(db, [0.0, 4.0], 1e-5);
    expectClose(await values(rm), [0.2, 0.2], 1e-6);
    expectClose(await values(rv), [1.233333333333, 1.366666666667], 1e-6);
    const e = F.batchNorm(x.detach(), rm, rv, { weight: w.detach(), bias: b.detach() });
    expectClose(await values(e), [1.440714699727, 1.769856213949, 5.042501449044, 3.052949903865, -0.360178674932, 1.342158317311, 6.843394823703, 0.914460420672], 1e-5);
  });
});

describe("higher order (float64, CPU)", () => {
  const opts = [{ stride: 2, padding: 1 }, { groups: 2, dilation: [2, 1] as [number, number] }];
  test.each(opts)("gradcheck of a gradient through conv2d, %o", async (o) => {
    const d = (shape: number[], seed: number) => wg.tensor(randomData(shape.reduce((a, b) => a * b, 1), -1, 1, seed), { shape, dtype: "float64", device: "cpu", requiresGrad: true });
    const x = d([2, 2, 5, 4], 11), w = d([2, 1, 3, 2], 12);
    const wFull = o.groups ? w : d([2, 2, 3, 2], 13);
    const y0 = F.conv2d(x, wFull, null, o);
    const r = d(y0.shape, 14), cx = d(x.shape, 15), cw = d(wFull.shape, 16);
    // s = Σ cx·∂L/∂x + Σ cw·∂L/∂w with L = Σ r·conv + Σ conv²: exercises every rule of the three primitives.
    const f = (xi: Tensor, wi: Tensor, ri: Tensor) => {
      const y = F.conv2d(xi, wi, null, o);
      const L = y.mul(ri).sum().add(y.square().sum());
      const [gx, gw] = wg.autograd.grad(L, [xi, wi], { createGraph: true }) as Tensor[];
      return gx.mul(cx).sum().add(gw.mul(cw).sum());
    };
    const res = await wg.gradcheck(f, [x, wFull, r], { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });

  test("gradcheck of a gradient through batchNorm's batch statistics (channelSumSq, channelSum, channelAffine)", async () => {
    const d = (shape: number[], seed: number) => wg.tensor(randomData(shape.reduce((a, b) => a * b, 1), -1, 1, seed), { shape, dtype: "float64", device: "cpu", requiresGrad: true });
    const x = d([3, 2, 2, 3], 21), w = d([2], 22), r = d([3, 2, 2, 3], 23), cx = d([3, 2, 2, 3], 24);
    const f = (xi: Tensor, wi: Tensor, ri: Tensor) => {
      const y = F.batchNorm(xi, null, null, { weight: wi, training: true });
      const [gx] = wg.autograd.grad(y.mul(ri).sum().add(y.pow(3).sum()), [xi], { createGraph: true }) as Tensor[];
      return gx.mul(cx).sum();
    };
    const res = await wg.gradcheck(f, [x, w, r], { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });

  // batchNorm only calls it with m = the mean, where ∂m vanishes: a free m tests that rule too.
  test("gradcheck of channelSumSq(x, m) and of its gradient, m not the mean", async () => {
    const d = (shape: number[], seed: number) => wg.tensor(randomData(shape.reduce((a, b) => a * b, 1), -1, 1, seed), { shape, dtype: "float64", device: "cpu", requiresGrad: true });
    const x = d([2, 3, 5], 31), m = d([3], 32), r = d([3], 33), cm = d([3], 34);
    expect((await wg.gradcheck((xi: Tensor, mi: Tensor) => channelSumSq(xi, mi).mul(r).sum(), [x, m])).ok).toBe(true);
    const f = (xi: Tensor, mi: Tensor) => {
      const [gx, gm] = wg.autograd.grad(channelSumSq(xi, mi).pow(2).mul(r).sum(), [xi, mi], { createGraph: true }) as Tensor[];
      return gx.sum().add(gm.mul(cm).sum());
    };
    const res = await wg.gradcheck(f, [x, m], { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });
});

describe("on WebGPU", () => {
  /** y and every gradient of sum(f(x, w) · r) on WebGPU and on the CPU. */
  async function bothDevices(xs: number[], ws: number[] | null, f: (x: Tensor, w: Tensor | null) => Tensor) {
    const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const xd = randomData(n(xs), -1, 1, 5), wd = ws && randomData(n(ws), -1, 1, 6);
    const out: number[][][] = [];
    for (const device of ["webgpu", "cpu"] as const) {
      const x = wg.tensor(xd, { shape: xs, device, requiresGrad: true });
      const w = ws && wg.tensor(wd!, { shape: ws, device, requiresGrad: true });
      const y = f(x, w);
      y.mul(y.detach().sign()).sum().backward();
      out.push([await values(y), await values(x.grad!), ...(w ? [await values(w.grad!)] : [])]);
    }
    out[1].forEach((ref, i) => expectClose(out[0][i], ref, 1e-5, 1e-4, `output ${i}`));
  }

  // 65,535 workgroups per dimension is the usual limit; at 7 the same x-then-y split runs on small tensors.
  test.each(VARIANTS)("conv2d and its gradients index workgroups over x and y (%s)", async (variant) => {
    if (!runnable(variant)) return;
    await withDispatchLimit(7, { conv: variant }, () =>
      bothDevices([3, 12, 9, 9], [24, 4, 3, 3], (x, w) => F.conv2d(x, w!, null, { groups: 3, padding: 1 })));
  });

  test("maxPool2d and its gradient index workgroups over x and y", async () => {
    await withDispatchLimit(7, {}, () => bothDevices([2, 3, 40, 41], null, (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 })));
  });

  test("a larger batch: conv2d on [256, 2, 14, 14] matches the CPU", async () => {
    await bothDevices([256, 2, 14, 14], [8, 2, 3, 3], (x, w) => F.conv2d(x, w!, null, { padding: 1 }));
  });

  test("a conv + batch-norm + pool step leaks nothing", async () => {
    const net = new wg.nn.Sequential(new wg.nn.Conv2d(2, 4, 3, { padding: 1, device: "webgpu" }), new wg.nn.BatchNorm2d(4, { device: "webgpu" }), new wg.nn.ReLU(), new wg.nn.MaxPool2d(2), new wg.nn.Flatten(), new wg.nn.Linear(4 * 4 * 4, 3, { device: "webgpu" }));
    const x = wg.randn([5, 2, 8, 8], { device: "webgpu" });
    const labels = wg.tensor(new Int32Array([0, 1, 2, 0, 1]), { dtype: "int32", device: "webgpu" });
    const step = async () => {
      wg.tidy(() => F.crossEntropy(net.forward(x), labels).backward());
      net.zeroGrad();
      await wg.flush();
      await settle();
    };
    await step();
    const before = wg.memory();
    for (let i = 0; i < 3; i++) await step();
    expect(wg.memory().tensors).toBe(before.tensors);
    expect(wg.memory().bytesInUse).toBe(before.bytesInUse);
  });
});

describe("argument errors name the op, the shapes and the fix", () => {
  const z = (...shape: number[]) => wg.zeros(shape, { device: "cpu" });
  const cases: [string, () => unknown, RegExp[]][] = [
    ["conv2d on a 3-D input", () => F.conv2d(z(1, 5, 5), z(2, 1, 3, 3)), [/conv2d: input must be 4-D/, /\[1, 5, 5\]/, /unsqueeze\(0\)/]],
    ["conv2d with a 2-D weight", () => F.conv2d(z(1, 1, 5, 5), z(2, 9)), [/conv2d: weight must be 4-D/, /\[2, 9\]/]],
    ["channels ≠ weight.shape[1] · groups", () => F.conv2d(z(1, 4, 5, 5), z(2, 3, 3, 3)), [/input has 4 channels but weight.shape\[1\] \* groups = 3 \* 1 = 3/, /\[1, 4, 5, 5\]/, /Fix: make the weight \[2, 4, kH, kW\]/]],
    ["channels not divisible by groups", () => F.conv2d(z(1, 4, 5, 5), z(6, 1, 3, 3), null, { groups: 3 }), [/groups=3/, /in channels \(4\)/, /divisible by groups/, /Fix/]],
    ["kernel larger than the padded input", () => F.conv2d(z(1, 1, 2, 5), z(1, 1, 5, 3), null, { padding: 1 }), [/kernel spans 5 along height/, /padded input has only 4/, /output height would be 0/, /\[1, 1, 2, 5\]/, /Fix/]],
    ["dilated kernel larger than the input", () => F.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), null, { dilation: 3 }), [/kernel spans 7 along height/, /would be -1/]],
    ["stride 0", () => F.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), null, { stride: 0 }), [/conv2d: stride must be a positive integer/, /got 0/, /Fix/]],
    ["negative dilation", () => F.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), null, { dilation: [1, -2] }), [/conv2d: dilation must be a positive integer/, /\[1,-2\]/]],
    ["non-integer padding", () => F.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), null, { padding: 0.5 }), [/conv2d: padding must be a non-negative integer/, /0\.5/]],
    ["groups 0", () => F.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), null, { groups: 0 }), [/conv2d: groups must be a positive integer/]],
    ["a bias of the wrong size", () => F.conv2d(z(1, 1, 5, 5), z(2, 1, 3, 3), z(3)), [/conv2d: bias must be \[2\]/, /got \[3\]/]],
    ["maxPool2d on a 2-D input", () => F.maxPool2d(z(5, 5), 2), [/maxPool2d: input must be 4-D/, /\[5, 5\]/]],
    ["maxPool2d with a non-integer kernel", () => F.maxPool2d(z(1, 1, 5, 5), 2.5), [/maxPool2d: kernelSize must be a positive integer/, /2\.5/, /Fix: pass the kernel size as e\.g\. 3 or \[3, 3\]/]],
    ["maxPool2d padding over half the kernel", () => F.maxPool2d(z(1, 1, 5, 5), 2, { padding: 2 }), [/maxPool2d: padding \[2, 2\] must be at most half the kernel \[2, 2\]/]],
    ["maxPool2d on an empty plane (a window of padding alone)", () => F.maxPool2d(z(1, 1, 0, 4), 2, { padding: 1 }), [/maxPool2d: expected an \[N, C, H, W\] input with non-zero C, H and W/, /\[1, 1, 0, 4\]/]],
    ["avgPool2d with no channels", () => F.avgPool2d(z(2, 0, 4, 4), 2), [/avgPool2d: expected .* non-zero C, H and W \(only the batch N may be 0\)/, /\[2, 0, 4, 4\]/]],
    ["avgPool2d window larger than the input", () => F.avgPool2d(z(1, 1, 2, 2), 3), [/avgPool2d: the kernel spans 3 along height/, /output height would be 0/]],
    ["avgPool2d with stride 0", () => F.avgPool2d(z(1, 1, 4, 4), 2, { stride: 0 }), [/avgPool2d: stride must be a positive integer/]],
    ["adaptiveAvgPool2d to size 0", () => F.adaptiveAvgPool2d(z(1, 1, 4, 4), 0), [/adaptiveAvgPool2d: outputSize must be a positive integer/]],
    ["pad with an odd list", () => F.pad(z(2, 3), [1, 2, 3]), [/pad: pads must be an even number/, /\[2, 3\]/]],
    ["batchNorm in training with one value per channel", () => F.batchNorm(z(1, 3), null, null, { training: true }), [/batchNorm: training needs more than one value per channel/, /\[1, 3\]/, /eval mode/]],
    ["batchNorm in training, one 1x1 image", () => F.batchNorm(z(1, 2, 1, 1), z(2), z(2), { training: true }), [/more than one value per channel/, /\[1, 2, 1, 1\]/]],
    ["batchNorm with running statistics of the wrong size", () => F.batchNorm(z(4, 3), z(2), z(3)), [/batchNorm: runningMean must be \[3\]/, /got \[2\]/]],
    ["BatchNorm2d on [N, C]", () => new wg.nn.BatchNorm2d(3, { device: "cpu" }).forward(z(4, 3)), [/BatchNorm2d\(3\): expected a 4-D input/, /\[4, 3\]/, /BatchNorm1d/]],
    ["Conv2d with channels not divisible by groups", () => new wg.nn.Conv2d(4, 6, 3, { groups: 4, device: "cpu" }), [/Conv2d: inChannels \(4\) and outChannels \(6\) must be divisible by groups \(4\)/]],
  ];
  test.each(cases)("%s", (_name, fn, patterns) => {
    let message = "";
    try {
      fn();
    } catch (e) {
      message = (e as Error).message;
    }
    for (const p of patterns) expect(message).toMatch(p);
  });
});
