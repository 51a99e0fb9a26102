/**
 * Parameter groups (values from torch.optim 1.13 in float64, written in),
 * lr read afresh by each step, optimizer state dicts (structure, snapshot,
 * safetensors round trip, exact resume: k steps + save + load + k steps equals
 * 2k steps), and the errors for bad groups and foreign state dicts.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { DEVICES, expectClose, randomData, settle, startWebgpu, values } from "./helpers.js";

const { SGD, Adam, AdamW, packStateDict, unpackStateDict } = wg.optim;
type Dev = (typeof DEVICES)[number];

/** Steps 1-3: gradients of p (p₀ = [1, −2]) and of q (q₀ = [3, 4]). */
const GP = [[0.5, -1], [0.1, 0.2], [-0.3, 0.4]];
const GQ = [[1, 2], [-0.5, 0.25], [0.3, 0.3]];

beforeAll(startWebgpu);

const groupRows = [
  {
    name: "SGD: group 1 overrides lr and momentum",
    make: (p: Tensor, q: Tensor) => new SGD([{ params: [p] }, { params: [q], lr: 0.01, momentum: 0.5 }], { lr: 0.1, momentum: 0.9 }),
    // torch.optim.SGD([{'params':[p]},{'params':[q],'lr':0.01,'momentum':0.5}], lr=0.1, momentum=0.9)
    expected: [[0.95, -1.9, 2.99, 3.98], [0.895, -1.83, 2.99, 3.9675], [0.8755, -1.807, 2.987, 3.95825]],
  },
  {
    name: "Adam: group 0 has weightDecay, group 1 its own lr and betas",
    make: (p: Tensor, q: Tensor) => new Adam([{ params: [p], weightDecay: 0.1 }, { params: [q], lr: 0.05, betas: [0.8, 0.9] }], { lr: 0.1 }),
    expected: [
      [0.9000000016666666, -1.9000000008333333, 2.9500000004999998, 3.95000000025],
      [0.8136483454297575, -1.8336169077420748, 2.9392885908557282, 3.912986751298165],
      [0.7715818210509955, -1.7944802191238758, 2.922114161525334, 3.8803561322648727],
    ],
  },
];

describe.each(DEVICES)("parameter groups on %s", (device) => {
  test.each(groupRows)("$name: three steps against torch", async (row) => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const q = wg.tensor([3, 4], { device, requiresGrad: true });
    const opt = row.make(p, q);
    expect(opt.paramGroups.length).toBe(2);
    expect(opt.params).toEqual([p, q]);
    for (let k = 0; k < 3; k++) {
      p.grad = wg.tensor(GP[k], { device });
      q.grad = wg.tensor(GQ[k], { device });
      opt.step();
      expectClose([...(await values(p)), ...(await values(q))], row.expected[k], 1e-6, 1e-6, `step ${k + 1}`);
    }
  });

  test("paramGroups[0].lr changed between steps is what the next step uses (torch: lr halved after each step)", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    for (let k = 0; k < 3; k++) {
      p.grad = wg.tensor(GP[k], { device });
      opt.step();
      opt.paramGroups[0].lr *= 0.5;
    }
    expectClose(await values(p), [0.85458013053704, -1.8710927075496626], 1e-6, 1e-6, "p after 3 steps");
    expect(opt.lr).toBe(0.0125);
  });

  test("groups copy the defaults they do not set, and their own betas array", () => {
    const betas: [number, number] = [0.5, 0.6];
    const p = wg.tensor([1], { device, requiresGrad: true });
    const q = wg.tensor([1], { device, requiresGrad: true });
    const opt = new AdamW([{ params: [p] }, { params: [q], lr: 0.5 }], { lr: 0.2, betas });
    const { params: _p, ...g0 } = opt.paramGroups[0];
    expect(g0).toEqual({ lr: 0.2, betas: [0.5, 0.6], eps: 1e-8, weightDecay: 0.01 });
    expect(opt.paramGroups[1].lr).toBe(0.5);
    expect(opt.paramGroups[0].betas).not.toBe(betas);
    opt.addParamGroup({ params: [wg.tensor([2], { device, requiresGrad: true })], eps: 1e-3 });
    expect(opt.paramGroups[2].eps).toBe(1e-3);
    expect(opt.params.length).toBe(3);
  });
});

