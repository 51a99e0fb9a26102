/**
 * Every kernel variant, forced on this adapter, against the CPU reference: the matmul entry
 * points (workgroup-memory tiled, 8x8 and 16x8 register-blocked, subgroup 16x32 and 16x16) and the vec4 row
 * reduction. Shapes cross the tile edges; operands are transposed views, offset slices and
 * broadcast batches, which the kernels read through their strides.
 */
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import { matmulVariant } from "../src/ops/matmul.js";
import { expectClose, randomData, startWebgpu, values } from "./helpers.js";
import { withDispatchLimit } from "./fusion-helpers.js";

interface Gpu {
  setForce(f: Record<string, string>): void;
  caps: { subgroups: boolean; emulated: boolean };
  pipelineKeys(): string[];
  stats: { launches: number };
}
let gpu: Gpu;

beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as unknown as Gpu;
});
afterEach(() => gpu.setForce({}));

const usedPipeline = (prefix: string) => gpu.pipelineKeys().some((k) => k.startsWith(prefix));

/** a @ b on both devices from the same numbers; `view` turns each device's tensors into the operands. */
async function matmulParity(aShape: number[], bShape: number[], view: (a: Tensor, b: Tensor) => [Tensor, Tensor], what: string) {
  const n = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const [da, db] = [randomData(n(aShape), -1, 1, n(aShape)), randomData(n(bShape), -1, 1, n(bShape) + 7)];
  const out: number[][] = [];
  for (const device of ["cpu", "webgpu"] as const) {
    const [a, b] = view(wg.tensor(da, { shape: aShape, device }), wg.tensor(db, { shape: bShape, device }));
    out.push(await values(a.matmul(b)));
  }
  expectClose(out[1], out[0], 1e-4, 1e-4, what);
}

const MATMUL = ["tiled", "blocked", "wide", "subgroup", "narrow"];
const needsSubgroups = (v: string) => v === "subgroup" || v === "narrow";

