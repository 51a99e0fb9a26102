/**
 * Tensor values as text, the way PyTorch prints them: one width for every
 * element; floats with 4 decimals, as "1." when all are integers, or in
 * scientific notation when their magnitudes span more than 1000x (or leave
 * [1e-4, 1e8]); more than 1000 elements summarized with "..." (3 per edge).
 */
import type { DType, TypedArray } from "./dtype.js";

const PRECISION = 4;
const EDGE = 3;
const SUMMARIZE_OVER = 1000;
const LINE_WIDTH = 80;

/** Python's "{:.4e}": the exponent has a sign and at least two digits. */
function sci(v: number): string {
  return v.toExponential(PRECISION).replace(/e([+-])(\d)$/, "e$10$2");
}

const nonFinite = (v: number) => (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");

/** How every element of one tensor is written (PyTorch's _Formatter). */
export function formatter(values: ArrayLike<number>, dtype: DType): { width: number; format: (v: number) => string } {
  let raw: (v: number) => string;
  if (dtype === "int32") raw = String;
  else {
    const finite = Array.from(values).filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
    const lo = finite.length ? Math.min(...finite) : 1;
    const hi = finite.length ? Math.max(...finite) : 1;
    const ints = Array.from(values).every((v) => !Number.isFinite(v) || Number.isInteger(v));
    const wide = hi / lo > 1000 || hi > 1e8 || (!ints && lo < 1e-4);
    const fixed = ints ? (v: number) => `${v.toFixed(0)}.` : (v: number) => v.toFixed(PRECISION);
    const finiteRaw = wide ? sci : fixed;
    raw = (v) => (Number.isFinite(v) ? finiteRaw(v === 0 ? 0 : v) : nonFinite(v));
  }
  // As PyTorch: a float's width comes from its finite nonzero values only ("nan" is not padded for).
  let width = 1;
  for (let i = 0; i < values.length; i++)
    if (dtype === "int32" || (Number.isFinite(values[i]) && values[i] !== 0)) width = Math.max(width, raw(values[i]).length);
  return { width, format: (v) => raw(v).padStart(width) };
}

/** Row-major index ranges of one dim: all of them, or the edges around a "..." (null). */
function indices(n: number, summarize: boolean): (number | null)[] {
  if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
  return [...Array.from({ length: EDGE }, (_, i) => i), null, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)];
}

/** The elements a summarized print shows (the formatter's width comes from these only). */
function shown(data: TypedArray, shape: readonly number[], summarize: boolean): number[] {
  const out: number[] = [];
  const walk = (dim: number, off: number, stride: number): void => {
    const inner = stride / (shape[dim] || 1);
    for (const i of indices(shape[dim], summarize))
      if (i !== null) dim === shape.length - 1 ? out.push(data[off + i]) : walk(dim + 1, off + i * inner, inner);
  };
  if (shape.length === 0) return [data[0]];
  walk(0, 0, data.length);
  return out;
}

/**
 * "[[1., 2.],\n [3., 4.]]"-style nested brackets. `indent` is the column the first "[" is at;
 * multiline: rows on their own lines and long vectors wrapped at 80 columns, else all on one line.
 */
export function formatValues(data: TypedArray, shape: readonly number[], dtype: DType, indent: number, multiline: boolean): string {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return "[]";
  const summarize = size > SUMMARIZE_OVER;
  const f = formatter(shown(data, shape, summarize), dtype);
  if (shape.length === 0) return f.format(data[0]).trim();
  const walk = (dim: number, off: number, stride: number, col: number): string => {
    const inner = stride / shape[dim];
    const picks = indices(shape[dim], summarize);
    if (dim === shape.length - 1) {
      const items = picks.map((i) => (i === null ? " ..." : f.format(data[off + i])));
      const perLine = multiline ? Math.max(1, Math.floor((LINE_WIDTH - col) / (f.width + 2))) : items.length;
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
      return `[${lines.join(`,\n${" ".repeat(col + 1)}`)}]`;
    }
    const parts = picks.map((i) => (i === null ? "..." : walk(dim + 1, off + i * inner, inner, col + 1)));
    const sep = multiline ? `,${"\n".repeat(shape.length - dim - 1)}${" ".repeat(col + 1)}` : ", ";
    return `[${parts.join(sep)}]`;
  };
  return walk(0, 0, size, indent);
}

/** What `print()` shows: PyTorch's repr, with webgrad's names for the suffixes. */
export function printed(data: TypedArray, t: { shape: readonly number[]; dtype: DType; device: string; requiresGrad: boolean; gradFn: { name: string } | null }): string {
  const suffix: string[] = [];
  if (t.shape.length > 1 && t.shape.includes(0)) suffix.push(`shape=[${t.shape.join(", ")}]`);
  if (t.device !== "cpu") suffix.push(`device=${t.device}`);
  if (t.dtype !== "float32") suffix.push(`dtype=${t.dtype}`);
  if (t.gradFn) suffix.push(`gradFn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffix.push("requiresGrad=true");
  return `tensor(${[formatValues(data, t.shape, t.dtype, 7, true), ...suffix].join(", ")})`;
}
