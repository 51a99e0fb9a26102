/**
 * Layout ops. reshape/permute/expand/slice/squeeze are views that share
 * storage; contiguous/clone/cat copy with the strided elementwise kernel.
 */
import type { View } from "../backend/backend.js";
import { launch } from "../engine/scheduler.js";
import { noGrad } from "../autograd/mode.js";
import { broadcastShapes, contiguousStrides, fmt, inferShape, normalizeDim, numel, sameShape } from "../shape.js";
import { apply, commonDevice, record, view, type Primitive } from "./primitive.js";
import { elementwiseKernel } from "./elementwise.js";
import { full } from "./creation.js";
import { Tensor } from "../tensor.js";

/** The strided copy out = a (with broadcasting), shared by clone, cat's placement and the constant fills. */
export const copyKernel = elementwiseKernel("copy", "O(a)", (x) => x);

const copyPrim: Primitive<void> = {
  name: "clone",
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  kernel: copyKernel,
  grads: [(g) => g],
  docs: ["d clone(x)/dx = 1"],
};

/**
 * A contiguous copy with its own storage; later in-place changes to either do not reach the other. Differentiable
 * (the gradient passes through unchanged).
 *
 * PyTorch: `torch.clone`.
 * @example const y = x.clone() // y.add_(1) leaves x unchanged
 */
export const clone = (x: Tensor): Tensor => apply(copyPrim, [x], undefined);
/**
 * `x` itself when its elements are laid out in row-major order, else a contiguous copy (differentiable).
 *
 * PyTorch: `Tensor.contiguous`.
 * @example x.T.contiguous() // a row-major copy of the transposed view
 */
export const contiguous = (x: Tensor): Tensor => (x.isContiguous() ? x : clone(x));
/** Contiguous and starting at element 0, as the row, gather and optimizer kernels address their inputs. */
export const dense = (x: Tensor): Tensor => (x.isContiguous() && x.offset === 0 ? x : clone(x));

/**
 * A view of the same storage cut off from the graph: it does not require grad and is a leaf. In-place changes show
 * in both.
 *
 * PyTorch: `torch.detach` / `Tensor.detach`.
 * @example x.detach().requiresGrad // false
 */
export function detach(x: Tensor): Tensor {
  commonDevice("detach", [x]);
  return new Tensor(x.storage, x.shape, x.dtype, x.strides, x.offset, true);
}

/**
 * A new view of all of x, for view ops that change nothing: as in PyTorch the result is another tensor, so
 * disposing it (or an in-place op's bookkeeping on it) cannot release or rename x itself.
 */
const alias = (name: string, x: Tensor): Tensor =>
  view(name, x, x.shape, x.strides, x.offset, (g) => g, `${name}: g passes through unchanged`);

