/**
 * The numbers for wg.explain({ values: true }): a traced backward pass
 * (engine.traceBackward, which leaves .grad alone) reports each node's
 * upstream and sent gradients; small ones are copied out of the pass and read
 * back, with the forward values of the nodes' outputs and leaves.
 */
import { sameShape } from "../shape.js";
import { keep, tidy } from "../engine/scope.js";
import { noGrad } from "./mode.js";
import { AccumulateGrad, type Node } from "./node.js";
import { traceBackward, type TracedGrad } from "./engine.js";
import { unaryOps, binaryOps } from "../ops/elementwise.js";
import * as ops from "../ops/index.js";
import type { Tensor } from "../tensor.js";
import type { ExplainStep, Values } from "./explain.js";

/** Ops whose rule is g times a local derivative of the output's shape, so rule(ones) is that derivative. */
const ELEMENTWISE = new Set<string>([...Object.keys(unaryOps), ...Object.keys(binaryOps), "where"]);

interface Read {
  t: Tensor;
  copy: boolean; // a copy made here, disposed after reading
  put: (v: Values) => void;
}

class Reader {
  readonly reads: Read[] = [];
  constructor(private readonly max: number) {}

  /** Read `t` later; a copy when it lives only inside the traced pass. */
  want(t: Tensor | null | undefined, copy: boolean, put: (v: Values) => void): void {
    if (!t || t.isDisposed) return;
    if (t.size > this.max) return put({ shape: [...t.shape], values: null });
    this.reads.push({ t: copy ? keep(noGrad(() => ops.clone(ops.detach(t)))) : t, copy, put });
  }

  /** Drop the copies without reading them (the traced pass threw). */
  abandon(): void {
    for (const r of this.reads) if (r.copy) r.t.dispose();
  }

  async finish(): Promise<void> {
    try {
      const got = await Promise.all(this.reads.map((r) => r.t.data()));
      this.reads.forEach((r, i) => r.put({ shape: [...r.t.shape], values: Array.from(got[i]) }));
    } finally {
      for (const r of this.reads) if (r.copy) r.t.dispose();
    }
  }
}

function sentValues(reader: Reader, node: Node, step: ExplainStep, g: Tensor, sent: (TracedGrad | undefined)[]): void {
  const elementwise = ELEMENTWISE.has(step.op);
  sent.forEach((tg, i) => {
    if (!tg) return;
    const edge = step.inputs[i];
    edge.summedFrom = sameShape(tg.raw.shape, edge.shape) ? null : [...tg.raw.shape];
    reader.want(tg.summed, true, (v) => (edge.sent = v));
    if (!elementwise) return;
    // Rules are linear in g, so with g = 1 an elementwise rule returns its local derivative.
    const local = node.rules[i]!(ops.onesLike(g), node.unpack((t) => t.aliasForBackward()), node.attrs);
    reader.want(local, true, (v) => (edge.local = v));
  });
}

/** Fill in the values of `steps` (built from `order`) by walking the backward pass of `output` once more. */
export async function traceValues(output: Tensor, steps: ExplainStep[], order: Node[], max: number): Promise<void> {
  const reader = new Reader(max);
  const stepOf = new Map(order.map((n, i) => [n, steps[i]]));
  for (const [node, step] of stepOf) {
    const value = node instanceof AccumulateGrad ? node.variable : node === output.gradFn ? output : node.forward?.output.deref();
    reader.want(value, false, (v) => (step.value = v));
  }
  try {
    tidy(() =>
      traceBackward(output, {
        node(node, g, sent) {
          const step = stepOf.get(node)!;
          reader.want(g, true, (v) => (step.upstreamValue = v));
          sentValues(reader, node, step, g, sent);
        },
      }),
    );
  } catch (e) {
    reader.abandon();
    throw e;
  }
  await reader.finish();
}
