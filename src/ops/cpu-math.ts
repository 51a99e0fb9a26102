/** Float64 reference math the CPU backend needs beyond Math (written independently of the WGSL). */

/** erf by its Taylor series near 0 and a continued fraction for erfc in the tails (accurate to ~1e-14). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 80 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return (Math.sign(x) * 2 * sum) / Math.sqrt(Math.PI);
  }
  if (z > 6) return Math.sign(x);
  // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...))))
  let f = z;
  for (let k = 60; k >= 1; k--) f = z + k / 2 / f;
  const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** float → int32: truncate toward zero; NaN and values outside int32 give INT32_MIN, as PyTorch on x86. */
export function toInt32(x: number): number {
  if (!(Math.abs(x) < 2147483648)) return -2147483648; // NaN fails the test too
  return Math.trunc(x);
}

/** C's pow, as PyTorch: 1^y = 1 and (-1)^±Inf = 1 even for NaN y (Math.pow gives NaN there; x^0 = 1 it gets right). */
export function powIeee(x: number, y: number): number {
  if (x === 1 || (x === -1 && (y === Infinity || y === -Infinity))) return 1;
  return Math.pow(x, y);
}
