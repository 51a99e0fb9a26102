/**
 * Issue 12 part A: edge values (IEEE and PyTorch's answers, literals taken once from torch 1.13),
 * special gradients (prod at zeros, norm at 0), bad input, and memory, on every device.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { DEVICES, expectClose, settle, startWebgpu, values } from "./helpers.js";

beforeAll(startWebgpu);
const inf = Infinity;

describe.each(DEVICES)("tensor methods A on %s", (device) => {
  const t = (data: number[] | number[][], requiresGrad = false) => wg.tensor(data, { device, requiresGrad });

  test("elementwise rows give IEEE/PyTorch values at the edges", async () => {
    expectClose(await values(t([0, -1, inf, 4]).rsqrt()), [inf, NaN, 0, 0.5], 1e-6, 1e-5, "rsqrt");
    expectClose(await values(t([-1, -2, inf, 1e-6, NaN, 0.5]).log1p()), [-inf, NaN, inf, 9.999995427278918e-7, NaN, 0.40546509623527527], 1e-12, 1e-5, "log1p");
    expectClose(await values(t([1e-6, -inf, inf, 100, NaN, -0.3]).expm1()), [1.0000004522225936e-6, -1, inf, inf, NaN, -0.25918179750442505], 1e-12, 1e-5, "expm1");
    expect(await values(t([-1.5, 2.7, inf, NaN]).floor())).toEqual([-2, 2, inf, NaN]);
    expect(await values(t([-1.5, 2.2, -inf]).ceil())).toEqual([-1, 3, -inf]);
    expect(await values(t([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, NaN]).round())).toEqual([0, 2, 2, -0, -2, -2, 2, NaN]);
  });

  test("floor, ceil, round and sign pass zero gradients, as PyTorch", async () => {
    for (const op of ["floor", "ceil", "round", "sign"] as const) {
      const x = t([0.3, -1.7, 2.5], true);
      x[op]().mul(t([1, 2, 3])).sum().backward();
      expect(await values(x.grad!), op).toEqual([0, 0, 0]);
    }
  });

  test("var and std follow torch (Bessel by default, correction ≥ n divides by 0)", async () => {
    const x = t([[1, 2, 4], [3, 4, 9]]);
    expectClose(await values(x.var(1)), [2.3333332538604736, 10.333333015441895], 1e-6, 1e-5, "var");
    expectClose([await x.std(undefined, { correction: 0 }).item()], [2.5440561771392822], 1e-6, 1e-5, "std");
    expect(await t([1, 2]).var(0, { correction: 3 }).item()).toBe(inf);
    expect(await t([1, 2]).var(0, { correction: 2 }).item()).toBe(inf);
    expect(await t([1]).var(0).item()).toBeNaN();
    expect(x.var(1, { keepdim: true }).shape).toEqual([2, 1]);
  });

  test("logsumexp is stable and gives -Inf for a row of -Inf", async () => {
    const x = t([[-inf, -inf, -inf], [1, 2, 3], [inf, 0, 1], [NaN, 1, 2]]);
    expectClose(await values(x.logsumexp(1)), [-inf, 3.4076058864593506, inf, NaN], 1e-6, 1e-5, "logsumexp");
    expectClose(await values(t([[1000, 1000]]).logsumexp(1)), [1000 + Math.LN2], 1e-3, 1e-6, "no overflow");
    expect(x.logsumexp([0, 1], true).shape).toEqual([1, 1]);
  });

  test("prod and its gradient at zeros (PyTorch's rule)", async () => {
    const x = t([[2, 0, 3, 4], [2, 0, 3, 0], [1, 2, 3, 4]], true);
    const y = x.prod(1);
    expect(await values(y)).toEqual([0, 0, 24]);
    y.mul(t([1, 2, 3])).sum().backward();
    expect(await values(x.grad!)).toEqual([0, 24, 0, 0, 0, 0, 0, 0, 72, 36, 24, 18]);
    expect(await t([[1, 2], [3, 4]]).prod().item()).toBe(24);
  });

  test("norm values, and a zero gradient at x = 0", async () => {
    const m = t([[1, 2], [3, 4]]);
    expectClose([await m.norm().item()], [5.4772257804870605], 1e-6, 1e-5, "norm 2");
    expectClose(await values(m.norm(3, 0)), [3.0365891456604004, 4.160167694091797], 1e-6, 1e-5, "norm 3");
    expect(await t([[1, 0], [0, 4]]).norm(0).item()).toBe(2);
    expect(await t([[1, 0], [0, -4]]).norm("fro").item()).toBeCloseTo(Math.sqrt(17), 5);
    const z = wg.zeros([3], { device, requiresGrad: true });
    z.norm().backward();
    expect(await values(z.grad!)).toEqual([0, 0, 0]);
    const w = t([1, -3, 3], true);
    w.norm(Infinity).backward();
    expect(await values(w.grad!)).toEqual([0, -0.5, 0.5]);
  });

  test("cumsum values and its reverse-scan gradient", async () => {
    expect(await wg.arange(12, { device }).reshape(3, 4).cumsum(0).tolist()).toEqual([[0, 1, 2, 3], [4, 6, 8, 10], [12, 15, 18, 21]]);
    const x = wg.arange(4, { device, requiresGrad: true });
    x.cumsum(0).mul(t([1, 2, 3, 4])).sum().backward();
    expect(await values(x.grad!)).toEqual([10, 9, 7, 4]);
    expect(wg.zeros([0, 3], { device }).cumsum(0).shape).toEqual([0, 3]);
    expect(await values(wg.tensor(5, { device }).cumsum(0))).toEqual([5]);
  });

  test("tril, triu, flip, repeat values and gradients", async () => {
    const a = wg.arange(9, { device }).reshape(3, 3);
    expect(await a.tril(-1).tolist()).toEqual([[0, 0, 0], [3, 0, 0], [6, 7, 0]]);
    expect(await a.triu(1).tolist()).toEqual([[0, 1, 2], [0, 0, 5], [0, 0, 0]]);
    expect(await wg.arange(6, { device }).reshape(2, 3).flip([0, 1]).tolist()).toEqual([[5, 4, 3], [2, 1, 0]]);
    const x = wg.arange(6, { device, requiresGrad: true }).reshape(2, 3);
    x.flip(1).mul(t([1, 2, 3])).sum().backward();
    expect(x.isLeaf).toBe(false);
    const r = wg.arange(2, { device, requiresGrad: true });
    r.repeat(2, 2).mul(wg.arange(8, { device }).reshape(2, 4)).sum().backward();
    expect(await values(r.grad!)).toEqual([12, 16]);
    expect(await wg.arange(6, { device }).reshape(2, 3).repeat(2, 1, 2).tolist()).toEqual([
      [[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]], [[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]],
    ]);
  });

  test("maskedFill, including a causal mask of -Inf", async () => {
    const s = wg.zeros([3, 3], { device });
    const causal = wg.ones([3, 3], { device }).triu(1);
    expect(await s.maskedFill(causal, -inf).softmax(-1).tolist()).toEqual([[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3].map(Math.fround)]);
    const v = wg.tensor(2, { device, requiresGrad: true });
    t([[1, 2], [3, 4]]).maskedFill(t([1, 0]), v).sum().backward();
    expect(await v.grad!.item()).toBe(2);
  });

  test("linspace as torch", async () => {
    expectClose(await values(wg.linspace(-1, 1, 7, { device })), [-1, -0.6666666269302368, -0.3333333134651184, 0, 0.3333333134651184, 0.6666666269302368, 1], 1e-6, 1e-6, "linspace");
    expectClose(await values(wg.linspace(0, 10, 4, { device })), [0, 10 / 3, 20 / 3, 10], 1e-5, 1e-6, "linspace");
    expect(await values(wg.linspace(2, 2, 1, { device }))).toEqual([2]);
    expect(wg.linspace(0, 1, 0, { device }).shape).toEqual([0]);
  });

  test("bad input: clear Errors naming the op, the shapes and the fix", () => {
    const x = wg.zeros([2, 3], { device });
    expect(() => x.maskedFill(wg.zeros([3, 3], { device }), 1)).toThrow(/maskedFill: mask of shape \[3, 3\] does not broadcast to the input's shape \[2, 3\]/);
    expect(() => x.maskedFill(wg.zeros([2, 2, 3], { device }), 1)).toThrow(/maskedFill.*\[2, 2, 3\].*Fix/);
    expect(() => x.flip(1, -1)).toThrow(/flip: dim 1 appears more than once in dims \[1, -1\].*Fix/);
    expect(() => x.flip(2)).toThrow(/flip: dim 2 is out of range/);
    expect(() => x.repeat(2)).toThrow(/repeat: needs at least one size per dim: 1 sizes \[2\] for shape \[2, 3\].*Fix: x.repeat\(1, 2\)/);
    expect(() => x.repeat(2, -1)).toThrow(/repeat: sizes must be non-negative integers/);
    expect(() => wg.zeros([3], { device }).tril()).toThrow(/tril: needs a tensor of at least 2 dims.*\[3\].*Fix/);
    expect(() => x.triu(0.5)).toThrow(/triu: the diagonal k must be an integer/);
    expect(() => x.cumsum(2)).toThrow(/cumsum: dim 2 is out of range/);
    expect(() => x.logsumexp(undefined as unknown as number)).toThrow(/logsumexp: needs a dim/);
    expect(() => x.norm(NaN)).toThrow(/norm: p must be a number/);
    expect(() => x.var(0, { correction: NaN })).toThrow(/var: correction must be a finite number/);
    expect(() => x.var({ correction: 0 } as unknown as number)).toThrow(/var: dim must be a number.*Fix: options go second/);
    expect(() => x.int().var()).toThrow(/var: needs a float tensor, got int32 of shape \[2, 3\]/);
    expect(() => x.int().rsqrt()).toThrow(/rsqrt: needs a float tensor/);
    expect(() => wg.linspace(0, 1, -2)).toThrow(/linspace: steps must be a non-negative integer, got -2/);
    expect(() => wg.linspace(0, NaN, 3)).toThrow(/linspace: start and end must be finite/);
  });

  test("no leaks: forward and backward of every op release what they made", async () => {
    const run = () => {
      const x = wg.tensor([[0.5, 1.5, 2], [1, 3, 0.25]], { device, requiresGrad: true });
      wg.tidy(() => {
        const parts = [
          x.rsqrt(), x.log1p(), x.expm1(), x.floor(), x.ceil(), x.round(), x.var(1), x.std(0), x.logsumexp(1),
          x.norm(), x.norm(3, 1), x.prod(1), x.cumsum(1), x.tril(), x.triu(1), x.maskedFill(x.gt(1), 0), x.flip(0), x.repeat(2, 1),
        ];
        parts.map((p) => p.sum()).reduce((a, b) => a.add(b)).backward();
      });
      x.grad!.dispose();
      x.dispose();
    };
    run();
    await wg.flush();
    await settle(); // earlier tests' dropped handles go first, so only this run is counted
    const before = wg.memory();
    run();
    await wg.flush();
    const after = wg.memory(); // no collection here: a handle kept alive by a dropped graph would show

    expect(after.tensors).toBe(before.tensors);
    expect(after.bytesInUse).toBe(before.bytesInUse);
  });
});

describe("second derivatives through the new backward rules (CPU, float64)", () => {
  const f64 = (data: number[]) => wg.tensor(data, { dtype: "float64", device: "cpu" });
  test("hessian of prod: off-diagonal products of the others, zero diagonal", async () => {
    const h = wg.hessian((x) => x.prod(), f64([2, 3, 4]));
    expect(await h.tolist()).toEqual([[0, 4, 3], [4, 0, 2], [3, 2, 0]]);
  });
  test("hessian of logsumexp = diag(p) - p pᵀ", async () => {
    const x = [0.5, -1, 2];
    const e = x.map(Math.exp);
    const p = e.map((v) => v / e.reduce((a, b) => a + b));
    const want = p.flatMap((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj));
    expectClose(await values(wg.hessian((t) => t.logsumexp(0), f64(x))), want, 1e-12, 1e-9, "logsumexp hessian");
  });
  test("gradcheck of the cumsum gradient (double backward)", async () => {
    const r = f64([0.3, -1, 2, 0.5]);
    const res = await wg.gradcheck((x) => {
      const [g] = wg.autograd.grad([x.cumsum(0).mul(x).mul(r).sum()], [x], { createGraph: true });
      return g!.sum();
    }, [wg.tensor([0.5, 1.5, -2, 1], { dtype: "float64", device: "cpu", requiresGrad: true })]);
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });
});