describe("matmul variants", () => {
  test.each(MATMUL)("%s matches the CPU across tile edges, transposes, offsets and batches", async (variant) => {
    if (needsSubgroups(variant) && !gpu.caps.subgroups) {
      // Without the feature the variant cannot run: forcing it must say so, not fall back silently.
      gpu.setForce({ matmul: variant });
      expect(() => wg.ones([2, 2]).matmul(wg.ones([2, 2]))).toThrow(/subgroup.*feature/);
      return;
    }
    gpu.setForce({ matmul: variant });
    for (const [m, k, n] of [[1, 1, 1], [1, 9, 70], [17, 3, 33], [65, 40, 31], [130, 5, 97], [33, 64, 16], [19, 7, 13]])
      await matmulParity([m, k], [k, n], (a, b) => [a, b], `${variant} ${m}x${k}x${n}`);
    await matmulParity([20, 37], [45, 20], (a, b) => [a.T, b.T], `${variant} transposed`);
    await matmulParity([40, 30], [30, 50], (a, b) => [a.slice(0, 3, 33), b.slice(1, 1, 21)], `${variant} offset slices`);
    await matmulParity([3, 2, 19, 7], [2, 7, 35], (a, b) => [a, b], `${variant} broadcast batch`);
    const entry = variant === "narrow" ? "subgroup_narrow" : variant;
    expect(usedPipeline(`matmul${needsSubgroups(variant) ? "-subgroup" : ""}|${entry}|`)).toBe(true);
  });

  test.each(["subgroup", "narrow"])("backward through the %s kernel (16x8 without subgroups) matches the CPU", async (variant) => {
    gpu.setForce({ matmul: gpu.caps.subgroups ? variant : "wide" });
    const [da, db] = [randomData(35 * 22, -1, 1, 3), randomData(22 * 41, -1, 1, 4)];
    const r = randomData(35 * 41, -1, 1, 5);
    const grads: number[][] = [];
    for (const device of ["cpu", "webgpu"] as const) {
      const a = wg.tensor(da, { shape: [35, 22], device, requiresGrad: true });
      const b = wg.tensor(db, { shape: [22, 41], device, requiresGrad: true });
      a.matmul(b).mul(wg.tensor(r, { shape: [35, 41], device })).sum().backward();
      grads.push(await values(a.grad!), await values(b.grad!));
    }
    expectClose(grads[2], grads[0], 1e-4, 1e-4, "dA");
    expectClose(grads[3], grads[1], 1e-4, 1e-4, "dB");
  });

  // The kernels find their tile from a (tiles_n, tiles_m, batch) grid; past the adapter's
  // per-dimension limit (lowered here to 7) they decode a flat count split over x and y instead.
  test.each(MATMUL)("%s indexes a flat workgroup count when the 3-D grid exceeds the dispatch limit", async (variant) => {
    if (needsSubgroups(variant) && !gpu.caps.subgroups) return;
    await withDispatchLimit(7, { matmul: variant }, async () => {
      await matmulParity([9, 2, 20, 5], [2, 5, 14], (a, b) => [a, b], `${variant} 18 batches, flat`);
      await matmulParity([3, 40, 6], [3, 6, 33], (a, b) => [a, b.transpose(-1, -2).contiguous().transpose(-1, -2)], `${variant} 3 batches, grid`);
    });
  });

  test("each adapter gets its kernel: tiled on GPUs, subgroup (16x16 tiles for products at most 16 wide) or 16x8 on emulators; a bad force names the choices", () => {
    const caps = { maxWorkgroupSize: 256, maxWorkgroupStorage: 16384, maxWorkgroupsPerDim: 65535, maxStorageBinding: 1 << 27 };
    expect(matmulVariant({ ...caps, subgroups: true, emulated: false })).toBe("tiled");
    expect(matmulVariant({ ...caps, subgroups: true, emulated: true })).toBe("subgroup");
    expect(matmulVariant({ ...caps, subgroups: true, emulated: true }, 17)).toBe("subgroup");
    expect(matmulVariant({ ...caps, subgroups: true, emulated: true }, 16)).toBe("narrow");
    expect(matmulVariant({ ...caps, subgroups: false, emulated: true }, 16)).toBe("wide");
    expect(matmulVariant({ ...caps, subgroups: true, emulated: false }, 16)).toBe("tiled");
    expect(matmulVariant({ ...caps, subgroups: false, emulated: true })).toBe("wide");
    expect(() => matmulVariant({ ...caps, subgroups: true, emulated: true, force: { matmul: "fast" } })).toThrow(/unknown forced variant "fast".*tiled, blocked, wide, subgroup, narrow/);
  });
});

