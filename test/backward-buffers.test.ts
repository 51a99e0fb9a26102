/**
 * What the backward pass allocates and writes: the gradients of several slices of one tensor land
 * in one buffer (no zero-padded tensor per slice, no adds between them), and a gradient is freed
 * once spent, so a fused chain pending on the device does not write it out. Values on both devices;
 * the launches and written outputs on WebGPU.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/tensor.js";
import { gpu, launched, on } from "./fusion-helpers.js";
import { DEVICES, expectClose, settle, startWebgpu } from "./helpers.js";

beforeAll(async () => {
  await startWebgpu();
  await wg.init({ fusion: true });
});
afterAll(async () => {
  await wg.init({ fusion: true });
});

/** x [3, 4, 5] seen through `parts` (dim, start, end) slices, each weighted by its own random r: the gradient of sum(part · r). */
function sliced(device: "cpu" | "webgpu", parts: [number, number, number][]) {
  const x = on(device, 60, 1, [3, 4, 5]).requiresGrad_();
  const rs: Tensor[] = [];
  let loss = wg.zeros([], { device });
  parts.forEach(([dim, start, end], k) => {
    const p = x.slice(dim, start, end);
    const r = on(device, p.size, 10 + k, p.shape);
    rs.push(r);
    loss = loss.add(p.mul(r).sum());
  });
  return { x, loss, rs };
}

/** The same gradient built on the host: each part's r added into its region. */
async function expected(parts: [number, number, number][]): Promise<number[]> {
  const out = new Array(60).fill(0);
  const strides = [20, 5, 1];
  for (const [k, [dim, start, end]] of parts.entries()) {
    const shape = [3, 4, 5];
    shape[dim] = end - start;
    const r = await on("cpu", shape[0] * shape[1] * shape[2], 10 + k, shape).data();
    let n = 0;
    for (let a = 0; a < shape[0]; a++)
      for (let b = 0; b < shape[1]; b++)
        for (let c = 0; c < shape[2]; c++) {
          const idx = [a, b, c];
          idx[dim] += start;
          out[idx[0] * strides[0] + idx[1] * strides[1] + idx[2] * strides[2]] += r[n++];
        }
  }
  return out;
}

const CASES: [string, [number, number, number][]][] = [
  ["three slices covering dim 0 (q, k, v of one projection)", [[0, 0, 1], [0, 1, 2], [0, 2, 3]]],
  ["two slices with a gap (zeros there)", [[1, 0, 1], [1, 2, 4]]],
  ["overlapping slices (their sum)", [[2, 0, 3], [2, 1, 5]]],
  ["slices along different dims", [[0, 0, 2], [1, 1, 3]]],
  ["the same slice twice", [[1, 1, 3], [1, 1, 3]]],
];

describe("gradients of slices of one tensor", () => {
  for (const device of DEVICES)
    test.each(CASES)(`${device}: %s`, async (_, parts) => {
      const { x, loss } = sliced(device, parts);
      loss.backward();
      expectClose(await x.grad!.data(), await expected(parts), 1e-6, 1e-6);
    });

  test("webgpu: slices that cover the tensor are copied into one buffer: no zero fill, no adds", async () => {
    const parts: [number, number, number][] = [[0, 0, 1], [0, 1, 2], [0, 2, 3]];
    const { x, loss } = sliced("webgpu", parts);
    await wg.flush();
    const { names } = await launched(() => loss.backward());
    // Each part's rule (r · g, fused) and its copy into x's gradient; nothing else.
    expect(names.filter((n) => n === "copy").length).toBe(3);
    expect(names.filter((n) => n === "add" || n === "fill" || n.includes("add")).length).toBe(0);
    expectClose(await x.grad!.data(), await expected(parts), 1e-6, 1e-6);
  });

  test("a slice's gradient and the whole tensor's add up; grad through createGraph is unchanged", async () => {
    for (const device of DEVICES) {
      const x = on(device, 12, 3, [4, 3]).requiresGrad_();
      const y = x.slice(0, 0, 2).square().sum().add(x.slice(0, 2, 4).mul(3).sum()).add(x.sum());
      const [g] = wg.autograd.grad(y, [x], { createGraph: true });
      const xs = await x.data();
      const want = Array.from(xs, (v, i) => (i < 6 ? 2 * v : 3) + 1);
      expectClose(await g!.data(), want, 1e-6, 1e-6, device);
      // Second order: d/dx sum(g) = 2 on the squared rows, 0 elsewhere.
      const [h] = wg.autograd.grad(g!.sum(), [x]);
      expectClose(await h!.data(), Array.from(xs, (_, i) => (i < 6 ? 2 : 0)), 1e-6, 1e-6, device);
    }
  });
});