/** A Linear(4, 3) with fixed weights, a fixed batch, and an optimizer over two groups (weight, bias). */
function setup(device: Dev, make: (m: wg.nn.Linear) => wg.optim.Optimizer) {
  const model = new wg.nn.Linear(4, 3, { device });
  model.loadStateDict({ weight: wg.tensor(randomData(12, -0.5, 0.5, 9), { shape: [3, 4], device }), bias: wg.tensor(randomData(3, -0.5, 0.5, 10), { device }) });
  const x = wg.tensor(randomData(20, -1, 1, 7), { shape: [5, 4], device });
  const y = wg.tensor(randomData(15, -1, 1, 8), { shape: [5, 3], device });
  const opt = make(model);
  const train = (n: number) => {
    for (let i = 0; i < n; i++)
      wg.tidy(() => {
        wg.nn.functional.mseLoss(model.forward(x), y).backward();
        opt.step();
        opt.zeroGrad();
      });
  };
  return { model, opt, train };
}

const resumeRows = [
  { name: "SGD momentum", make: (m: wg.nn.Linear) => new SGD([{ params: [m.weight] }, { params: [m.bias!], lr: 0.05 }], { lr: 0.1, momentum: 0.9 }) },
  { name: "Adam", make: (m: wg.nn.Linear) => new Adam([{ params: [m.weight], weightDecay: 0.1 }, { params: [m.bias!] }], { lr: 0.05 }) },
  { name: "AdamW", make: (m: wg.nn.Linear) => new AdamW([{ params: [m.weight] }, { params: [m.bias!], weightDecay: 0 }], { lr: 0.05 }) },
];

describe.each(DEVICES)("optimizer state dicts on %s", (device) => {
  test.each(resumeRows)("$name: resuming from step 3 through a safetensors file gives step 6's parameters exactly", async ({ make }) => {
    const whole = setup(device, make);
    whole.train(6);
    const expected = await Promise.all(whole.model.parameters().map(values));

    const first = setup(device, make);
    first.train(3);
    const modelBytes = await wg.save(first.model.stateDict());
    const sd = first.opt.stateDict();
    const { tensors, metadata } = packStateDict(sd);
    const optBytes = await wg.save(tensors, metadata);
    for (const t of Object.values(tensors)) t.dispose();

    const second = setup(device, make); // fresh weights and state, overwritten by the files
    second.model.loadStateDict(wg.load(modelBytes, { device }));
    const loaded = wg.load(optBytes, { device });
    second.opt.loadStateDict(unpackStateDict(loaded, wg.loadMetadata(optBytes)));
    for (const t of Object.values(loaded)) t.dispose();
    second.train(3);
    const got = await Promise.all(second.model.parameters().map(values));
    expect(got).toEqual(expected);
    expect(got[0]).not.toEqual(await values(first.model.weight));
  });

  test("one checkpoint file (model, optimizer under a prefix, scheduler as JSON metadata) resumes AdamW + warm-up/cosine exactly", async () => {
    const { SequentialLR, LinearLR, CosineAnnealingLR } = wg.optim.lrScheduler;
    const make = (m: wg.nn.Linear) => new AdamW([{ params: [m.weight] }, { params: [m.bias!], weightDecay: 0 }], { lr: 0.05 });
    const schedule = (o: wg.optim.Optimizer) => new SequentialLR(o, { schedulers: [new LinearLR(o, { startFactor: 0.2, totalIters: 2 }), new CosineAnnealingLR(o, { tMax: 4 })], milestones: [2] });
    const run = (s: ReturnType<typeof setup>, sched: InstanceType<typeof SequentialLR>, n: number) => {
      for (let k = 0; k < n; k++) {
        s.train(1);
        sched.step();
      }
    };
    const whole = setup(device, make);
    run(whole, schedule(whole.opt), 6);
    const expected = await Promise.all(whole.model.parameters().map(values));

    const first = setup(device, make);
    const firstSched = schedule(first.opt);
    run(first, firstSched, 3);
    const { tensors, metadata } = packStateDict(first.opt.stateDict(), { prefix: "optimizer." });
    const bytes = await wg.save({ ...first.model.stateDict(), ...tensors }, { ...metadata, scheduler: JSON.stringify(firstSched.stateDict()) });

    const second = setup(device, make);
    const secondSched = schedule(second.opt);
    const all = wg.load(bytes, { device });
    const meta = wg.loadMetadata(bytes);
    second.model.loadStateDict({ weight: all.weight, bias: all.bias });
    second.opt.loadStateDict(unpackStateDict(all, meta, { prefix: "optimizer." }));
    secondSched.loadStateDict(JSON.parse(meta.scheduler));
    run(second, secondSched, 3);
    expect(await Promise.all(second.model.parameters().map(values))).toEqual(expected);
    expect(second.opt.lr).toBe(whole.opt.lr);
  });

  test("Adam's state dict: torch's structure, a snapshot the caller owns", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const idle = wg.tensor([5], { device, requiresGrad: true });
    const opt = new Adam([{ params: [p] }, { params: [idle], lr: 0.5 }], { lr: 0.1 });
    p.grad = wg.tensor(GP[0], { device });
    opt.step();
    opt.zeroGrad();
    await settle();
    const before = wg.memory(device);
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(["0"]); // idle never stepped: no state, as in torch
    expect(sd.paramGroups).toEqual([
      { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [0] },
      { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [1] },
    ]);
    const s = sd.state[0];
    expect(s.step).toBe(1);
    expectClose(await values(s.expAvg as Tensor), [0.05, -0.1], 1e-9, 1e-6, "expAvg = (1 − β₁) g");
    expectClose(await values(s.expAvgSq as Tensor), [0.00025, 0.001], 1e-9, 1e-4, "expAvgSq = (1 − β₂) g²");
    p.grad = wg.tensor(GP[1], { device });
    opt.step();
    expectClose(await values(s.expAvg as Tensor), [0.05, -0.1], 1e-9, 1e-6, "unchanged by a later step");
    opt.zeroGrad();
    (s.expAvg as Tensor).dispose();
    (s.expAvgSq as Tensor).dispose();
    expect(wg.memory(device), "no collection in between: every handle was disposed").toEqual(before);
  });

  test("SGD's state dict holds momentumBuffer and no step count (torch's SGD keeps none)", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = wg.tensor(GP[0], { device });
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state[0])).toEqual(["momentumBuffer"]);
    expect(await values(sd.state[0].momentumBuffer as Tensor)).toEqual([0.5, -1]);
    expect(sd.paramGroups).toEqual([{ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, params: [0] }]);
  });

  test("loadStateDict restores the hyperparameters, and a bad state dict changes nothing", async () => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = wg.tensor(GP[0], { device });
    opt.step();
    const sd = opt.stateDict();
    sd.paramGroups[0].lr = 0.02;
    await wg.flush(); // the state dict's copies take their buffers (at first write) before the pool is measured
    await settle();
    const before = wg.memory(device);
    opt.loadStateDict(sd);
    expect(wg.memory(device), "the old state is released, the new one kept").toEqual(before);
    expect(opt.lr).toBe(0.02);
    const bad = { ...sd, state: { 0: { ...sd.state[0], expAvg: wg.zeros([3], { device }) } } };
    expect(() => opt.loadStateDict(bad)).toThrow(/Adam\.loadStateDict: expAvg of parameter 0 has shape \[3\] but the parameter has shape \[2\]\. Fix/);
    expect(opt.lr).toBe(0.02);
    expect(await values(opt.stateOf(p)!)).toEqual(await values(wg.stack([sd.state[0].expAvg as Tensor, sd.state[0].expAvgSq as Tensor])));
  });
});

