/** The expression language of `webgrad explain` and the demo's explain page, and the CLI command itself. */
import { afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import * as wg from "../src/node.js";
import { evaluateExpression, parseExpression } from "../src/autograd/explain-parse.js";
import { commands } from "../src/cli/registry.js";
import "../src/cli/explain.js";
import { expectClose, values } from "./helpers.js";
import { explainSeedNetwork } from "../examples/explain-network.js";

beforeAll(() => wg.init({ device: "cpu", quiet: true }));

describe("expressions", () => {
  const inputs = () => {
    wg.manualSeed(7);
    return { x: wg.randn([2, 3], { requiresGrad: true }), W: wg.randn([3, 4]), b: wg.randn([4]), y: wg.randn([2, 3]) };
  };

  test.each([
    ["x * 2 + y ** 2 - -x", (i: ReturnType<typeof inputs>) => i.x.mul(2).add(i.y.pow(2)).sub(i.x.neg())],
    ["-x ** 2", (i: ReturnType<typeof inputs>) => i.x.pow(2).neg()],
    ["2 ** 3 * x / 4", (i: ReturnType<typeof inputs>) => i.x.mul(8).div(4)],
    ["1 - x", (i: ReturnType<typeof inputs>) => wg.sub(1, i.x)],
    ["(x @ W + b).relu().sum([0, 1], true)", (i: ReturnType<typeof inputs>) => i.x.matmul(i.W).add(i.b).relu().sum([0, 1], true)],
    ["x @ W * 2", (i: ReturnType<typeof inputs>) => i.x.matmul(i.W).mul(2)],
    ["x.T.reshape(6).softmax(-1).view([2, 3]).mean(1)", (i: ReturnType<typeof inputs>) => i.x.T.reshape(6).softmax(-1).view([2, 3]).mean(1)],
    ["x.maximum(y).clamp(-0.5, .5e0).transpose(0, 1).unsqueeze(0).squeeze(0).slice(0, 1, 3)", (i: ReturnType<typeof inputs>) => i.x.maximum(i.y).clamp(-0.5, 0.5).transpose(0, 1).unsqueeze(0).squeeze(0).slice(0, 1, 3)],
  ])("%s evaluates as the method chain", async (src, f) => {
    const i = inputs();
    const got = evaluateExpression(src, i);
    const want = f(i);
    expect(got.shape).toEqual(want.shape);
    expectClose(await values(got), await values(want), 1e-6, 1e-6);
    expect(got.requiresGrad).toBe(true);
  });

  test.each([
    ["x; y", 2, /unexpected character ";"/],
    ["x.constructor", 3, /"constructor" is not an allowed method/],
    ["x.__proto__", 3, /"__proto__" is not an allowed method/],
    ["process.exit()", 1, /unknown name "process"; the inputs are x, W, b, y/],
    ["x.sum(", 7, /expected an input name, a number or "\(" but found "end of input"/],
    ["x +", 4, /found "end of input"/],
    ["x y", 3, /unexpected "y" after a complete expression/],
    ["x.sum(true, 1)", 7, /\.sum\(\) expects a dim or a list of dims here/],
    ["x.relu(1)", 3, /\.relu\(\) takes 0 arguments, got 1/],
    ["x.transpose(0)", 3, /\.transpose\(\) takes 2 arguments, got 1/],
    ["x.matmul(2)", 10, /\.matmul\(\) expects a tensor here/],
    ["x.unsqueeze(0.5)", 13, /expects an integer here/],
    ["2 @ x", 3, /@ needs tensors on both sides, got a number on the left/],
    ["x @ x", 3, /matmul: shapes \[2, 3\] and \[2, 3\] cannot be multiplied/],
    ["relu(x)", 1, /unknown name "relu".*did you mean \.relu\(\.\.\.\)\?/],
    ["2 + 3", 1, /the expression is the number 5; it must use at least one of the inputs/],
    ["x.T()", 4, /unexpected "\(" after a complete expression/],
  ])("%s is refused at column %i", (src, column, message) => {
    let err: Error | null = null;
    try {
      evaluateExpression(src, inputs());
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message).toContain(`(at column ${column})`);
    const caret = err!.message.split("\n")[2];
    expect(caret.indexOf("^") - 2).toBe(column - 1);
  });

  test("deep nesting and long input are refused, not a stack overflow", () => {
    expect(() => parseExpression("(".repeat(500) + "x" + ")".repeat(500), ["x"])).toThrow(/nests too deeply/);
    expect(() => parseExpression("x" + "+x".repeat(1500), ["x"])).toThrow(/at most 2000/);
  });
});

describe("webgrad explain", () => {
  const out: string[] = [];
  const err: string[] = [];
  const run = async (...argv: string[]) => {
    out.length = err.length = 0;
    vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(console, "error").mockImplementation((s) => void err.push(String(s)));
    vi.spyOn(console, "log").mockImplementation((s) => void out.push(String(s)));
    return commands.explain.run(argv);
  };
  afterEach(() => vi.restoreAllMocks());

  test("prints the table of the issue's example, the bias gradient summed over the batch", async () => {
    expect(await run("(x @ W + b).relu().sum()", "--shapes", "x=2x3,W=3x4,b=4", "--values")).toBe(0);
    const lines = out.join("").split("\n");
    expect(lines[0]).toBe("backward of a tensor of shape []: 7 steps (4 ops, 3 leaves) in the order backward runs them, from the seed 1");
    expect(lines.find((l) => l.includes(" b [4] "))).toMatch(/d\(a \+ b\)\/db = 1 +\[4\] \(summed from \[2, 4\]\) → 4$/);
    expect(lines.filter((l) => /^ +\d+  AccumulateGrad/.test(l)).map((l) => l.trim().split(/\s+/)[2])).toEqual(["b", "W", "x"]);
    expect(lines.filter((l) => l.trim().startsWith("values:")).length).toBe(7);
  });

  test("--inputs with values and const reproduces the example's table of the seeds' network", async () => {
    const cmd = ["((x @ W).relu() @ wout).sigmoid().sub(t) ** 2", "--inputs", "x = [1, 2] const; t = [1] const; W ~ 2x3; wout ~ 3", "--seed", "3", "--values"];
    expect(await run(...cmd)).toBe(0);
    const want = (await explainSeedNetwork("cpu")).toString();
    expect(out.join("").split("\n")).toEqual([...want.split("\n"), ""]);
    expect(want.split("\n").length).toBe(33);
    expect(await run("x.exp()", "--inputs", "x = [1, \"a\"]")).toBe(2);
    expect(err.join("")).toMatch(/--inputs: x = \[1, "a"\] holds something other than numbers/);
    expect(await run("x.exp()", "--shapes", "x=2", "--inputs", "x = 3")).toBe(2);
    expect(err.join("")).toMatch(/x is in both --shapes and --inputs/);
  });

  test("--format json, dot and svg", async () => {
    expect(await run("x.tanh().sum()", "--shapes", "x=3", "--format", "json")).toBe(0);
    expect(JSON.parse(out.join("")).steps.map((s: { node: string }) => s.node)).toEqual(["SumBackward", "TanhBackward", "AccumulateGrad"]);
    expect(await run("x.tanh().sum()", "--shapes", "x=3", "--format", "dot")).toBe(0);
    expect(out.join("")).toMatch(/^digraph backward \{[\s\S]*d tanh\(x\)\/dx = 1 - tanh²\(x\)[\s\S]*\}\n$/);
    expect(await run("x.tanh().sum()", "--shapes", "x=3", "--format", "svg")).toBe(0);
    expect(out.join("")).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
  });

  test("bad command lines exit 2 with the reason", async () => {
    expect(await run("x.relu(", "--shapes", "x=3")).toBe(2);
    expect(err.join("")).toMatch(/webgrad explain: expected an input name.*\(at column 8\)\n {2}x\.relu\(\n {9}\^/s);
    expect(await run("x.relu()")).toBe(2);
    expect(err.join("")).toMatch(/--shapes or --inputs is required/);
    expect(await run("x", "--shapes", "x=0x3")).toBe(2);
    expect(err.join("")).toMatch(/dims of at least 1/);
    expect(await run("x", "y", "--shapes", "x=3")).toBe(2);
    expect(err.join("")).toMatch(/expects one expression in quotes, got 2/);
    expect(await run("x", "--shapes", "x=3", "--format", "png")).toBe(2);
    expect(err.join("")).toMatch(/--format expects table, dot, svg, json/);
    expect(await run("x.exp()", "--shapes", "x=3,x=4")).toBe(2);
    expect(err.join("")).toMatch(/x is given twice/);
  });
});
