/** Shapes, strides, broadcasting, and the errors that name shapes. */

export type Shape = readonly number[];

export const fmt = (s: Shape): string => `[${s.join(", ")}]`;

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  // Packed from the start (not new Array(n), a holey array): every tensor's strides then share one elements kind.
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) strides.push(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i];
  }
  return true;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting of any number of shapes; throws naming the op and every shape. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  if (shapes.length === 2 && sameShape(shapes[0], shapes[1])) return [...shapes[0]]; // most binary ops
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else
        throw new Error(
          `${op}: shapes ${shapes.map(fmt).join(" and ")} cannot be broadcast ` +
            `(dimension ${o - rank} is ${out[o]} in one and ${d} in another). ` +
            `Fix: make each dimension equal or 1, e.g. with unsqueeze() or reshape().`,
        );
    }
  }
  return out;
}

/** Strides that read a tensor of `shape` as if it had the larger `target` shape (stride 0 on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 ? 0 : strides[i];
  return out;
}

/** A possibly negative dim made positive; throws naming the op when it is out of range. */
export function normalizeDim(op: string, dim: number, rank: number, shape?: Shape): number {
  const lo = -Math.max(rank, 1);
  const hi = Math.max(rank, 1) - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi)
    throw new Error(
      `${op}: dim ${dim} is out of range for a tensor of rank ${rank}` +
        `${shape ? ` (shape ${fmt(shape)})` : ""}; expected a dim in [${lo}, ${hi}].`,
    );
  return dim < 0 ? dim + Math.max(rank, 1) : dim;
}

/** A sorted, de-duplicated list of dims; `undefined` means every dim. */
export function normalizeDims(op: string, dims: number | readonly number[] | undefined, shape: Shape): number[] {
  if (dims === undefined) return shape.map((_, i) => i);
  const list = typeof dims === "number" ? [dims] : [...dims];
  const out = list.map((d) => normalizeDim(op, d, shape.length, shape));
  if (new Set(out).size !== out.length)
    throw new Error(`${op}: dim ${JSON.stringify(dims)} names a dimension twice (shape ${fmt(shape)}).`);
  return out.sort((a, b) => a - b);
}

/** reshape's target with one -1 inferred; throws when the sizes disagree. */
export function inferShape(op: string, from: Shape, to: readonly number[]): number[] {
  const n = numel(from);
  const free = to.filter((d) => d === -1).length;
  if (free > 1 || to.some((d) => !Number.isInteger(d) || d < -1))
    throw new Error(`${op}: target shape ${fmt(to)} may hold one -1 and otherwise non-negative integers.`);
  const known = numel(to.filter((d) => d !== -1));
  const out = [...to];
  if (free === 1) {
    if (known === 0 || n % known !== 0)
      throw new Error(
        `${op}: cannot infer -1 in ${fmt(to)} for a tensor of shape ${fmt(from)} (${n} elements).`,
      );
    out[out.indexOf(-1)] = n / known;
  } else if (known !== n) {
    throw new Error(
      `${op}: cannot reshape a tensor of shape ${fmt(from)} (${n} elements) to ${fmt(to)} ` +
        `(${known} elements). Fix: the target must hold the same number of elements; use -1 for one dim to infer it.`,
    );
  }
  return out;
}

/** Nested arrays → flat numbers and a shape; throws on ragged input. */
export function flattenNested(data: unknown): { flat: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  const walk = (x: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof x !== "number" && typeof x !== "boolean")
        throw new Error(`tensor: element at ${path || "root"} is ${typeof x}, expected a number.`);
      flat.push(Number(x));
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth])
      throw new Error(
        `tensor: ragged nested array: the list at ${path || "root"} has ` +
          `${Array.isArray(x) ? x.length : "no"} elements where ${shape[depth]} were expected from shape ${fmt(shape)}.`,
      );
    x.forEach((v, i) => walk(v, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, "");
  return { flat, shape };
}

/** Kernels index elements with 32 bits (WGSL u32/i32, CPU Int32Array offsets): the most a computed tensor may hold. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Refuse, before any work, a tensor whose element count 32-bit indexing would wrap. */
export function checkIndexable(op: string, shape: Shape, what = "a tensor"): void {
  const n = numel(shape);
  if (n > MAX_ELEMENTS)
    throw new Error(
      `${op}: ${what} of shape ${fmt(shape)} has ${n} elements, over webgrad's limit of ${MAX_ELEMENTS} (2^31 - 1) elements per tensor ` +
        `(kernels index with 32 bits). Fix: split the work into smaller tensors (e.g. reduce in chunks with slice()).`,
    );
}

/** Every element offset of a strided view, in row-major order of its shape. */
export function stridedOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array | number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  const rank = shape.length;
  if (n === 0) return out;
  const idx = new Array<number>(rank).fill(0);
  let off = offset;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      idx[d] = 0;
      off -= strides[d] * (shape[d] - 1);
    }
  }
  return out;
}
