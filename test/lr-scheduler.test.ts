/**
 * lr schedulers: each row's lr sequence (both parameter groups, from the
 * initial step on) as torch.optim.lr_scheduler 1.13 computes it, written in;
 * closed forms through step(epoch); resuming with lastEpoch and stateDict;
 * the scheduled lr reaching the update kernel with no allocation, pipeline or
 * readback per step; and the errors for bad settings.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { expectClose, startWebgpu, values } from "./helpers.js";

const { SGD, Adam } = wg.optim;
const { StepLR, CosineAnnealingLR, LinearLR, LambdaLR, SequentialLR, LRScheduler } = wg.optim.lrScheduler;
type LRSchedulerWithEpoch = { step(epoch: number): void };
type Scheduler = InstanceType<typeof LRScheduler>;

beforeAll(startWebgpu);

/** Two groups, lr 0.1 and 0.02, as in the torch runs. */
const twoGroups = () => {
  const a = wg.tensor([0], { device: "cpu", requiresGrad: true });
  const b = wg.tensor([0], { device: "cpu", requiresGrad: true });
  return new SGD([{ params: [a] }, { params: [b], lr: 0.02 }], { lr: 0.1 });
};

interface Row {
  name: string;
  make: (o: wg.optim.SGD) => Scheduler | Scheduler[];
  /** Both groups' lr after construction, then after each step. */
  expected: number[][];
}

const rows: Row[] = [
  {
    name: "StepLR stepSize 3, gamma 0.5",
    // torch: StepLR(o, step_size=3, gamma=0.5)
    make: (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 }),
    expected: [[0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.05, 0.01], [0.05, 0.01], [0.05, 0.01], [0.025, 0.005], [0.025, 0.005], [0.025, 0.005], [0.0125, 0.0025], [0.0125, 0.0025]],
  },
  {
    name: "CosineAnnealingLR tMax 4, etaMin 0.001, past tMax (it climbs back)",
    // torch: CosineAnnealingLR(o, T_max=4, eta_min=0.001)
    make: (o) => new CosineAnnealingLR(o, { tMax: 4, etaMin: 0.001 }),
    expected: [[0.1, 0.02], [0.0855017856687341, 0.0172175144212722], [0.0505, 0.010499999999999999], [0.0154982143312659, 0.0037824855787277987], [0.001, 0.001], [0.015498214331265896, 0.003782485578727798], [0.05050000000000001, 0.010500000000000002], [0.08550178566873413, 0.017217514421272208], [0.10000000000000003, 0.020000000000000007], [0.08550178566873413, 0.017217514421272208], [0.05050000000000003, 0.010500000000000006], [0.015498214331265945, 0.0037824855787278074], [0.001, 0.001]],
  },
  {
    name: "LinearLR warm-up 0.25 to 1 over 4 steps",
    // torch: LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4)
    make: (o) => new LinearLR(o, { startFactor: 0.25, endFactor: 1, totalIters: 4 }),
    expected: [[0.025, 0.005], [0.043750000000000004, 0.00875], [0.06250000000000001, 0.0125], [0.08125000000000002, 0.01625], [0.10000000000000002, 0.02], [0.10000000000000002, 0.02], [0.10000000000000002, 0.02], [0.10000000000000002, 0.02]],
  },
  {
    name: "LambdaLR one function per group",
    // torch: LambdaLR(o, [lambda e: 0.9**e, lambda e: 1/(e+1)])
    make: (o) => new LambdaLR(o, { lrLambda: [(e) => 0.9 ** e, (e) => 1 / (e + 1)] }),
    expected: [[0.1, 0.02], [0.09000000000000001, 0.01], [0.08100000000000002, 0.006666666666666666], [0.0729, 0.005], [0.06561, 0.004], [0.05904900000000001, 0.003333333333333333]],
  },
  {
    name: "SequentialLR warm-up then cosine",
    // torch: SequentialLR(o, [LinearLR(o, start_factor=0.5, total_iters=2), CosineAnnealingLR(o, T_max=4)], milestones=[2])
    make: (o) => new SequentialLR(o, { schedulers: [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new CosineAnnealingLR(o, { tMax: 4 })], milestones: [2] }),
    expected: [[0.05, 0.01], [0.07500000000000001, 0.015], [0.1, 0.02], [0.08535533905932738, 0.017071067811865476], [0.05, 0.01], [0.014644660940672627, 0.0029289321881345253], [0.0, 0.0], [0.014644660940672622, 0.0029289321881345244], [0.05000000000000001, 0.010000000000000002]],
  },
  {
    name: "SequentialLR of three: a StepLR restarted at its milestone, then cosine from its closed form",
    // torch: SequentialLR(o, [LinearLR(o, start_factor=0.5, total_iters=2), StepLR(o, 2, 0.5), CosineAnnealingLR(o, T_max=3, eta_min=0.01)], milestones=[2, 5])
    make: (o) => new SequentialLR(o, { schedulers: [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new StepLR(o, { stepSize: 2, gamma: 0.5 }), new CosineAnnealingLR(o, { tMax: 3, etaMin: 0.01 })], milestones: [2, 5] }),
    expected: [[0.05, 0.01], [0.07500000000000001, 0.015], [0.1, 0.02], [0.1, 0.02], [0.05, 0.01], [0.1, 0.02], [0.0775, 0.0175], [0.032500000000000015, 0.012500000000000002], [0.01, 0.01], [0.0325, 0.0125], [0.07750000000000005, 0.01750000000000001]],
  },
  {
    name: "LinearLR and StepLR chained (both stepped): each scales the lr the other left",
    // torch: [LinearLR(o, start_factor=0.5, total_iters=2), StepLR(o, 2, 0.5)]
    make: (o) => [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new StepLR(o, { stepSize: 2, gamma: 0.5 })],
    expected: [[0.05, 0.01], [0.07500000000000001, 0.015], [0.05, 0.009999999999999998], [0.05, 0.009999999999999998], [0.025, 0.004999999999999999], [0.025, 0.004999999999999999], [0.0125, 0.0024999999999999996]],
  },
];

