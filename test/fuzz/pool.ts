/**
 * What an op generator sees while a graph is built: the tensors so far, their
 * metas, and a way to add a leaf. Shape helpers follow PyTorch's rules.
 */
import { leafData, numel, type Call, type DT, type Meta, type Rng } from "./graph.js";

/** How an op is drawn, typed, and called; `p` holds its literal parameters (dims, shapes). */
export interface OpDef {
  /** Choose inputs (existing or new leaves) and parameters; null when nothing fits. */
  pick(r: Rng, pool: Pool): { ins: string[]; p: Record<string, unknown> } | null;
  /** The output's meta, or null when these inputs and parameters are not a valid call. */
  infer(ins: Meta[], p: Record<string, unknown>): Meta | null;
  call(p: Record<string, unknown>, nIns: number): Call;
  /** The output is the first input itself, written in place. */
  inplace?: boolean;
}

export interface Pool {
  readonly maxNumel: number;
  /** A random live tensor satisfying `ok`, or null. */
  choose(ok: (m: Meta, name: string) => boolean): string | null;
  meta(name: string): Meta;
  isLeaf(name: string): boolean;
  /** Some step already read this tensor (so it may be saved for backward, or viewed). */
  used(name: string): boolean;
  leaf(shape: number[], dtype: DT, lo: number, hi: number, requiresGrad?: boolean): string;
}

export type Interval = [number, number];

/** Value ranges leaves are drawn from. */
export const RANGES: Interval[] = [[-2, 2], [-1, 1], [0.25, 2], [-2, -0.25], [0.5, 1.5]];

/** Beyond this magnitude a graph's errors are too loose to mean anything, so no op may reach it. */
const MAX_MAGNITUDE = 1e4;

export function meta(shape: number[], dtype: DT, [lo, hi]: Interval, grad: boolean, fresh: boolean, exact: boolean): Meta | null {
  if (!(Math.abs(lo) <= MAX_MAGNITUDE && Math.abs(hi) <= MAX_MAGNITUDE) || lo > hi) return null;
  return { shape, dtype, lo, hi, grad: grad && dtype === "float32", fresh, exact };
}

export function broadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** A shape that broadcasts with `shape`: dims set to 1, leading dims dropped or added, 1s widened. */
export function partnerShape(r: Rng, shape: readonly number[]): number[] {
  let s = shape.map((d) => (r.chance(0.3) ? 1 : d));
  if (r.chance(0.3)) s = s.slice(r.int(0, s.length));
  const lead = shape.length - s.length;
  s = s.map((d, i) => (shape[lead + i] === 1 && r.chance(0.3) ? r.int(2, 3) : d));
  if (r.chance(0.15)) s = [r.int(1, 3), ...s];
  return s;
}

/** The largest dim drawn: 4 for the small graphs of CI, more when a run allows more elements (other kernel paths). */
export const maxDim = (maxNumel: number): number => (maxNumel <= 64 ? 4 : Math.floor(Math.sqrt(maxNumel)));

/** A random shape of rank 0-4 with dims in 0-maxDim (0 rarely), at most `max` elements. */
export function randomShape(r: Rng, max: number): number[] {
  for (;;) {
    const rank = r.pick([0, 1, 1, 2, 2, 2, 3, 3, 4]);
    const s = Array.from({ length: rank }, () => (r.chance(0.04) ? 0 : r.chance(0.25) ? 1 : r.int(2, r.chance(0.5) ? 4 : maxDim(max))));
    if (numel(s) <= max) return s;
  }
}

/** A random shape holding exactly n elements (n > 0), for reshape. */
export function factorShape(r: Rng, n: number): number[] {
  const factors: number[] = [];
  for (let m = n, p = 2; m > 1; ) {
    if (m % p === 0) {
      factors.push(p);
      m /= p;
    } else p++;
  }
  const rank = r.int(1, 4);
  const s = new Array<number>(rank).fill(1);
  for (const f of factors) s[r.int(0, rank - 1)] *= f;
  return s;
}

export const magnitude = (m: Meta): number => Math.max(Math.abs(m.lo), Math.abs(m.hi));
export const within = (m: Meta, [lo, hi]: Interval): boolean => m.lo >= lo && m.hi <= hi;

/** A new leaf of `shape` whose values satisfy `ok`, or an existing tensor of that shape that does. */
export function operand(r: Rng, pool: Pool, shape: number[], dtype: DT, ok: (i: Interval) => boolean = () => true): string | null {
  if (r.chance(0.35)) {
    const found = pool.choose((m) => m.dtype === dtype && m.shape.join() === shape.join() && ok([m.lo, m.hi]));
    if (found) return found;
  }
  const ranges = dtype === "int32" ? ([[-3, 3], [0, 3]] as Interval[]) : RANGES.filter(ok);
  if (!ranges.length) return null;
  const [lo, hi] = r.pick(ranges);
  return pool.leaf(shape, dtype, lo, hi);
}

/** A multiple of 1/64 in [lo, hi] (an integer for int32), to pass as a number operand. */
export function scalar(r: Rng, [lo, hi]: Interval, dtype: DT): number {
  return leafData(r, 1, lo, hi, dtype)[0];
}
