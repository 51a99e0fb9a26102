/**
 * Element types. float32 and int32 run everywhere; float64 exists on the CPU
 * backend only, so gradcheck can take finite differences without float32 noise.
 */
export type DType = "float32" | "int32" | "float64";
export type TypedArray = Float32Array | Int32Array | Float64Array;

export const BYTES: Record<DType, number> = { float32: 4, int32: 4, float64: 8 };

export function typedArrayFor(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32": return new Float32Array(n);
    case "int32": return new Int32Array(n);
    case "float64": return new Float64Array(n);
  }
  return dtype satisfies never;
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
 * is lost); an integer tensor never silently turns into a float one.
 */
export function promote(op: string, a: DType, b: DType, shapes: string): DType {
  if (a === b) return a;
  if (a !== "int32" && b !== "int32") return "float64";
  throw new Error(
    `${op}: cannot mix ${a} and ${b} (${shapes}). ` +
      `Cast one side first, e.g. x.float() or x.int().`,
  );
}
