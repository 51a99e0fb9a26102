/**
 * nn: layers against values computed here by hand (forward and the gradients
 * of sum(y · r)), parameter discovery and naming, train/eval, Dropout,
 * stateDict/loadStateDict and its errors, losses against hand values, input
 * errors, and gradcheck (float64, CPU) of every loss.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { fusionEnabled, webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { erf } from "../src/ops/cpu-math.js";
import { DEVICES, expectClose, randomData, startWebgpu, values } from "./helpers.js";

const { nn } = wg;
const F = wg.nn.functional;
type Dev = (typeof DEVICES)[number];

beforeAll(startWebgpu);

/** y[n, o] = Σ_i x[n, i] W[o, i] + b[o], and the gradients of Σ y · r. */
function linearByHand(x: number[], W: number[], b: number[] | null, r: number[], N: number, I: number, O: number) {
  const y = new Array(N * O).fill(0), dx = new Array(N * I).fill(0), dW = new Array(O * I).fill(0), db = new Array(O).fill(0);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      y[n * O + o] = b ? b[o] : 0;
      db[o] += r[n * O + o];
      for (let i = 0; i < I; i++) {
        y[n * O + o] += x[n * I + i] * W[o * I + i];
        dx[n * I + i] += r[n * O + o] * W[o * I + i]; // dX = R W
        dW[o * I + i] += r[n * O + o] * x[n * I + i]; // dW = Rᵀ X
      }
    }
  return { y, dx, dW, db };
}

const linearRows = [
  { name: "Linear 3→2 on [4, 3]", I: 3, O: 2, bias: true, xShape: [4, 3] },
  { name: "Linear 3→2 without bias", I: 3, O: 2, bias: false, xShape: [4, 3] },
  { name: "Linear 5→4 on a 1-D input", I: 5, O: 4, bias: true, xShape: [5] },
  { name: "Linear 3→2 on batched [2, 3, 3]", I: 3, O: 2, bias: true, xShape: [2, 3, 3] },
];

const SQRT1_2 = Math.SQRT1_2;
const activationRows: { name: string; make: () => wg.nn.Module; ref: (x: number) => number }[] = [
  { name: "ReLU", make: () => new nn.ReLU(), ref: (x) => Math.max(0, x) },
  { name: "Sigmoid", make: () => new nn.Sigmoid(), ref: (x) => 1 / (1 + Math.exp(-x)) },
  { name: "Tanh", make: () => new nn.Tanh(), ref: Math.tanh },
  { name: "GELU", make: () => new nn.GELU(), ref: (x) => 0.5 * x * (1 + erf(x * SQRT1_2)) },
  { name: "GELU tanh", make: () => new nn.GELU("tanh"), ref: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))) },
];

/** Softmax of a [R, C] matrix along dim 1, or along dim 0. */
function softmaxByHand(x: number[], R: number, C: number, dim: 0 | 1): number[] {
  const at = (a: number, k: number) => (dim === 1 ? a * C + k : k * C + a);
  const [outer, inner] = dim === 1 ? [R, C] : [C, R];
  const out = new Array(R * C);
  for (let a = 0; a < outer; a++) {
    let s = 0;
    for (let k = 0; k < inner; k++) s += Math.exp(x[at(a, k)]);
    for (let k = 0; k < inner; k++) out[at(a, k)] = Math.exp(x[at(a, k)]) / s;
  }
  return out;
}

const mlp = (device: Dev, seed: number) => {
  wg.manualSeed(seed);
  return new nn.Sequential(new nn.Linear(3, 4, { device }), new nn.ReLU(), new nn.Linear(4, 2, { device }));
};