/** launched()'s per-launch counts of outputs still referenced, by kernel name. */
function byKernel<T>(run: { value: T; names: string[]; written: number[] }) {
  const written: Record<string, number[]> = {};
  run.names.forEach((name, i) => (written[name] ??= []).push(run.written[i]));
  return { ...run, written };
}

describe("gradients freed once spent", () => {
  test("webgpu: a backward matmul's GELU epilogue writes only the product, not the product's operands", async () => {
    const x = on("webgpu", 8 * 16, 1, [8, 16]);
    const w1 = on("webgpu", 32 * 16, 2, [32, 16]).requiresGrad_();
    const w2 = on("webgpu", 4 * 32, 3, [4, 32]).requiresGrad_();
    const loss = x.matmul(w1.T).gelu().matmul(w2.T).square().sum();
    const { names: order, written } = byKernel(await launched(() => loss.backward()));
    // dh = g · W2, then dh ⊙ GELU'(h) (in the matmul's epilogue or its own chain): before, the
    // kernel also wrote GELU'(h) (and dh), which the backward pass held until it ended.
    const gelu = Object.keys(written).filter((n) => n.includes("geluGrad"));
    expect(gelu.length, order.join(" ")).toBe(1);
    expect(written[gelu[0]], order.join(" ")).toEqual([1]);
    const ref = (() => {
      const xc = on("cpu", 8 * 16, 1, [8, 16]);
      const a = on("cpu", 32 * 16, 2, [32, 16]).requiresGrad_();
      const b = on("cpu", 4 * 32, 3, [4, 32]).requiresGrad_();
      xc.matmul(a.T).gelu().matmul(b.T).square().sum().backward();
      return [a.grad!, b.grad!];
    })();
    expectClose(await w1.grad!.data(), await ref[0].data(), 1e-4, 1e-4, "w1");
    expectClose(await w2.grad!.data(), await ref[1].data(), 1e-4, 1e-4, "w2");
  });

  test("what the caller holds survives: gradOutputs, retained gradients, captured inputs, gradients handed on by adds", async () => {
    for (const device of DEVICES) {
      const x = on(device, 6, 4, [2, 3]).requiresGrad_();
      const mid = x.mul(2).retainGrad();
      const y = mid.add(mid).add(x); // add hands its gradient on unchanged, to two inputs
      const seed = on(device, 6, 5, [2, 3]);
      const [gx] = wg.autograd.grad(y, [x], { gradOutputs: seed, retainGraph: true });
      const s = await seed.data();
      expectClose(await gx!.data(), Array.from(s, (v) => 5 * v), 1e-6, 1e-6, device);
      expect(seed.isDisposed).toBe(false);
      y.backward(seed);
      expectClose(await mid.grad!.data(), Array.from(s, (v) => 2 * v), 1e-6, 1e-6, device);
      expectClose(await x.grad!.data(), Array.from(s, (v) => 5 * v), 1e-6, 1e-6, device);
    }
  });

  test("no tensors left behind by a backward pass", async () => {
    const run = () => {
      const { x, loss } = sliced("webgpu", [[0, 0, 1], [0, 1, 3]]);
      loss.backward();
      return x;
    };
    run().dispose();
    await settle();
    const before = wg.memory("webgpu").tensors;
    for (let i = 0; i < 3; i++) wg.tidy(() => void run().grad!.dispose());
    await settle();
    expect(wg.memory("webgpu").tensors).toBe(before);
  });
});

