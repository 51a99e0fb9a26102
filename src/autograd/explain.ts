/**
 * wg.explain: the backward graph of a tensor as data. Each step is one node in
 * the order backward runs it, with its forward op, shapes, what it saved, the
 * rule of each input in words (the `docs` of the op's table row: one source of
 * truth) and where each gradient goes. With { values: true } a traced backward
 * (engine.traceBackward) fills in the numbers of small tensors.
 */
import { fmt, sameShape } from "../shape.js";
import { AccumulateGrad, type Node } from "./node.js";
import { toposort } from "./engine.js";
import { Tensor } from "../tensor.js";
import { binaryOps } from "../ops/elementwise.js";
import { formatTable } from "./explain-table.js";
import { toDot, toSvg } from "./explain-graph.js";
import { traceValues } from "./explain-values.js";

/** Leaf names: a Module (its namedParameters()), or names by tensor. */
export type ExplainNames = { namedParameters(): [string, Tensor][] } | Record<string, Tensor> | Map<string, Tensor>;

export interface ExplainOptions {
  /** Read the values of small tensors (forward values, upstream, local and sent gradients): returns a Promise. */
  values?: boolean;
  names?: ExplainNames;
  /** Tensors with at most this many elements show their values (default 16). */
  maxValues?: number;
  /** The table elides repeated blocks, then the middle, beyond this many steps (default 60). */
  maxRows?: number;
  /** The SVG draws at most this many steps and says how many it left out (default 300). */
  maxNodes?: number;
}

/** A tensor's shape and, when small enough and asked for, its values (row-major). */
export interface Values {
  shape: number[];
  values: number[] | null;
}

/** The gradient one step sends to one of its inputs. */
export interface GradEdge {
  input: number;
  name: string;
  shape: number[];
  rule: string | null;
  /** The step that receives it; null when the input gets none. */
  to: number | null;
  /** Why no gradient goes to the input (to === null). */
  why: string | null;
  /** The shape the rule's gradient had before the engine summed it back to the input's shape (a broadcast), else null. */
  summedFrom: number[] | null;
  /** Values mode, elementwise ops: the local derivative d out/d input, in the output's shape. */
  local?: Values;
  /** Values mode: the gradient sent, in the input's shape. */
  sent?: Values;
}

export interface ExplainStep {
  step: number;
  kind: "op" | "leaf";
  /** The forward op ("tanh"); for a leaf, "leaf". */
  op: string;
  /** The backward node ("TanhBackward", "AccumulateGrad"). */
  node: string;
  /** A leaf's name from opts.names, else null. */
  name: string | null;
  inputShapes: number[][];
  outShape: number[];
  /** What the node saved for its rules: input names and/or "out". */
  saved: string[];
  /** The shape of the gradient it receives (the sum over `from`). */
  upstream: number[];
  /** The steps whose gradients arrive here. */
  from: number[];
  inputs: GradEdge[];
  /** Values mode: the forward value (a leaf's own value) and the gradient received. */
  value?: Values;
  upstreamValue?: Values;
}

export interface ExplainData {
  root: { shape: number[]; dtype: string; name: string | null };
  /** What backward starts from: 1 for a scalar, ones of the output's shape otherwise. */
  seed: string;
  values: boolean;
  steps: ExplainStep[];
}

const INPUT_NAMES: Record<string, string[]> = {
  matmul: ["A", "B"], where: ["c", "a", "b"], gather: ["x", "index"], scatterAdd: ["s", "index"], crossEntropy: ["x", "t"],
  softmaxGrad: ["y", "g"], logSoftmaxGrad: ["y", "g"], crossEntropyGrad: ["x", "t", "g"],
};

function inputName(op: string, arity: number, k: number): string {
  const names = (Object.hasOwn(INPUT_NAMES, op) ? INPUT_NAMES[op] : null) ?? (Object.hasOwn(binaryOps, op) ? ["a", "b"] : arity === 1 ? ["x"] : []);
  return names[k] ?? `input ${k}`;
}

/** The rule's output shape when the engine will sum it back: elementwise broadcasts, matmul's batch dims. */
function predictSummed(op: string, inShape: number[], outShape: readonly number[]): number[] | null {
  const raw = Object.hasOwn(binaryOps, op) || op === "where" ? [...outShape] : op === "matmul" && inShape.length >= 2 ? [...outShape.slice(0, -2), ...inShape.slice(-2)] : null;
  return raw && !sameShape(raw, inShape) ? raw : null;
}

function leafNames(names: ExplainNames | undefined): Map<Tensor, string> {
  const out = new Map<Tensor, string>();
  if (!names) return out;
  const pairs: [string, Tensor][] =
    names instanceof Map ? [...names] : typeof names.namedParameters === "function" ? (names as { namedParameters(): [string, Tensor][] }).namedParameters() : Object.entries(names as Record<string, Tensor>);
  for (const [n, t] of pairs) if (t instanceof Tensor && !out.has(t)) out.set(t, n);
  return out;
}