/**
 * The same elements in a new shape (one dim may be −1, inferred from the rest): a view when `x` is contiguous, else a
 * contiguous copy first, as torch.reshape. The element counts must match. Differentiable.
 *
 * PyTorch: `torch.reshape`.
 * @example wg.arange(6).reshape([2, -1]) // tensor([[0, 1, 2], [3, 4, 5]])
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const to = inferShape("reshape", x.shape, shape);
  if (sameShape(to, x.shape)) return alias("reshape", x);
  const src = contiguous(x);
  const from = x.shape;
  return view("reshape", src, to, contiguousStrides(to), src.offset, (g) => reshape(g, from), "reshape: g reshaped back to x's shape");
}

/**
 * Merges dims `startDim`..`endDim` (inclusive; defaults 0 and −1, so all) into one; a 0-d tensor becomes [1].
 * Differentiable.
 *
 * PyTorch: `torch.flatten`.
 * @example wg.zeros([2, 3, 4]).flatten(1) // shape [2, 12]
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim("flatten", startDim, x.ndim, x.shape);
  const e = normalizeDim("flatten", endDim, x.ndim, x.shape);
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${fmt(x.shape)}.`);
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/**
 * Reorders the dims: output dim i is input dim `dims[i]` (negative dims count from the end). A view that shares
 * storage; differentiable.
 *
 * PyTorch: `torch.permute`.
 * @example wg.zeros([2, 3, 4]).permute([2, 0, 1]) // shape [4, 2, 3]
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const p = dims.map((d) => normalizeDim("permute", d, x.ndim, x.shape));
  if (p.length !== x.ndim || new Set(p).size !== p.length)
    throw new Error(`permute: ${fmt(dims)} is not a permutation of the ${x.ndim} dims of a tensor of shape ${fmt(x.shape)}.`);
  if (p.every((d, i) => d === i)) return alias("permute", x);
  const inverse = p.map((_, i) => p.indexOf(i));
  return view("permute", x, p.map((d) => x.shape[d]), p.map((d) => x.strides[d]), x.offset, (g) => permute(g, inverse), "permute: g permuted back by the inverse permutation");
}

/**
 * Swaps dims `d0` and `d1` (negative counts from the end). A view that shares storage; differentiable.
 *
 * PyTorch: `torch.transpose`.
 * @example wg.tensor([[1, 2, 3]]).transpose(0, 1) // tensor([[1], [2], [3]])
 */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const a = normalizeDim("transpose", d0, x.ndim, x.shape);
  const b = normalizeDim("transpose", d1, x.ndim, x.shape);
  const p = x.shape.map((_, i) => i);
  [p[a], p[b]] = [p[b], p[a]];
  return permute(x, p);
}

/**
 * The transpose of a 2-D tensor (other ranks are an Error; use transpose or permute). A view; differentiable.
 *
 * PyTorch: `Tensor.T` (deprecated there for ranks other than 2).
 * @example wg.tensor([[1, 2, 3]]).T // shape [3, 1]
 */
export function matrixT(x: Tensor): Tensor {
  if (x.ndim !== 2)
    throw new Error(`T: expects a 2-D tensor, got shape ${fmt(x.shape)}. Fix: use transpose(-2, -1) or permute() for other ranks.`);
  return transpose(x, 0, 1);
}

/**
 * A view of `x` repeated along dims of size 1 (and new leading dims) to `shape` without copying; −1 keeps a dim.
 * Differentiable: the gradient is summed over the expanded dims. In-place ops refuse it (its elements alias).
 *
 * PyTorch: `Tensor.expand`.
 * @example wg.tensor([[1], [2]]).expand([2, 3]) // tensor([[1, 1, 1], [2, 2, 2]])
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  const bad = () =>
    new Error(
      `expand: cannot expand shape ${fmt(x.shape)} to ${fmt(shape)}: each dim must equal the target or be 1 ` +
        `(use -1 to keep a dim). Fix: reshape/unsqueeze first, or use repeat via cat.`,
    );
  if (lead < 0) throw bad();
  const to = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  const strides = to.map((d, i) => {
    if (i < lead) return 0;
    const s = x.shape[i - lead];
    if (s === d) return x.strides[i - lead];
    if (s === 1 && d >= 0) return 0;
    throw bad();
  });
  if (to.some((d) => !Number.isInteger(d) || d < 0)) throw bad();
  if (sameShape(to, x.shape)) return alias("expand", x);
  const from = x.shape;
  return view("expand", x, to, strides, x.offset, (g) => sumToShape(g, from), "expand: g summed over the expanded dims");
}

/**
 * Inserts a dim of size 1 at `dim` (in [−ndim − 1, ndim]; −1 appends). A view; differentiable.
 *
 * PyTorch: `torch.unsqueeze`.
 * @example wg.tensor([1, 2]).unsqueeze(-1) // shape [2, 1]
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim("unsqueeze", dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return view("unsqueeze", x, shape, strides, x.offset, (g) => squeeze(g, d), "unsqueeze: g with the added dim squeezed out");
}

/**
 * Removes every dim of size 1, or only `dim` when given and of size 1 (otherwise `x` is returned unchanged, as
 * PyTorch). A view; differentiable.
 *
 * PyTorch: `torch.squeeze`.
 * @example wg.zeros([1, 3, 1]).squeeze() // shape [3]
 */
