/** The WebGPU backend itself: residency, steady memory, caching, large dispatches, kernel variants, errors. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import type { Kernel } from "../src/backend/backend.js";
import { crossEntropyRows } from "../src/ops/index.js";
import { expectClose, randomData, settle, startWebgpu, values } from "./helpers.js";

let gpu: WebGpuBackend;
beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as WebGpuBackend;
});

const device = "webgpu" as const;

/** A two-layer MLP training step written with raw tensors, its update done in place as an optimizer would. */
function mlp(batch = 32) {
  wg.manualSeed(5);
  // Made inside tidy so the randn/mul temporaries are disposed now, not whenever GC runs.
  const p = wg.tidy(() => ({
    W1: wg.randn([64, 48], { device }).mul(0.1).detach().requiresGrad_(),
    b1: wg.zeros([64], { device, requiresGrad: true }),
    W2: wg.randn([10, 64], { device }).mul(0.1).detach().requiresGrad_(),
    b2: wg.zeros([10], { device, requiresGrad: true }),
  }));
  const x = wg.randn([batch, 48], { device });
  const y = wg.tensor(Int32Array.from({ length: batch }, (_, i) => i % 10), { dtype: "int32", device });
  const step = () =>
    wg.tidy(() => {
      for (const t of Object.values(p)) {
        t.grad?.dispose();
        t.grad = null;
      }
      const h = x.matmul(p.W1.T).add(p.b1).relu();
      const loss = crossEntropyRows(h.matmul(p.W2.T).add(p.b2), y).mean();
      loss.backward();
      wg.noGrad(() => Object.values(p).forEach((t) => t.sub_(t.grad!.mul(0.05))));
      return loss;
    });
  const dispose = () => [x, y, ...Object.values(p)].forEach((t) => (t.grad?.dispose(), t.dispose()));
  return { p, step, dispose };
}

describe("residency and steady state", () => {
  test("an MLP step (forward, backward, in-place update) reads nothing back and creates nothing after warm-up", async () => {
    const { step, dispose } = mlp();
    for (let i = 0; i < 3; i++) step().dispose();
    await wg.flush();
    const before = { ...gpu.stats };
    let last: Tensor | null = null;
    for (let i = 0; i < 5; i++) {
      last?.dispose();
      last = step();
    }
    const after = { ...gpu.stats };
    expect(after.readbacks - before.readbacks).toBe(0);
    expect(after.uploads - before.uploads).toBe(0);
    expect(after.buffersCreated - before.buffersCreated).toBe(0);
    expect(after.pipelinesCreated - before.pipelinesCreated).toBe(0);
    expect(after.bindGroupsCreated - before.bindGroupsCreated).toBe(0);
    const launchesPerStep = (after.launches - before.launches) / 5;
    expect(launchesPerStep).toBeGreaterThan(10);
    expect(after.submits - before.submits).toBeLessThanOrEqual(1);
    console.log(`MLP step: ${launchesPerStep} launches, ${(after.submits - before.submits) / 5} submits per step, 0 readbacks`);
    const loss = await last!.item(); // the one readback, when asked
    expect(Number.isFinite(loss)).toBe(true);
    expect(gpu.stats.readbacks - after.readbacks).toBe(1);
    last!.dispose();
    dispose();
  });

  test("memory after step 10 equals memory after step 200", async () => {
    const { step, dispose } = mlp(16);
    const losses: number[] = [];
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const l = step();
        if (i === n - 1) losses.push(await l.item());
        l.dispose();
      }
      await wg.flush();
      await settle();
      return wg.memory();
    };
    await settle();
    const m10 = await run(10);
    const m200 = await run(190);
    expect(m200).toEqual(m10);
    expect(losses[1]).toBeLessThan(losses[0]);
    dispose();
  });

  test("disposed buffers are reused: allocating the same sizes again creates no buffer", async () => {
    const a = wg.zeros([1000], { device });
    const b = wg.zeros([3000], { device });
    a.dispose();
    b.dispose();
    const created = gpu.stats.buffersCreated;
    const pooled = wg.memory().bytesPooled;
    const c = wg.ones([3000], { device });
    const d = wg.ones([1000], { device });
    expect(gpu.stats.buffersCreated).toBe(created);
    expect(wg.memory().bytesPooled).toBeLessThan(pooled);
    expect(await values(c.sum())).toEqual([3000]);
    d.dispose();
    c.dispose();
  });

  test("a hundred small ops are one submit; the readback is the sync point", async () => {
    await wg.flush();
    const s0 = gpu.stats.submits;
    let x = wg.ones([16], { device });
    for (let i = 0; i < 100; i++) x = x.add(1);
    expect(gpu.stats.submits).toBe(s0);
    expect(await values(x.slice(0, 0, 2))).toEqual([101, 101]);
    expect(gpu.stats.submits).toBe(s0 + 1);
  });

  test("shape errors are raised before any GPU work", async () => {
    await wg.flush();
    const ran: string[] = [];
    const run = gpu.run;
    gpu.run = function (this: WebGpuBackend, kernel, outs, ins, attrs) {
      ran.push(kernel.name);
      return run.call(this, kernel, outs, ins, attrs);
    } as WebGpuBackend["run"];
    try {
      expect(() => wg.ones([2, 3], { device }).matmul(wg.ones([2, 3], { device }))).toThrow(/matmul/);
      await wg.flush(); // the fills may wait in the fusion queue until a sync point
    } finally {
      gpu.run = run;
    }
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.every((name) => name !== "matmul"), `ran ${ran.join(", ")}`).toBe(true); // the two ones() fills only, fused or not
  });
});

