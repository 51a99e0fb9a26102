// One invocation computes one output element: out[i] = op(a, b, c), each operand
// read through its own strides (stride 0 where broadcast), the output written
// contiguously from off_o or through its strides (copies into views).
// Dispatch: ceil(n / WG) workgroups, laid out over x then y past 65,535.
// The alias lines and op() are specialised per op (see src/ops/elementwise.ts).

alias A = f32;
alias B = f32;
alias C = f32;
alias O = f32;
// A's bits and truth types, and F (the float type the float-only helpers take); vec4s in elementwise-vec4.wgsl.
alias UA = u32;
alias BA = bool;
alias F = f32;
alias UF = u32;
alias BF = bool;

// Infinity and NaN are not representable as WGSL constants; build them at run time.
fn inf_f32() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// NaN and Inf tests by bits: WGSL lets the compiler assume no NaN, so x != x may fold to false.
// isnan_a is never true when A is an integer type (A_FLOAT false), so int rows may call it.
override A_FLOAT: bool = true;
fn isnan_a(x: A) -> BA {
  return BA(A_FLOAT) & ((bitcast<UA>(x) & UA(0x7fffffffu)) > UA(0x7f800000u));
}
fn isnan_f(x: F) -> BF {
  return (bitcast<UF>(x) & UF(0x7fffffffu)) > UF(0x7f800000u);
}
fn isfinite_f(x: F) -> BF {
  return (bitcast<UF>(x) & UF(0x7f800000u)) != UF(0x7f800000u);
}

// The builtins are undefined outside their domains; these give IEEE's answers there.
fn log_ieee(x: F) -> F {
  let r = select(log(x), F(-inf_f32()), x == F(0.0));  // log(±0) = -Inf
  return select(r, F(nan_f32()), (x < F(0.0)) | isnan_f(x));  // log(x < 0) = log(NaN) = NaN
}
fn sqrt_ieee(x: F) -> F {
  return select(sqrt(x), F(nan_f32()), (x < F(0.0)) | isnan_f(x));
}
// Near 0, log1p and expm1 by their Taylor series (Horner, to x⁸ / x⁷: truncation below 1e-9 relative
// for |x| < 1/8), since the builtin log's absolute error swamps small results; elsewhere log(1 + x), exp(x) - 1.
fn log1p_ieee(x: F) -> F {
  let series = x * (F(1.0) + x * (F(-1.0 / 2.0) + x * (F(1.0 / 3.0) + x * (F(-1.0 / 4.0) + x * (F(1.0 / 5.0)
    + x * (F(-1.0 / 6.0) + x * (F(1.0 / 7.0) + x * F(-1.0 / 8.0))))))));
  let r = select(log_ieee(F(1.0) + x), series, abs(x) < F(0.125));
  return select(r, x, x == F(inf_f32()));  // log1p(Inf) = Inf
}
fn expm1_ieee(x: F) -> F {
  let series = x * (F(1.0) + x * (F(1.0 / 2.0) + x * (F(1.0 / 6.0) + x * (F(1.0 / 24.0) + x * (F(1.0 / 120.0)
    + x * (F(1.0 / 720.0) + x * F(1.0 / 5040.0)))))));
  return select(select(exp(x) - F(1.0), series, abs(x) < F(0.125)), x, isnan_f(x));
}

fn op(a: A, b: B, c: C) -> O {
  return O(a + b);
}

struct Params {
  n: u32,
  rank: u32,
  off_a: u32,
  off_b: u32,
  off_c: u32,
  off_o: u32,
  _pad: vec2<u32>,
  shape: array<vec4<u32>, 2>,
  stride_a: array<vec4<u32>, 2>,
  stride_b: array<vec4<u32>, 2>,
  stride_c: array<vec4<u32>, 2>,
  stride_o: array<vec4<u32>, 2>,
  period: vec4<u32>,  // MODE 3: the operand repeats every period elements of the output (a, b, c)
}

@group(0) @binding(0) var<storage, read> a: array<A>;
@group(0) @binding(1) var<storage, read> b: array<B>;
@group(0) @binding(2) var<storage, read> c: array<C>;
@group(0) @binding(3) var<storage, read_write> out: array<O>;
@group(0) @binding(4) var<uniform> p: Params;

