/** wg.explain: the seeds' worked examples line by line, shapes against a traced backward, bad input, big graphs, formats. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { DEVICES, expectClose, settle, startWebgpu, values } from "./helpers.js";
import { seedNetwork } from "../examples/explain-network.js";
import type { Primitive } from "../src/ops/primitive.js";
import { copyKernel } from "../src/ops/layout.js";
import { Node } from "../src/autograd/node.js";

beforeAll(startWebgpu);

const X_SQUARED = [
  "backward of y []: 2 steps (1 op, 1 leaf) in the order backward runs them, from the seed 1",
  "",
  "step  backward node   forward           saved      gets         input  rule                               sends",
  "   1  PowBackward     pow([], []) → []  a, b, out  [] ← seed 1  a []   d aᵇ/da = b·aᵇ⁻¹                   [] → 2",
  "                                                                b []   d aᵇ/db = aᵇ·ln(a)                 none: does not require grad",
  "      values: out = 9 · g = 1 · a: local 6, sends 6",
  "   2  AccumulateGrad  x leaf []         —          [] ← 1              accumulates the gradients it gets  x.grad",
  "      values: x = 3 · g = 6 (added to x.grad)",
];

const SUM_SQUARED = [
  "backward of z []: 4 steps (2 ops, 2 leaves) in the order backward runs them, from the seed 1",
  "",
  "step  backward node   forward           saved      gets         input  rule                               sends",
  "   1  PowBackward     pow([], []) → []  a, b, out  [] ← seed 1  a []   d aᵇ/da = b·aᵇ⁻¹                   [] → 2",
  "                                                                b []   d aᵇ/db = aᵇ·ln(a)                 none: does not require grad",
  "      values: out = 25 · g = 1 · a: local 10, sends 10",
  "   2  AddBackward     add([], []) → []  —          [] ← 1       a []   d(a + b)/da = 1                    [] → 4",
  "                                                                b []   d(a + b)/db = 1                    [] → 3",
  "      values: out = 5 · g = 10 · a: local 1, sends 10 · b: local 1, sends 10",
  "   3  AccumulateGrad  y leaf []         —          [] ← 2              accumulates the gradients it gets  y.grad",
  "      values: y = 3 · g = 10 (added to y.grad)",
  "   4  AccumulateGrad  x leaf []         —          [] ← 2              accumulates the gradients it gets  x.grad",
  "      values: x = 2 · g = 10 (added to x.grad)",
];

const NETWORK = [
  "backward of loss [1]: 13 steps (11 ops, 2 leaves) in the order backward runs them, from the seed 1",
  "",
  "step  backward node      forward                          saved      gets          input     rule                                          sends",
  "   1  PowBackward        pow([1], []) → [1]               a, b, out  [1] ← seed 1  a [1]     d aᵇ/da = b·aᵇ⁻¹                              [1] → 2",
  "                                                                                   b []      d aᵇ/db = aᵇ·ln(a)                            none: does not require grad",
  "   2  SubBackward        sub([], [1]) → [1]               —          [1] ← 1       a []      d(a - b)/da = 1                               [] (summed from [1]) → 3",
  "                                                                                   b [1]     d(a - b)/db = -1                              none: does not require grad",
  "   3  SigmoidBackward    sigmoid([]) → []                 out        [] ← 2        x []      d σ(x)/dx = σ(x)(1 - σ(x))                    [] → 4",
  "   4  SqueezeBackward    squeeze([1]) → []                —          [] ← 3        x [1]     squeeze: g reshaped back to x's shape         [1] → 5",
  "   5  SqueezeBackward    squeeze([1, 1]) → [1]            —          [1] ← 4       x [1, 1]  squeeze: g reshaped back to x's shape         [1, 1] → 6",
  "   6  MatmulBackward     matmul([1, 3], [3, 1]) → [1, 1]  A, B       [1, 1] ← 5    A [1, 3]  d(A@B)/dA = g @ Bᵀ                            [1, 3] → 9",
  "                                                                                   B [3, 1]  d(A@B)/dB = Aᵀ @ g                            [3, 1] → 7",
  "   7  UnsqueezeBackward  unsqueeze([3]) → [3, 1]          —          [3, 1] ← 6    x [3]     unsqueeze: g with the added dim squeezed out  [3] → 8",
  "   8  AccumulateGrad     wout leaf [3]                    —          [3] ← 7                 accumulates the gradients it gets             wout.grad",
  "   9  UnsqueezeBackward  unsqueeze([3]) → [1, 3]          —          [1, 3] ← 6    x [3]     unsqueeze: g with the added dim squeezed out  [3] → 10",
  "  10  ReluBackward       relu([3]) → [3]                  out        [3] ← 9       x [3]     d relu(x)/dx = 1 where x > 0, else 0          [3] → 11",
  "  11  SqueezeBackward    squeeze([1, 3]) → [3]            —          [3] ← 10      x [1, 3]  squeeze: g reshaped back to x's shape         [1, 3] → 12",
  "  12  MatmulBackward     matmul([1, 2], [2, 3]) → [1, 3]  A, B       [1, 3] ← 11   A [1, 2]  d(A@B)/dA = g @ Bᵀ                            none: does not require grad",
  "                                                                                   B [2, 3]  d(A@B)/dB = Aᵀ @ g                            [2, 3] → 13",
  "  13  AccumulateGrad     W leaf [2, 3]                    —          [2, 3] ← 12             accumulates the gradients it gets             W.grad",
];

const vals = (v: wg.Values | undefined) => {
  expect(v?.values, "values were read").toBeTruthy();
  return v!.values!;
};

describe.each(DEVICES)("explain on %s", (device) => {
  test("y = x² at x = 3: the table line by line (upstream 1, local 2x = 6)", async () => {
    const x = wg.tensor(3, { device, requiresGrad: true });
    const y = x.pow(2);
    y.backward(undefined, { retainGraph: true });
    const e = await wg.explain(y, { values: true, names: { x, y } });
    expect(e.toString().split("\n")).toEqual(X_SQUARED);
    expect(await x.grad!.item()).toBe(6); // the traced walk did not add to .grad again
  });

  test("z = (x + y)² at (2, 3): upstream 10 through the add, local 1, so 10 and 10", async () => {
    const x = wg.tensor(2, { device, requiresGrad: true });
    const y = wg.tensor(3, { device, requiresGrad: true });
    const z = x.add(y).pow(2);
    expect((await wg.explain(z, { values: true, names: { x, y, z } })).toString().split("\n")).toEqual(SUM_SQUARED);
  });

  test("linear layer Y = XWᵀ + b, L = ΣY: b gets the batch size, W the column sums of X, summed where they broadcast", async () => {
    wg.manualSeed(1);
    const X = wg.tensor([[1, 2, 3], [4, 5, 6]], { device });
    const W = wg.randn([2, 3], { device, requiresGrad: true });
    const b = wg.randn([2], { device, requiresGrad: true });
    const e = await wg.explain(X.matmul(W.T).add(b).sum(), { values: true, names: { W, b } });
    const leaf = (n: string) => e.steps.find((s) => s.name === n)!;
    expect(vals(leaf("b").upstreamValue)).toEqual([2, 2]);
    expect(vals(leaf("W").upstreamValue)).toEqual([5, 7, 9, 5, 7, 9]);
    const add = e.steps.find((s) => s.op === "add")!;
    expect(add.inputs[1].summedFrom).toEqual([2, 2]);
    expect(e.toString()).toContain("b [2]     d(a + b)/db = 1");
    expect(e.toString()).toContain("g = [[5, 7, 9], [5, 7, 9]] (added to W.grad)");
  });

  test("the seeds' ReLU/sigmoid network: every line of the table, every number equal to the manual chain rule", async () => {
    const { W, wout, h, hact, prob, loss } = seedNetwork(device);
    expect(wg.explain(loss, { names: { W, wout, loss } }).toString().split("\n")).toEqual(NETWORK);
    loss.backward(undefined, { retainGraph: true });
    // Collect earlier tests' dropped tensors first: a collection during explain's awaits would change the count.
    await settle();
    const live = wg.memory(device).tensors;
    const e = await wg.explain(loss, { values: true, names: { W, wout, loss } });
    await settle();
    expect(wg.memory(device).tensors, "explain keeps no tensor alive").toBe(live);
    const s = e.steps;
    // manual: dL/dprob = 2(prob - 1); dprob/dscore = σ(1 - σ); dscore/dwout = hact; dscore/dhact = wout; dhact/dh = [h > 0]
    const p = await prob.item();
    const [hv, ha, wo] = [await values(h), await values(hact), await values(wout)];
    const dLdp = 2 * (p - 1);
    const dpds = p * (1 - p);
    expectClose(vals(s[0].upstreamValue), [1]);
    expectClose(vals(s[0].inputs[0].local), [dLdp], 1e-6, 1e-5, "d(prob - t)²/d(prob - t)");
    expectClose(vals(s[2].inputs[0].local), [dpds], 1e-6, 1e-5, "σ(1 - σ)");
    expectClose(vals(s[2].inputs[0].sent), [dLdp * dpds], 1e-6, 1e-5, "dL/dscore");
    expectClose(vals(s[9].inputs[0].local), hv.map((v) => (v > 0 ? 1 : 0)), 0, 0, "relu mask");
    expectClose(vals(s[7].upstreamValue), ha.map((v) => dLdp * dpds * v), 1e-6, 1e-5, "dL/dwout");
    const manualW = [1, 2].flatMap((xj) => [0, 1, 2].map((k) => dLdp * dpds * wo[k] * (hv[k] > 0 ? 1 : 0) * xj));
    expectClose(vals(s[12].upstreamValue), manualW, 1e-6, 1e-5, "dL/dW");
    expectClose(await values(W.grad!), manualW, 1e-6, 1e-5, "W.grad");
    // The printed values line of each step shows exactly these numbers.
    const text = e.toString();
    const sig = s[2];
    expectClose(vals(sig.value), [p], 1e-6, 1e-5, "prob");
    expectClose(vals(sig.upstreamValue), [dLdp], 1e-6, 1e-5, "dL/dprob");
    const [pv, gv, lv, sv] = [sig.value, sig.upstreamValue, sig.inputs[0].local, sig.inputs[0].sent].map((v) => fmtNum(vals(v)[0]));
    expect(text.split("\n")).toContain(`      values: out = ${pv} · g = ${gv} · x: local ${lv}, sends ${sv}`);
  });

  test("broadcast gradients: the shapes the engine sums back are the ones the table predicts", async () => {
    const a = wg.randn([2, 3], { device, requiresGrad: true });
    const b = wg.randn([3], { device, requiresGrad: true });
    const c = wg.randn([2, 1, 5, 4], { device, requiresGrad: true });
    const d = wg.randn([3, 4, 6], { device, requiresGrad: true });
    const y = a.mul(b).add(1).sum().add(c.matmul(d).sum());
    const statics = wg.explain(y).steps.flatMap((s) => s.inputs.map((e) => e.summedFrom));
    const traced = (await wg.explain(y, { values: true, maxValues: 0 })).steps.flatMap((s) => s.inputs.map((e) => (e.to === null ? null : e.summedFrom)));
    expect(statics).toEqual(traced);
    expect(traced).toContainEqual([2, 3]); // b's gradient, summed over the batch
    expect(traced).toContainEqual([2, 3, 4, 6]); // d's gradient, summed over the broadcast batch dim
  });
});

function fmtNum(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

test("a primitive without the text of its rules does not compile (tsc checks this file)", () => {
  // @ts-expect-error: docs is required, one line per input
  const bad: Primitive<void> = { name: "copyLike", infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }), kernel: copyKernel, grads: [(g) => g] };
  const good: Primitive<void> = { ...bad, docs: ["d copy(x)/dx = 1"] };
  expect(good.docs.length).toBe(good.grads.length);
});

describe("explain on cpu", () => {
  beforeAll(() => wg.init({ device: "cpu", quiet: true }));

  test("leaves of a Module carry their parameter names; the bias gradient is summed over the batch", () => {
    wg.manualSeed(5);
    const model = new wg.nn.Sequential(new wg.nn.Linear(3, 4), new wg.nn.ReLU(), new wg.nn.Linear(4, 2));
    const loss = model.forward(wg.randn([5, 3])).pow(2).mean();
    const e = wg.explain(loss, { names: model });
    const leaves = e.steps.filter((s) => s.kind === "leaf");
    expect(leaves.map((s) => s.name).sort()).toEqual(["0.bias", "0.weight", "2.bias", "2.weight"]);
    const bias = leaves.find((s) => s.name === "0.bias")!;
    const sender = e.steps[bias.from[0] - 1];
    expect(sender.inputs.find((i) => i.to === bias.step)!.summedFrom).toEqual([5, 4]);
    expect(e.toString()).toMatch(/\[4\] \(summed from \[5, 4\]\) → \d+/);
    expect(e.toString()).toContain("0.weight.grad");
  });

  test("every rule a backward runs has its text: no op in this graph lacks a docs entry", () => {
    const x = wg.randn([3, 4], { requiresGrad: true });
    const w = wg.randn([4, 5], { requiresGrad: true });
    const idx = wg.tensor(new Int32Array([0, 2, 1]), { dtype: "int32" }).unsqueeze(1);
    const parts = [
      x.matmul(w).softmax(-1).sum(), x.logSoftmax(0).mean(), x.exp().log().sqrt().abs().sum(), x.tanh().sigmoid().relu().neg().sum(),
      x.erf().sin().cos().sum(), x.maximum(x.T.T.mul(0.5)).minimum(1).div(2).sub(x).sum(), x.max(1).sum(), x.min().add(x.pow(2).sum()),
      wg.cat([x, x.slice(0, 1)], 0).reshape([-1]).permute(0).sum(), x.unsqueeze(0).expand(2, 3, 4).squeeze().sum(), x.gather(1, idx).sum(),
      wg.where(x.gt(0), x, x.mul(2)).clone().double().float().sum(), wg.nn.functional.crossEntropy(x, wg.tensor(new Int32Array([0, 1, 3]), { dtype: "int32" })),
    ];
    const e = wg.explain(parts.reduce((a, b) => a.add(b)));
    const edges = e.steps.flatMap((s) => s.inputs.filter((i) => i.to !== null).map((i) => ({ op: s.op, rule: i.rule })));
    expect(new Set(edges.map((i) => i.op)).size).toBeGreaterThanOrEqual(25);
    for (const i of edges) expect(i.rule, `${i.op} has no rule text`).toMatch(/\S/);
  });

  test("a node made without forward info (a custom rule) still shows its shapes and where its gradient goes", async () => {
    const x = wg.tensor([1, 2, 3], { requiresGrad: true });
    const t = wg.noGrad(() => x.mul(2));
    t.gradFn = new Node("DoubleBackward", [x.accumulator()], [x.shape], [(g) => g.mul(2)], [], null);
    const e = await wg.explain(t.sum(), { values: true });
    const s = e.steps[1];
    expect([s.node, s.op, s.outShape, s.upstream, s.inputs[0].rule, s.inputs[0].to]).toEqual(["DoubleBackward", "Double", [3], [3], null, 3]);
    expect(vals(e.steps[2].upstreamValue)).toEqual([2, 2, 2]);
    expect(e.toString()).toMatch(/ 2 {2}DoubleBackward +Double\(\[3\]\) → \[3\] .* x \[3\] +— +\[3\] → 3$/m);
  });

  test("a second explain through the same graph and a non-scalar output (seeded with ones)", async () => {
    const x = wg.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x);
    const e = await wg.explain(y, { values: true });
    expect(e.data.seed).toBe("ones [3]");
    expect(vals(e.steps[1].upstreamValue)).toEqual([2, 4, 6]); // d(x·x)/dx = 2x, from both inputs of one node
    expect(e.steps[1].from).toEqual([1, 1]);
    const again = await wg.explain(y, { values: true });
    expect(vals(again.steps[1].upstreamValue)).toEqual([2, 4, 6]);
    expect(x.grad).toBeNull();
  });

  test("bad input: no graph, made under noGrad, freed saved values, not a tensor — each a clear message", async () => {
    expect(() => wg.explain(wg.tensor([1, 2]).exp())).toThrow(/explain: the tensor of shape \[2\] has no backward graph.*requiresGrad: true/);
    const x = wg.tensor([1, 2], { requiresGrad: true });
    expect(() => wg.explain(wg.noGrad(() => x.exp()))).toThrow(/no backward graph.*noGrad/);
    const y = x.exp().sum();
    y.backward();
    expect(wg.explain(y).steps.length).toBe(3); // shapes need no saved values
    expect(() => wg.explain(y, { values: true })).toThrow(/ExpBackward \(step 2\) had its saved values freed.*retainGraph: true/);
    expect(() => wg.explain(null as unknown as Tensor)).toThrow(/explain: expects a Tensor, got null/);
    const leaf = await wg.explain(x, { values: true, names: { x } });
    expect(leaf.toString()).toContain("x leaf [2]");
  });

  test("values of large tensors are not read; no tensor outlives explain", async () => {
    const x = wg.randn([64, 64], { requiresGrad: true });
    const y = x.tanh().mul(x).sum();
    const before = wg.memory().tensors;
    const e = await wg.explain(y, { values: true });
    expect(wg.memory().tensors).toBe(before);
    expect(e.steps[1].upstreamValue).toEqual({ shape: [64, 64], values: null });
    expect(e.toString()).toContain("g = (4096 values)");
  });

  test("a huge graph: the table prints a repeated block once and says what it elided; the SVG stays bounded", () => {
    const x = wg.randn([4], { requiresGrad: true });
    let h = x;
    for (let i = 0; i < 400; i++) h = h.tanh().mul(0.9);
    const e = wg.explain(h.sum());
    expect(e.steps.length).toBe(802);
    const text = e.toString();
    expect(text.split("\n").length).toBeLessThan(20);
    expect(text).toMatch(/… steps 4–801 elided: the 2 steps above, repeated 399 more times with the same shapes/);
    const svg = e.toSvg();
    expect(svg.match(/<g class="node/g)!.length).toBe(300);
    expect(svg).toContain("showing steps 1–300; 502 more elided");
    // distinct steps beyond maxRows: the middle is cut
    let z = x;
    for (let i = 0; i < 40; i++) z = wg.cat([z, x]).exp(); // every step a new shape: nothing repeats
    expect(wg.explain(z.sum(), { maxRows: 20 }).toString()).toMatch(/… \d+ more steps elided \(\d+–\d+\); explain\(t, \{ maxRows: Infinity \}\) prints them all/);
  });

  test("DOT, SVG and JSON carry the same steps and edges", () => {
    const a = wg.randn([2, 3], { requiresGrad: true });
    const b = wg.randn([3], { requiresGrad: true });
    const e = wg.explain(a.mul(b).sigmoid().sum(), { names: { a, b } });
    const edges = e.steps.flatMap((s) => s.inputs.filter((i) => i.to !== null).map((i) => `s${s.step} -> s${i.to}`));
    const dot = e.toDot();
    expect(dot.match(/^ {2}s\d+ \[label=/gm)!.length).toBe(e.steps.length);
    for (const edge of edges) expect(dot).toContain(edge);
    expect(dot).toContain("d σ(x)/dx = σ(x)(1 - σ(x))");
    const svg = e.toSvg();
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<g class="node/g)!.length).toBe(e.steps.length);
    expect(svg.match(/<path class="edge/g)!.length).toBe(edges.length);
    expect(svg.replace(/<[^>]*>/g, "")).not.toMatch(/[<>]/);
    expect(JSON.parse(JSON.stringify(e))).toEqual(e.data);
  });
});