describe("dispatch sizes and kernel variants", () => {
  test("a dispatch over 65,535 workgroups is split over two dimensions", async () => {
    const n = 65_535 * 256 + 1000; // 65,539 workgroups of 256
    const x = wg.arange(n, { device, dtype: "int32" }).add(1);
    expect(Math.ceil(n / 256)).toBeGreaterThan(65_535);
    expect(await values(x.slice(0, n - 3))).toEqual([n - 2, n - 1, n]);
    expect(await values(x.slice(0, 65_535 * 256, 65_535 * 256 + 2))).toEqual([65_535 * 256 + 1, 65_535 * 256 + 2]);
    x.dispose();
  });

  const variants: [string, Record<string, string>][] = [
    ["matmul tiled (workgroup memory)", { matmul: "tiled" }],
    ["matmul blocked (registers)", { matmul: "blocked" }],
    ["reduce and softmax, one workgroup per row", { reduce: "rows", softmax: "rows" }],
    ["reduce and softmax, one invocation per row", { reduce: "threads", softmax: "threads" }],
  ];
  test.each(variants)("%s matches the CPU forward and backward", async (_name, force) => {
    gpu.setForce(force);
    try {
      for (const [m, k, n] of [[1, 1, 1], [3, 17, 5], [65, 33, 70], [130, 257, 66]]) {
        const a = randomData(m * k, -1, 1, m + k);
        const b = randomData(k * n, -1, 1, n + 3);
        const r = randomData(m * n, -1, 1, 9);
        const results: number[][][] = [];
        for (const dev of ["cpu", "webgpu"] as const) {
          const A = wg.tensor(a, { shape: [m, k], device: dev, requiresGrad: true });
          const B = wg.tensor(b, { shape: [k, n], device: dev, requiresGrad: true });
          const C = A.matmul(B);
          const loss = C.softmax(-1).mul(wg.tensor(r, { shape: [m, n], device: dev })).sum().add(C.max(0).sum()).add(C.sum(1).sum());
          loss.backward();
          results.push([await values(C), await values(A.grad!), await values(B.grad!), await values(C.logSoftmax(0))]);
        }
        results[0].forEach((ref, i) => expectClose(results[1][i], ref, 2e-4, 2e-3, `${m}x${k}x${n} output ${i}`));
      }
    } finally {
      gpu.setForce({});
    }
  });

  test.each(["vec4", "strided"])("elementwise ops on the %s path match the CPU", async (path) => {
    gpu.setForce(path === "strided" ? { elementwise: "strided" } : {});
    try {
      const a = randomData(64, -2, 2, 1);
      const b = randomData(64, 0.5, 2, 2);
      const run = async (dev: "cpu" | "webgpu") => {
        const x = wg.tensor(a, { shape: [8, 8], device: dev });
        const y = wg.tensor(b, { shape: [8, 8], device: dev });
        const outs = [x.add(y), x.mul(3), x.sub(y).tanh(), x.gt(y), wg.where(x.gt(0), x, y), x.relu().sigmoid(), x.int().float(), x.abs().sqrt()];
        const z = x.clone();
        z.mul_(2).add_(y);
        outs.push(z);
        return Promise.all(outs.map(values));
      };
      const [ref, got] = [await run("cpu"), await run("webgpu")];
      ref.forEach((r, i) => expectClose(got[i], r, 1e-6, 1e-5, `${path} output ${i}`));
    } finally {
      gpu.setForce({});
    }
  });

  test("rand and randn give the CPU's numbers for the same seed", async () => {
    const draw = async (dev: "cpu" | "webgpu") => {
      wg.manualSeed(123);
      return [await values(wg.rand([1000], { device: dev })), await values(wg.randn([1000], { device: dev }))];
    };
    const [cu, cn] = await draw("cpu");
    const [gu, gn] = await draw("webgpu");
    expect(gu).toEqual(cu);
    expectClose(gn, cn, 2e-6, 2e-6, "randn");
    const mean = cn.reduce((s, v) => s + v, 0) / cn.length;
    const variance = cn.reduce((s, v) => s + (v - mean) ** 2, 0) / cn.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
    expect(Math.min(...cu)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...cu)).toBeLessThan(1);
  });

  test("pow of negative bases is real-valued, not WGSL's undefined pow", async () => {
    const x = wg.tensor([-2, -2, -8, 0, 0, 2], { device });
    const y = wg.tensor([2, 3, 1 / 3, 0, 2, 0.5], { device });
    const got = await values(x.pow(y));
    expect(got.slice(0, 2)).toEqual([4, -8]);
    expect(Number.isNaN(got[2])).toBe(true); // a fractional power of a negative number, as in PyTorch
    expect(got.slice(3, 5)).toEqual([1, 0]);
    expect(got[5]).toBeCloseTo(Math.SQRT2, 6);
  });
});

