/**
 * NaN and ±Inf through every elementwise op, reduction, softmax and matmul, on every device and
 * every kernel path, against PyTorch 1.13's answers (written in once; no Python at test time).
 */
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { DEVICES, expectClose, settle, startWebgpu, values, type TestDevice } from "./helpers.js";

const Inf = Infinity;
let gpu: WebGpuBackend;
beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as WebGpuBackend;
});
afterEach(() => gpu.setForce({}));

/** Each device with the kernel variants it has for `what` (CPU: its reference loops only). */
function paths(what: Record<string, string>[]): [string, TestDevice, Record<string, string>][] {
  return [["cpu", "cpu", {}], ...what.map((f): [string, TestDevice, Record<string, string>] => [`webgpu ${JSON.stringify(f)}`, "webgpu", f])];
}

/** `data` as a dense tensor, or as a stride-2 view (the strided loops and kernel modes). */
function make(data: number[], device: TestDevice, layout: "dense" | "view"): Tensor {
  if (layout === "dense") return wg.tensor(data, { device });
  const junk = data.flatMap((v) => [v, 7]);
  return wg.tensor(junk, { shape: [data.length, 2], device }).T.slice(0, 0, 1).squeeze(0);
}

// torch.tensor([nan, inf, -inf, -1, 0, -0, 0.5, 2]) through each op.
const X = [NaN, Inf, -Inf, -1, 0, -0, 0.5, 2];
const unaryExpected: Record<string, [(x: Tensor) => Tensor, number[]]> = {
  neg: [(x) => x.neg(), [NaN, -Inf, Inf, 1, 0, 0, -0.5, -2]],
  abs: [(x) => x.abs(), [NaN, Inf, Inf, 1, 0, 0, 0.5, 2]],
  sign: [(x) => x.sign(), [0, 1, -1, -1, 0, 0, 1, 1]],
  relu: [(x) => x.relu(), [NaN, Inf, 0, 0, 0, 0, 0.5, 2]],
  exp: [(x) => x.exp(), [NaN, Inf, 0, 0.3678794503211975, 1, 1, 1.6487212181091309, 7.389056205749512]],
  log: [(x) => x.log(), [NaN, Inf, NaN, NaN, -Inf, -Inf, -0.6931471824645996, 0.6931471824645996]],
  sqrt: [(x) => x.sqrt(), [NaN, Inf, NaN, NaN, 0, 0, 0.7071067690849304, 1.4142135381698608]],
  tanh: [(x) => x.tanh(), [NaN, 1, -1, -0.7615941762924194, 0, 0, 0.46211716532707214, 0.9640275835990906]],
  sigmoid: [(x) => x.sigmoid(), [NaN, 1, 0, 0.2689414322376251, 0.5, 0.5, 0.622459352016449, 0.8807970285415649]],
  erf: [(x) => x.erf(), [NaN, 1, -1, -0.8427007794380188, 0, 0, 0.5204998850822449, 0.9953222870826721]],
  sin: [(x) => x.sin(), [NaN, NaN, NaN, -0.8414709568023682, 0, 0, 0.4794255495071411, 0.9092974066734314]],
  cos: [(x) => x.cos(), [NaN, NaN, NaN, 0.5403023362159729, 1, 1, 0.8775825500488281, -0.416146844625473]],
  square: [(x) => x.square(), [NaN, Inf, Inf, 1, 0, 0, 0.25, 4]],
  gelu: [(x) => x.gelu(), [NaN, Inf, NaN, -0.1586552858352661, 0, 0, 0.3457311987876892, 1.9544999599456787]],
  "gelu tanh": [(x) => x.gelu({ approximate: "tanh" }), [NaN, Inf, NaN, -0.15880799293518066, 0, 0, 0.3457140028476715, 1.9545977115631104]],
  "clamp(-0.7, 0.9)": [(x) => x.clamp(-0.7, 0.9), [NaN, 0.8999999761581421, -0.699999988079071, -0.699999988079071, 0, 0, 0.5, 0.8999999761581421]],
  "clamp(NaN, 2)": [(x) => x.clamp(NaN, 2), [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN]],
  "clamp(0, NaN)": [(x) => x.clamp(0, NaN), [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN]],
};

