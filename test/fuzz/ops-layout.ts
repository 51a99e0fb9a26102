/**
 * Generators for layout ops (views and copies: reshape, flatten, permute,
 * transpose, T, expand, unsqueeze, squeeze, slice, cat, stack, gather,
 * clone, contiguous, detach) and in-place writes. Views keep their input's
 * interval; none of them is `fresh`, so no in-place op writes through a view.
 */
import { numel, type Call, type Meta, type Rng } from "./graph.js";
import { broadcast, factorShape, meta, operand, partnerShape, scalar, type OpDef } from "./pool.js";

const ref = (i: number) => ({ ref: i });
const norm = (d: number, rank: number) => (d < 0 ? d + rank : d);
const inRange = (d: number, rank: number) => Number.isInteger(d) && d >= -rank && d < rank;
const rank1 = (m: Meta) => m.shape.length > 0;
const same = (a: readonly number[], b: readonly number[]) => a.join() === b.join();
const insertAt = (xs: readonly number[], i: number, v: number) => [...xs.slice(0, i), v, ...xs.slice(i)];

/** A view of x: same dtype, interval, grad and exactness; shares storage. */
const viewOf = (x: Meta, shape: number[]) => meta(shape, x.dtype, [x.lo, x.hi], x.grad, false, x.exact);

const signedDim = (r: Rng, d: number, rank: number) => (r.chance(0.3) ? d - rank : d);

/** An op of one input whose parameters are drawn from its shape. */
function shaped(draw: (r: Rng, x: Meta) => Record<string, unknown> | null, out: (x: Meta, p: Record<string, unknown>) => number[] | null, call: (p: Record<string, unknown>) => Call, ok = rank1): OpDef {
  return {
    pick: (r, pool) => {
      const x = pool.choose(ok);
      const p = x && draw(r, pool.meta(x));
      return x && p ? { ins: [x], p } : null;
    },
    infer: ([x], p) => {
      const shape = ok(x) ? out(x, p) : null;
      return shape ? viewOf(x, shape) : null;
    },
    call,
  };
}

const reshape = shaped(
  (r, x) => {
    const n = numel(x.shape);
    const to = n === 0 ? [...x.shape].reverse() : factorShape(r, n);
    if (n > 0 && r.chance(0.3)) to[r.int(0, to.length - 1)] = -1;
    return { shape: to };
  },
  (x, p) => {
    const to = p.shape as number[];
    const known = numel(to.filter((d) => d !== -1));
    const n = numel(x.shape);
    if (to.filter((d) => d === -1).length > 1 || (to.includes(-1) && (known === 0 || n % known !== 0))) return null;
    const out = to.map((d) => (d === -1 ? n / known : d));
    return numel(out) === n ? out : null;
  },
  (p) => ({ on: 0, fn: "reshape", args: [p.shape as number[]] }),
  () => true,
);