override WG: u32 = 256u;
override ARITY: u32 = 2u;
// How an operand is addressed: 0 like a contiguous output, 1 one broadcast element, 2 through strides,
// 3 contiguous over trailing dims and broadcast over leading ones (a bias row): off + i % period.
override MODE_A: u32 = 0u;
override MODE_B: u32 = 0u;
override MODE_C: u32 = 0u;
override MODE_O: u32 = 0u;
// In-place ops read their first operand from the output buffer itself.
override A_IS_OUT: bool = false;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn pow_real(x: f32, y: f32) -> f32 {
  // C's pow (as PyTorch): x^0 = 1^y = 1 even for NaN; (-1)^±Inf = 1; otherwise NaN in, NaN out.
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (isnan_f(x) || isnan_f(y)) { return nan_f32(); }
  if (!isfinite_f(y)) {
    if (abs(x) == 1.0) { return 1.0; }
    return select(0.0, inf_f32(), (abs(x) > 1.0) == (y > 0.0));
  }
  // WGSL's pow(x, y) is exp2(y * log2(x)): undefined for x < 0, inexact for whole y.
  // Whole exponents up to 64 go by repeated squaring (exact where the result is, any sign of x).
  if (y == floor(y) && abs(y) <= 64.0) {
    var e = u32(abs(y));
    var base = x;
    var r = 1.0;
    while (e > 0u) {
      if ((e & 1u) == 1u) { r *= base; }
      base *= base;
      e >>= 1u;
    }
    return select(r, 1.0 / r, y < 0.0);
  }
  if (!isfinite_f(x)) {  // ±Inf to a non-whole or large power: Inf for y > 0 (negative for odd whole y), else 0
    let odd = x < 0.0 && floor(y) == y && floor(y * 0.5) != y * 0.5;
    return select(0.0, select(inf_f32(), -inf_f32(), odd), y > 0.0);
  }
  if (x > 0.0) { return pow(x, y); }
  if (x == 0.0) { return select(inf_f32(), 0.0, y > 0.0); }
  if (floor(y) != y) { return nan_f32(); }
  let m = pow(-x, y);
  return select(m, -m, floor(y * 0.5) != y * 0.5);
}

fn erf_approx(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7.
  if (isnan_f(x)) { return x; }
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-z * z));
}

// GELU x·Φ(x) = ½·x·(1 + erf(x/√2)) and its derivative Φ(x) + x·φ(x), φ(x) = e^(-x²/2)/√(2π): one op
// each, so a GELU after a matmul is a one-op epilogue with no constant operands to load.
fn gelu_erf(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476));
}

fn gelu_erf_grad(x: f32) -> f32 {
  return 0.5 * (1.0 + erf_approx(x * 0.7071067811865476)) + x * 0.3989422804014327 * exp(-0.5 * x * x);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  var ia = p.off_a + select(i, 0u, MODE_A == 1u);
  var ib = p.off_b + select(i, 0u, MODE_B == 1u);
  var ic = p.off_c + select(i, 0u, MODE_C == 1u);
  if (MODE_A == 3u) { ia = p.off_a + i % p.period.x; }
  if (MODE_B == 3u) { ib = p.off_b + i % p.period.y; }
  if (MODE_C == 3u) { ic = p.off_c + i % p.period.z; }
  var io = p.off_o + i;
  if (MODE_A == 2u || MODE_B == 2u || MODE_C == 2u || MODE_O == 2u) {
    if (MODE_A == 2u) { ia = p.off_a; }
    if (MODE_B == 2u) { ib = p.off_b; }
    if (MODE_C == 2u) { ic = p.off_c; }
    if (MODE_O == 2u) { io = p.off_o; }
    var rem = i;
    for (var d = p.rank; d > 0u; d--) {
      let k = d - 1u;
      // Index the uniform arrays in place: at() would copy each array into a function argument per call,
      // which SwiftShader does per element (a permuted copy ran 4.7x slower through at()).
      let size = p.shape[k / 4u][k % 4u];
      let coord = rem % size;
      rem = rem / size;
      if (MODE_A == 2u) { ia += coord * p.stride_a[k / 4u][k % 4u]; }
      if (MODE_B == 2u) { ib += coord * p.stride_b[k / 4u][k % 4u]; }
      if (MODE_C == 2u) { ic += coord * p.stride_c[k / 4u][k % 4u]; }
      if (MODE_O == 2u) { io += coord * p.stride_o[k / 4u][k % 4u]; }
    }
  }
  var va: A;
  if (A_IS_OUT) { va = A(out[ia]); } else { va = a[ia]; }
  var vb: B;
  if (ARITY > 1u) { vb = b[ib]; }
  var vc: C;
  if (ARITY > 2u) { vc = c[ic]; }
  out[io] = op(va, vb, vc);
}
