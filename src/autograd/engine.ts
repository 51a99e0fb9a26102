/**
 * The backward engine: a topological sort from the outputs, a seed gradient,
 * and a reverse walk that calls each node's rules and accumulates. Rules see
 * gradients of the broadcast output shape; reducing them to each input's shape
 * happens here, once (sumToShape).
 */
import { fmt, sameShape } from "../shape.js";
import { inInnermostScope, keep, ownedByInnermostScope, tidy } from "../engine/scope.js";
import { enableGrad, noGrad, isGradEnabled } from "./mode.js";
import { AccumulateGrad, type Node } from "./node.js";
import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { placeSlices, sliceRegion } from "../ops/layout.js";
import { checkRule, inBackward } from "./anomaly.js";

/**
 * Options of `Tensor.backward` (and the base of `GradOptions`).
 *
 * PyTorch: the `retain_graph` and `create_graph` arguments of `Tensor.backward`.
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); const y = x.exp().sum(); y.backward(undefined, { retainGraph: true }); y.backward(); x.grad // tensor([ 5.4366, 14.7781])
 */
export interface BackwardOptions {
  /**
   * Keep the saved values so the graph can be walked again (default: `createGraph`); without it a second backward through
   * the same graph throws.
   */
  retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients require grad and can be differentiated again (higher-order gradients). */
  createGraph?: boolean;
}

/**
 * Options of `wg.autograd.grad`: those of `backward`, and the fields below.
 *
 * PyTorch: the arguments of `torch.autograd.grad`.
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.autograd.grad(x.mul(3), x, { gradOutputs: wg.tensor([1, 10]) })[0] // tensor([ 3., 30.])
 */
export interface GradOptions extends BackwardOptions {
  /**
   * The gradient to start from for each output (a tensor of its shape, or a number to fill it; null or undefined for the
   * implicit 1 of a one-element output): one entry per output, or a single value for a single output.
   */
  gradOutputs?: (Tensor | number | null | undefined)[] | Tensor | number;
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

export function backward(root: Tensor, gradient: Tensor | number | undefined, opts: BackwardOptions): void {
  run("backward", [root], [gradient], opts, null);
}

/**
 * The gradients of `outputs` (summed) with respect to each of `inputs`, in input order. Unlike `backward()`, nothing is
 * added to any `.grad`. An output of more than one element needs its `gradOutputs`; an input the outputs do not depend on
 * throws unless `allowUnused` (then null). With `createGraph` the gradients are differentiable. Called as `wg.autograd.grad`.
 *
 * PyTorch: `torch.autograd.grad`.
 * @example const x = wg.tensor([1, 2], { requiresGrad: true }); wg.autograd.grad(x.pow(2).sum(), x)[0] // tensor([2., 4.])
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const go = opts.gradOutputs;
  const seeds = go === undefined ? [] : Array.isArray(go) ? go : [go];
  const result = run("autograd.grad", outs, outs.map((_, i) => seeds[i] ?? undefined), opts, ins);
  result.forEach((g, i) => {
    if (g === null && !opts.allowUnused)
      throw new Error(
        `autograd.grad: input ${i} (shape ${fmt(ins[i].shape)}) was not used to compute the outputs, so it has no gradient. ` +
          `Fix: pass { allowUnused: true } to get null for it.`,
      );
  });
  return result;
}

function nodeOf(op: string, t: Tensor, what: string): Node {
  if (!t.requiresGrad)
    throw new Error(
      `${op}: ${what} (shape ${fmt(t.shape)}) does not require grad and has no gradFn, so there is nothing to differentiate. ` +
        `Fix: create the inputs with { requiresGrad: true } (or call requiresGrad_()) before computing it, outside noGrad().`,
    );
  return t.gradFn ?? t.accumulator();
}

/** Nodes reachable from `roots`, each after every node that feeds it a gradient. */
export function toposort(roots: Node[]): Node[] {
  const post: Node[] = [];
  const seen = new Set<Node>();
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    const stack: [Node, number][] = [[r, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i < node.next.length) {
        top[1]++;
        const child = node.next[i];
        if (child && !seen.has(child)) {
          seen.add(child);
          stack.push([child, 0]);
        }
      } else {
        post.push(node);
        stack.pop();
      }
    }
  }
  return post.reverse();
}

