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

/**
 * Names for the leaves in `wg.explain`'s table and drawings: a Module (its `namedParameters()`), an object or a Map from
 * name to tensor.
 *
 * PyTorch: none (webgrad only).
 * @example const model = new wg.nn.Sequential(new wg.nn.Linear(2, 2)); String(wg.explain(model.forward(wg.ones([1, 2])).sum(), { names: model })) // leaves named 0.weight, 0.bias
 */
export type ExplainNames = { namedParameters(): [string, Tensor][] } | Record<string, Tensor> | Map<string, Tensor>;

/**
 * Options of `wg.explain`.
 *
 * PyTorch: none (webgrad only).
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); String(wg.explain(x.square().sum(), { names: { x }, maxRows: 20 }))
 */
export interface ExplainOptions {
  /** Read the values of small tensors (forward values, upstream, local and sent gradients): returns a Promise. */
  values?: boolean;
  /** Names for the leaves (a Module, or an object or Map from name to tensor); unnamed leaves show their shape only. */
  names?: ExplainNames;
  /** Tensors with at most this many elements show their values (default 16). */
  maxValues?: number;
  /** The table elides repeated blocks, then the middle, beyond this many steps (default 60). */
  maxRows?: number;
  /** The SVG draws at most this many steps and says how many it left out (default 300). */
  maxNodes?: number;
}

/**
 * A tensor's shape and, when it is small enough (`maxValues`) and values were asked for, its values (row-major).
 *
 * PyTorch: none (webgrad only).
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); (await wg.explain(x.square().sum(), { values: true })).steps[0].upstreamValue // { shape: [], values: [1] }
 */
export interface Values {
  /** The tensor's shape. */
  shape: number[];
  /** The values, flat and row-major; null when the tensor has more than `maxValues` elements. */
  values: number[] | null;
}

/**
 * The gradient one step sends to one of its inputs: the rule in words, where it goes, and (values mode) its numbers.
 *
 * PyTorch: none (webgrad only).
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.explain(x.tanh().sum()).steps[1].inputs[0].rule // "d tanh(x)/dx = 1 - tanh²(x)"
 */
