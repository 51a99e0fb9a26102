// Elementwise fusion on WebGPU: a chain becomes one generated kernel, with the values, memory()
// and gradients of the unfused ops (the CPU backend is the oracle), and init({ fusion: false }) off.
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { expectClose, randomData, startWebgpu } from "./helpers.js";

const stats = () => (webgpuBackend() as WebGpuBackend).stats;
const on = (device: "cpu" | "webgpu", data: Float64Array, shape = [data.length]) => wg.tensor(Float32Array.from(data), { device }).reshape(shape);

/** A chain of `ops` alternating mul and add, in a tidy (its intermediates dropped at the end). */
function chain(x: Tensor, scale: Tensor, shift: Tensor, ops: number): Tensor {
  return wg.tidy(() => {
    let y = x;
    for (let i = 0; i < ops; i++) y = i % 2 ? y.add(shift) : y.mul(scale);
    return y;
  });
}

describe("elementwise fusion (webgpu)", () => {
  beforeAll(async () => {
    await startWebgpu();
    await wg.init({ fusion: true });
  });
  afterAll(async () => {
    await wg.init({ fusion: true });
  });

  test("a chain of 100 ops in a tidy is one launch with the CPU's values; memory() is as unfused", async () => {
    const data = randomData(1024, 0, 1, 3);
    const cpu = chain(on("cpu", data), wg.full([1024], 0.999, { device: "cpu" }), wg.full([1024], 1e-3, { device: "cpu" }), 100);
    const [x, scale, shift] = [on("webgpu", data), wg.full([1024], 0.999, { device: "webgpu" }), wg.full([1024], 1e-3, { device: "webgpu" })];
    await wg.flush();
    const held = wg.memory("webgpu");
    const before = { ...stats() };
    const y = chain(x, scale, shift, 100);
    expect(wg.memory("webgpu").tensors).toBe(held.tensors + 1);
    expect(wg.memory("webgpu").bytesInUse).toBe(held.bytesInUse + 4096);
    const values = await y.data();
    expect(stats().launches - before.launches).toBe(1);
    expectClose(values, await cpu.data(), 1e-6, 1e-5, "chain"); // same ops in the same order: float32 rounding only
    y.dispose();
    // A second run reuses the pipeline and bind group.
    const again = { ...stats() };
    const z = chain(x, scale, shift, 100);
    await z.data();
    expect([stats().pipelinesCreated, stats().bindGroupsCreated]).toEqual([again.pipelinesCreated, again.bindGroupsCreated]);
    z.dispose();
    for (const t of [x, scale, shift]) t.dispose();
  });

  test("a dropped intermediate never gets a GPU buffer: 40 ops of a size no pool holds create one buffer, the result's", async () => {
    const x = on("webgpu", randomData(3001, 0, 1, 9), [3001]); // an odd size: no pooled buffer fits it exactly
    wg.tidy(() => x.slice(0, 0, 4).add(0.5).mul(0.9)).dispose(); // the constants 0.5 and 0.9 are made (and cached) here
    await x.data();
    const before = { ...stats() };
    const y = wg.tidy(() => {
      let v = x;
      for (let k = 0; k < 40; k++) v = k % 2 ? v.add(0.5) : v.mul(0.9);
      return v;
    });
    await y.data();
    expect(stats().buffersCreated - before.buffersCreated).toBe(1);
    for (const t of [x, y]) t.dispose();
  });

  test("a chain longer than one kernel's 128 ops is cut when realized: only its result and the values crossing a cut are written", async () => {
    const data = randomData(2048, 0, 1, 21);
    const cpu = chain(on("cpu", data), wg.full([2048], 0.999, { device: "cpu" }), wg.full([2048], 1e-3, { device: "cpu" }), 300);
    const [x, scale, shift] = [on("webgpu", data), wg.full([2048], 0.999, { device: "webgpu" }), wg.full([2048], 1e-3, { device: "webgpu" })];
    await wg.flush();
    const backend = webgpuBackend() as WebGpuBackend;
    /** Spy on one of the backend's methods, calling `seen` with its arguments before it runs. */
    const watch = (method: "run" | "alloc" | "free", seen: (args: unknown[]) => void) => {
      const original = WebGpuBackend.prototype[method] as (...args: unknown[]) => unknown;
      return vi.spyOn(backend as unknown as Record<typeof method, (...args: unknown[]) => unknown>, method).mockImplementation(function (this: unknown, ...args: unknown[]) {
        seen(args);
        return original.apply(this, args);
      });
    };
    const written: number[] = [];
    // Storages the chain allocates and frees itself (its crossing temporaries); a tensor's goes through alloc too.
    let [allocs, frees] = [0, 0];
    const spies = [watch("run", (args) => written.push((args[1] as unknown[]).length)), watch("alloc", () => allocs++), watch("free", () => frees++)];
    const before = { ...stats() };
    const held = wg.memory("webgpu");
    // 300 ops in one tidy: cut as they were recorded, the first 256 would all be written (the tidy
    // still held them); cut at realize, kernels of 128, 128 and 44 ops write one value each.
    const y = chain(x, scale, shift, 300);
    expect(stats().launches - before.launches).toBe(0);
    expect(wg.memory("webgpu").tensors).toBe(held.tensors + 1); // checked before any await: no finalizer runs in between
    const [allocsRecorded, freesRecorded] = [allocs, frees];
    const values = await y.data();
    for (const spy of spies) spy.mockRestore();
    expect(written).toEqual([1, 1, 1]);
    expect(stats().launches - before.launches).toBe(3);
    // Realizing made the two crossing temporaries and freed them again.
    expect([allocs - allocsRecorded, frees - freesRecorded]).toEqual([2, 2]);
    expectClose(values, await cpu.data(), 1e-6, 1e-5, "300-op chain");
    for (const t of [x, scale, shift, y]) t.dispose();
  });

  test("a sum or a matmul after a chain of 200 ops: the same values as the CPU", async () => {
    const data = randomData(64 * 32, -1, 1, 22);
    const run = (device: "cpu" | "webgpu") => {
      const x = on(device, data, [64, 32]);
      const w = on(device, randomData(32 * 16, -1, 1, 23), [32, 16]);
      return wg.tidy(() => {
        const y = chain(x, wg.full([32], 0.999, { device }), wg.full([32], 1e-3, { device }), 200);
        let z = y.matmul(w); // a matmul head with a chain of 200 ops after it
        for (let k = 0; k < 200; k++) z = k % 2 ? z.add(1e-3) : z.mul(0.999);
        return [y.sum(0), z];
      });
    };
    const [gpu, cpu] = [run("webgpu"), run("cpu")];
    expectClose(await gpu[0].data(), await cpu[0].data(), 1e-5, 1e-4, "sum");
    expectClose(await gpu[1].data(), await cpu[1].data(), 1e-5, 1e-4, "matmul chain");
    for (const t of [...gpu, ...cpu]) t.dispose();
  });

  test("intermediates still held are written too, and read back right", async () => {
    const data = randomData(300, -2, 2, 5);
    const run = (device: "cpu" | "webgpu") => {
      const x = on(device, data, [3, 100]);
      const a = x.mul(2).sub(0.5);
      const b = a.relu().add(x.neg().exp());
      const c = b.gt(0.3).mul(a).where(b, x).tanh();
      return [a, b, c];
    };
    const gpu = run("webgpu");
    const ref = run("cpu");
    for (let k = 0; k < 3; k++) expectClose(await gpu[k].data(), await ref[k].data(), 1e-5, 1e-5, `value ${k}`);
  });

  test("broadcast scalars, comparisons, casts and int32 ops fuse and match the CPU", async () => {
    const data = randomData(64, -10, 10, 7);
    const run = (device: "cpu" | "webgpu") =>
      wg.tidy(() => {
        const x = on(device, data, [8, 8]);
        const i = x.int().mul(3).sub(1).abs();
        return x.mul(0.25).add(i.float()).pow(2).sqrt().sigmoid().mul(x.lt(0)).erf();
      });
    const backend = webgpuBackend() as WebGpuBackend;
    const names: string[] = [];
    const spy = vi.spyOn(backend, "run").mockImplementation(function (this: WebGpuBackend, ...args) {
      names.push(args[0].name);
      return WebGpuBackend.prototype.run.apply(this, args);
    });
    const gpu = run("webgpu");
    const values = await gpu.data();
    spy.mockRestore();
    expect(names).toEqual(["fused(cast_int32, mul, sub, abs, cast_float32, add, pow, sqrt, sigmoid, lt, erf)"]);
    expectClose(values, await run("cpu").data(), 1e-5, 1e-4, "mixed chain");
  });

  test("an input disposed while the chain is pending keeps its buffer until the chain is encoded", async () => {
    const data = randomData(256, -1, 1, 9);
    const x = on("webgpu", data);
    const y = x.mul(3);
    x.dispose(); // the pending chain reads x's buffer: the pool gets it back only after the chain is encoded
    const other = wg.full([256], 7, { device: "webgpu" }); // may reuse x's buffer
    const z = y.add(1);
    expectClose(await z.data(), Array.from(data, (v) => Math.fround(Math.fround(v) * 3) + 1), 1e-5, 1e-6, "z");
    expect(Array.from(await other.data()).every((v) => v === 7)).toBe(true);
    for (const t of [y, z, other]) t.dispose();
  });

  test("in-place writes into a pending value see it, and later ops see theirs", async () => {
    const x = wg.full([64], 2, { device: "webgpu" });
    const y = x.mul(3); // pending
    wg.noGrad(() => y.copy_(y.add(1))); // a copy into y's own storage while the chain reads and writes it
    const z = y.add(0.5);
    wg.noGrad(() => y.mul_(2)); // in place: reads and writes y's buffer, never fused
    const w = y.sub(1);
    expect([...(await z.data())].every((v) => v === 7.5)).toBe(true);
    expect([...(await y.data())].every((v) => v === 14)).toBe(true);
    expect([...(await w.data())].every((v) => v === 13)).toBe(true);
    for (const t of [x, y, z, w]) t.dispose();
  });

  test("a chain with more live outputs than bindings runs as several fused kernels with the CPU's values", async () => {
    const data = randomData(96, -1, 1, 13);
    const run = (device: "cpu" | "webgpu") => {
      const x = on(device, data);
      // Dropped values that later ops still read cross from one kernel to the next through temporaries.
      return wg.tidy(() => {
        const kept: Tensor[] = [];
        let y = x;
        for (let k = 0; k < 12; k++) {
          const t = y.mul(1.01).add(0.01); // three inputs in all (x, 1.01, 0.01): only realize can split the chain
          y = t.sin().add(y);
          if (k % 2 === 0) kept.push(y);
        }
        return [...kept, y.tanh()];
      });
    };
    const backend = webgpuBackend() as WebGpuBackend;
    const names: string[] = [];
    const spy = vi.spyOn(backend, "run").mockImplementation(function (this: WebGpuBackend, ...args) {
      names.push(args[0].name);
      return WebGpuBackend.prototype.run.apply(this, args);
    });
    const gpu = run("webgpu");
    const first = await gpu[0].data();
    spy.mockRestore();
    expect(names.length).toBeGreaterThan(1); // 7 live outputs and 3 inputs exceed 8 bindings
    expect(names.every((n) => n.startsWith("fused("))).toBe(true);
    const ref = run("cpu");
    await wg.init({ fusion: false });
    const unfused = run("webgpu");
    await wg.init({ fusion: true });
    // Against the CPU within sin's WGSL precision; against the unfused kernels, float32 rounding only.
    // (twelve chained sin steps compound SwiftShader's sin error to a few 1e-4).
    expectClose(first, await ref[0].data(), 1e-4, 1e-4, "kept 0");
    for (let k = 0; k < gpu.length; k++) {
      expectClose(await gpu[k].data(), await unfused[k].data(), 1e-6, 1e-6, `kept ${k} vs unfused`);
      expectClose(await gpu[k].data(), await ref[k].data(), 2e-3, 1e-3, `kept ${k} vs cpu`);
    }
    for (const t of unfused) t.dispose();
    const held = wg.memory("webgpu").tensors;
    for (const t of gpu) t.dispose();
    expect(wg.memory("webgpu").tensors).toBe(held - gpu.length); // the temporaries were never user tensors
  });

  test("gradients through fused chains match the CPU (backward of sum(f(x)·r))", async () => {
    const [xd, rd] = [randomData(128, -2, 2, 11), randomData(128, -1, 1, 12)];
    const grad = async (device: "cpu" | "webgpu") => {
      const x = on(device, xd).requiresGrad_();
      const r = on(device, rd);
      wg.tidy(() => x.mul(1.5).tanh().mul(x.sigmoid()).add(x.mul(x)).mul(r).sum().backward());
      return x.grad!.data();
    };
    expectClose(await grad("webgpu"), await grad("cpu"), 1e-5, 1e-4, "grad");
  });

  test("WEBGRAD_DEBUG=kernels prints each generated kernel once", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    process.env.WEBGRAD_DEBUG = "kernels";
    try {
      const x = wg.full([32], 2, { device: "webgpu" });
      for (let k = 0; k < 2; k++) await wg.tidy(() => x.mul(3).add(0.125).exp().neg()).data();
      const printed = log.mock.calls.map((c) => String(c[0])).filter((s) => s.includes("generated kernel fused(mul, add, exp, neg)"));
      expect(printed.length).toBe(1);
      expect(printed[0]).toMatch(/fn op2\(a: f32, b: f32, c: f32\) -> f32 \{ return f32\(.*exp\(a\).*\); \}  \/\/ exp\n/);
      x.dispose();
    } finally {
      delete process.env.WEBGRAD_DEBUG;
      log.mockRestore();
    }
  });

  test("init({ fusion: false }) launches one kernel per op; a non-boolean is refused", async () => {
    await wg.init({ fusion: false });
    const x = wg.full([64], 1, { device: "webgpu" });
    const before = stats().launches;
    const y = wg.tidy(() => x.add(1).mul(2).neg());
    expect(stats().launches - before).toBe(3);
    expect(Array.from(await y.data())).toEqual(new Array(64).fill(-4));
    await wg.init({ fusion: true });
    await expect(wg.init({ fusion: "yes" as unknown as boolean })).rejects.toThrow(/init: fusion is yes; expected true or false/);
    for (const t of [x, y]) t.dispose();
  });
});