function seedFor(op: string, root: Tensor, g: Tensor | number | null | undefined): Tensor {
  if (g === undefined || g === null) {
    if (root.size !== 1)
      throw new Error(
        `${op}: grad can be created implicitly only for a scalar output, but this output has shape ${fmt(root.shape)}. ` +
          `Fix: pass a gradient of shape ${fmt(root.shape)} (e.g. y.backward(wg.onesLike(y))) or reduce first, e.g. y.sum().backward().`,
      );
    return ops.scalarTensor(1, root.dtype, root.device).expand(root.shape); // cached: no launch per backward
  }
  if (typeof g === "number") return ops.full(root.shape, g, { dtype: root.dtype, device: root.device });
  if (!(g instanceof Tensor))
    throw new Error(
      `${op}: the gradient must be a Tensor or a number, got ${typeof g}${typeof g === "object" ? ` with keys ${Object.keys(g as object).join(", ") || "none"}` : ""}. ` +
        `Fix: options go second, e.g. loss.backward(undefined, { retainGraph: true }).`,
    );
  if (!sameShape(g.shape, root.shape))
    throw new Error(`${op}: gradient has shape ${fmt(g.shape)} but the output has shape ${fmt(root.shape)}; they must match.`);
  if (g.device !== root.device)
    throw new Error(`${op}: gradient is on ${g.device} but the output is on ${root.device}. Fix: await gradient.to("${root.device}").`);
  return g;
}

function run(
  op: string,
  roots: Tensor[],
  seeds: (Tensor | number | null | undefined)[],
  opts: BackwardOptions,
  inputs: Tensor[] | null,
  trace: BackwardTrace | null = null,
): (Tensor | null)[] {
  const createGraph = opts.createGraph ?? false;
  const retain = (opts.retainGraph ?? createGraph) || trace !== null;
  const rootNodes = roots.map((r, i) => nodeOf(op, r, roots.length > 1 ? `output ${i}` : "the tensor"));
  const captureAt = new Map<Node, number[]>();
  inputs?.forEach((t, i) => {
    const n = nodeOf(op, t, `input ${i}`);
    captureAt.set(n, [...(captureAt.get(n) ?? []), i]);
  });
  const order = toposort(rootNodes);
  // A node matters if a gradient we want is reachable from it.
  const needed = new Set<Node>();
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    const sink = inputs ? captureAt.has(n) : n instanceof AccumulateGrad || n.retained !== null;
    if (sink || n.next.some((c) => c !== null && needed.has(c))) needed.add(n);
  }
  const alias = (t: Tensor) => t.aliasForBackward();
  const withMode = createGraph ? enableGrad : noGrad;

  return tidy(() =>
    inBackward(() => withMode(() => {
      const grads = new Map<Node, Tensor>();
      // Gradients handed on unchanged by a rule (an add's): more than one node may hold them.
      const shared = new Set<Tensor>();
      // A gradient made in this pass is freed as soon as it is spent, not when the pass ends: a fused
      // chain still pending on the device then does not write it out, and the pass's peak is lower.
      const spend = (t: Tensor) => {
        if (!trace && !createGraph && !shared.has(t) && inInnermostScope(t)) t.dispose();
      };
      const add = (n: Node, g: Tensor) => {
        const prev = grads.get(n);
        if (!prev) return void grads.set(n, g);
        grads.set(n, prev.add(g));
        spend(prev);
        spend(g);
      };
      // Gradients of slices of one tensor wait here until its node is reached, then land in one buffer.
      const slices = new Map<Node, { shape: readonly number[]; pieces: { t: Tensor; dim: number; start: number }[] }>();
      roots.forEach((r, i) => add(rootNodes[i], seedFor(op, r, seeds[i])));
      const captured: (Tensor | null)[] = (inputs ?? []).map(() => null);
      for (const node of order) {
        const placed = slices.get(node);
        if (placed) {
          slices.delete(node);
          add(node, placeSlices(placed.shape, placed.pieces));
          placed.pieces.forEach((p) => spend(p.t));
        }
        const g = grads.get(node);
        if (!g || !needed.has(node)) continue;
        grads.delete(node);
        for (const i of captureAt.get(node) ?? []) captured[i] = keep(g);
        if (node instanceof AccumulateGrad) {
          if (trace) trace.node(node, g, []);
          else if (!inputs) accumulateInto(node.variable, g);
          continue;
        }
        if (node.retained && !inputs && !trace) accumulateInto(node.retained, g);
        const saved = node.unpack(alias);
        const sent: TracedGrad[] | null = trace ? [] : null; // nothing allocated when not tracing
        // Leaves' gradients first, then those the walk goes on with: the last kernel queued is then the
        // one the next node consumes (x @ W's dx after dW), so its elementwise consumers (a ReLU mask)
        // can still join that kernel's epilogue. Only the launch order changes.
        // The rules run in one scope: their temporaries (GELU's derivative before the product) are
        // freed as they return, so a fused chain pending on the device does not write them out. One
        // scope for all of a node's rules, since a rule may hand its siblings what it computed.
        const run = () => leavesFirst(node.next).flatMap((i) => {
          const child = node.next[i];
          const rule = node.rules[i];
          if (!child || !rule || !needed.has(child)) return [];
          const region = trace ? undefined : sliceRegion(rule);
          if (region) {
            const entry = slices.get(child) ?? { shape: node.inputShapes[i], pieces: [] };
            entry.pieces.push({ t: g, ...region });
            slices.set(child, entry);
            shared.add(g);
            return [];
          }
          const raw = rule(g, saved, node.attrs);
          checkRule(node, i, raw);
          const summed = ops.sumToShape(raw, node.inputShapes[i]);
          if (sent) sent[i] = { raw, summed };
          if (summed === g) shared.add(g);
          return [{ child, summed }];
        });
        for (const { child, summed } of trace || createGraph ? run() : tidy(run)) add(child, summed);
        if (trace) trace.node(node, g, sent!);
        if (!captureAt.has(node) && !node.retained) spend(g);
        if (!retain) node.release();
      }
      return captured;
    })),
  );
}

