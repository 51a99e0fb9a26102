// One invocation computes four consecutive elements of a contiguous output: out[i] = op(a, b, c)
// on vec4s, each operand either contiguous like the output or one broadcast element (splatted).
// The fast path of elementwise.wgsl for dense operands (n and offsets multiples of 4).
// Dispatch: ceil(n / 4 / WG) workgroups, laid out over x then y past 65,535.
// The alias lines and op() are specialised per op (see src/ops/elementwise.ts).

alias A = vec4<f32>;
alias B = vec4<f32>;
alias C = vec4<f32>;
alias O = vec4<f32>;
// A's bits and truth types, and F (the float type the float-only helpers take), as in elementwise.wgsl.
alias UA = vec4<u32>;
alias BA = vec4<bool>;
alias F = vec4<f32>;
alias UF = vec4<u32>;
alias BF = vec4<bool>;

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

fn op(a: A, b: B, c: C) -> O {
  return O(a + b);
}

struct Params {
  n4: u32,      // vec4s in the output
  off_a: u32,   // element offsets (multiples of 4 unless the operand is a single element)
  off_b: u32,
  off_c: u32,
  off_o: u32,
}

@group(0) @binding(0) var<storage, read> a: array<A>;
@group(0) @binding(1) var<storage, read> b: array<B>;
@group(0) @binding(2) var<storage, read> c: array<C>;
@group(0) @binding(3) var<storage, read_write> out: array<O>;
@group(0) @binding(4) var<uniform> p: Params;

override WG: u32 = 256u;
override ARITY: u32 = 2u;
// A single element broadcast to every output element.
override SCALAR_A: bool = false;
override SCALAR_B: bool = false;
override SCALAR_C: bool = false;
// In-place ops read their first operand from the output buffer itself.
override A_IS_OUT: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n4) { return; }
  var va: A;
  if (A_IS_OUT) {
    va = A(out[p.off_o / 4u + i]);
  } else if (SCALAR_A) {
    va = A(a[p.off_a / 4u][p.off_a % 4u]);
  } else {
    va = a[p.off_a / 4u + i];
  }
  var vb: B;
  if (ARITY > 1u) {
    if (SCALAR_B) { vb = B(b[p.off_b / 4u][p.off_b % 4u]); } else { vb = b[p.off_b / 4u + i]; }
  }
  var vc: C;
  if (ARITY > 2u) {
    if (SCALAR_C) { vc = C(c[p.off_c / 4u][p.off_c % 4u]); } else { vc = c[p.off_c / 4u + i]; }
  }
  out[p.off_o / 4u + i] = op(va, vb, vc);
}