describe("vec4 row reduction", () => {
  async function reduceParity(shape: number[], make: (x: Tensor) => Tensor[], dtype: "float32" | "int32" = "float32") {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = dtype === "int32" ? Int32Array.from(randomData(n, -50, 50, n), Math.round) : randomData(n, -1, 1, n);
    const out: number[][][] = [];
    for (const device of ["cpu", "webgpu"] as const) {
      const x = wg.tensor(data, { shape, device, dtype });
      out.push(await Promise.all(make(x).map(values)));
    }
    out[0].forEach((ref, i) => expectClose(out[1][i], ref, 1e-4, 1e-5, `${shape} output ${i}`));
  }

  test("sum, max and min of rows match the CPU (plain, offset rows, batched, int32)", async () => {
    gpu.setForce({ reduce: "vec4" });
    const before = gpu.stats.launches;
    await reduceParity([37, 64], (x) => [x.sum(1), x.max(1), x.min(-1), x.sum(-1, true)]);
    await reduceParity([5, 3, 12], (x) => [x.sum(2), x.max(-1)]);
    await reduceParity([9, 24], (x) => [x.slice(1, 4, 20).sum(1), x.slice(0, 2, 7).sum(1)]);
    await reduceParity([300, 8], (x) => [x.sum(1), x.max(1)], "int32");
    expect(usedPipeline("reduce-vec4:f32:0")).toBe(true);
    expect(usedPipeline("reduce-vec4:f32:1")).toBe(true);
    expect(usedPipeline("reduce-vec4:i32:0")).toBe(true);
    expect(gpu.stats.launches).toBeGreaterThan(before);
  });

  test("column sums, four outputs per invocation, match the CPU (plain, batched, offset, int32, with an epilogue)", async () => {
    gpu.setForce({ reduce: "columns" });
    const before = gpu.stats.launches;
    await reduceParity([37, 64], (x) => [x.sum(0), x.sum(0, true), x.sum(0).mul(2).add(1)]);
    await reduceParity([5, 3, 12], (x) => [x.sum(1), x.sum(-2, true)]);
    await reduceParity([9, 24], (x) => [x.slice(0, 2, 7).sum(0), x.reshape([9, 2, 12]).slice(2, 4, 12).sum(0)]);
    await reduceParity([300, 8], (x) => [x.sum(0)], "int32");
    expect(usedPipeline("reduce-vec4:f32:0:columns")).toBe(true);
    expect(usedPipeline("reduce-vec4:i32:0:columns")).toBe(true);
    expect(gpu.stats.launches).toBeGreaterThan(before);
  });

  test("columns that are not vec4-shaped, and column maxima, take the scalar kernels and still match", async () => {
    gpu.setForce({ reduce: "columns" });
    await reduceParity([11, 13], (x) => [x.sum(0), x.max(0), x.slice(1, 1, 9).sum(0)]);
    await reduceParity([8, 16], (x) => [x.T.sum(0), x.min(0), x.slice(1, 1, 13).sum(0)]);
  });

  test("rows that are not vec4-shaped, argmax and column sums take the scalar kernels and still match", async () => {
    gpu.setForce({ reduce: "vec4" });
    await reduceParity([11, 13], (x) => [x.sum(1), x.max(1), x.argmax(1), x.sum(0)]);
    await reduceParity([8, 16], (x) => [x.slice(1, 1, 15).sum(1), x.T.sum(1), x.argmin(1)]);
  });
});

describe("per-row reductions: chunked runs (emulators) and strided lanes (GPUs)", () => {
  // [N, C, H, W] summed per channel folds 2 reduced dims (N and H·W merged), the odometer path;
  // over (0, 2) of a permuted view 3 dims that do not merge, the divide-per-element path.
  const shape = [6, 5, 7, 9];
  const data = randomData(6 * 5 * 7 * 9, -1, 1, 77);
  const make = (x: Tensor) => [
    x.sum([0, 2, 3]), x.max([0, 2, 3]), x.sum(), x.permute([0, 2, 1, 3]).sum([0, 1, 3]), x.reshape([30, 63]).argmax(1),
    x.permute([3, 1, 0, 2]).sum([0, 2]), x.sum([1, 3], true), x.reshape([6, 315]).min(1),
  ];
  test.each(["rows", "rows-strided", "threads"])("reduce=%s matches the CPU over 1, 2 and 3 reduced dims", async (reduce) => {
    const out: number[][][] = [];
    for (const device of ["cpu", "webgpu"] as const) {
      gpu.setForce(device === "webgpu" ? { reduce } : {});
      out.push(await Promise.all(make(wg.tensor(data, { shape, device })).map(values)));
    }
    out[0].forEach((ref, i) => expectClose(out[1][i], ref, 1e-5, 1e-5, `${reduce} output ${i}`));
    if (gpu.caps.emulated && reduce !== "threads") expect(usedPipeline(`reduce:f32:f32:${reduce === "rows" ? 4 : 256}:0${reduce === "rows" ? ":chunked" : ""}`)).toBe(true);
  });
});