export function squeeze(x: Tensor, dim?: number): Tensor {
  const drop = dim === undefined ? x.shape.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0) : [normalizeDim("squeeze", dim, x.ndim, x.shape)].filter((i) => x.shape[i] === 1);
  if (drop.length === 0) return alias("squeeze", x);
  const from = x.shape;
  const keepDim = (_: number, i: number) => !drop.includes(i);
  return view("squeeze", x, x.shape.filter(keepDim), x.strides.filter(keepDim), x.offset, (g) => reshape(g, from), "squeeze: g reshaped back to x's shape");
}

/**
 * Elements `start` (default 0) up to but not including `end` (default the dim's size) along `dim`, with Python slice
 * semantics: negative indices count from the end, out-of-range ends clamp, an empty range gives size 0. A view that
 * shares storage; differentiable (the gradient is zero outside the slice).
 *
 * PyTorch: `x.narrow(dim, start, end - start)` / `x[:, start:end]`.
 * @example wg.arange(5).slice(0, 1, -1) // tensor([1, 2, 3])
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number): Tensor {
  const d = normalizeDim("slice", dim, x.ndim, x.shape);
  const n = x.shape[d];
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end)))
    throw new Error(`slice: start and end must be integers, got ${start} and ${end}.`);
  const s = clampIdx(start);
  const e = Math.max(s, clampIdx(end ?? n));
  if (s === 0 && e === n) return alias("slice", x);
  const shape = [...x.shape];
  shape[d] = e - s;
  const from = x.shape;
  const rule = (g: Tensor) => place(from, [{ t: g, dim: d, start: s }], "padSlice");
  sliceRules.set(rule, { dim: d, start: s });
  return view("slice", x, shape, x.strides, x.offset + s * x.strides[d], rule, "slice: g placed in x's sliced region, zeros elsewhere");
}

/** Where a slice's gradient rule places g: the backward engine gathers the slices of one tensor (placeSlices). */
const sliceRules = new WeakMap<(g: Tensor) => Tensor, { dim: number; start: number }>();

/** The region a gradient rule of `slice` places g in, or undefined for any other rule. */
export function sliceRegion(rule: unknown): { dim: number; start: number } | undefined {
  return sliceRules.get(rule as (g: Tensor) => Tensor);
}

/**
 * The gradient of a tensor of `shape` from the gradients of several of its slices (q, k and v of one
 * projection, the pieces of a split): one buffer with each piece copied into its region, zeros only
 * where no piece lands, instead of a zero-padded tensor per slice and the adds between them. Pieces
 * that overlap, or differ in dim or dtype, are padded one by one and summed, as their rules would.
 */
export function placeSlices(shape: readonly number[], pieces: { t: Tensor; dim: number; start: number }[]): Tensor {
  const sorted = [...pieces].sort((a, b) => a.start - b.start);
  const disjoint = sorted.every((p, i) => p.dim === sorted[0].dim && p.t.dtype === sorted[0].t.dtype && (i === 0 || sorted[i - 1].start + sorted[i - 1].t.shape[p.dim] <= p.start));
  if (disjoint) return place(shape, sorted, "padSlice");
  return pieces.map((p) => place(shape, [p], "padSlice")).reduce((a, b) => a.add(b));
}

/**
 * A new tensor of `shape` built by copying each piece into its region along
 * `dim` (cat, and slice's gradient); regions no piece covers are zero.
 */
function place(shape: readonly number[], pieces: { t: Tensor; dim: number; start: number }[], name: string): Tensor {
  const first = pieces[0].t;
  const covered = pieces.reduce((n, p) => n + p.t.size, 0) === numel(shape);
  const out = noGrad(() => (covered ? Tensor.empty(shape, first.dtype, first.device) : full(shape, 0, { dtype: first.dtype, device: first.device })));
  for (const { t, dim, start } of pieces) {
    const region: View = { storage: out.storage, shape: t.shape, strides: out.strides, offset: start * out.strides[dim], dtype: out.dtype };
    launch(out.device, copyKernel, [region], [t], undefined);
  }
  const rules = pieces.map(({ t, dim, start }) => (g: Tensor) => slice(g, dim, start, start + t.shape[dim]));
  const docs = pieces.map((_, k) => (name === "cat" ? `cat: input ${k} gets its slice of g` : "padSlice: the slice of g that the region came from"));
  record(name, pieces.map((p) => p.t), out, rules, () => [], undefined, docs);
  return out;
}