describe("parameter group and state dict errors", () => {
  const t = (n = 2) => wg.tensor(new Float32Array(n), { device: "cpu", requiresGrad: true });
  const sgdDict = () => {
    const p = t();
    const o = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = wg.tensor([1, 1], { device: "cpu" });
    o.step();
    return o.stateDict();
  };
  const adamDict = () => {
    const p = t();
    const o = new Adam([p]);
    p.grad = wg.tensor([1, 1], { device: "cpu" });
    o.step();
    return o.stateDict();
  };
  const cases: { name: string; run: () => unknown; error: RegExp }[] = [
    { name: "torch's positional lr", run: () => new SGD([t()], 0.1 as never), error: /SGD: expected its options as an object, got 0\.1\. Fix: new optim\.SGD\(model\.parameters\(\), \{ lr: 0\.01, momentum: 0\.9 \}\)/ },
    { name: "torch's positional lr (Adam)", run: () => new Adam([t()], 0.1 as never), error: /Adam: expected its options as an object, got 0\.1/ },
    { name: "an unknown group key", run: () => new SGD([{ params: [t()], learningRate: 0.1 } as never], { lr: 0.1 }), error: /SGD: parameter group 0 has unknown key "learningRate"; SGD groups take params, initialLr, lr, momentum, dampening, weightDecay, nesterov\. Fix/ },
    { name: "a snake_case key", run: () => new Adam([{ params: [t()], weight_decay: 0.1 } as never]), error: /Adam: parameter group 0 has unknown key "weight_decay".*camelCase/ },
    { name: "a group's bad lr", run: () => new Adam([{ params: [t()] }, { params: [t()], lr: -1 }]), error: /Adam: lr of parameter group 1 must be a non-negative number, got -1\. Fix: e\.g\. optimizer\.paramGroups\[1\]\.lr = \.\.\./ },
    { name: "SGD group without lr", run: () => new SGD([{ params: [t()] }], {} as never), error: /SGD: lr of parameter group 0 must be a non-negative number \(it has no default\), got undefined/ },
    { name: "a tensor in two groups", run: () => { const p = t(); return new SGD([{ params: [p] }, { params: [p] }], { lr: 1 }); }, error: /SGD: parameter 1 \(shape \[2\]\) appears twice \(also as parameter 0\)/ },
    { name: "tensors mixed with groups", run: () => new SGD([t(), { params: [t()] }] as never, { lr: 1 }), error: /SGD: params mixes tensors and parameter groups/ },
    { name: "lr set to NaN before a step", run: () => { const p = t(); const o = new Adam([p]); o.paramGroups[0].lr = NaN; p.grad = wg.zeros([2], { device: "cpu" }); o.step(); }, error: /Adam: lr must be a non-negative number, got NaN/ },
    { name: "an SGD state dict into Adam", run: () => new Adam([t()]).loadStateDict(sgdDict()), error: /Adam\.loadStateDict: .*parameter group 0 of the state dict has unknown keys "momentum", "dampening", "nesterov".*another optimizer.*Fix: load it into the optimizer type that saved it/ },
    { name: "an Adam state dict into SGD", run: () => new SGD([t()], { lr: 1 }).loadStateDict(adamDict()), error: /SGD\.loadStateDict: .*unknown keys "betas", "eps"/ },
    { name: "another group count", run: () => new Adam([{ params: [t()] }, { params: [t()] }]).loadStateDict(adamDict()), error: /Adam\.loadStateDict: the state dict has 1 parameter groups but the optimizer has 2/ },
    { name: "another parameter count", run: () => new Adam([t(), t()]).loadStateDict(adamDict()), error: /Adam\.loadStateDict: parameter group 0 holds 1 parameters in the state dict but 2 in the optimizer/ },
    { name: "another parameter shape", run: () => new Adam([t(3)]).loadStateDict(adamDict()), error: /Adam\.loadStateDict: expAvg of parameter 0 has shape \[2\] but the parameter has shape \[3\]/ },
    { name: "state for a parameter it does not have", run: () => { const sd = adamDict(); sd.state[4] = sd.state[0]; return new Adam([t()]).loadStateDict(sd); }, error: /Adam\.loadStateDict: the state dict has state for parameter 4 but the optimizer has parameters 0-0/ },
    { name: "a bad step count", run: () => { const sd = adamDict(); sd.state[0].step = 0; return new Adam([t()]).loadStateDict(sd); }, error: /Adam\.loadStateDict: the step count of parameter 0 is 0, not a positive integer/ },
    { name: "a bad hyperparameter", run: () => { const sd = adamDict(); sd.paramGroups[0].eps = -1; return new Adam([t()]).loadStateDict(sd); }, error: /Adam: eps of parameter group 0 must be a non-negative number, got -1/ },
    { name: "not a state dict", run: () => new Adam([t()]).loadStateDict({ weight: t() } as never), error: /Adam\.loadStateDict: expected \{ state, paramGroups \}, got an object with keys weight\. Fix/ },
    { name: "metadata without optimizer state", run: () => unpackStateDict({}, {}), error: /unpackStateDict: the metadata has no "optimizer" entry/ },
    { name: "a state entry named __proto__", run: () => unpackStateDict({ "state.0.__proto__": t() }, packStateDict(adamDict()).metadata), error: /unpackStateDict: tensor "state\.0\.__proto__" is not an optimizer state entry/ },
    { name: "a tensor that is no state entry", run: () => unpackStateDict({ weight: t() }, packStateDict(adamDict()).metadata), error: /unpackStateDict: tensor "weight" is not an optimizer state entry/ },
  ];
  test.each(cases)("$name", ({ run, error }) => {
    expect(run).toThrow(error);
  });

  test("state on another device than the parameter", async () => {
    const sd = adamDict();
    const p = wg.tensor([0, 0], { device: "webgpu", requiresGrad: true });
    expect(() => new Adam([p]).loadStateDict(sd)).toThrow(/Adam\.loadStateDict: expAvg of parameter 0 is on cpu but the parameter is on webgpu\. Fix: load the file onto the parameters' device, e\.g\. wg\.load\(bytes, \{ device: "webgpu" \}\)/);
  });

  test("loadMetadata reads a file's metadata, and {} from a file without", async () => {
    const bytes = await wg.save({ a: t() }, { note: "x" });
    expect(wg.loadMetadata(bytes)).toEqual({ note: "x" });
    expect(wg.loadMetadata(await wg.save({ a: t() }))).toEqual({});
    expect(() => wg.loadMetadata(bytes.subarray(0, 10))).toThrow(/load: not a valid safetensors file/);
    expect(wg.loadMetadata(Buffer.from(bytes))).toEqual({ note: "x" }); // a Node Buffer, which may sit inside a shared pool

  });
});