// torch.<op>(a, b) over these pairs (comparisons as float).
const A = [NaN, 1, NaN, Inf, -Inf, Inf, 0, -1, 0, 2, Inf, -0];
const B = [1, NaN, NaN, Inf, Inf, -Inf, 0, 0.5, -1, Inf, 0, -1];
const binaryExpected: Record<string, number[]> = {
  add: [NaN, NaN, NaN, Inf, NaN, NaN, 0, -0.5, -1, Inf, Inf, -1],
  sub: [NaN, NaN, NaN, NaN, -Inf, Inf, 0, -1.5, 1, -Inf, Inf, 1],
  mul: [NaN, NaN, NaN, Inf, -Inf, -Inf, 0, -0.5, 0, Inf, NaN, 0],
  div: [NaN, NaN, NaN, NaN, NaN, NaN, NaN, -2, 0, 0, Inf, 0],
  maximum: [NaN, NaN, NaN, Inf, Inf, Inf, 0, 0.5, 0, Inf, Inf, 0],
  minimum: [NaN, NaN, NaN, Inf, -Inf, -Inf, 0, -1, -1, 2, 0, -1],
  eq: [0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0],
  ne: [1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1],
  gt: [0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 1],
  ge: [0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1],
  lt: [0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0],
  le: [0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0],
};

// C's pow edge cases (x^0 = 1^y = 1 even for NaN, (-1)^±Inf = 1, ±0 and ±Inf bases, odd and even whole exponents).
const POW_BASE = [0, NaN, 1, -1, -8, 0, -0, Inf, -Inf, 2, 0.5, -2, NaN, -Inf, -Inf, 0, Inf, -1, -0, -2, -Inf, -Inf, Inf, Inf, -0, 0, -0, -2, -2, 0.5, 2, -0.5];
const POW_EXP = [0, 0, NaN, Inf, 1 / 3, -1, -1, -1, 3, Inf, Inf, 0.5, 1, -Inf, 2, Inf, 0, -Inf, 3, -3, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5, -0.5, 100, 101, -Inf, -Inf, Inf];
const POW_EXPECTED = [1, 1, 1, 1, NaN, Inf, -Inf, 0, -Inf, Inf, 0, NaN, NaN, 0, Inf, 0, 1, 1, 0, -0.125, Inf, 0, Inf, 0, 0, Inf, Inf, 1.2676506002282294e30, -2.535301200456459e30, Inf, 0, 0];

const ELEMENTWISE: Record<string, string>[] = [{}, { elementwise: "strided" }];

describe.each(paths(ELEMENTWISE))("elementwise with NaN and Inf on %s", (_name, device, force) => {
  test.each(["dense", "view"] as const)("unary ops, %s operand", async (layout) => {
    gpu.setForce(force);
    const atol = device === "cpu" ? 1e-6 : 1e-4; // the emulator's sin and cos are good to ~5e-5
    for (const [name, [f, expected]] of Object.entries(unaryExpected)) expectClose(await values(f(make(X, device, layout))), expected, atol, 1e-5, name);
  });

  test.each(["dense", "view"] as const)("binary ops, %s operands", async (layout) => {
    gpu.setForce(force);
    const a = make(A, device, layout);
    const b = make(B, device, layout);
    for (const [name, expected] of Object.entries(binaryExpected))
      expectClose(await values(a[name as "add"](b)), expected, 0, 0, name);
  });

  test("pow edge cases", async () => {
    gpu.setForce(force);
    const y = wg.pow(wg.tensor(POW_BASE, { device }), wg.tensor(POW_EXP, { device }));
    expectClose(await values(y), POW_EXPECTED, 0, 1e-6, "pow");
  });

  test("maximum/minimum backward at a NaN: both inputs get the gradient, as PyTorch 1.13", async () => {
    gpu.setForce(force);
    const expected = { maximum: [[1, 1, 0.5, 1], [1, 1, 0.5, 0]], minimum: [[1, 1, 0.5, 0], [1, 1, 0.5, 1]] };
    for (const op of ["maximum", "minimum"] as const) {
      const a = wg.tensor([NaN, 1, 2, 3], { device, requiresGrad: true });
      const b = wg.tensor([1, NaN, 2, 1], { device, requiresGrad: true });
      wg[op](a, b).sum().backward();
      expect([await values(a.grad!), await values(b.grad!)], op).toEqual(expected[op]);
    }
  });

  test("where picks a for a NaN condition (bool(NaN) is true)", async () => {
    gpu.setForce(force);
    const cond = wg.tensor([NaN, 1, 0, NaN], { device });
    expect(await values(wg.where(cond, wg.ones([4], { device }), 2))).toEqual([1, 1, 2, 1]);
  });

  test("float → int32: NaN and values outside int32 give INT32_MIN, as PyTorch on x86", async () => {
    gpu.setForce(force);
    const x = wg.tensor([NaN, Inf, -Inf, 3e9, -3e9, 2.7, -2.7, -2147483648, 2147483520], { device });
    const m = -2147483648;
    expect(await values(x.int())).toEqual([m, m, m, m, m, 2, -2, m, 2147483520]);
  });

  test("int32 ops never read an integer's bits as a NaN", async () => {
    gpu.setForce(force);
    // 0x7fc00000, 0x7f800001 and 0xffc00000 are NaN bit patterns as floats.
    const ints = [-1, 0, 1, 0x7fc00000, -2147483648, 0x7f800001, 2147483647, -4194304];
    const other = [-1, 5, -3, 0x7fc00000, 0, 7, -7, -4194304];
    const a = wg.tensor(ints, { device, dtype: "int32" });
    const b = wg.tensor(other, { device, dtype: "int32" });
    expect(await values(a.relu())).toEqual(ints.map((v) => Math.max(v, 0)));
    expect(await values(a.sign())).toEqual(ints.map(Math.sign));
    expect(await values(a.maximum(b))).toEqual(ints.map((v, i) => Math.max(v, other[i])));
    expect(await values(a.minimum(b))).toEqual(ints.map((v, i) => Math.min(v, other[i])));
    expect(await values(a.ne(b))).toEqual(ints.map((v, i) => Number(v !== other[i])));
    expect(await values(a.eq(b))).toEqual(ints.map((v, i) => Number(v === other[i])));
    expect(await values(a.ge(b))).toEqual(ints.map((v, i) => Number(v >= other[i])));
  });
});

