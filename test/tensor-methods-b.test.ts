/**
 * indexSelect, scatterAdd, split, chunk, sort, topk, randint, bernoulli, multinomial: values checked once
 * against python3-torch 1.13 (written in here; no test runs Python), errors on every device, the same
 * random numbers on every device, and frequencies of the random ones within a bound.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { DEVICES, settle, startWebgpu } from "./helpers.js";

beforeAll(startWebgpu);

const int = (device: (typeof DEVICES)[number], v: number[] | number[][]) => wg.tensor(v, { dtype: "int32", device });
const list = async (t: Tensor) => t.tolist();
/** The op and its readback as one promise: CPU throws at the call, WebGPU at the readback. */
const later = (f: () => Tensor) => (async () => f().data())();

describe.each(DEVICES)("tensor methods B on %s", (device) => {
  const f = (v: number[] | number[][]) => wg.tensor(v, { device });

  test("sort: stable ties, NaN as the largest, both directions (PyTorch 1.13)", async () => {
    const x = f([3, 1, NaN, 1, 3, -0, 0, 2, NaN, 1]);
    const up = x.sort();
    expect(await list(up.indices)).toEqual([5, 6, 1, 3, 9, 7, 0, 4, 2, 8]);
    expect((await list(up.values)) as number[]).toEqual([-0, 0, 1, 1, 1, 2, 3, 3, NaN, NaN]);
    expect(await list(x.sort(0, { descending: true }).indices)).toEqual([2, 8, 0, 4, 7, 1, 3, 9, 5, 6]);
    const m = f([[3, 1, NaN, 1], [3, -0, 0, 2]]);
    expect(await list(m.sort(1).indices)).toEqual([[1, 3, 0, 2], [1, 2, 3, 0]]);
    expect(await list(m.sort(0, { descending: true }).indices)).toEqual([[0, 0, 0, 1], [1, 1, 1, 0]]);
    const s = wg.tensor(5, { device }).sort();
    expect([s.values.shape, await s.indices.item()]).toEqual([[], 0]);
  });

  test("sort of int32 and of rows longer than a workgroup", async () => {
    expect(await list(int(device, [4, -2, 7, -2]).sort(0, { descending: true }).values)).toEqual([7, 4, -2, -2]);
    const n = 300;
    const v = Array.from({ length: n }, (_, i) => (i * 37) % n);
    const got = (await list(f(v).sort().values)) as number[];
    expect(got).toEqual([...v].sort((a, b) => a - b));
  });

  test("topk: values, indices, smallest, k = 0, bad k", async () => {
    const t = f([[5, 1, 4, 2], [0, 7, 7, 1]]).topk(2);
    expect(await list(t.values)).toEqual([[5, 4], [7, 7]]);
    expect(await list(t.indices)).toEqual([[0, 2], [1, 2]]);
    expect(await list(f([3, 1, 2]).topk(2, 0, { largest: false }).indices)).toEqual([1, 2]);
    expect(f([3, 1, 2]).topk(0).values.shape).toEqual([0]);
    expect(() => f([3, 1, 2]).topk(4)).toThrow(/topk: k = 4 is out of range for dim -1 of size 3/);
  });

  test("sort/topk: the gradient of values flows to the selected elements", async () => {
    const x = wg.tensor([[2, 9, 4], [1, 0, 3]], { device, requiresGrad: true });
    x.topk(2, 1).values.mul(f([[1, 10], [100, 1000]])).sum().backward();
    expect(await list(x.grad!)).toEqual([[0, 1, 10], [1000, 0, 100]]);
  });

  test("indexSelect and scatterAdd (PyTorch 1.13 values)", async () => {
    const a = wg.arange(12, { device }).reshape([3, 4]);
    expect(await list(a.indexSelect(1, int(device, [3, 0, 3])))).toEqual([[3, 0, 3], [7, 4, 7], [11, 8, 11]]);
    expect(a.indexSelect(0, wg.tensor(1, { dtype: "int32", device })).shape).toEqual([1, 4]);
    const src = f([[1, 2, 9], [3, 4, 9]]);
    const out = wg.zeros([3, 2], { device }).scatterAdd(0, int(device, [[0, 2], [2, 2]]), src);
    expect(await list(out)).toEqual([[1, 0], [0, 0], [3, 6]]);
  });

  test("indexSelect and scatterAdd: an index out of range is an Error", async () => {
    const a = wg.arange(6, { device }).reshape([2, 3]);
    await expect(later(() => a.indexSelect(1, int(device, [0, 3])))).rejects.toThrow(
      /indexSelect: index 3 is out of range for dim 1 of size 3 \(input \[2, 3\]\): valid indices are 0 to 2/,
    );
    await expect(later(() => a.indexSelect(0, int(device, [-1])))).rejects.toThrow(/indexSelect: index -1 is out of range for dim 0 of size 2/);
    await expect(later(() => wg.zeros([2], { device }).scatterAdd(0, int(device, [0, 2]), f([1, 1])))).rejects.toThrow(
      /scatterAdd: index 2 is out of range for dim 0 of size 2/,
    );
    expect(() => a.indexSelect(0, f([0]))).toThrow(/indexSelect: index must be a 1-D int32 tensor/);
    expect(() => a.scatterAdd(0, int(device, [[0, 0, 0, 0]]), f([[1, 1, 1, 1]]))).toThrow(/scatterAdd: index must have the rank/);
    expect(await list(wg.tensor([1, 2], { device }).add(1))).toEqual([2, 3]); // the device still works
  });

  test("split and chunk are views with PyTorch's pieces", async () => {
    const x = wg.arange(7, { device });
    expect(await Promise.all(x.split(3).map(list))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(await Promise.all(x.chunk(3).map(list))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(wg.arange(6, { device }).chunk(4).map((t) => t.shape)).toEqual([[2], [2], [2]]);
    expect(wg.arange(10, { device }).split([3, 7]).map((t) => t.shape)).toEqual([[3], [7]]);
    expect(() => x.split([3, 3])).toThrow(/split of \[7\] along dim 0 \(size 7\): the sizes \[3, 3\] must be non-negative integers adding up to 7/);
    expect(() => x.chunk(0)).toThrow(/chunk: the number of chunks must be a positive integer/);
    const y = wg.arange(12, { device }).reshape([3, 4]);
    const [a] = y.split(2, 1);
    expect(a.isContiguous()).toBe(false); // a view into y, no copy
    const g = wg.zeros([3, 4], { device, requiresGrad: true });
    g.split([1, 3], 1)[1].mul(2).sum().backward();
    expect(await list(g.grad!)).toEqual([[0, 2, 2, 2], [0, 2, 2, 2], [0, 2, 2, 2]]);
  });

  test("multinomial: bad rows are Errors", async () => {
    await expect(later(() => wg.multinomial(f([[0.5, 0.5], [0.2, -0.1]]), 1))).rejects.toThrow(
      /multinomial: row 1 of probs \[2, 2\] has a probability that is negative \(-0.1/,
    );
    await expect(later(() => wg.multinomial(f([[0, 0, 0]]), 1))).rejects.toThrow(/multinomial: row 0 of probs \[1, 3\] is all zero/);
    await expect(later(() => wg.multinomial(f([1, NaN]), 1))).rejects.toThrow(/is not finite \(NaN\)/);
    await expect(later(() => wg.multinomial(f([1, 0, 2]), 3))).rejects.toThrow(/has 2 non-zero categories, fewer than the 3 samples/);
    expect(() => wg.randint(3, 3, [2], { device })).toThrow(/randint: low and high must be integers in \[-2\^31, 2\^31 - 1\] with low < high, got low 3, high 3/);
    expect(() => wg.randint(-(2 ** 31), 2 ** 31, [2], { device })).toThrow(/randint: low and high/);
    expect(() => wg.multinomial(f([1, 2]), 3)).toThrow(/multinomial: cannot draw n = 3 samples from 2 categories without replacement/);
    await expect(later(() => wg.bernoulli(f([0.5, 1.5])))).rejects.toThrow(/bernoulli: p must be in \[0, 1\], got 1.5 at element 1/);
  });

  test("multinomial without replacement draws distinct categories, never a zero one", async () => {
    wg.manualSeed(3);
    const rows = (await list(wg.multinomial(f([[1, 0, 2, 3, 4], [0, 1, 1, 1, 0]]), 3))) as number[][];
    expect(new Set(rows[0]).size).toBe(3);
    expect(rows[0]).not.toContain(1);
    expect([...rows[1]].sort()).toEqual([1, 2, 3]);
  });

  test("randint, bernoulli and multinomial: frequencies within 5 sigma", async () => {
    wg.manualSeed(11);
    const N = 20000;
    const r = Array.from(await wg.randint(-3, 2, [N], { device }).data());
    expect(Math.min(...r)).toBe(-3);
    expect(Math.max(...r)).toBe(1);
    for (let v = -3; v < 2; v++) expect(Math.abs(r.filter((x) => x === v).length - N / 5)).toBeLessThan(5 * Math.sqrt(N * 0.2 * 0.8));
    const b = Array.from(await wg.bernoulli(wg.full([N], 0.3, { device })).data());
    expect(Math.abs(b.reduce((s, x) => s + x, 0) - 0.3 * N)).toBeLessThan(5 * Math.sqrt(N * 0.21));
    const p = [0.1, 0.2, 0.7];
    const m = Array.from(await wg.multinomial(f(p), N, { replacement: true }).data());
    p.forEach((q, k) => expect(Math.abs(m.filter((x) => x === k).length - q * N)).toBeLessThan(5 * Math.sqrt(N * q * (1 - q))));
    // without replacement, first draws follow p; second draws (given the first) shift weight to the rest
    const firsts = Array.from(await wg.multinomial(f(p).reshape([1, 3]).expand([N, 3]), 2).data()).filter((_, i) => i % 2 === 0);
    p.forEach((q, k) => expect(Math.abs(firsts.filter((x) => x === k).length - q * N)).toBeLessThan(5 * Math.sqrt(N * q * (1 - q))));
  });

  test("no leaks: sort, topk, indexSelect, scatterAdd, multinomial, bernoulli leave only their results", async () => {
    const x = f([[3, 1, 2], [0, 5, 4]]);
    const i = int(device, [1, 0]);
    const j = int(device, [[1, 0, 1]]);
    const p = wg.full([4], 0.5, { device });
    const once = async () => {
      const outs = [...Object.values(x.sort(1, { descending: true })), ...Object.values(x.topk(2, 0)), x.indexSelect(1, i), x.scatterAdd(0, j, x)];
      outs.push(wg.multinomial(p, 2), wg.bernoulli(p));
      await Promise.all(outs.map((t) => t.data()));
      outs.forEach((t) => t.dispose());
    };
    await once(); // caches (constants, pipelines) fill on the first call
    await settle(); // garbage from earlier tests is finalized now, not while once() awaits
    const before = wg.memory();
    await once();
    expect(wg.memory().tensors).toBe(before.tensors);
    expect(wg.memory().bytesInUse).toBe(before.bytesInUse);
  });
});

describe.each(DEVICES)("cat and stack of one tensor on %s", (device) => {
  test("copy it, as PyTorch: an in-place op on the result leaves the input alone", async () => {
    const a = wg.tensor([1, 2, 3], { device });
    const c = wg.cat([a]);
    const s = wg.stack([a]);
    expect(c).not.toBe(a);
    c.add_(10);
    s.mul_(2);
    expect(await list(a)).toEqual([1, 2, 3]);
    expect(await list(c)).toEqual([11, 12, 13]);
    expect(await list(s)).toEqual([[2, 4, 6]]);
  });
  test("view ops that change nothing still return a new view: disposing it leaves the input alive", async () => {
    const x = wg.tensor([[1, 2, 3]], { device });
    const views = [x.slice(1, 0, 3), x.reshape([1, 3]), x.permute([0, 1]), x.expand([1, 3]), x.squeeze(0).unsqueeze(0), x.view(1, 3)];
    for (const v of views) {
      expect(v).not.toBe(x);
      v.dispose();
    }
    expect(x.isDisposed).toBe(false);
    expect(await list(x)).toEqual([[1, 2, 3]]);
    const g = wg.tensor([[1, 2, 3]], { device, requiresGrad: true });
    g.slice(1, 0, 3).mul(2).sum().backward();
    expect(await list(g.grad!)).toEqual([[2, 2, 2]]);
  });
  test("0-d reductions, logsumexp and repeat(1) copy too", async () => {
    const z = wg.tensor(3, { device });
    const r = wg.tensor([1, 2], { device });
    const outs = [z.sum(), z.max(), z.min(), z.prod(), z.logsumexp(0), r.repeat(1)];
    for (const o of outs) o.add_(1);
    expect(await z.item()).toBe(3);
    expect((await Promise.all(outs.map(list))).slice(0, 4)).toEqual([4, 4, 4, 4]);
    expect(await list(outs[5])).toEqual([2, 3]);
    expect(await list(r)).toEqual([1, 2]);
  });
});

describe("the same random numbers on every device", () => {
  async function draws(device: "cpu" | "webgpu") {
    wg.manualSeed(1234);
    const probs = wg.tensor([[0.1, 0.2, 0.3, 0.4], [5, 0, 1, 2], [0, 0, 3, 0]], { device });
    return {
      randint: Array.from(await wg.randint(-1000, 2 ** 31 - 1, [64], { device }).data()),
      small: Array.from(await wg.randint(0, 7, [64], { device }).data()),
      bernoulli: Array.from(await wg.bernoulli(wg.rand([64], { device })).data()),
      withReplacement: Array.from(await wg.multinomial(probs, 16, { replacement: true }).data()),
      without: Array.from(await wg.multinomial(probs.slice(0, 0, 2), 3).data()),
    };
  }
  test("randint, bernoulli, multinomial", async () => {
    const cpu = await draws("cpu");
    expect(await draws("webgpu")).toEqual(cpu);
    expect(cpu.withReplacement.slice(32)).toEqual(new Array(16).fill(2)); // a one-category row
  });
});

describe("sort kernel variants on webgpu", () => {
  test.each(["rank", "bitonic"])("%s matches the CPU: ties, NaN, int32, rows past a workgroup, k < n", async (variant) => {
    const gpu = webgpuBackend() as WebGpuBackend;
    gpu.setForce({ sort: variant });
    try {
      for (const [rows, n] of [[3, 1], [2, 5], [4, 37], [2, 300], ...(variant === "rank" ? [[1, 2048]] : [])]) {
        const v = Array.from({ length: rows * n }, (_, i) => ((i * 7919) % 13) - 6 + (i % 17 === 0 ? NaN : 0));
        for (const dtype of ["float32", "int32"] as const) {
          const data = dtype === "int32" ? v.map((x) => (Number.isNaN(x) ? 99 : x)) : v;
          const run = async (device: "cpu" | "webgpu") => {
            const x = wg.tensor(data, { shape: [rows, n], dtype, device });
            const s = x.sort(1, { descending: n % 2 === 0 });
            return [await s.indices.tolist(), await x.topk(Math.ceil(n / 3), 1, { largest: false }).indices.tolist()];
          };
          expect(await run("webgpu"), `${variant} ${rows}x${n} ${dtype}`).toEqual(await run("cpu"));
        }
      }
    } finally {
      gpu.setForce({});
    }
  });
});
