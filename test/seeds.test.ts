/** Every worked example in shared/seeds/, on every device, with the values the tutorials print. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { DEVICES, expectClose, startWebgpu, values } from "./helpers.js";

beforeAll(startWebgpu);

describe.each(DEVICES)("seeds on %s", (device) => {
  const t = (data: number | number[] | number[][], requiresGrad = false) => wg.tensor(data, { device, requiresGrad });

  test("y = x² at x = 3: dy/dx = 6", async () => {
    const x = t(3, true);
    x.pow(2).backward();
    expect(await x.grad!.item()).toBe(6);
  });

  test("L = x² + 3y at (2, 4): gradient (4, 3)", async () => {
    const x = t(2, true);
    const y = t(4, true);
    x.pow(2).add(y.mul(3)).backward();
    expect(await x.grad!.item()).toBe(4);
    expect(await y.grad!.item()).toBe(3);
  });

  test("L = ΣW²: grad has W's shape and equals 2W", async () => {
    wg.manualSeed(0);
    const W = wg.randn([3, 4], { device, requiresGrad: true });
    W.pow(2).sum().backward();
    expect(W.grad!.shape).toEqual([3, 4]);
    expectClose(await values(W.grad!), (await values(W)).map((v) => 2 * v), 1e-6, 1e-6);
  });

  test("vector output: backward needs a gradient; sum or ones give (2, 4, 6)", async () => {
    const x = t([1, 2, 3], true);
    expect(() => x.pow(2).backward()).toThrow(/only for a scalar output/);
    x.pow(2).sum().backward();
    expect(await values(x.grad!)).toEqual([2, 4, 6]);
    const x2 = t([1, 2, 3], true);
    x2.pow(2).backward(t([1, 1, 1]));
    expect(await values(x2.grad!)).toEqual([2, 4, 6]);
  });

  test("chain rule z = (x + 1)² at x = 3: dz/dx = 8", async () => {
    const x = t(3, true);
    x.add(1).pow(2).backward();
    expect(await x.grad!.item()).toBe(8);
  });

  test("local and upstream gradients: z = (x + y)² at (2, 3) → 10, 10", async () => {
    const x = t(2, true);
    const y = t(3, true);
    x.add(y).pow(2).backward();
    expect(await x.grad!.item()).toBe(10);
    expect(await y.grad!.item()).toBe(10);
  });

  test("linear layer Y = XWᵀ + b, L = ΣY: grad b = B, grad W = column sums of X", async () => {
    wg.manualSeed(1);
    const [B, d, h] = [5, 3, 4];
    const X = wg.randn([B, d], { device });
    const W = wg.randn([h, d], { device, requiresGrad: true });
    const b = wg.randn([h], { device, requiresGrad: true });
    X.matmul(W.T).add(b).sum().backward();
    expect(W.grad!.shape).toEqual([4, 3]);
    expect(b.grad!.shape).toEqual([4]);
    expect(await values(b.grad!)).toEqual([5, 5, 5, 5]);
    const x = await values(X);
    const colSums = [0, 1, 2].map((k) => x.filter((_, i) => i % d === k).reduce((s, v) => s + v, 0));
    expectClose(await values(W.grad!), Array.from({ length: h }, () => colSums).flat(), 1e-5, 1e-5);
  });

  test("accumulation: 4 from x², then 3 from 3x, gives 7", async () => {
    const x = t(2, true);
    x.pow(2).backward();
    expect(await x.grad!.item()).toBe(4);
    x.mul(3).backward();
    expect(await x.grad!.item()).toBe(7);
  });

  test("the in-place trap: x.add_(1) after y = x² makes backward throw, naming add_ and both versions", () => {
    const x = wg.randn([3], { device });
    const y = x.pow(2);
    const w = wg.randn([3], { device, requiresGrad: true });
    const z = x.mul(w); // saves x
    x.add_(1.0);
    expect(() => z.sum().backward()).toThrow(/modified by an in-place operation \(add_\): it is at version 1.*expected version 0/);
    void y;
  });

  test("gradient checking: autograd 6 and the central difference agree at x = 3", async () => {
    const f = (v: wg.Tensor) => v.pow(2);
    const x = t(3, true);
    f(x).backward();
    const eps = 1e-2;
    const fd = (await f(t(3 + eps)).sub(f(t(3 - eps))).div(2 * eps).item());
    expect(await x.grad!.item()).toBe(6);
    expect(fd).toBeCloseTo(6, 3);
    const res = await wg.gradcheck((v) => v.pow(2), [wg.tensor(3)]);
    expect(res.ok).toBe(true);
  });

  test("common problems: backward of a tensor that does not require grad throws with the fix", () => {
    const x = t(2);
    expect(() => x.pow(2).backward()).toThrow(/does not require grad.*requiresGrad: true/);
  });

  test("batch Jacobian shapes: d(x@W)/dW for x [1,2], W [2,3] is [1,3,2,3]; vjp with ones gives [[1,1,1],[2,2,2]]", async () => {
    const x = t([[1, 2]]);
    wg.manualSeed(2);
    const W = wg.randn([2, 3], { device, requiresGrad: true });
    const h = x.matmul(W);
    expect(h.shape).toEqual([1, 3]);
    const J = wg.jacobian((w) => x.matmul(w), W) as wg.Tensor;
    expect(J.shape).toEqual([1, 3, 2, 3]);
    // dh_i/dW_jk = x_j when i = k, else 0
    const want: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) want.push(i === k ? [1, 2][j] : 0);
    expect(await values(J)).toEqual(want);
    h.backward(wg.onesLike(h));
    expect(await W.grad!.tolist()).toEqual([[1, 1, 1], [2, 2, 2]]);
  });

  test("gradient shape rule (output shape, input shape): scalar loss w.r.t. a batch of vectors", async () => {
    const y = wg.randn([4, 10], { device });
    const yhat = wg.randn([4, 10], { device });
    const J = wg.jacobian((p) => y.sub(p).pow(2).mul(0.5).sum(1), yhat) as wg.Tensor;
    expect(J.shape).toEqual([4, 4, 10]);
    // d/dyhat 0.5(y - yhat)² = -(y - yhat), only on the diagonal of the batch
    const d = (await values(y.sub(yhat).neg()));
    const j = await values(J);
    for (let b = 0; b < 4; b++) for (let c = 0; c < 4; c++) for (let k = 0; k < 10; k++)
      expect(j[(b * 4 + c) * 10 + k]).toBeCloseTo(b === c ? d[c * 10 + k] : 0, 5);
  });

  test("ReLU/sigmoid network: the manual chain rule equals autograd", async () => {
    wg.manualSeed(3);
    const x = t([1, 2]);
    const target = t([1]);
    const W = wg.randn([2, 3], { device, requiresGrad: true });
    const wout = wg.randn([3], { device, requiresGrad: true });
    const h = x.matmul(W);
    const hact = h.relu();
    const score = hact.matmul(wout);
    const prob = score.sigmoid();
    const loss = prob.sub(target).pow(2);
    expect([h.shape, hact.shape, score.shape, prob.shape, loss.shape]).toEqual([[3], [3], [], [], [1]]);
    // manual: dloss/dprob = 2(prob - t); dprob/dscore = σ(1-σ); dscore/dwout = hact; dscore/dhact = wout; dhact/dh = [h > 0]; dh/dW = x ⊗ 1
    const p = await prob.item();
    const dLdp = 2 * (p - 1);
    const dpds = p * (1 - p);
    const ha = await values(hact);
    const hv = await values(h);
    const wo = await values(wout);
    const xs = [1, 2];
    const manualWout = ha.map((v) => dLdp * dpds * v);
    const manualW = xs.flatMap((xj) => [0, 1, 2].map((k) => dLdp * dpds * wo[k] * (hv[k] > 0 ? 1 : 0) * xj));
    loss.backward();
    expectClose(await values(wout.grad!), manualWout, 1e-6, 1e-5);
    expectClose(await values(W.grad!), manualW, 1e-6, 1e-5);
  });

  test("softmax regression ŷ = S(Wx), L = ||ŷ - y||²: the loss falls monotonically for 10 steps", async () => {
    wg.manualSeed(4);
    const x = wg.randn([8, 5], { device });
    const labels = wg.tensor(new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]), { dtype: "int32", device });
    const y = wg.arange(3, { dtype: "int32", device }).eq(labels.unsqueeze(1));
    const W = wg.zeros([5, 3], { device, requiresGrad: true });
    const losses: number[] = [];
    for (let step = 0; step < 10; step++) {
      const loss = x.matmul(W).softmax(-1).sub(y).pow(2).sum(1).mean();
      W.grad = null;
      loss.backward();
      wg.noGrad(() => W.sub_(W.grad!.mul(0.5)));
      losses.push(await loss.item());
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
  });

  test("without softmax: ŷ = Wx, W -= 0.1·2(ŷ - y)xᵀ prints 1.0, 0.16, … 6.87e-8", async () => {
    // float64 (CPU) reproduces NumPy's printout; float32 follows it to single precision.
    const dtypes = device === "cpu" ? (["float64", "float32"] as const) : (["float32"] as const);
    for (const dtype of dtypes) {
      const W = wg.ones([2, 3], { device, dtype, requiresGrad: true });
      const x = wg.tensor([-1, 1, 1], { device, dtype });
      const y = wg.tensor([1, 2], { device, dtype });
      const losses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const loss = W.matmul(x).sub(y).pow(2).sum();
        losses.push(await loss.item());
        W.grad = null;
        loss.backward();
        wg.noGrad(() => W.sub_(W.grad!.mul(0.1)));
      }
      expect(losses[0]).toBe(1);
      const rtol = dtype === "float64" ? 1e-10 : 2e-3;
      expect(Math.abs(losses[1] - 0.16000000000000011) / 0.16).toBeLessThan(rtol);
      expect(Math.abs(losses[9] - 6.871947673606854e-8) / 6.871947673606854e-8).toBeLessThan(rtol);
      losses.forEach((l, k) => expect(Math.abs(l - 0.16 ** k) / 0.16 ** k).toBeLessThan(rtol));
    }
  });
});