const lrs = (o: wg.optim.SGD) => o.paramGroups.map((g) => g.lr);

describe("lr schedules against torch", () => {
  test.each(rows)("$name", ({ make, expected }) => {
    const o = twoGroups();
    const made = make(o);
    const all = Array.isArray(made) ? made : [made];
    const seen = [lrs(o)];
    expect(all[all.length - 1].getLastLr()).toEqual(lrs(o));
    for (let k = 1; k < expected.length; k++) {
      o.step();
      for (const s of all) s.step();
      seen.push(lrs(o));
      expect(all[all.length - 1].getLastLr()).toEqual(lrs(o));
    }
    expectClose(seen.flat(), expected.flat(), 1e-15, 1e-12, "lr sequence");
    expect(all[0].lastEpoch).toBe(expected.length - 1);
  });

  test("step(epoch) jumps with the closed form", () => {
    const o = twoGroups();
    const step = new StepLR(o, { stepSize: 3, gamma: 0.5 });
    step.step(7);
    expectClose(step.getLastLr(), [0.1 * 0.25, 0.02 * 0.25], 1e-15, 1e-12, "StepLR at 7");
    const cos = new CosineAnnealingLR(twoGroups(), { tMax: 4, etaMin: 0.001 });
    cos.step(2);
    expectClose(cos.getLastLr(), [0.0505, 0.0105], 1e-15, 1e-12, "cosine at 2: halfway");
    const lin = new LinearLR(twoGroups(), { startFactor: 0.25, totalIters: 4 });
    lin.step(9);
    expectClose(lin.getLastLr(), [0.1, 0.02], 1e-15, 1e-12, "LinearLR past totalIters");
    expect(() => lin.step(-1)).toThrow(/LinearLR\.step: epoch must be a non-negative integer, got -1/);
    const o2 = twoGroups();
    const seq = new SequentialLR(o2, { schedulers: [new LinearLR(o2, { startFactor: 0.5, totalIters: 2 }), new CosineAnnealingLR(o2, { tMax: 4 })], milestones: [2] });
    expect(() => (seq as LRSchedulerWithEpoch).step(5)).toThrow(/^SequentialLR\.step: takes no epoch \(got 5\)/);
    expect(seq.lastEpoch).toBe(0);
  });

  test("resuming with lastEpoch takes initialLr as the base (torch: StepLR last_epoch=5 gives 0.05, 0.01)", () => {
    const o = twoGroups();
    for (const g of o.paramGroups) g.initialLr = g.lr;
    const s = new StepLR(o, { stepSize: 3, gamma: 0.5, lastEpoch: 5 });
    expect(s.lastEpoch).toBe(6);
    expectClose(s.getLastLr(), [0.05, 0.01], 1e-15, 1e-12, "lr");
    expect(s.baseLrs).toEqual([0.1, 0.02]);
  });

  test("stateDict through JSON resumes a SequentialLR and its optimizer exactly", () => {
    const make = (o: wg.optim.SGD) =>
      new SequentialLR(o, { schedulers: [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new CosineAnnealingLR(o, { tMax: 4 })], milestones: [2] });
    const whole = twoGroups();
    const ws = make(whole);
    const seq: number[][] = [];
    for (let k = 0; k < 6; k++) {
      ws.step();
      seq.push(lrs(whole));
    }
    const first = twoGroups();
    const fs = make(first);
    for (let k = 0; k < 3; k++) fs.step();
    const saved = JSON.parse(JSON.stringify({ opt: first.stateDict(), sched: fs.stateDict() }));
    const second = twoGroups();
    const ss = make(second);
    second.loadStateDict(saved.opt);
    ss.loadStateDict(saved.sched);
    const rest: number[][] = [];
    for (let k = 0; k < 3; k++) {
      ss.step();
      rest.push(lrs(second));
    }
    expect(rest).toEqual(seq.slice(3));
    expect(ss.lastEpoch).toBe(ws.lastEpoch);
  });
});

