/**
 * Fuzzed parity (issue 9): 300 seeded random op graphs, each run on CPU and
 * WebGPU and compared, forward values and leaf gradients. More graphs behind
 * `npm run fuzz -- --graphs 10000 --seed S`. The rest of the file checks the
 * fuzzer itself: it draws every op, it can fail, it shrinks, and the program
 * it prints reproduces what it ran.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { check, generate, OP_NAMES } from "./fuzz/generate.js";
import { execute, type Outcome } from "./fuzz/exec.js";
import { compare } from "./fuzz/compare.js";
import { formatFailure, fuzz, program, shrink } from "./fuzz/fuzz.js";
import type { Graph } from "./fuzz/graph.js";
import { DEVICES, startWebgpu } from "./helpers.js";

beforeAll(startWebgpu);

const SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);

describe("fuzzed parity", () => {
  test("300 random graphs agree on CPU and WebGPU", async () => {
    const res = await fuzz({ graphs: SEEDS.length, seed: SEEDS[0], maxFailures: 3 });
    expect(res.failures.map(formatFailure).join("\n\n")).toBe("");
    expect(res.graphs).toBe(SEEDS.length);
  }, 240_000); // about 10 s on an idle 2-core machine; the margin is for a busy one
});

describe("the fuzzer", () => {
  const graphs = SEEDS.map((s) => generate(s));

  test("draws every op, shapes with 0s and 1s, broadcasts and both ways of seeding backward", () => {
    const drawn = new Set(graphs.flatMap((g) => g.steps.flatMap((s) => (s.kind === "op" ? [s.op] : []))));
    expect(OP_NAMES.filter((n) => !drawn.has(n))).toEqual([]);
    const shapes = graphs.flatMap((g) => [...check(g)!.metas.values()].map((m) => m.shape));
    expect(shapes.some((s) => s.includes(0))).toBe(true);
    expect(shapes.some((s) => s.includes(1))).toBe(true);
    expect(shapes.some((s) => s.length === 0)).toBe(true);
    const broadcasts = graphs.some((g) => {
      const c = check(g)!;
      return g.steps.some((s) => s.kind === "op" && s.op === "add" && s.ins.length === 2 && c.metas.get(s.ins[0])!.shape.join() !== c.metas.get(s.ins[1])!.shape.join());
    });
    expect(broadcasts).toBe(true);
    expect(new Set(graphs.map((g) => g.backward))).toEqual(new Set(["sum", "gradient"]));
    for (const g of graphs) expect(g.steps.every((s) => check(g, 64)!.metas.get(s.out)!.shape.reduce((n, d) => n * d, 1) <= 64)).toBe(true);
  });

  test("the same seed gives the same graph", () => {
    expect(generate(42)).toEqual(generate(42));
    expect(generate(42)).not.toEqual(generate(43));
  });

  test("a wrong value, a wrong gradient, a leak or a lone error is reported, naming the tensor", async () => {
    const g = graphs.find((x) => check(x)!.sinks.length > 0 && x.steps.length > 3)!;
    const c = check(g)!;
    const cpu = await execute(g, c, "cpu");
    const copy = (o: Outcome): Outcome => ({ ...o, device: "webgpu", values: new Map([...o.values].map(([k, v]) => [k, { ...v, data: [...v.data] }])), grads: new Map([...o.grads].map(([k, v]) => [k, v && [...v]])) });
    expect(compare(c, cpu, copy(cpu))).toBeNull();

    const name = c.live.find((n) => cpu.values.get(n)!.data.length > 0 && c.metas.get(n)!.dtype === "float32")!;
    const off = copy(cpu);
    off.values.get(name)!.data[0] += 0.01;
    expect(compare(c, cpu, off)).toMatch(new RegExp(`^${name}: element 0 is`));

    const [leaf, grad] = [...cpu.grads].find(([, v]) => v && v.length > 0)!;
    const badGrad = copy(cpu);
    badGrad.grads.get(leaf)![0] += 0.01;
    expect(compare(c, cpu, badGrad)).toMatch(new RegExp(`^${leaf}\\.grad: element 0`));
    expect(grad).not.toBeNull();

    expect(compare(c, cpu, { ...copy(cpu), leak: "webgpu: 1 tensors and 0 bytes more" })).toMatch(/^leak: webgpu: 1 tensors/);
    expect(compare(c, cpu, { ...copy(cpu), error: "boom" })).toBe('cpu ran but webgpu threw "boom"');
  });

  test("a failure shrinks to the smallest graph that still fails", async () => {
    // A planted bug: "exp of a tensor with at least one element is wrong".
    const planted = (x: Graph) => {
      const c = check(x)!;
      return x.steps.some((s) => s.kind === "op" && s.op === "exp" && c.metas.get(s.ins[0])!.shape.reduce((n, d) => n * d, 1) > 0);
    };
    const fails = async (x: Graph) => (planted(x) ? "planted" : null);
    const g = graphs.find((x) => x.steps.filter((s) => s.kind === "op").length >= 4 && planted(x))!;
    const { graph, message } = await shrink(g, fails);
    expect(message).toBe("planted");
    const ops = graph.steps.filter((s) => s.kind === "op");
    expect(ops.map((s) => s.op)).toEqual(["exp"]);
    const leaves = graph.steps.filter((s) => s.kind === "leaf");
    expect(leaves.length).toBe(1);
    expect(leaves[0].kind === "leaf" && leaves[0].data.length).toBe(1);
  });

  test("the printed program computes what the fuzzer compared", async () => {
    for (const g of graphs.slice(0, 20)) {
      const c = check(g)!;
      const lines: string[] = [];
      const body = program(g, c).split("\n").slice(2).join("\n");
      const log = { log: (...xs: unknown[]) => lines.push(JSON.stringify(xs.map((x) => (ArrayBuffer.isView(x) ? Array.from(x as Float32Array) : x)))) };
      const run = new (Object.getPrototypeOf(async () => {}).constructor)("wg", "console", body) as (w: typeof wg, l: typeof log) => Promise<void>;
      await run(wg, log); // on the default device, webgpu
      const want = await execute(g, c, "webgpu");
      const expected = [
        ...c.live.map((n) => JSON.stringify([n, want.values.get(n)!.shape, want.values.get(n)!.data])),
        ...[...want.grads].map(([n, v]) => JSON.stringify([`${n}.grad`, v])),
      ];
      expect(lines).toEqual(expected);
    }
  });
});

describe("bugs the fuzzer found", () => {
  test.each(DEVICES)("in-place ops write tensors with no elements, whose strides hold zeros (seed 1659), on %s", async (device) => {
    const t = wg.zeros([2, 0, 2], { device }).mul(1);
    expect(t.strides).toContain(0);
    t.add_(wg.zeros([1, 0, 1], { device })).mul_(2);
    expect(t.shape).toEqual([2, 0, 2]);
    expect(Array.from(await t.data())).toEqual([]);
    const x = wg.zeros([2, 0], { device, requiresGrad: true });
    const y = x.mul(2).sub_(1);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([2, 0]);
    for (const u of [t, x, y, x.grad!]) u.dispose();
  });

  test.each(DEVICES)("reducing a 0-d tensor over dim 0 or -1 keeps its value (it gave 0, -Inf, -1, NaN), on %s", async (device) => {
    const x = wg.tensor(1.5, { device, requiresGrad: true });
    const got = await Promise.all([x.sum(0), x.sum(-1, true), x.max(0), x.min(-1), x.mean(0), x.argmax(0)].map(async (y) => [y.shape, Array.from(await y.data())]));
    expect(got).toEqual([[[], [1.5]], [[], [1.5]], [[], [1.5]], [[], [1.5]], [[], [1.5]], [[], [0]]]);
    x.mean(0).mul(3).backward();
    expect(Array.from(await x.grad!.data())).toEqual([3]);
  });

  test("cat of 0-d tensors is refused with a clear error (it complained about full's shape)", () => {
    const x = wg.tensor(1, { device: "cpu" });
    expect(() => wg.cat([x, x], 0)).toThrow(/^cat: zero-dimensional tensors \(shape \[\]\) cannot be concatenated\. Fix: wg\.stack/);
    expect(wg.stack([x, x], 0).shape).toEqual([2]);
  });

  test.each(DEVICES)("max, min and argmax of an empty tensor over non-empty dims are empty, as PyTorch (they threw), on %s", async (device) => {
    const x = wg.zeros([0, 3], { device, requiresGrad: true });
    expect([x.max(1).shape, x.min(-1, true).shape, x.argmax(1).shape]).toEqual([[0], [0, 1], [0]]);
    x.max(1).sum().backward();
    expect(x.grad!.shape).toEqual([0, 3]);
    expect(() => x.max(0)).toThrow(/^max: cannot reduce an empty tensor of shape \[0, 3\] over dims \[0\]/);
    expect(() => x.argmin()).toThrow(/^argmin: cannot reduce an empty tensor/);
  });
});