// torch.sum/mean/amax/amin/argmax/argmin of M: over all, dim 0, dim 1.
const M = [[1, NaN, 3], [Inf, -Inf, 2], [-Inf, 1, 0], [Inf, Inf, 1]];
const reduceExpected: Record<string, number[][]> = {
  sum: [[NaN], [NaN, NaN, 6], [NaN, NaN, -Inf, Inf]],
  mean: [[NaN], [NaN, NaN, 1.5], [NaN, NaN, -Inf, Inf]],
  max: [[NaN], [Inf, NaN, 3], [NaN, Inf, 1, Inf]],
  min: [[NaN], [-Inf, NaN, 0], [NaN, -Inf, -Inf, 1]],
  argmax: [[1], [1, 0, 0], [1, 0, 1, 0]],
  argmin: [[1], [2, 0, 2], [1, 1, 0, 2]],
};

const ROWS = [{ reduce: "rows", softmax: "rows" }, { reduce: "threads", softmax: "threads" }];

describe.each(paths(ROWS))("reductions and softmax with NaN and Inf on %s", (_name, device, force) => {
  test("sum, mean, max, min, argmax, argmin over all dims and over one", async () => {
    gpu.setForce(force);
    const m = wg.tensor(M, { device });
    for (const [name, [all, d0, d1]] of Object.entries(reduceExpected)) {
      const op = name as "sum";
      expectClose([await m[op]().item()], all, 1e-6, 1e-6, `${name}()`);
      expectClose(await values(m[op](0)), d0, 1e-6, 1e-6, `${name}(0)`);
      expectClose(await values(m[op](1)), d1, 1e-6, 1e-6, `${name}(1)`);
    }
  });

  test("a long row: max is NaN, argmax/argmin are the first NaN's index", async () => {
    gpu.setForce(force);
    const data = Array.from({ length: 5000 }, (_, i) => Math.sin(i));
    data[4321] = NaN;
    data[4900] = NaN; // on a lower-numbered thread of the workgroup than 4321's
    data[10] = Inf;
    const x = wg.tensor([data, data.map(Math.abs)], { device });
    expect(await values(x.max(1))).toEqual([NaN, NaN]);
    expect(await values(x.min(1))).toEqual([NaN, NaN]);
    expect(await values(x.argmax(1))).toEqual([4321, 4321]);
    expect(await values(x.argmin(1))).toEqual([4321, 4321]);
    expect(await values(x.sum(1))).toEqual([NaN, NaN]);
  });

  test("int32 reductions never read an integer's bits as a NaN", async () => {
    gpu.setForce(force);
    const ints = [[-1, 0x7fc00000, -4194304, 3], [-4194304, -1, 5, 0x7f800001]]; // NaN bit patterns as floats
    const x = wg.tensor(ints, { device, dtype: "int32" });
    expect(await values(x.max(1))).toEqual([0x7fc00000, 0x7f800001]);
    expect(await values(x.min(1))).toEqual([-4194304, -4194304]);
    expect(await values(x.argmax(1))).toEqual([1, 3]);
    expect(await values(x.argmin(1))).toEqual([2, 0]);
  });

  // torch.softmax / log_softmax of S along each dim.
  const S = [[1, NaN, 3], [1, Inf, 3], [-Inf, -Inf, -Inf], [-Inf, 0, 1], [Inf, Inf, 0], [-Inf, Inf, 0]];
  const N3 = [NaN, NaN, NaN];
  test("softmax and logSoftmax: a row with a NaN, +Inf or only -Inf is all NaN", async () => {
    gpu.setForce(force);
    const s = wg.tensor(S, { device });
    expectClose(await values(s.softmax(1)), [...N3, ...N3, ...N3, 0, 0.2689414322376251, 0.7310585975646973, ...N3, ...N3], 1e-6, 1e-5, "softmax(1)");
    expectClose(await values(s.logSoftmax(1)), [...N3, ...N3, ...N3, -Inf, -1.31326162815094, -0.31326165795326233, ...N3, ...N3], 1e-6, 1e-5, "logSoftmax(1)");
    const c = 0.44744545221328735;
    expectClose(await values(s.softmax(0)), [NaN, NaN, c, NaN, NaN, c, NaN, NaN, 0, NaN, NaN, 0.06055515632033348, NaN, NaN, 0.022276997566223145, NaN, NaN, 0.022276997566223145], 1e-6, 1e-5, "softmax(0)");
    expectClose(await values(s.logSoftmax(0)), [NaN, NaN, -0.8042006492614746, NaN, NaN, -0.8042006492614746, NaN, NaN, -Inf, NaN, NaN, -2.8042006492614746, NaN, NaN, -3.8042006492614746, NaN, NaN, -3.8042006492614746], 1e-6, 1e-5, "logSoftmax(0)");
  });

  test("crossEntropy: a row with a NaN, +Inf or only -Inf has a NaN loss and NaN gradients", async () => {
    gpu.setForce(force);
    const logits = wg.tensor([[1, NaN, 3], [1, 2, 3], [1, Inf, 0], [-Inf, -Inf, -Inf], [-Inf, 0, 1]], { device, requiresGrad: true });
    const loss = wg.nn.functional.crossEntropy(logits, wg.tensor([0, 1, 0, 2, 2], { device, dtype: "int32" }), { reduction: "none" });
    expectClose(await values(loss), [NaN, 1.4076058864593506, NaN, NaN, 0.31326165795326233], 1e-6, 1e-5, "loss");
    loss.sum().backward();
    const grad = [...N3, 0.09003058075904846, -0.7552714943885803, 0.665241003036499, ...N3, ...N3, 0, 0.2689414322376251, -0.26894140243530273];
    expectClose(await values(logits.grad!), grad, 1e-6, 1e-5, "grad");
  });

  test("a long softmax row with one NaN is all NaN; the other rows are untouched", async () => {
    gpu.setForce(force);
    const row = Array.from({ length: 3000 }, (_, i) => Math.cos(i));
    const x = wg.tensor([row.map((v, i) => (i === 2999 ? NaN : v)), row], { device });
    const y = await values(x.softmax(-1));
    expect(y.slice(0, 3000).every(Number.isNaN)).toBe(true);
    expect(y.slice(3000).every(Number.isFinite)).toBe(true);
    expect(y.slice(3000).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });
});

describe.each(paths([{ matmul: "tiled" }, { matmul: "blocked" }]))("matmul with NaN and Inf on %s", (_name, device, force) => {
  test("NaN in gives NaN out; 0 · Inf is NaN", async () => {
    gpu.setForce(force);
    expect(await values(wg.tensor([[1, NaN], [0, 1]], { device }).matmul(wg.tensor([[1, 0], [0, 1]], { device })))).toEqual([NaN, NaN, 0, 1]);
    expect(await values(wg.tensor([[0, 1], [2, 3]], { device }).matmul(wg.tensor([[Inf, 1], [1, 1]], { device })))).toEqual([NaN, 1, Inf, 5]);
  });

  test("one NaN in a 65x33 @ 33x70 product poisons exactly its row", async () => {
    gpu.setForce(force);
    const a = Array.from({ length: 65 * 33 }, (_, i) => Math.sin(i));
    a[5 * 33 + 7] = NaN;
    const b = Array.from({ length: 33 * 70 }, (_, i) => Math.cos(i));
    const c = await values(wg.tensor(a, { shape: [65, 33], device }).matmul(wg.tensor(b, { shape: [33, 70], device })));
    c.forEach((v, i) => expect(Number.isNaN(v), `element ${i}`).toBe(Math.floor(i / 70) === 5));
  });
});

test.each(DEVICES)("NaN handling leaves no tensors behind on %s", async (device) => {
  const x = wg.tensor(X, { device });
  const run = () => wg.tidy(() => x.log().relu().maximum(x).softmax(-1).sum().add(x.pow(0.5).max()));
  run().dispose(); // the first run caches its number operands
  await settle(); // garbage from earlier tests is finalized now, not while y.item() awaits
  const before = wg.memory(device).tensors;
  const y = run();
  expect(Number.isNaN(await y.item())).toBe(true);
  y.dispose();
  expect(wg.memory(device).tensors).toBe(before);
  x.dispose();
});