describe("the scheduled lr reaches the kernel", () => {
  test.each(["cpu", "webgpu"] as const)("SGD under StepLR on %s: p ← p − lr_t g with lr 0.1, 0.1, 0.05, 0.05", async (device) => {
    const p = wg.tensor([1, -2], { device, requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1 });
    const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    for (let k = 0; k < 4; k++) {
      p.grad = wg.tensor([1, 2], { device });
      opt.step();
      sched.step();
    }
    expectClose(await values(p), [1 - 0.3, -2 - 0.6], 1e-6, 1e-6, "p after 4 steps");
  });

  const makers = [
    { name: "Adam", make: (m: wg.nn.Linear) => new Adam(m.parameters(), { lr: 0.01 }) },
    { name: "AdamW, two groups", make: (m: wg.nn.Linear) => new wg.optim.AdamW([{ params: [m.weight] }, { params: [m.bias!], weightDecay: 0 }], { lr: 0.01 }) },
    { name: "SGD momentum, two groups", make: (m: wg.nn.Linear) => new SGD([{ params: [m.weight] }, { params: [m.bias!], lr: 0.05 }], { lr: 0.01, momentum: 0.9 }) },
  ];
  test.each(makers)("$name under a warm-up + cosine schedule on WebGPU: after warm-up a step creates no buffer, bind group or pipeline, reads and uploads nothing", async ({ make }) => {
    const stats = (webgpuBackend() as WebGpuBackend).stats;
    const model = new wg.nn.Linear(4, 3, { device: "webgpu" });
    const opt = make(model);
    const sched = new SequentialLR(opt, { schedulers: [new LinearLR(opt, { totalIters: 2 }), new CosineAnnealingLR(opt, { tMax: 5 })], milestones: [2] });
    const x = wg.randn([5, 4], { device: "webgpu" });
    const trainStep = () =>
      wg.tidy(() => {
        model.forward(x).square().mean().backward();
        opt.step();
        opt.zeroGrad();
        sched.step();
      });
    trainStep();
    trainStep();
    const before = { ...stats };
    const lrsSeen = new Set<number>();
    for (let k = 0; k < 3; k++) {
      trainStep();
      lrsSeen.add(opt.lr);
    }
    expect(lrsSeen.size).toBe(3);
    expect(stats.buffersCreated).toBe(before.buffersCreated);
    expect(stats.bindGroupsCreated).toBe(before.bindGroupsCreated);
    expect(stats.pipelinesCreated).toBe(before.pipelinesCreated);
    expect(stats.readbacks).toBe(before.readbacks);
    expect(stats.uploads).toBe(before.uploads);
    await wg.flush();
  });
});

