/**
 * Graph generation and checking: draw a seeded graph of at most `maxSteps`
 * ops over tensors of at most `maxNumel` elements, and re-derive every meta of
 * a (possibly shrunk) graph, rejecting one that is no longer a valid program.
 */
import { leafData, numel, Rng, type DT, type Graph, type Leaf, type Meta, type OpStep, type Step } from "./graph.js";
import { layoutOps } from "./ops-layout.js";
import { PRECISION, valueOps } from "./ops-values.js";
import { meta, randomShape, RANGES, type OpDef, type Pool } from "./pool.js";

export const OPS: Record<string, OpDef> = { ...valueOps, ...layoutOps };

/**
 * Ops whose value or gradient jumps (at 0, at a tie, at an integer): fed a value that is
 * within rounding of the jump, CPU and WebGPU would rightly disagree (see Meta.rounded).
 */
const JUMPS = new Set(["sign", "abs", "relu", "maximum", "minimum", "eq", "ne", "gt", "ge", "lt", "le", "where", "int", "max", "min", "argmax", "argmin"]);
const ROUNDING = new Set(["exp", "log", "sqrt", "tanh", "sigmoid", "erf", "div", "pow", "softmax", "logSoftmax"]);
export const OP_NAMES = Object.keys(OPS);

export interface GenOptions {
  maxSteps?: number;
  maxNumel?: number;
}

/** The state of a graph being built or checked: metas of live tensors, which were read, which were overwritten. */
class State implements Pool {
  readonly metas = new Map<string, Meta>();
  readonly leaves = new Set<string>();
  readonly read = new Set<string>();
  readonly dead = new Set<string>();
  readonly steps: Step[] = [];
  constructor(readonly r: Rng, readonly maxNumel: number) {}

  choose(ok: (m: Meta, name: string) => boolean): string | null {
    const names = [...this.metas.keys()].filter((n) => !this.dead.has(n) && ok(this.metas.get(n)!, n));
    if (!names.length) return null;
    // Mostly the newest tensor that fits, so ops chain into deep graphs as well as branch.
    return this.r.chance(0.5) ? names[names.length - 1] : this.r.pick(names);
  }
  meta(name: string): Meta { return this.metas.get(name)!; }
  isLeaf(name: string): boolean { return this.leaves.has(name); }
  used(name: string): boolean { return this.read.has(name); }
  fresh(): string { return `t${this.steps.length}`; }

  leaf(shape: number[], dtype: DT, lo: number, hi: number, requiresGrad = dtype === "float32" && this.r.chance(0.75)): string {
    const l: Leaf = { kind: "leaf", out: this.fresh(), shape, dtype, data: leafData(this.r, numel(shape), lo, hi, dtype), requiresGrad };
    this.add(l);
    return l.out;
  }

  /** Record a step whose meta is known to be valid. */
  add(s: Step, m: Meta = leafMeta(s as Leaf)): void {
    this.steps.push(s);
    if (s.kind === "leaf") this.leaves.add(s.out);
    else {
      s.ins.forEach((n) => this.read.add(n));
      if (OPS[s.op].inplace) this.dead.add(s.ins[0]);
    }
    this.metas.set(s.out, m);
  }

  /** The meta of an op step over the current state, or null when it is not valid here. */
  check(s: OpStep): Meta | null {
    const def = OPS[s.op];
    if (!def || s.ins.some((n) => !this.metas.has(n) || this.dead.has(n))) return null;
    const ins = s.ins.map((n) => this.metas.get(n)!);
    if (def.inplace && (this.leaves.has(s.ins[0]) || this.read.has(s.ins[0]) || s.ins.slice(1).includes(s.ins[0]))) return null;
    const rounded = Math.max(0, ...ins.map((m) => m.rounded ?? 0));
    if (JUMPS.has(s.op) && rounded > 1) return null;
    const m = def.infer(ins, s.p);
    if (m) m.rounded = rounded + (PRECISION[s.op] !== undefined ? 2 : ROUNDING.has(s.op) ? 1 : 0);
    return m && numel(m.shape) <= this.maxNumel ? m : null;
  }
}

function leafMeta(l: Leaf): Meta {
  const range: [number, number] = l.data.length ? [Math.min(...l.data), Math.max(...l.data)] : [0, 0];
  return meta(l.shape, l.dtype, range, l.requiresGrad, false, true)!;
}

/** A seeded random graph: one or two leaves, then up to maxSteps ops drawn from every table. */
export function generate(seed: number, opts: GenOptions = {}): Graph {
  const maxSteps = opts.maxSteps ?? 8;
  const r = new Rng(seed);
  const st = new State(r, opts.maxNumel ?? 64);
  for (let i = r.int(1, 2); i > 0; i--) {
    const [lo, hi] = r.pick(RANGES);
    st.leaf(randomShape(r, st.maxNumel), "float32", lo, hi, r.chance(0.85));
  }
  const steps = r.int(1, maxSteps);
  for (let done = 0, tries = 0; done < steps && tries < 50 * steps; tries++) {
    const op = r.pick(OP_NAMES);
    const mark = st.steps.length;
    const picked = OPS[op].pick(r, st);
    const s: OpStep | null = picked && { kind: "op", out: st.fresh(), op, ins: picked.ins, p: picked.p };
    const m = s && st.check(s);
    if (!s || !m) {
      dropFrom(st, mark); // leaves made for a call that did not fit
      continue;
    }
    st.add(s, m);
    done++;
  }
  return { seed, steps: st.steps, backward: r.chance(0.3) ? "gradient" : "sum" };
}

function dropFrom(st: State, mark: number): void {
  for (const s of st.steps.splice(mark)) {
    st.metas.delete(s.out);
    st.leaves.delete(s.out);
  }
}

export interface Checked {
  metas: Map<string, Meta>;
  /** Live tensors at the end (not overwritten in place), in order. */
  live: string[];
  /** Live float tensors that require grad and that no step reads: the outputs backward starts from. */
  sinks: string[];
  /** Longest chain of ops from a leaf to each tensor. */
  depth: Map<string, number>;
  /** Every tensor each one was computed from, itself included. */
  ancestors: Map<string, Set<string>>;
  /** The op that made each tensor (absent for leaves). */
  ops: Map<string, string>;
}

/** Re-derive every meta; null when some step is not valid any more (after shrinking). */
export function check(g: Graph, maxNumel = Infinity): Checked | null {
  const st = new State(new Rng(0), maxNumel);
  const depth = new Map<string, number>();
  const ancestors = new Map<string, Set<string>>();
  const ops = new Map<string, string>();
  for (const s of g.steps) {
    if (st.metas.has(s.out)) return null;
    if (s.kind === "leaf") {
      if (s.data.length !== numel(s.shape)) return null;
      st.add(s);
      depth.set(s.out, 0);
      ancestors.set(s.out, new Set([s.out]));
      continue;
    }
    const m = st.check(s);
    if (!m) return null;
    st.add(s, m);
    ops.set(s.out, s.op);
    depth.set(s.out, 1 + Math.max(...s.ins.map((n) => depth.get(n)!)));
    ancestors.set(s.out, new Set([s.out, ...s.ins.flatMap((n) => [...ancestors.get(n)!])]));
  }
  const live = [...st.metas.keys()].filter((n) => !st.dead.has(n));
  const sinks = live.filter((n) => !st.read.has(n) && st.metas.get(n)!.grad);
  return { metas: st.metas, live, sinks, depth, ancestors, ops };
}
