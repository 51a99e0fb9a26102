/** Engine semantics: retained graphs, retainGrad, in-place and versions, grad modes, higher order, transforms, memory. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { crossEntropyMean, crossEntropyRows } from "../src/ops/index.js";
import { DEVICES, expectClose, randomData, settle, startWebgpu, values } from "./helpers.js";

beforeAll(startWebgpu);

describe.each(DEVICES)("autograd on %s", (device) => {
  const t = (data: number | number[] | number[][], requiresGrad = false) => wg.tensor(data, { device, requiresGrad });

  test("retainGraph keeps saved values for a second backward, which accumulates", async () => {
    const x = t([1, 2], true);
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expectClose(await values(x.grad!), [2 * Math.E, 2 * Math.E ** 2], 1e-5, 1e-5);
    expect(() => y.backward()).toThrow(/second time.*retainGraph: true/);
  });

  test("retainGrad keeps a non-leaf's gradient; others stay null", async () => {
    const x = t([1, 2, 3], true);
    const y = x.mul(2).retainGrad();
    const z = x.mul(3);
    y.pow(2).add(z).sum().backward();
    expect(await values(y.grad!)).toEqual([4, 8, 12]);
    expect(z.grad).toBeNull();
    expect(await values(x.grad!)).toEqual([11, 19, 27]);
  });

  test("broadcast gradients are summed back to the input's shape", async () => {
    const a = wg.ones([4, 3], { device, requiresGrad: true });
    const b = t([[1, 2, 3]], true);
    const c = t(5, true);
    a.mul(b).add(c).sum().backward();
    expect(b.grad!.shape).toEqual([1, 3]);
    expect(await values(b.grad!)).toEqual([4, 4, 4]);
    expect(await c.grad!.item()).toBe(12);
  });

  test("max routes the gradient to the maxima, split evenly between ties", async () => {
    const x = t([[1, 5, 5], [2, 0, 1]], true);
    x.max(1).sum().backward();
    expect(await x.grad!.tolist()).toEqual([[0, 0.5, 0.5], [1, 0, 0]]);
  });

  test("an in-place op on a non-leaf rebases its history (y.mul_(3) after y = 2x gives 6)", async () => {
    const x = t([1, 2], true);
    const y = x.mul(2);
    y.mul_(3);
    expect(y.gradFn?.name).toBe("MulBackward");
    y.sum().backward();
    expect(await values(x.grad!)).toEqual([6, 6]);
    expect(await values(y)).toEqual([6, 12]);
  });

  test("in-place on a value nobody saved is fine; on a saved one backward throws", async () => {
    const x = t([1, 2], true).mul(1);
    const y = x.add(1); // add saves nothing
    x.add_(10);
    y.sum().backward();
    const a = t([1, 2], true);
    const s = a.mul(1);
    const z = s.exp(); // exp saves its output z, not s
    const w = s.mul(s); // mul saves s
    s.add_(1);
    z.sum().backward();
    expect(() => w.sum().backward()).toThrow(/MulBackward.*version 1.*expected version 0/);
  });

  test("in-place on a leaf that requires grad throws, and works under noGrad (bumping its version)", async () => {
    const w = t([1, 2], true);
    expect(() => w.add_(1)).toThrow(/leaf tensor that requires grad.*noGrad/);
    const v0 = w.version;
    wg.noGrad(() => w.sub_(t([0.5, 0.5])));
    expect(w.version).toBe(v0 + 1);
    expect(await values(w)).toEqual([0.5, 1.5]);
    wg.noGrad(() => w.zero_());
    expect(await values(w)).toEqual([0, 0]);
    const saved = t([1, 2], true).mul(1);
    const uses = saved.mul(saved);
    saved.fill_(5);
    expect(() => uses.sum().backward()).toThrow(/in-place operation \(fill_\)/);
    wg.noGrad(() => w.fill_(3).mul_(2).div_(4));
    expect(await values(w)).toEqual([1.5, 1.5]);
    wg.noGrad(() => w.copy_(t([7, 8])));
    expect(await values(w)).toEqual([7, 8]);
  });

  test("in-place ops write through strided views into the base", async () => {
    const base = wg.zeros([3, 4], { device });
    base.slice(1, 1, 3).add_(1);
    base.T.slice(0, 3, 4).fill_(5);
    expect(await base.tolist()).toEqual([[0, 1, 1, 5], [0, 1, 1, 5], [0, 1, 1, 5]]);
  });

  test("grad modes: noGrad, enableGrad inside it, inferenceMode, async noGrad", async () => {
    const x = t([1, 2], true);
    const y = wg.noGrad(() => {
      expect(wg.isGradEnabled()).toBe(false);
      const inner = wg.enableGrad(() => x.mul(2));
      expect(inner.requiresGrad).toBe(true);
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(wg.isGradEnabled()).toBe(true);
    const z = wg.inferenceMode(() => x.mul(2));
    expect(z.requiresGrad).toBe(false);
    expect(() => z.mul(x)).toThrow(/inferenceMode/);
    const r = await wg.noGrad(async () => {
      await Promise.resolve();
      return x.mul(3);
    });
    expect(r.requiresGrad).toBe(false);
    expect(wg.isGradEnabled()).toBe(true);
  });

  test("detach shares storage and version but not history", async () => {
    const x = t([1, 2], true);
    const y = x.mul(1);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    const w = y.mul(y);
    d.add_(1);
    expect(await values(y)).toEqual([2, 3]);
    expect(() => w.sum().backward()).toThrow(/version/);
  });

  test("createGraph: d²/dx² x³ = 6x", async () => {
    const x = t([1, 2, -3], true);
    const [g] = wg.autograd.grad(x.pow(3).sum(), x, { createGraph: true });
    expect(await values(g!)).toEqual([3, 12, 27]);
    const [gg] = wg.autograd.grad(g!.sum(), x);
    expect(await values(gg!)).toEqual([6, 12, -18]);
  });

  test("hessian of xᵀAx is A + Aᵀ", async () => {
    const A = t([[1, 2, 0], [-1, 3, 4], [0.5, 0, 2]]);
    const H = wg.hessian((v) => v.matmul(A).matmul(v), t([0.3, -1, 2]));
    expect(H.shape).toEqual([3, 3]);
    const a = await A.tolist() as number[][];
    expectClose(await values(H), a.flatMap((row, i) => row.map((v, j) => v + a[j][i])), 1e-5, 1e-5);
  });

  test("vjp, jvp and jacobian agree with the hand-written Jacobian of f(x) = (x0², x0·x1)", async () => {
    const f = (x: Tensor) => wg.stack([x.slice(0, 0, 1).pow(2).squeeze(), x.slice(0, 0, 1).mul(x.slice(0, 1, 2)).squeeze()]);
    const x = t([3, 5]);
    const J = [[6, 0], [5, 3]];
    const [out, vj] = wg.vjp(f, x, t([1, 2]));
    expect(await values(out)).toEqual([9, 15]);
    expect(await values(vj as Tensor)).toEqual([1 * 6 + 2 * 5, 2 * 3]);
    const [out2, jv] = wg.jvp(f, x, t([1, -1]));
    expect(await values(out2)).toEqual([9, 15]);
    expect(await values(jv)).toEqual([6, 5 - 3]);
    expect(await (wg.jacobian(f, x) as Tensor).tolist()).toEqual(J);
  });

  test("grad and valueAndGrad with argnums", async () => {
    const f = (a: Tensor, b: Tensor) => a.mul(b).sum();
    const a = t([1, 2]);
    const b = t([3, 4]);
    expect(await values(wg.grad(f)(a, b) as Tensor)).toEqual([3, 4]);
    const [v, gs] = wg.valueAndGrad(f, { argnums: [0, 1] })(a, b);
    expect(await v.item()).toBe(11);
    expect(await Promise.all((gs as Tensor[]).map(values))).toEqual([[3, 4], [1, 2]]);
    expect(a.grad).toBeNull();
    expect(() => wg.grad((x: Tensor) => x.mul(2))(a)).toThrow(/must return a scalar/);
  });

  test("transforms outside a transform: differentiable when an input requires grad, so grad of grad needs no nesting", async () => {
    const x = t([1, 2, -3], true);
    const g = wg.grad((v: Tensor) => v.pow(3).sum())(x) as Tensor; // 3x²
    expect(await values(g)).toEqual([3, 12, 27]);
    expect(g.requiresGrad).toBe(true);
    g.mul(t([1, -1, 2])).sum().backward(); // Σ r·6x
    expect(await values(x.grad!)).toEqual([6, -12, -36]);
    const [gg] = wg.autograd.grad((wg.grad((v: Tensor) => v.pow(3).sum())(x) as Tensor).sum(), x);
    expect(await values(gg!)).toEqual([6, 12, -18]);
    const w = t([2, 5], true); // a mixed partial: d/dw of d/da (a·w) = 1
    const ga = wg.grad((a: Tensor, b: Tensor) => a.mul(b).sum())(t([1, 1]), w) as Tensor;
    expect(ga.requiresGrad).toBe(true);
    ga.sum().backward();
    expect(await values(w.grad!)).toEqual([1, 1]);
    const [value, vj] = wg.vjp((v: Tensor) => v.exp(), t([0, 1], true), t([1, 1]));
    expect([value.requiresGrad, (vj as Tensor).requiresGrad]).toEqual([true, true]);
    const plain = wg.grad((v: Tensor) => v.pow(3).sum())(t([1, 2]));
    expect([(plain as Tensor).requiresGrad, (plain as Tensor).gradFn]).toEqual([false, null]);
    expect(() => (plain as Tensor).sum().backward()).toThrow(/does not require grad/);
  });

  test("autograd.grad: unused inputs need allowUnused; leaves' .grad is untouched", async () => {
    const x = t([1, 2], true);
    const u = t([5], true);
    const y = x.pow(2).sum();
    expect(() => wg.autograd.grad(y, [x, u], { retainGraph: true })).toThrow(/allowUnused/);
    const [gx, gu] = wg.autograd.grad(y, [x, u], { allowUnused: true });
    expect(await values(gx!)).toEqual([2, 4]);
    expect(gu).toBeNull();
    expect(x.grad).toBeNull();
  });

  test("tidy disposes what it does not return; memory returns to where it was", async () => {
    await settle();
    const before = wg.memory(device);
    const kept = wg.tidy(() => {
      const a = wg.randn([64, 64], { device });
      const b = a.matmul(a).relu();
      return { b, scalar: b.sum() };
    });
    const mid = wg.memory(device);
    expect(mid.tensors - before.tensors).toBe(2);
    kept.b.dispose();
    kept.scalar.dispose();
    const after = wg.memory(device);
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytesInUse).toBe(before.bytesInUse);
    expect(() => kept.b.add(1)).toThrow(/disposed/);
  });

  test("backward frees saved values: memory after a tidy'd training step is flat", async () => {
    const w = wg.randn([32, 16], { device, requiresGrad: true });
    const x = wg.randn([8, 32], { device });
    const step = () =>
      wg.tidy(() => {
        const loss = x.matmul(w).tanh().pow(2).mean();
        w.grad?.dispose();
        w.grad = null;
        loss.backward();
        wg.noGrad(() => w.sub_(w.grad!.mul(0.1)));
      });
    for (let i = 0; i < 3; i++) step();
    await wg.flush(device);
    await settle();
    const m1 = wg.memory(device);
    for (let i = 0; i < 20; i++) step();
    await wg.flush(device);
    await settle();
    const m2 = wg.memory(device);
    expect(m2.tensors).toBe(m1.tensors);
    expect(m2.bytesInUse).toBe(m1.bytesInUse);
    expect(m2.bytesPooled).toBe(m1.bytesPooled);
  });
});

/** Double backward: every rule is written in differentiable ops, so gradients of gradients check out. */
describe("second-order gradcheck (float64, CPU)", () => {
  const rows: { name: string; shapes: number[][]; f: (...xs: Tensor[]) => Tensor; lo?: number }[] = [
    { name: "exp·log", shapes: [[4]], f: (a) => a.exp().mul(a.log()), lo: 0.5 },
    { name: "tanh, sigmoid", shapes: [[4]], f: (a) => a.tanh().mul(a.sigmoid()) },
    { name: "pow, div", shapes: [[3], [3]], f: (a, b) => a.pow(b).div(b), lo: 0.5 },
    { name: "sqrt, erf", shapes: [[4]], f: (a) => a.sqrt().mul(a.erf()), lo: 0.5 },
    { name: "matmul", shapes: [[2, 3], [3, 2]], f: (a, b) => a.matmul(b).pow(2) },
    { name: "softmax", shapes: [[2, 4]], f: (a) => a.softmax(-1) },
    { name: "logSoftmax", shapes: [[2, 4]], f: (a) => a.logSoftmax(-1) },
    { name: "max, mean", shapes: [[3, 4]], f: (a) => a.pow(2).max(1).add(a.mean(0).sum()) },
    { name: "where, relu, gelu", shapes: [[5]], f: (a) => wg.where(a.gt(0), a.pow(2), a.gelu()).add(a.relu().pow(2)) },
  ];
  test.each(rows)("$name", async ({ shapes, f, lo }) => {
    const xs = shapes.map((s, k) => wg.tensor(randomData(s.reduce((a, b) => a * b, 1), lo ?? -1, 2, 7 + k), { shape: s, dtype: "float64", device: "cpu" }));
    const v = f(...xs.map((x) => x.detach().requiresGrad_()));
    const cot = wg.tensor(randomData(v.size, -1, 1, 99), { shape: v.shape, dtype: "float64", device: "cpu" });
    // The first derivative, as a function of the inputs: its own gradient is the second derivative.
    const firstGrad = (...ins: Tensor[]) => {
      const gs = wg.autograd.grad(f(...ins), ins, { gradOutputs: cot, createGraph: true, allowUnused: true });
      return wg.cat(gs.map((g, i) => (g ?? wg.zerosLike(ins[i])).flatten()));
    };
    const res = await wg.gradcheck(firstGrad, xs, { atol: 1e-5, rtol: 1e-3 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });

  test("fused cross-entropy", async () => {
    const logits = wg.tensor(randomData(12, -2, 2, 5), { shape: [3, 4], dtype: "float64", device: "cpu" });
    const targets = wg.tensor([1, 0, 3], { dtype: "int32", device: "cpu" });
    const firstGrad = (l: Tensor) => wg.autograd.grad(crossEntropyRows(l, targets).pow(2).sum(), l, { createGraph: true })[0]!;
    const res = await wg.gradcheck(firstGrad, [logits]);
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });

  test("fused cross-entropy mean (its gradient scaled by 1/kept, an ignored row)", async () => {
    const logits = wg.tensor(randomData(16, -2, 2, 6), { shape: [4, 4], dtype: "float64", device: "cpu" });
    const targets = wg.tensor([1, -100, 3, 0], { dtype: "int32", device: "cpu" });
    const firstGrad = (l: Tensor) => wg.autograd.grad(crossEntropyMean(l, targets).pow(2), l, { createGraph: true })[0]!;
    const res = await wg.gradcheck(firstGrad, [logits]);
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });
});
