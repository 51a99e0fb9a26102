/**
 * A fuzz graph: leaves with literal data, then a short list of steps over
 * named tensors, each one method call (or one `wg.` function call). The same
 * description is executed on each device and printed as a program, so a
 * failure reads as code that reproduces it.
 */
import { Rng as DataRng } from "../../src/data/batches.js";

/** The data loader's mulberry32 stream (src/data/batches.ts), with the draws the generator needs. */
export class Rng {
  private stream: DataRng;
  constructor(seed: number) {
    this.stream = new DataRng(seed);
  }
  next(): number {
    return this.stream.next();
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

export type DT = "float32" | "int32";

/** What the generator knows of a tensor without running it: PyTorch's shape rules and an interval holding every value. */
export interface Meta {
  shape: number[];
  dtype: DT;
  lo: number;
  hi: number;
  /** requires grad, by PyTorch's rules */
  grad: boolean;
  /** Own storage that no op saved for backward and no view shares: in-place ops may write it. */
  fresh: boolean;
  /** Computed without rounding from the leaves (adds of multiples of 1/64): casts to int agree across devices. */
  exact: boolean;
  /**
   * How many ops on the way here may round differently on each device (transcendental functions, div,
   * softmax): two of them can make a mathematical tie (log(exp(x)) vs x) a near-tie that a jump flips.
   * An op whose error exceeds float32 rounding (PRECISION) counts twice.
   */
  rounded?: number;
}

/** An argument of a call: a tensor by input index, a list of them, or a literal. */
export type Arg = { ref: number } | { refs: number[] } | number | number[] | boolean | null | undefined;

export interface Call {
  /** Index of the receiver among the step's inputs; null for a `wg.` function. */
  on: number | null;
  fn: string;
  args: Arg[];
}

export interface Leaf {
  kind: "leaf";
  out: string;
  shape: number[];
  dtype: DT;
  data: number[];
  requiresGrad: boolean;
}

export interface OpStep {
  kind: "op";
  out: string;
  op: string;
  ins: string[];
  p: Record<string, unknown>;
}

export type Step = Leaf | OpStep;

export interface Graph {
  seed: number;
  steps: Step[];
  /** How the backward pass is seeded: sum(out * r) for every sink, or out.backward(r) when there is one sink. */
  backward: "sum" | "gradient";
}

export const numel = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);
export const fmtShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** Multiples of 1/64 in [lo, hi]: exact in float32 on every device and short to print. */
export function leafData(r: Rng, n: number, lo: number, hi: number, dtype: DT): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(dtype === "int32" ? r.int(lo, hi) : r.int(Math.ceil(lo * 64), Math.floor(hi * 64)) / 64);
  return out;
}

function argText(a: Arg, ins: readonly string[]): string {
  if (a === undefined) return "undefined";
  if (a === null) return "null";
  if (typeof a === "number" || typeof a === "boolean") return String(a);
  if (Array.isArray(a)) return fmtShape(a);
  if ("ref" in a) return ins[a.ref];
  return `[${a.refs.map((i) => ins[i]).join(", ")}]`;
}

export function callText(c: Call, ins: readonly string[]): string {
  let args = c.args;
  while (args.length && args[args.length - 1] === undefined) args = args.slice(0, -1);
  const list = args.map((a) => argText(a, ins)).join(", ");
  if (c.on === null) return `wg.${c.fn}(${list})`;
  return c.fn === "T" ? `${ins[c.on]}.T` : `${ins[c.on]}.${c.fn}(${list})`;
}

export function leafText(l: Leaf): string {
  const array = l.dtype === "int32" ? "Int32Array" : "Float32Array";
  const opts = [`shape: ${fmtShape(l.shape)}`];
  if (l.dtype === "int32") opts.push(`dtype: "int32"`);
  if (l.requiresGrad) opts.push("requiresGrad: true");
  return `wg.tensor(new ${array}([${l.data.join(", ")}]), { ${opts.join(", ")} })`;
}