describe("what the forward pass saves", () => {
  test.each(DEVICES)("%s: mul and div keep an operand only for a gradient that reads it; gradients as before", async (device) => {
    const x = on(device, 12, 1, [3, 4]).requiresGrad_();
    const w = on(device, 4, 2, [4]).requiresGrad_();
    const c = on(device, 4, 3, [4]).add(2);
    const shapes = (t: Tensor) => ((t.gradFn as unknown) as { savedShapes: number[][] }).savedShapes;
    expect(shapes(x.mul(0.5))).toEqual([[]]); // the constant for dx; x only for a constant's gradient
    expect(shapes(x.mul(c))).toEqual([[4]]);
    expect(shapes(c.mul(x))).toEqual([[4]]);
    expect(shapes(x.mul(w))).toEqual([[3, 4], [4]]);
    expect(shapes(x.div(c))).toEqual([[4]]); // dx = g / c
    expect(shapes(c.div(x))).toEqual([[4], [3, 4]]); // dx = -g c / x²
    const r = on(device, 12, 4, [3, 4]);
    const loss = x.mul(0.5).mul(c).div(c.add(1)).add(c.div(x.add(3))).mul(w).mul(r).sum();
    loss.backward();
    const [gx, gw] = [await x.grad!.data(), await w.grad!.data()];
    const [xs, ws, cs, rs] = [await x.data(), await w.data(), await c.data(), await r.data()];
    const wantX = Array.from(xs, (v, i) => (0.5 * cs[i % 4] / (cs[i % 4] + 1) - cs[i % 4] / (v + 3) ** 2) * ws[i % 4] * rs[i]);
    const wantW = [0, 1, 2, 3].map((j) => [0, 1, 2].reduce((s, i) => s + (0.5 * xs[4 * i + j] * cs[j] / (cs[j] + 1) + cs[j] / (xs[4 * i + j] + 3)) * rs[4 * i + j], 0));
    expectClose(gx, wantX, 1e-5, 1e-5, "dx");
    expectClose(gw, wantW, 1e-5, 1e-5, "dw");
  });

  test("webgpu: the composite attention's scores (scaled, causally masked) are written once: not the raw product, not the scaled one", async () => {
    const q = on("webgpu", 2 * 8 * 4, 1, [2, 8, 4]).requiresGrad_();
    const k = on("webgpu", 2 * 8 * 4, 2, [2, 8, 4]).requiresGrad_();
    const v = on("webgpu", 2 * 8 * 4, 3, [2, 8, 4]).requiresGrad_();
    gpu().setForce({ attention: "composite" });
    let run: Awaited<ReturnType<typeof launched<Tensor>>>;
    try {
      run = await launched(() => wg.nn.functional.scaledDotProductAttention(q, k, v, { isCausal: true }));
    } finally {
      gpu().setForce({});
    }
    const { value: out, written } = byKernel(run);
    expect(written["matmul+fused(mul, add)"], Object.keys(written).join(" ")).toEqual([1]);
    const r = on("webgpu", 2 * 8 * 4, 4, [2, 8, 4]);
    out.mul(r).sum().backward();
    const cpu = ["q", "k", "v"].map((_, i) => on("cpu", 2 * 8 * 4, i + 1, [2, 8, 4]).requiresGrad_());
    const ref = wg.nn.functional.scaledDotProductAttention(cpu[0], cpu[1], cpu[2], { isCausal: true });
    ref.mul(on("cpu", 2 * 8 * 4, 4, [2, 8, 4])).sum().backward();
    expectClose(await out.data(), await ref.data(), 1e-5, 1e-5, "attention");
    for (const [i, t] of [q, k, v].entries()) expectClose(await t.grad!.data(), await cpu[i].grad!.data(), 1e-4, 1e-4, `grad ${"qkv"[i]}`);
  });
});