describe("WebGPU errors become Errors", () => {
  test("a WGSL kernel that fails to build is reported at the next sync point, naming the op", async () => {
    const broken: Kernel<void> = {
      name: "brokenOp",
      cpu() {},
      webgpu: () => ({ key: "broken", code: () => "this is not wgsl", params: new ArrayBuffer(16), workgroups: 1 }),
    };
    const t = wg.zeros([4], { device });
    gpu.run(broken, [t], [], undefined);
    await expect(t.data()).rejects.toThrow(/webgpu: brokenOp: building its WGSL pipeline failed/);
    // The backend keeps working afterwards.
    expect(await values(wg.ones([2], { device }).add(1))).toEqual([2, 2]);
  });

  test("a validation error in a batch is thrown, not returned as data", async () => {
    const t = wg.ones([8], { device });
    await wg.flush();
    // Simulate a use-after-free at the GPU level: the buffer under t is destroyed behind webgrad's back.
    (t.storage as unknown as { buf: { buffer: GPUBuffer } }).buf.buffer.destroy();
    const u = t.add(1);
    await expect(u.data()).rejects.toThrow(/webgpu: WebGPU validation error while running .*add/);
    expect(await values(wg.ones([2], { device }).mul(3))).toEqual([3, 3]);
  });
});