describe.each(DEVICES)("layers on %s", (device) => {
  test.each(linearRows)("$name: forward and gradients by hand", async ({ I, O, bias, xShape }) => {
    const layer = new nn.Linear(I, O, { bias, device });
    const N = xShape.length === 1 ? 1 : xShape.slice(0, -1).reduce((a, b) => a * b, 1);
    const xs = Array.from(Float32Array.from(randomData(N * I, -1, 1, 21)));
    const rs = Array.from(Float32Array.from(randomData(N * O, -1, 1, 22)));
    const x = wg.tensor(xs, { shape: xShape, device, requiresGrad: true });
    const y = layer.forward(x);
    expect(y.shape).toEqual([...xShape.slice(0, -1), O]);
    y.mul(wg.tensor(rs, { shape: y.shape, device })).sum().backward();
    const W = await values(layer.weight);
    const ref = linearByHand(xs, W, layer.bias ? await values(layer.bias) : null, rs, N, I, O);
    expectClose(await values(y), ref.y, 1e-5, 1e-5, "y");
    expectClose(await values(x.grad!), ref.dx, 1e-5, 1e-5, "dx");
    expectClose(await values(layer.weight.grad!), ref.dW, 1e-5, 1e-5, "dW");
    if (bias) expectClose(await values(layer.bias!.grad!), ref.db, 1e-5, 1e-5, "db");
    expect(layer.namedParameters().map(([k]) => k)).toEqual(bias ? ["weight", "bias"] : ["weight"]);
  });

  test("Linear init: U(−1/√in, 1/√in) from wg.rand, the same on every device for a seed", async () => {
    wg.manualSeed(7);
    const a = new nn.Linear(16, 8, { device });
    wg.manualSeed(7);
    const ref = new nn.Linear(16, 8, { device: "cpu" });
    const [w, b] = [await values(a.weight), await values(a.bias!)];
    expectClose(w, await values(ref.weight), 1e-7, 0, "weight vs cpu");
    expectClose(b, await values(ref.bias!), 1e-7, 0, "bias vs cpu");
    for (const v of [...w, ...b]) expect(Math.abs(v)).toBeLessThanOrEqual(0.25);
    expect(Math.max(...w) - Math.min(...w)).toBeGreaterThan(0.4);
    expect(a.weight.isLeaf && a.weight.requiresGrad).toBe(true);
    wg.manualSeed(8);
    expect(await values(new nn.Linear(16, 8, { device }).weight)).not.toEqual(w);
  });

  test.each(activationRows)("$name matches its formula", async ({ make, ref }) => {
    const xs = Array.from(Float32Array.from(randomData(12, -3, 3, 31)));
    const y = make().forward(wg.tensor(xs, { shape: [3, 4], device }));
    expect(y.shape).toEqual([3, 4]);
    expectClose(await values(y), xs.map(ref), 1e-5, 1e-5);
  });

  test.each([1, 0, -1] as const)("Softmax(%i) matches its formula", async (dim) => {
    const xs = Array.from(Float32Array.from(randomData(12, -3, 3, 32)));
    const y = new nn.Softmax(dim).forward(wg.tensor(xs, { shape: [3, 4], device }));
    expectClose(await values(y), softmaxByHand(xs, 3, 4, dim === 0 ? 0 : 1), 1e-6, 1e-5);
  });

  test("Sequential: positional names, the layers' own tensors, forward = the composition, gradients reach every parameter", async () => {
    const seq = mlp(device, 1);
    const [l1, , l2] = seq.modules as [wg.nn.Linear, wg.nn.Module, wg.nn.Linear];
    expect(seq.namedParameters().map(([k]) => k)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    [l1.weight, l1.bias, l2.weight, l2.bias].forEach((t, k) => expect(seq.parameters()[k]).toBe(t));
    const x = wg.tensor(randomData(6, -1, 1, 41), { shape: [2, 3], device });
    const y = seq.forward(x);
    expect(await values(y)).toEqual(await values(l2.forward(l1.forward(x).relu())));
    y.sum().backward();
    for (const p of seq.parameters()) expect(p.grad?.shape).toEqual(p.shape);
  });

  test("a custom module: properties in assignment order, arrays numbered, parameter() kept when frozen, plain tensors ignored, cycles visited once", () => {
    class Net extends nn.Module {
      enc = new nn.Linear(2, 3, { device });
      blocks = [new nn.Linear(3, 3, { device, bias: false }), new nn.Tanh()];
      scale = nn.parameter(wg.ones([1], { device }));
      shift = wg.zeros([1], { device, requiresGrad: true });
      cache = wg.ones([2], { device });
      forward(x: Tensor) {
        return this.blocks.reduce((h, m) => m.forward(h), this.enc.forward(x)).mul(this.scale).add(this.shift);
      }
    }
    const net = new Net();
    net.scale.requiresGrad = false;
    (net.blocks[1] as unknown as { back: wg.nn.Module }).back = net; // a cycle
    // PyTorch's order: the module's own parameters, then each child's
    expect(net.namedParameters().map(([k]) => k)).toEqual(["scale", "shift", "enc.weight", "enc.bias", "blocks.0.weight"]);
    expect(net.namedChildren().map(([k]) => k)).toEqual(["enc", "blocks.0", "blocks.1"]);
    expect(net.namedModules().map(([k]) => k)).toEqual(["", "enc", "blocks.0", "blocks.1"]);
  });

  test("train() and eval() reach every submodule; eval Dropout is the identity", () => {
    const seq = new nn.Sequential(new nn.Linear(3, 3, { device }), new nn.Sequential(new nn.Dropout(0.5), new nn.ReLU()));
    const all = (m: wg.nn.Module): boolean[] => [m.training, ...m.namedChildren().flatMap(([, c]) => all(c))];
    expect(all(seq.eval())).toEqual([false, false, false, false, false]);
    const x = wg.ones([4], { device });
    expect(new nn.Dropout(0.5).eval().forward(x)).toBe(x);
    expect(all(seq.train())).toEqual([true, true, true, true, true]);
  });

  test.each([0.25, 0.5])("Dropout(%f) while training: zeros about p of the elements, scales the rest by 1/(1−p), gradient = mask/(1−p)", async (p) => {
    wg.manualSeed(5);
    const x = wg.ones([4000], { device, requiresGrad: true });
    const y = new nn.Dropout(p).forward(x);
    y.sum().backward();
    const ys = await values(y);
    const kept = 1 / (1 - p);
    expect(ys.every((v) => v === 0 || Math.abs(v - kept) < 1e-6)).toBe(true);
    expect(Math.abs(ys.filter((v) => v === 0).length / ys.length - p)).toBeLessThan(0.03);
    expect(await values(x.grad!)).toEqual(ys);
  });

  test("Dropout edge cases: p = 0 returns the input, p = 1 zeros it", async () => {
    const x = wg.tensor([1, 2, 3], { device });
    expect(new nn.Dropout(0).forward(x)).toBe(x);
    expect(await values(new nn.Dropout(1).forward(x))).toEqual([0, 0, 0]);
  });

  test("module tensors outlive tidy(); zeroGrad disposes gradients or zeroes them", async () => {
    const layer = wg.tidy(() => new nn.Linear(3, 2, { device }));
    expect(layer.weight.isDisposed || layer.bias!.isDisposed).toBe(false);
    const x = wg.ones([1, 3], { device });
    wg.tidy(() => layer.forward(x).sum().backward());
    const g = layer.weight.grad!;
    expect(await values(g)).toEqual([1, 1, 1, 1, 1, 1]);
    layer.zeroGrad({ setToNone: false });
    expect(layer.weight.grad).toBe(g);
    expect(await values(g)).toEqual([0, 0, 0, 0, 0, 0]);
    layer.zeroGrad();
    expect(layer.weight.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
  });

  test("on webgpu, Linear's forward is two launches (one fused: the bias add is the matmul's epilogue): Wᵀ is a view the matmul reads, not a copy", async () => {
    if (device !== "webgpu") return;
    const stats = (webgpuBackend() as WebGpuBackend).stats;
    const layer = new nn.Linear(3, 2, { device });
    const x = wg.ones([4, 3], { device });
    await wg.flush(); // with fusion on, x's fill waits in the scheduler until something realizes it
    const before = stats.launches;
    layer.forward(x);
    await wg.flush();
    expect(stats.launches - before).toBe(fusionEnabled() ? 1 : 2);
  });
});

describe.each(DEVICES)("stateDict and loadStateDict on %s", (device) => {
  test("stateDict: names in order, detached views of the parameters' values", async () => {
    const seq = mlp(device, 1);
    const sd = seq.stateDict();
    expect(Object.keys(sd)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    for (const [k, p] of seq.namedParameters()) {
      expect(sd[k]).not.toBe(p);
      expect(sd[k].requiresGrad).toBe(false);
      expect(await values(sd[k])).toEqual(await values(p));
    }
  });

  test("loadStateDict copies in place: the same tensors, new values, the same outputs", async () => {
    const [a, b] = [mlp(device, 1), mlp(device, 2)];
    const before = b.parameters();
    const versions = before.map((p) => p.version);
    b.loadStateDict(a.stateDict());
    b.parameters().forEach((p, k) => expect(p).toBe(before[k]));
    before.forEach((p, k) => expect(p.version).toBe(versions[k] + 1));
    for (const [k, p] of a.namedParameters()) expect(await values(b.stateDict()[k])).toEqual(await values(p));
    const x = wg.tensor(randomData(6, -1, 1, 3), { shape: [2, 3], device });
    expect(await values(b.forward(x))).toEqual(await values(a.forward(x)));
  });

  test("strict: false loads what is there and skips missing and unknown keys", async () => {
    const [a, b] = [mlp(device, 1), mlp(device, 2)];
    const bias = await values(b.modules[2].parameters()[1]);
    b.loadStateDict({ "0.weight": a.stateDict()["0.weight"], "9.weight": wg.ones([1], { device }) }, { strict: false });
    expect(await values(b.parameters()[0])).toEqual(await values(a.parameters()[0]));
    expect(await values(b.parameters()[3])).toEqual(bias);
  });

  const other: Dev = device === "cpu" ? "webgpu" : "cpu";
  const errorRows: { name: string; edit: (sd: Record<string, unknown>) => void; error: RegExp; strict?: boolean }[] = [
    { name: "missing key", edit: (sd) => delete sd["2.bias"], error: /missing key "2\.bias" \(shape \[2\]\)/ },
    { name: "unexpected key", edit: (sd) => (sd["3.weight"] = wg.ones([2], { device })), error: /unexpected key "3\.weight"/ },
    { name: "shape mismatch", edit: (sd) => (sd["0.weight"] = wg.ones([5, 3], { device })), error: /size mismatch for "0\.weight": the dict has shape \[5, 3\], the model \[4, 3\]/ },
    { name: "shape mismatch, not strict", strict: false, edit: (sd) => (sd["2.bias"] = wg.ones([1, 2], { device })), error: /size mismatch for "2\.bias": the dict has shape \[1, 2\], the model \[2\]/ },
    { name: "dtype mismatch", edit: (sd) => (sd["2.bias"] = wg.ones([2], { device, dtype: "int32" })), error: /dtype mismatch for "2\.bias" \[2\]: the dict has int32, the model float32/ },
    { name: "not a tensor", edit: (sd) => (sd["2.bias"] = [1, 2]), error: /"2\.bias" is object, not a tensor/ },
    { name: "a disposed tensor", edit: (sd) => { const t = wg.ones([2], { device }); t.dispose(); sd["2.bias"] = t; }, error: /"2\.bias" is a disposed tensor/ },
    { name: "another device", edit: (sd) => (sd["2.bias"] = wg.ones([2], { device: other })), error: new RegExp(`"2\\.bias" \\[2\\] is on ${other}, the model on ${device}`) },
  ];
  test.each(errorRows)("error, $name: names the key, the shapes and the fix, and loads nothing", async ({ edit, error, strict }) => {
    const b = mlp(device, 2);
    const before = await Promise.all(b.parameters().map(values));
    const sd: Record<string, unknown> = mlp(device, 1).stateDict(); // every valid entry differs from b's
    edit(sd);
    expect(() => b.loadStateDict(sd as Record<string, Tensor>, { strict })).toThrow(error);
    expect(() => b.loadStateDict(sd as Record<string, Tensor>, { strict })).toThrow(/^loadStateDict: nothing was loaded: .*Fix: /);
    expect(await Promise.all(b.parameters().map(values))).toEqual(before);
  });
});

/** Losses: inputs, the value worked out by hand, and the gradient of the first input (of Σ loss where reduction is "none"). */
interface LossRow {
  name: string;
  f: (...xs: Tensor[]) => Tensor;
  inputs: { data: number[]; shape: number[]; int?: boolean }[];
  value: number[];
  grad: number[];
}

const lse = (xs: number[]) => Math.log(xs.reduce((s, v) => s + Math.exp(v), 0));
const soft = (xs: number[]) => xs.map((v) => Math.exp(v - lse(xs)));
const L = [[1, 2, 3], [1, 1, 1]];
const ceValue = (lse(L[0]) - 3 + lse(L[1]) - 1) / 2; // targets [2, 0]: logsumexp − x[t], averaged
const ceGrad = [...soft(L[0]).map((p, c) => (p - (c === 2 ? 1 : 0)) / 2), ...soft(L[1]).map((p, c) => (p - (c === 0 ? 1 : 0)) / 2)]; // (softmax − onehot)/N
const P = [[0.2, 0.3, 0.5], [1, 0, 0]];
const softValue = -(P[0].reduce((s, t, c) => s + t * (L[0][c] - lse(L[0])), 0) + (L[1][0] - lse(L[1]))) / 2;
const softGrad = [...soft(L[0]).map((p, c) => (p - P[0][c]) / 2), ...soft(L[1]).map((p, c) => (p - P[1][c]) / 2)];
const bceP = [0.9, 0.2, 0.5, 0, 1, 0], bceT = [1, 0, 1, 0, 1, 1];
const lossRows: LossRow[] = [
  // d = [1, 0, −2, 3]: d² = [1, 0, 4, 9]; ∂mean/∂pred = 2d/4
  { name: "mseLoss mean", f: (p, t) => F.mseLoss(p, t), inputs: [{ data: [1, 2, 3, 4], shape: [2, 2] }, { data: [0, 2, 5, 1], shape: [2, 2] }], value: [3.5], grad: [0.5, 0, -1, 1.5] },
  { name: "mseLoss sum", f: (p, t) => F.mseLoss(p, t, { reduction: "sum" }), inputs: [{ data: [1, 2, 3, 4], shape: [4] }, { data: [0, 2, 5, 1], shape: [4] }], value: [14], grad: [2, 0, -4, 6] },
  { name: "mseLoss none", f: (p, t) => F.mseLoss(p, t, { reduction: "none" }), inputs: [{ data: [1, 2, 3, 4], shape: [4] }, { data: [0, 2, 5, 1], shape: [4] }], value: [1, 0, 4, 9], grad: [2, 0, -4, 6] },
  { name: "crossEntropy class indices", f: (l, t) => F.crossEntropy(l, t), inputs: [{ data: L.flat(), shape: [2, 3] }, { data: [2, 0], shape: [2], int: true }], value: [ceValue], grad: ceGrad },
  { name: "crossEntropy one-hot probabilities", f: (l, t) => F.crossEntropy(l, t), inputs: [{ data: L.flat(), shape: [2, 3] }, { data: [0, 0, 1, 1, 0, 0], shape: [2, 3] }], value: [ceValue], grad: ceGrad },
  { name: "crossEntropy soft probabilities", f: (l, t) => F.crossEntropy(l, t), inputs: [{ data: L.flat(), shape: [2, 3] }, { data: P.flat(), shape: [2, 3] }], value: [softValue], grad: softGrad },
  { name: "crossEntropy one row, sum", f: (l, t) => F.crossEntropy(l, t, { reduction: "sum" }), inputs: [{ data: L[0], shape: [3] }, { data: [2], shape: [], int: true }], value: [lse(L[0]) - 3], grad: soft(L[0]).map((p, c) => p - (c === 2 ? 1 : 0)) },
  // −logProbs[n, t_n]: [2, 0.1]; ∂mean = −1/N at each target
  { name: "nllLoss", f: (l, t) => F.nllLoss(l, t), inputs: [{ data: [-1, -2, -0.5, -0.1, -3, -4], shape: [2, 3] }, { data: [1, 0], shape: [2], int: true }], value: [1.05], grad: [0, -0.5, 0, -0.5, 0, 0] },
  { name: "nllLoss sum", f: (l, t) => F.nllLoss(l, t, { reduction: "sum" }), inputs: [{ data: [-1, -2, -0.5, -0.1, -3, -4], shape: [2, 3] }, { data: [1, 0], shape: [2], int: true }], value: [2.1], grad: [0, -1, 0, -1, 0, 0] },
  // −log 0.9, −log 0.8, −log 0.5, 0, 0, and log 0 clamped to −100; ∂/∂p = (p − t)/(p(1 − p))/N, 0 where the log is clamped
  {
    name: "binaryCrossEntropy, saturated probabilities stay finite",
    f: (p, t) => F.binaryCrossEntropy(p, t),
    inputs: [{ data: bceP, shape: [6] }, { data: bceT, shape: [6] }],
    value: [(-Math.log(0.9) - Math.log(0.8) - Math.log(0.5) + 100) / 6],
    grad: [-1 / 0.9 / 6, 1 / 0.8 / 6, -2 / 6, 1 / 6, -1 / 6, 0],
  },
];

describe.each(DEVICES)("losses on %s", (device) => {
  test.each(lossRows)("$name", async ({ f, inputs, value, grad }) => {
    const xs = inputs.map(({ data, shape, int }, k) =>
      wg.tensor(data, { shape, device, dtype: int ? "int32" : "float32", requiresGrad: k === 0 }),
    );
    const y = f(...xs);
    expectClose(await values(y), value, 1e-5, 1e-5, "value");
    y.sum().backward();
    expectClose(await values(xs[0].grad!), grad, 1e-5, 1e-5, "gradient");
  });
});

describe("input errors name the function, the shapes and the fix", () => {
  const t = (shape: number[], dtype: "float32" | "int32" = "float32") => wg.zeros(shape, { device: "cpu", dtype });
  const rows: { name: string; run: () => unknown; error: RegExp }[] = [
    { name: "mseLoss shapes", run: () => F.mseLoss(t([2, 3]), t([3, 2])), error: /^mseLoss: pred and target must have the same shape, got \[2, 3\] and \[3, 2\]\. Fix/ },
    { name: "mseLoss reduction", run: () => F.mseLoss(t([2]), t([2]), { reduction: "avg" as "mean" }), error: /^mseLoss: reduction must be "mean", "sum" or "none", got "avg"\. Fix/ },
    { name: "mseLoss int32", run: () => F.mseLoss(t([2], "int32"), t([2])), error: /^mseLoss: pred must be a float tensor, got int32 of shape \[2\]\. Fix/ },
    { name: "crossEntropy probabilities shape", run: () => F.crossEntropy(t([2, 3]), t([2])), error: /^crossEntropy: float targets .* shape \[2, 3\], got \[2\]\. Fix: pass int32 class indices of shape \[2\]/ },
    { name: "crossEntropy indices shape", run: () => F.crossEntropy(t([2, 3]), t([3], "int32")), error: /^crossEntropy: logits \[2, 3\] and class-index targets \[3\] do not match\. Fix/ },
    { name: "nllLoss float targets", run: () => F.nllLoss(t([2, 3]), t([2])), error: /^nllLoss: targets must be int32 class indices, got float32 \[2\]\. Fix/ },
    { name: "nllLoss shapes", run: () => F.nllLoss(t([2, 3]), t([3], "int32")), error: /^nllLoss: logProbs \[2, 3\] and targets \[3\] do not match\. Fix/ },
    { name: "binaryCrossEntropy shapes", run: () => F.binaryCrossEntropy(t([4]), t([4, 1])), error: /^binaryCrossEntropy: probs and targets must have the same shape, got \[4\] and \[4, 1\]\. Fix/ },
    { name: "linear shapes", run: () => F.linear(t([2, 3]), t([4, 5])), error: /^linear: input \[2, 3\] and weight \[4, 5\] do not fit.*Fix/ },
    { name: "linear bias", run: () => F.linear(t([2, 3]), t([4, 3]), t([3])), error: /^linear: bias \[3\] must have shape \[4\] for weight \[4, 3\]\. Fix/ },
    { name: "Linear input", run: () => new nn.Linear(3, 2, { device: "cpu" }).forward(t([2, 5])), error: /^Linear\(3, 2\): input \[2, 5\] has 5 features in its last dim, expected 3\. Fix/ },
    { name: "Linear sizes", run: () => new nn.Linear(0, 2), error: /^Linear: inFeatures must be a positive integer, got 0\. Fix/ },
    { name: "Sequential argument", run: () => new nn.Sequential(new nn.ReLU(), 3 as unknown as wg.nn.Module), error: /^Sequential: argument 1 is number, not a Module\. Fix/ },
    { name: "Dropout p > 1", run: () => new nn.Dropout(1.5), error: /^Dropout: p is the probability .* \[0, 1\], got 1\.5\. Fix/ },
    { name: "Dropout p < 0", run: () => new nn.Dropout(-0.1), error: /^Dropout: p .* got -0\.1/ },
    { name: "Dropout p NaN", run: () => new nn.Dropout(NaN), error: /^Dropout: p .* got NaN/ },
    { name: "dropout p", run: () => F.dropout(t([2]), 2), error: /^dropout: p .* got 2\. Fix/ },
    { name: "loadStateDict argument", run: () => new nn.ReLU().loadStateDict(null as unknown as Record<string, Tensor>), error: /^loadStateDict: expected an object of tensors/ },
  ];
  test.each(rows)("$name", ({ run, error }) => {
    expect(run).toThrow(error);
  });
});

describe("gradcheck (float64, CPU)", () => {
  const f64 = (shape: number[], lo: number, hi: number, seed: number) =>
    wg.tensor(randomData(shape.reduce((a, b) => a * b, 1), lo, hi, seed), { shape, dtype: "float64", device: "cpu" });
  const labels = wg.tensor([2, 0, 3], { dtype: "int32", device: "cpu" });
  const rows: { name: string; f: (...xs: Tensor[]) => Tensor; inputs: () => Tensor[] }[] = [
    { name: "mseLoss mean", f: (p, t) => F.mseLoss(p, t), inputs: () => [f64([3, 2], -1, 1, 1), f64([3, 2], -1, 1, 2)] },
    { name: "mseLoss none", f: (p, t) => F.mseLoss(p, t, { reduction: "none" }), inputs: () => [f64([4], -1, 1, 1), f64([4], -1, 1, 2)] },
    { name: "crossEntropy indices", f: (l, t) => F.crossEntropy(l, t), inputs: () => [f64([3, 4], -2, 2, 3), labels] },
    { name: "crossEntropy probabilities", f: (l, t) => F.crossEntropy(l, t), inputs: () => [f64([3, 4], -2, 2, 3), f64([3, 4], 0, 0.5, 4)] },
    { name: "nllLoss", f: (l, t) => F.nllLoss(l, t), inputs: () => [f64([3, 4], -3, 0, 5), labels] },
    { name: "binaryCrossEntropy", f: (p, t) => F.binaryCrossEntropy(p, t), inputs: () => [f64([5], 0.1, 0.9, 6), f64([5], 0, 1, 7)] },
    { name: "linear", f: (x, w, b) => F.linear(x, w, b), inputs: () => [f64([2, 3], -1, 1, 8), f64([4, 3], -1, 1, 9), f64([4], -1, 1, 10)] },
    { name: "dropout with a fixed seed", f: (x) => (wg.manualSeed(1), F.dropout(x, 0.5)), inputs: () => [f64([6], -1, 1, 11)] },
  ];
  test.each(rows)("$name", async ({ f, inputs }) => {
    const res = await wg.gradcheck(f, inputs(), { atol: 1e-6, rtol: 1e-4 });
    expect(res.ok, JSON.stringify(res.details)).toBe(true);
  });
});
