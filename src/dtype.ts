/**
 * Element types. float32 (the default) and int32 (labels, indices) run everywhere; float64 exists on the CPU
 * backend only, so gradcheck can take finite differences without float32 noise. There is no float16, int64 or bool
 * (comparisons give float32 0/1 masks).
 */
export type DType = "float32" | "int32" | "float64";
/** What `t.data()` resolves to, by dtype: Float32Array, Int32Array or (CPU only) Float64Array. */
export type TypedArray = Float32Array | Int32Array | Float64Array;
/**
 * The typed array that `data()` resolves to for a tensor of dtype `D`: Float32Array, Int32Array or Float64Array
 * (the union when the dtype is not known statically).
 *
 * PyTorch: none (webgrad only; `Tensor.numpy()` is the nearest).
 * @example const a: Int32Array = await wg.tensor([1, 2], { dtype: "int32" }).data()
 */
export type ArrayOf<D extends DType> = D extends "float32" ? Float32Array : D extends "int32" ? Int32Array : D extends "float64" ? Float64Array : never;
/**
 * What `tolist()` resolves to: a number for a 0-d tensor, else nested arrays of numbers, one level per dim.
 *
 * PyTorch: the result of `Tensor.tolist()`.
 * @example const rows = (await wg.ones([2, 2]).tolist()) as number[][]
 */
export type NestedList = number | NestedList[];

export const BYTES: Record<DType, number> = { float32: 4, int32: 4, float64: 8 };

export function typedArrayFor(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32": return new Float32Array(n);
    case "int32": return new Int32Array(n);
    case "float64": return new Float64Array(n);
  }
  throw unknownDType("alloc", dtype satisfies never);
}

export const DTYPES: readonly DType[] = ["float32", "int32", "float64"];

/** The dtype a caller passed, or an Error naming the op (a JS caller can pass any string). */
export function checkDType(op: string, dtype: unknown): DType {
  if (DTYPES.includes(dtype as DType)) return dtype as DType;
  throw unknownDType(op, dtype);
}

function unknownDType(op: string, dtype: unknown): Error {
  const hint = dtype === "bool" ? ' Masks are float32 0/1 (x.gt(0)), or use "int32".' : ' Fix: use "float32" (the default).';
  return new Error(`${op}: unknown dtype ${JSON.stringify(dtype) ?? String(dtype)}; webgrad has "float32", "int32" and "float64" (CPU only).${hint}`);
}

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** An Error naming the op when a value cannot be stored as int32 (a non-integer, or outside 32 bits). */
export function checkInt32(op: string, value: number, what: string): void {
  if (!Number.isInteger(value))
    throw new Error(`${op}: int32 data must be integers; ${what} is ${value}. Fix: round it first, or use float32.`);
  if (value < INT32_MIN || value > INT32_MAX)
    throw new Error(`${op}: ${what} is ${value}, which does not fit in int32 [${INT32_MIN}, ${INT32_MAX}]. Fix: use float32 (exact for integers up to 2**24), or smaller values.`);
}

export function isFloat(dtype: DType): boolean {
  return dtype !== "int32";
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  return "float64";
}

/**
 * The result dtype of a binary op. Floats of two widths widen (no information
 * is lost); an integer tensor never silently turns into a float one. `shapes` words the
 * operands for the error (built only then: this runs once per recorded op).
 */
export function promote(op: string, a: DType, b: DType, shapes: () => string): DType {
  if (a === b) return a;
  if (a !== "int32" && b !== "int32") return "float64";
  throw new Error(
    `${op}: cannot mix ${a} and ${b} (${shapes()}). ` +
      `Cast one side first, e.g. x.float() or x.int().`,
  );
}
