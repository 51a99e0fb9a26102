/**
 * `webgrad explain "<expression>" --shapes x=2x3,W=3x4`: the backward pass of
 * an expression over named random inputs, as wg.explain's table (or DOT, SVG,
 * JSON). The expression is parsed by a small grammar, never eval'd.
 */
import { parseArgs } from "node:util";
// node.js, not index.js: it registers how Node reaches WebGPU (Dawn).
import * as wg from "../node.js";
import { evaluateExpression, ExpressionError, EXPLAIN_METHODS } from "../autograd/explain-parse.js";
import { makeInputs, parseInputs, type InputSpec } from "../autograd/explain-inputs.js";
import { command, UsageError, withArgs } from "./registry.js";

const USAGE = `usage: webgrad explain "<expression>" --shapes NAME=DIMS,... | --inputs "SPEC; ..." [options]

Prints every step of the expression's backward pass: the op, its shapes, what it
saved, the local derivative rule, and the gradients it receives and sends.

  --shapes S     the inputs and their shapes, e.g. x=2x3,W=3x4,b=4 (NAME= alone is a scalar);
                 each is filled with randn and requires grad
  --inputs S     inputs with values or shapes, separated by ";": NAME = [1, 2] (values),
                 NAME ~ 2x3 (randn); a trailing "const" means it needs no gradient
  --values       also print the values of small tensors (forward values, gradients)
  --format F     table, dot, svg or json (default table)
  --seed N       seeds the random inputs (default 0)
  --device D     cpu, webgpu or auto (default cpu)
  --help         this text

An expression uses the input names, numbers, + - * / @ ** ( ) and these methods:
  ${EXPLAIN_METHODS.join(", ")}
e.g. webgrad explain "(x @ W + b).relu().sum()" --shapes x=2x3,W=3x4,b=4 --values`;

const OPTIONS = {
  shapes: { type: "string" },
  inputs: { type: "string" },
  values: { type: "boolean", default: false },
  format: { type: "string", default: "table" },
  seed: { type: "string", default: "0" },
  device: { type: "string", default: "cpu" },
  help: { type: "boolean", short: "h", default: false },
} as const;

const FORMATS = ["table", "dot", "svg", "json"] as const;
type Format = (typeof FORMATS)[number];

/** "x=2x3,W=3x4,s=" → { x: [2, 3], W: [3, 4], s: [] }. */
export function parseShapes(spec: string): Record<string, number[]> {
  const out = new Map<string, number[]>(); // a Map: a name like __proto__ stays a name
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=((?:\d+(?:x\d+)*)?)$/.exec(part);
    if (!m) throw new UsageError(`--shapes: "${part}" is not NAME=DIMS (dims joined by x, e.g. W=3x4; NAME= for a scalar).`);
    if (out.has(m[1])) throw new UsageError(`--shapes: ${m[1]} is given twice.`);
    const dims = m[2] ? m[2].split("x").map(Number) : [];
    const n = dims.reduce((a, b) => a * b, 1);
    if (dims.some((d) => d < 1) || n > 1 << 20) throw new UsageError(`--shapes: ${part} must have dims of at least 1 and at most ${1 << 20} elements.`);
    out.set(m[1], dims);
  }
  if (!out.size) throw new UsageError("--shapes names no inputs; e.g. --shapes x=2x3,W=3x4.");
  return Object.fromEntries(out);
}

/** --shapes and --inputs together, each name once. */
function inputSpecs(shapes: string | undefined, inputs: string | undefined): InputSpec[] {
  const fromShapes = Object.entries(shapes ? parseShapes(shapes) : {}).map(([name, shape]) => ({ name, shape, requiresGrad: true }));
  let rest: InputSpec[];
  try {
    rest = inputs ? parseInputs(inputs) : [];
  } catch (e) {
    throw new UsageError(`--${(e as Error).message}.`);
  }
  const twice = rest.find((s) => fromShapes.some((f) => f.name === s.name));
  if (twice) throw new UsageError(`${twice.name} is in both --shapes and --inputs.`);
  return [...fromShapes, ...rest];
}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return { help: true as const, expression: "", inputs: [] as InputSpec[], values: false, format: "table" as Format, seed: 0, device: "cpu" as const };
  if (positionals.length !== 1) throw new UsageError(`expects one expression in quotes, got ${positionals.length} (${positionals.map((p) => JSON.stringify(p)).join(" ") || "none"}).`);
  if (!v.shapes && !v.inputs) throw new UsageError("--shapes or --inputs is required: it names the inputs, e.g. --shapes x=2x3,W=3x4.");
  if (!FORMATS.includes(v.format as Format)) throw new UsageError(`--format expects ${FORMATS.join(", ")}, got "${v.format}".`);
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed expects an integer, got "${v.seed}".`);
  if (!["cpu", "webgpu", "auto"].includes(v.device)) throw new UsageError(`--device expects cpu, webgpu or auto, got "${v.device}".`);
  return { help: false, expression: positionals[0], inputs: inputSpecs(v.shapes, v.inputs), values: v.values, format: v.format as Format, seed, device: v.device as "cpu" | "webgpu" | "auto" };
}

command("explain", "print the backward pass of an expression, step by step", (argv) =>
  withArgs("explain", USAGE, argv, parse, async (args) => {
    await wg.init({ device: args.device, quiet: true });
    const inputs = makeInputs(args.inputs, args.seed);
    let out: wg.Tensor;
    try {
      out = evaluateExpression(args.expression, inputs);
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      console.error(`webgrad explain: ${e.message}`);
      return 2;
    }
    const e = await wg.explain(out, { values: args.values, names: inputs });
    const text = { table: () => e.toString(), dot: () => e.toDot(), svg: () => e.toSvg(), json: () => JSON.stringify(e, null, 2) }[args.format]();
    process.stdout.write(text + "\n");
    return 0;
  }),
);