describe("lr scheduler errors", () => {
  const cases: { name: string; run: () => unknown; error: RegExp }[] = [
    { name: "an optimizer without lr", run: () => new StepLR({ paramGroups: [{}] } as never, { stepSize: 1 }), error: /StepLR: parameter group 0 of the optimizer has no lr \(got undefined\), so there is nothing to schedule\. Fix/ },
    { name: "not an optimizer", run: () => new CosineAnnealingLR(null as never, { tMax: 3 }), error: /CosineAnnealingLR: expected an optimizer with parameter groups, got null\. Fix/ },
    { name: "torch's positional stepSize", run: () => new StepLR(twoGroups(), 30 as never), error: /StepLR: expected its options as an object, got 30\. Fix: new wg\.optim\.lrScheduler\.StepLR\(optimizer, \{ stepSize: 30, gamma: 0\.1 \}\)/ },
    { name: "StepLR without stepSize", run: () => new StepLR(twoGroups(), {} as never), error: /StepLR: stepSize must be a positive integer \(it has no default\), got undefined\. Fix/ },
    { name: "CosineAnnealingLR tMax 0", run: () => new CosineAnnealingLR(twoGroups(), { tMax: 0 }), error: /CosineAnnealingLR: tMax must be a positive integer.*got 0/ },
    { name: "LinearLR startFactor 0", run: () => new LinearLR(twoGroups(), { startFactor: 0 }), error: /LinearLR: startFactor must be in \(0, 1\], got 0/ },
    { name: "LinearLR endFactor 2", run: () => new LinearLR(twoGroups(), { endFactor: 2 }), error: /LinearLR: endFactor must be in \[0, 1\], got 2/ },
    { name: "LambdaLR with one function for two groups in an array", run: () => new LambdaLR(twoGroups(), { lrLambda: [(e: number) => e] }), error: /LambdaLR: lrLambda must be a function or 2 functions \(one per parameter group\), got 1 items/ },
    { name: "LambdaLR giving NaN", run: () => new LambdaLR(twoGroups(), { lrLambda: (e: number) => (e > 0 ? NaN : 1) }).step(), error: /LambdaLR\.step: the lr of parameter group 0 at step 1 came out NaN/ },
    { name: "resuming without initialLr", run: () => new StepLR(twoGroups(), { stepSize: 2, lastEpoch: 3 }), error: /StepLR: resuming at lastEpoch 3, but parameter group 0 has no initialLr\. Fix/ },
    { name: "SequentialLR milestones", run: () => { const o = twoGroups(); return new SequentialLR(o, { schedulers: [new StepLR(o, { stepSize: 1 }), new StepLR(o, { stepSize: 2 })], milestones: [] }); }, error: /SequentialLR: milestones must be 1 increasing positive integers \(one fewer than the 2 schedulers\), got \[\]/ },
    { name: "SequentialLR over another optimizer's scheduler", run: () => new SequentialLR(twoGroups(), { schedulers: [new StepLR(twoGroups(), { stepSize: 1 })], milestones: [] }), error: /SequentialLR: scheduler 0 \(StepLR\) belongs to another optimizer/ },
    { name: "a group added after the scheduler", run: () => { const o = twoGroups(); const s = new StepLR(o, { stepSize: 1 }); o.addParamGroup({ params: [wg.tensor([0], { device: "cpu", requiresGrad: true })] }); s.step(); }, error: /StepLR\.step: the optimizer has 3 parameter groups but the scheduler was made for 2\. Fix/ },
    { name: "another scheduler's state dict", run: () => new StepLR(twoGroups(), { stepSize: 1 }).loadStateDict(new CosineAnnealingLR(twoGroups(), { tMax: 2 }).stateDict()), error: /StepLR\.loadStateDict: expected the keys baseLrs, lastEpoch, stepCount, lastLr, stepSize, gamma, got .*tMax.*another scheduler/ },
  ];
  test.each(cases)("$name", ({ run, error }) => {
    expect(run).toThrow(error);
  });
});