describe("CNN kernels: every forced variant matches the CPU, forward and backward", () => {
  const F = wg.nn.functional;
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  /** y, dx (and the other gradients) of sum(f(x) · r), with random r, on CPU and on WebGPU forced to `force`. */
  async function parity(shape: number[], force: Record<string, string>, f: (x: Tensor, extra: Tensor[]) => Tensor, extras: number[][] = []) {
    const out: number[][][] = [];
    for (const device of ["cpu", "webgpu"] as const) {
      gpu.setForce(device === "webgpu" ? force : {});
      const x = wg.tensor(randomData(n(shape), -2, 2, 11), { shape, device, requiresGrad: true });
      const more = extras.map((s, i) => wg.tensor(randomData(n(s), 0.5, 1.5, 12 + i), { shape: s, device, requiresGrad: true }));
      const y = f(x, more);
      y.mul(wg.tensor(randomData(y.size, -1, 1, 20), { shape: y.shape, device })).sum().backward();
      out.push([await values(y), await values(x.grad!), ...(await Promise.all(more.map((t) => values(t.grad!))))]);
    }
    out[0].forEach((ref, i) => expectClose(out[1][i], ref, 1e-4, 1e-3, `${JSON.stringify(force)} ${JSON.stringify(shape)} output ${i}`));
  }

  test.each(["flat", "rows", "rows4"])("batchNorm with channelAffine=%s (rows of 16, 24 and 35: the ragged one runs flat)", async (variant) => {
    const bn = (x: Tensor, [w, b]: Tensor[]) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true });
    for (const shape of [[3, 5, 4, 6], [2, 3, 16], [2, 3, 7, 5], [3, 2]]) await parity(shape, { channelAffine: variant }, bn, [[shape[1]], [shape[1]]]);
    const rows = gpu.pipelineKeys().filter((k) => k.startsWith("channelAffine:rows"));
    if (variant !== "flat") expect(rows.some((k) => k.startsWith(`channelAffine:rows${variant === "rows" ? 64 : 4}`))).toBe(true);
  });

  // Odd sizes leave rows and columns outside every window; stride 3 leaves gaps between windows;
  // 3x3 stride 2 overlaps (the general scatter); padding takes the bounds-tested arg-max.
  const pools: [number[], number | [number, number], wg.nn.functional.PoolOptions][] = [
    [[2, 3, 7, 9], 2, {}], [[1, 2, 8, 10], 2, { stride: 3 }], [[2, 2, 9, 7], 3, { stride: 2, padding: 1 }], [[1, 3, 7, 8], 3, { stride: 3, padding: 1 }], [[2, 1, 5, 6], [2, 3], { stride: [1, 3] }],
  ];
  test.each(["elements", "planes"])("maxPool2d=%s: arg-max, gather and scatter over odd sizes, gaps, overlaps and padding", async (variant) => {
    for (const [shape, k, opts] of pools) await parity(shape, { maxPool2d: variant }, (x) => F.maxPool2d(x, k, opts));
    // Ties and NaNs: the first maximum wins, a NaN wins over any number and the first NaN over later ones.
    gpu.setForce({ maxPool2d: variant });
    const x = wg.tensor([1, 1, NaN, 2, 3, 3, 5, NaN, 4, 4, 0, 0, -1, 0, 0, 0], { shape: [1, 1, 4, 4], device: "webgpu", requiresGrad: true });
    const y = F.maxPool2d(x, 2);
    y.sum().backward();
    expect(await values(y)).toEqual([3, NaN, 4, 0]);
    expect(await values(x.grad!)).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    expect(gpu.pipelineKeys().some((k) => k.startsWith("pool:") && k.includes(variant === "planes" ? ":4|scatter_plane|" : ":256|scatter|"))).toBe(true);
  });

  test("an unknown channelAffine variant is refused by name", () => {
    gpu.setForce({ channelAffine: "wide" });
    expect(() => F.batchNorm(wg.ones([2, 2, 4, 4], { device: "webgpu" }), null, null, { training: true })).toThrow(/channelAffine: unknown forced variant "wide"; expected one of flat, rows, rows4/);
  });
});