/** Indices of `next`: children that lead straight to a leaf first, each group in its own order. */
function leavesFirst(next: readonly (Node | null)[]): number[] {
  const leaf = next.map(leadsToLeaf);
  return [...next.keys()].sort((a, b) => Number(leaf[b]) - Number(leaf[a]) || a - b);
}

/** An AccumulateGrad, or a few single-input nodes (W.T's transpose) in front of one. */
function leadsToLeaf(n: Node | null): boolean {
  for (let depth = 0; n && depth < 4; depth++) {
    if (n instanceof AccumulateGrad) return true;
    const inputs = n.next.filter((c) => c !== null);
    if (inputs.length !== 1) return false;
    n = inputs[0];
  }
  return false;
}

/** A gradient a node sent to one input: as its rule returned it, and summed back to the input's shape. */
export interface TracedGrad {
  raw: Tensor;
  summed: Tensor;
}

/** What a traced backward (wg.explain's values) reports per node; tensors die with the pass unless kept. */
export interface BackwardTrace {
  node(node: Node, upstream: Tensor, sent: (TracedGrad | undefined)[]): void;
}

/**
 * Walk the backward pass of `root` (seeded with ones) and report each node to
 * `trace`, keeping the saved values and leaving every .grad untouched.
 */
export function traceBackward(root: Tensor, trace: BackwardTrace): void {
  const seed = root.size === 1 ? undefined : ops.onesLike(root);
  run("explain", [root], [seed], { retainGraph: true }, null, trace);
}

/**
 * Add a gradient into t.grad: in place when nothing needs its history (as
 * PyTorch does), else out of place. A dense gradient that only this backward
 * pass references is adopted without a copy.
 */
function accumulateInto(t: Tensor, g: Tensor): void {
  const old = t.grad;
  if (old === null) {
    const own = g.dtype === t.dtype && g.offset === 0 && g.isContiguous() && !g.requiresGrad && ownedByInnermostScope(g.handle.storage);
    t.grad = keep(own ? new Tensor(g.handle.storage, t.shape, t.dtype) : ops.clone(g.dtype === t.dtype ? g : g.cast(t.dtype)));
  } else if (isGradEnabled() || old.requiresGrad) {
    t.grad = keep(old.add(g));
  } else {
    old.add_(g);
  }
}