export interface GradEdge {
  /** The input's position among the op's inputs. */
  input: number;
  /** The input's name in the rule ("x", "a", "b", "A", ...). */
  name: string;
  /** The input's shape, which the gradient sent has. */
  shape: number[];
  /** The local derivative in words, e.g. "d tanh(x)/dx = 1 - tanh²(x)"; null where the input gets no gradient. */
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

/**
 * One node of the backward graph, in the order backward runs it: its forward op, shapes, what it saved, the gradient it
 * receives and what it sends each input.
 *
 * PyTorch: none (webgrad only).
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.explain(x.tanh().sum()).steps.map((s) => s.node) // ["SumBackward", "TanhBackward", "AccumulateGrad"]
 */
export interface ExplainStep {
  /** The step's number, from 1 (the output's node) in the order backward runs the nodes. */
  step: number;
  /** "op" for an op's backward node, "leaf" for a leaf's AccumulateGrad. */
  kind: "op" | "leaf";
  /** The forward op ("tanh"); for a leaf, "leaf". */
  op: string;
  /** The backward node ("TanhBackward", "AccumulateGrad"). */
  node: string;
  /** A leaf's name from opts.names, else null. */
  name: string | null;
  /** The shapes of the forward op's inputs (none for a leaf). */
  inputShapes: number[][];
  /** The shape of the forward op's output (a leaf's own shape). */
  outShape: number[];
  /** What the node saved for its rules: input names and/or "out". */
  saved: string[];
  /** The shape of the gradient it receives (the sum over `from`). */
  upstream: number[];
  /** The steps whose gradients arrive here. */
  from: number[];
  /** What the step sends each input, in input order. */
  inputs: GradEdge[];
  /** Values mode: the forward output's value (a leaf's own value). */
  value?: Values;
  /** Values mode: the gradient the step receives. */
  upstreamValue?: Values;
}

/**
 * Everything `wg.explain` found, as plain data (what `toJSON()` returns): the output, the seed and the steps.
 *
 * PyTorch: none (webgrad only).
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.explain(x.tanh().sum()).data.seed // "1"
 */
export interface ExplainData {
  /** The explained output: its shape, dtype and name (from `names`, else null). */
  root: { shape: number[]; dtype: string; name: string | null };
  /** What backward starts from: 1 for a scalar, ones of the output's shape otherwise. */
  seed: string;
  /** Whether the steps carry values (`explain` was called with `{ values: true }`). */
  values: boolean;
  /** The steps in the order backward runs them, the output's node first. */
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

/**
 * The backward graph of a tensor, as `wg.explain` returns it: ready to print (`toString`), draw (`toDot`, `toSvg`) or
 * serialize (`toJSON`). Its `data` field holds what explain found, as plain `ExplainData`.
 *
 * PyTorch: none (webgrad only).
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); console.log(String(wg.explain(x.tanh().sum()))) // prints one row per step
 */
export class Explanation {
  /**
   * Made by `wg.explain`: `data` is what it found, `opts` the options it was given (`maxRows`, `maxNodes`).
   *
   * PyTorch: none (webgrad only).
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); const e = wg.explain(x.tanh().sum()); new wg.Explanation(e.data, { maxRows: 10 }).steps.length // 3
   */
  constructor(
    /** The explanation as plain data (steps, edges, values): what `toJSON()` serializes and the renderers read. */
    readonly data: ExplainData,
    private readonly opts: ExplainOptions,
  ) {}
  /**
   * The steps, in the order backward runs them (`data.steps`).
   *
   * PyTorch: none (webgrad only).
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.explain(x.tanh().sum()).steps.map((s) => s.op) // ["sum", "tanh", "leaf"]
   */
  get steps(): ExplainStep[] {
    return this.data.steps;
  }
  /**
   * The graph as a text table, one row per step: backward node, forward op with shapes, saved values, the gradient it gets
   * and from where, and per input the rule and where its gradient goes (values too in values mode). Beyond `maxRows` steps
   * (default 60) repeated blocks, then the middle, are elided.
   *
   * PyTorch: none (webgrad only).
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); console.log(wg.explain(x.tanh().sum()).toString()) // prints the table
   */
  toString(): string {
    return formatTable(this.data, this.opts.maxRows ?? 60);
  }
  /**
   * The graph in Graphviz DOT, edges labelled with the gradient shapes (render with `dot -Tsvg`).
   *
   * PyTorch: none (webgrad only; torchviz draws a similar graph).
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.explain(x.tanh().sum()).toDot().startsWith("digraph") // true
   */
  toDot(): string {
    return toDot(this.data);
  }
  /**
   * The graph as a standalone SVG, drawn without Graphviz: steps from the output (top) to the leaves, edges labelled with
   * the gradient shapes; at most `maxNodes` steps (default 300), saying how many it left out.
   *
   * PyTorch: none (webgrad only).
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.explain(x.tanh().sum()).toSvg().startsWith("<svg") // true
   */
  toSvg(): string {
    return toSvg(this.data, this.opts.maxNodes ?? 300);
  }
  /**
   * The plain data (`data`), so `JSON.stringify(explanation)` serializes the whole graph.
   *
   * PyTorch: none (webgrad only).
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); JSON.parse(JSON.stringify(wg.explain(x.tanh().sum()))).steps.length // 3
   */
  toJSON(): ExplainData {
    return this.data;
  }
}

/**
 * The backward graph of `output`: every node backward would run, in order, with its forward op, the input and output
 * shapes, what it saved, the local derivative of each input in words, and the shape of the gradient it receives and of
 * each it sends. With `{ values: true }` it returns a Promise and also reads the values of small tensors (forward values,
 * gradients), by walking the backward pass again: after a `backward()`, that one needs `{ retainGraph: true }`. Throws for
 * a tensor with no graph (nothing required grad). No `.grad` is touched.
 *
 * PyTorch: none (webgrad only).
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); console.log(String(wg.explain(x.tanh().sum(), { names: { x } }))) // prints the table
 */
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