function opStep(node: Node, step: number, stepOf: Map<Node, number>): ExplainStep {
  const f = node.forward;
  const op = f?.op ?? node.name.replace(/Backward$/, "");
  const arity = node.inputShapes.length;
  const outShape = f ? [...f.outShape] : [];
  const name = (k: number) => inputName(op, arity, k);
  const inputs = node.inputShapes.map((s, i): GradEdge => {
    const child = node.next[i];
    const rule = f?.docs[i] ?? null;
    const why = child ? null : node.rules[i] && rule ? "does not require grad" : "no gradient flows to it";
    return { input: i, name: name(i), shape: [...s], rule, to: child ? stepOf.get(child)! : null, why, summedFrom: child ? predictSummed(op, [...s], outShape) : null };
  });
  const saved = f ? f.saved.map((k) => (k < 0 ? "out" : name(k))) : node.savedShapes.map((s) => fmt(s));
  return { step, kind: "op", op, node: node.name, name: null, inputShapes: node.inputShapes.map((s) => [...s]), outShape, saved, upstream: outShape, from: [], inputs };
}

function leafStep(node: AccumulateGrad, step: number, names: Map<Tensor, string>): ExplainStep {
  const shape = [...node.variable.shape];
  const name = names.get(node.variable) ?? null;
  return { step, kind: "leaf", op: "leaf", node: node.name, name, inputShapes: [], outShape: shape, saved: [], upstream: shape, from: [], inputs: [] };
}

function rootNode(t: Tensor): Node {
  if (!(t instanceof Tensor)) throw new Error(`explain: expects a Tensor, got ${t === null ? "null" : typeof t}.`);
  if (t.isDisposed) throw new Error(`explain: the tensor of shape ${fmt(t.shape)} was disposed; explain it before disposing it.`);
  if (t.gradFn) return t.gradFn;
  if (t.requiresGrad) return t.accumulator();
  throw new Error(
    `explain: the tensor of shape ${fmt(t.shape)} has no backward graph: it does not require grad, either because none of ` +
      `its inputs had requiresGrad: true or because it was computed under noGrad()/inferenceMode(). ` +
      `Fix: create the inputs with { requiresGrad: true } and compute the output outside noGrad().`,
  );
}

function build(output: Tensor, opts: ExplainOptions): { data: ExplainData; order: Node[] } {
  const order = toposort([rootNode(output)]);
  const stepOf = new Map(order.map((n, i) => [n, i + 1]));
  const names = leafNames(opts.names);
  const steps = order.map((n, i) => (n instanceof AccumulateGrad ? leafStep(n, i + 1, names) : opStep(n, i + 1, stepOf)));
  for (const s of steps) for (const e of s.inputs) if (e.to !== null) steps[e.to - 1].from.push(s.step);
  // A node made without forward info (a custom rule): its output has the shape its senders' inputs have.
  order.forEach((n, i) => {
    if (n instanceof AccumulateGrad || n.forward) return;
    const sender = steps[i].from.length ? steps[steps[i].from[0] - 1].inputs.find((e) => e.to === i + 1) : null;
    steps[i].outShape = steps[i].upstream = sender ? [...sender.shape] : [...output.shape];
  });
  const name = names.get(output) ?? null;
  const data = { root: { shape: [...output.shape], dtype: output.dtype, name }, seed: output.size === 1 ? "1" : `ones ${fmt(output.shape)}`, values: false, steps };
  return { data, order };
}

/** The backward graph of `output`, ready to print (toString), draw (toDot, toSvg) or serialize (toJSON). */
export class Explanation {
  constructor(readonly data: ExplainData, private readonly opts: ExplainOptions) {}
  get steps(): ExplainStep[] {
    return this.data.steps;
  }
  toString(): string {
    return formatTable(this.data, this.opts.maxRows ?? 60);
  }
  toDot(): string {
    return toDot(this.data);
  }
  toSvg(): string {
    return toSvg(this.data, this.opts.maxNodes ?? 300);
  }
  toJSON(): ExplainData {
    return this.data;
  }
}

export function explain(output: Tensor, opts?: ExplainOptions & { values?: false }): Explanation;
export function explain(output: Tensor, opts: ExplainOptions & { values: true }): Promise<Explanation>;
export function explain(output: Tensor, opts?: ExplainOptions): Explanation | Promise<Explanation>;
export function explain(output: Tensor, opts: ExplainOptions = {}): Explanation | Promise<Explanation> {
  const { data, order } = build(output, opts);
  if (!opts.values) return new Explanation(data, opts);
  const freed = order.find((n) => n.freed);
  if (freed)
    throw new Error(
      `explain: { values: true } re-walks the backward pass, but ${freed.name} (step ${order.indexOf(freed) + 1}) had its saved ` +
        `values freed by a backward() without retainGraph. Fix: call backward({ retainGraph: true }), or explain before backward().`,
    );
  return traceValues(output, data.steps, order, opts.maxValues ?? 16).then(() => new Explanation({ ...data, values: true }, opts));
}
