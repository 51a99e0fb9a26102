/** Index helpers for the CPU reference loops. */

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