const flatten = shaped(
  (r, x) => {
    const a = r.int(0, x.shape.length - 1);
    return { start: signedDim(r, a, x.shape.length), end: signedDim(r, r.int(a, x.shape.length - 1), x.shape.length) };
  },
  (x, p) => {
    const k = x.shape.length;
    if (!inRange(p.start as number, k) || !inRange(p.end as number, k)) return null;
    const [s, e] = [norm(p.start as number, k), norm(p.end as number, k)];
    return s > e ? null : [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  },
  (p) => ({ on: 0, fn: "flatten", args: [p.start as number, p.end as number] }),
);

const permute = shaped(
  (r, x) => ({ dims: r.shuffle([...x.shape.keys()]).map((d) => signedDim(r, d, x.shape.length)) }),
  (x, p) => {
    const dims = (p.dims as number[]).map((d) => norm(d, x.shape.length));
    const valid = dims.length === x.shape.length && new Set(dims).size === dims.length && dims.every((d) => d >= 0 && d < dims.length);
    return valid ? dims.map((d) => x.shape[d]) : null;
  },
  (p) => ({ on: 0, fn: "permute", args: [p.dims as number[]] }),
);

const transpose = shaped(
  (r, x) => ({ d0: signedDim(r, r.int(0, x.shape.length - 1), x.shape.length), d1: signedDim(r, r.int(0, x.shape.length - 1), x.shape.length) }),
  (x, p) => {
    const k = x.shape.length;
    if (!inRange(p.d0 as number, k) || !inRange(p.d1 as number, k)) return null;
    const s = [...x.shape];
    const [a, b] = [norm(p.d0 as number, k), norm(p.d1 as number, k)];
    [s[a], s[b]] = [s[b], s[a]];
    return s;
  },
  (p) => ({ on: 0, fn: "transpose", args: [p.d0 as number, p.d1 as number] }),
);

const matrixT = shaped(() => ({}), (x) => [x.shape[1], x.shape[0]], () => ({ on: 0, fn: "T", args: [] }), (m) => m.shape.length === 2);

const expand = shaped(
  (r, x) => {
    const to: number[] = x.shape.map((d) => (d === 1 ? r.pick([1, 2, 3, 3, 0]) : r.chance(0.3) ? -1 : d));
    if (r.chance(0.3)) to.unshift(r.int(1, 3));
    return { shape: to };
  },
  (x, p) => {
    const to = p.shape as number[];
    const lead = to.length - x.shape.length;
    if (lead < 0) return null;
    const out = to.map((d, i) => (i >= lead && d === -1 ? x.shape[i - lead] : d));
    const ok = out.every((d, i) => d >= 0 && (i < lead || x.shape[i - lead] === d || x.shape[i - lead] === 1));
    return ok ? out : null;
  },
  (p) => ({ on: 0, fn: "expand", args: [p.shape as number[]] }),
  () => true,
);

const unsqueeze = shaped(
  (r, x) => ({ dim: r.int(-x.shape.length - 1, x.shape.length) }),
  (x, p) => (inRange(p.dim as number, x.shape.length + 1) ? insertAt(x.shape, norm(p.dim as number, x.shape.length + 1), 1) : null),
  (p) => ({ on: 0, fn: "unsqueeze", args: [p.dim as number] }),
  () => true,
);

const squeeze = shaped(
  (r, x) => {
    const ones = x.shape.flatMap((s, i) => (s === 1 ? [i] : []));
    return { dim: r.chance(0.3) || !ones.length ? undefined : signedDim(r, r.pick(ones), x.shape.length) };
  },
  (x, p) => {
    const k = x.shape.length;
    if (p.dim === undefined) return x.shape.filter((s) => s !== 1);
    if (!inRange(p.dim as number, Math.max(k, 1))) return null;
    const d = norm(p.dim as number, Math.max(k, 1));
    return x.shape[d] === 1 ? x.shape.filter((_, i) => i !== d) : [...x.shape];
  },
  (p) => ({ on: 0, fn: "squeeze", args: [p.dim as number | undefined] }),
  () => true,
);

/** Python slice bounds on one dim (negative from the end, clamped), as webgrad's and PyTorch's narrow-by-slice. */
function sliceLength(n: number, start: number, end: number | undefined): number {
  const c = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = c(start);
  return Math.max(s, c(end ?? n)) - s;
}

const slice = shaped(
  (r, x) => {
    const dim = r.int(0, x.shape.length - 1);
    const n = x.shape[dim];
    return { dim: signedDim(r, dim, x.shape.length), start: r.int(-n - 1, n + 1), end: r.chance(0.2) ? undefined : r.int(-n - 1, n + 1) };
  },
  (x, p) => {
    if (!inRange(p.dim as number, x.shape.length)) return null;
    const d = norm(p.dim as number, x.shape.length);
    return x.shape.map((s, i) => (i === d ? sliceLength(s, p.start as number, p.end as number | undefined) : s));
  },
  (p) => ({ on: 0, fn: "slice", args: [p.dim as number, p.start as number, p.end as number | undefined] }),
);

/** cat and stack: the first input from the pool, the others alike in shape (any size along dim, for cat). */
function join(stack: boolean): OpDef {
  return {
    pick: (r, pool) => {
      const a = pool.choose(stack ? () => true : rank1);
      if (!a) return null;
      const m = pool.meta(a);
      const k = m.shape.length;
      const dim = stack ? r.int(-k - 1, k) : signedDim(r, r.int(0, k - 1), k);
      const others: string[] = [];
      for (let i = r.int(1, 2); i > 0; i--) {
        const shape = stack ? m.shape : m.shape.map((s, j) => (j === norm(dim, k) ? r.int(0, 3) : s));
        const o = operand(r, pool, shape, m.dtype);
        if (!o) return null;
        others.push(o);
      }
      return { ins: [a, ...others], p: { dim } };
    },
    infer: (ins, p) => {
      const [a] = ins;
      const k = a.shape.length;
      const dim = p.dim as number;
      if (!inRange(dim, stack ? k + 1 : k) || ins.some((m) => m.dtype !== a.dtype || m.shape.length !== k)) return null;
      const d = norm(dim, stack ? k + 1 : k);
      if (ins.some((m) => m.shape.some((s, i) => (stack || i !== d) && s !== a.shape[i]))) return null;
      const shape = stack ? insertAt(a.shape, d, ins.length) : a.shape.map((s, i) => (i === d ? ins.reduce((n, m) => n + m.shape[i], 0) : s));
      const range: [number, number] = [Math.min(...ins.map((m) => m.lo)), Math.max(...ins.map((m) => m.hi))];
      return meta(shape, a.dtype, range, ins.some((m) => m.grad), ins.length > 1, ins.every((m) => m.exact));
    },
    call: (p, n) => ({ on: null, fn: stack ? "stack" : "cat", args: [{ refs: [...Array(n).keys()] }, p.dim as number] }),
  };
}

const gather: OpDef = {
  pick: (r, pool) => {
    const x = pool.choose(rank1);
    if (!x) return null;
    const xs = pool.meta(x).shape;
    const dim = r.int(0, xs.length - 1);
    const shape = xs.map((s, i) => (i === dim ? (s === 0 ? 0 : r.int(0, 3)) : r.chance(0.7) ? s : r.int(0, s)));
    const fits = (m: Meta) => m.dtype === "int32" && m.lo >= 0 && m.hi < xs[dim] && m.shape.length === xs.length && m.shape.every((s, i) => i === dim || s <= xs[i]);
    const index = pool.choose(fits) ?? pool.leaf(shape, "int32", 0, Math.max(xs[dim] - 1, 0));
    return { ins: [x, index], p: { dim: signedDim(r, dim, xs.length) } };
  },
  infer: ([x, i], p) => {
    const k = x.shape.length;
    if (!rank1(x) || !inRange(p.dim as number, k) || i.dtype !== "int32" || i.shape.length !== k) return null;
    const d = norm(p.dim as number, k);
    const fits = (i.lo >= 0 && i.hi < x.shape[d]) || numel(i.shape) === 0;
    if (!fits || i.shape.some((s, j) => j !== d && s > x.shape[j])) return null;
    return meta(i.shape, x.dtype, [x.lo, x.hi], x.grad, true, x.exact);
  },
  call: (p) => ({ on: 0, fn: "gather", args: [p.dim as number, ref(1)] }),
};

const copy = (fn: "clone" | "contiguous" | "detach"): OpDef => ({
  pick: (_r, pool) => {
    const x = pool.choose(() => true);
    return x ? { ins: [x], p: {} } : null;
  },
  infer: ([x]) => meta(x.shape, x.dtype, [x.lo, x.hi], fn !== "detach" && x.grad, fn === "clone", x.exact),
  call: () => ({ on: 0, fn, args: [] }),
});

const RANGE_OF: Record<string, (a: [number, number], b: [number, number]) => [number, number]> = {
  add_: (a, b) => [a[0] + b[0], a[1] + b[1]],
  sub_: (a, b) => [a[0] - b[1], a[1] - b[0]],
  mul_: (a, b) => {
    const v = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
    return [Math.min(...v), Math.max(...v)];
  },
};

/** t.op_(other) on a tensor nothing has read yet (so no saved value or view can see the write); other broadcasts to t. */
function inplace(fn: "add_" | "sub_" | "mul_"): OpDef {
  return {
    inplace: true,
    pick: (r, pool) => {
      const t = pool.choose((m, name) => m.fresh && !pool.isLeaf(name) && !pool.used(name));
      if (!t) return null;
      const m = pool.meta(t);
      if (r.chance(0.3)) return { ins: [t], p: { scalar: scalar(r, [-2, 2], m.dtype) } };
      const shape = partnerShape(r, m.shape).slice(-Math.max(m.shape.length, 1));
      const o = broadcast(shape, m.shape)?.join() === m.shape.join() ? operand(r, pool, shape, m.dtype) : null;
      return o ? { ins: [t, o], p: {} } : null;
    },
    infer: ([t, o], p) => {
      const b: [number, number] = o ? [o.lo, o.hi] : [p.scalar as number, p.scalar as number];
      if (!t.fresh || (o && (o.dtype !== t.dtype || !same(broadcast(t.shape, o.shape) ?? [], t.shape)))) return null;
      return meta(t.shape, t.dtype, RANGE_OF[fn]([t.lo, t.hi], b), t.grad || !!o?.grad, true, t.exact && (o ? o.exact : true) && fn !== "mul_");
    },
    call: (p, n) => ({ on: 0, fn, args: [n > 1 ? ref(1) : (p.scalar as number)] }),
  };
}

export const layoutOps: Record<string, OpDef> = {
  reshape, flatten, permute, transpose, T: matrixT, expand, unsqueeze, squeeze, slice,
  cat: join(false), stack: join(true), gather,
  clone: copy("clone"), contiguous: copy("contiguous"), detach: copy("detach"),
  add_: inplace("add_"), sub_: inplace("sub_"), mul_: inplace("mul_"),
};