/** A non-tensor argument, for error messages: its type, and its value when short. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array ${JSON.stringify(v).slice(0, 40)}`;
  if (typeof v === "object") return `a ${v.constructor?.name ?? "object"}`;
  return `${typeof v} ${JSON.stringify(v) ?? String(v)}`;
}

function checkList(op: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0) throw new Error(`${op}: expected a non-empty array of tensors, got ${describeValue(tensors)}.`);
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor))
      throw new Error(`${op}: element ${i} of the list is ${describeValue(t)}, not a tensor. Fix: wrap it with wg.tensor(...) on the same device.`);
  });
}

/**
 * Joins tensors of one dtype and device along an existing dim `dim` (default 0); all other dims must match.
 * 0-d tensors cannot be joined (use stack). Always a new tensor, even for a list of one; differentiable in each input.
 *
 * PyTorch: `torch.cat`.
 * @example wg.cat([wg.tensor([[1, 2]]), wg.tensor([[3]])], 1) // tensor([[1, 2, 3]])
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList("cat", tensors);
  commonDevice("cat", tensors);
  const ref = tensors[0];
  if (ref.ndim === 0) throw new Error("cat: zero-dimensional tensors (shape []) cannot be concatenated. Fix: wg.stack(tensors, 0), or unsqueeze(0) each.");
  const d = normalizeDim("cat", dim, ref.ndim, ref.shape);
  for (const t of tensors) {
    if (t.dtype !== ref.dtype) throw new Error(`cat: all tensors must share a dtype; got ${ref.dtype} and ${t.dtype}. Fix: cast with .float() or .int().`);
    if (t.ndim !== ref.ndim || t.shape.some((s, i) => i !== d && s !== ref.shape[i]))
      throw new Error(
        `cat: shapes ${tensors.map((x) => fmt(x.shape)).join(", ")} must match in every dim except dim ${dim}.`,
      );
  }
  // A new tensor even for a list of one, as PyTorch: an in-place op on the result must not reach the input.
  if (tensors.length === 1) return clone(ref);
  const shape = [...ref.shape];
  shape[d] = tensors.reduce((n, t) => n + t.shape[d], 0);
  let at = 0;
  const pieces = tensors.map((t) => ({ t, dim: d, start: (at += t.shape[d]) - t.shape[d] }));
  return place(shape, pieces, "cat");
}

/**
 * Joins tensors of one shape along a new dim `dim` (default 0; in [−ndim − 1, ndim]). Differentiable in each input.
 *
 * PyTorch: `torch.stack`.
 * @example wg.stack([wg.tensor([1, 2]), wg.tensor([3, 4])], 1) // tensor([[1, 3], [2, 4]])
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList("stack", tensors);
  const ref = tensors[0];
  for (const t of tensors)
    if (!sameShape(t.shape, ref.shape))
      throw new Error(`stack: all tensors must have the same shape; got ${tensors.map((x) => fmt(x.shape)).join(", ")}.`);
  const d = normalizeDim("stack", dim, ref.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** Sum a broadcast gradient back to an input's shape: the one place broadcasting is undone. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  broadcastShapes("sumToShape", shape, g.shape);
  const lead = g.ndim - shape.length;
  const dims = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  const summed = dims.length ? g.sum(dims, true) : g;
  return reshape(summed, shape);
}

/** The reduced dims of a reduction, for rules that expand a gradient back. */
export function restoreDims(g: Tensor, inShape: readonly number[], dims: number[], keepdim: boolean): Tensor {
  let r = g;
  if (!keepdim) for (const d of dims) r = unsqueeze(r, d);
  return expand(r, inShape);
}

