// One invocation writes one element of a contiguous output from its index alone:
// OP 0 arange (start + i * step), 1 eye (1 where row == col), 2 uniform [0, 1), 3 standard normal,
// 4 randint (start_i + bits mod step_i, step_i read as u32: the range high - low may pass 2^31).
// Dispatch: ceil(n / WG) workgroups over x then y. Random numbers are a counter-based
// hash of (index, key), so the CPU backend reproduces them bit for bit before the float math.

alias O = f32;

struct Params {
  n: u32,
  cols: u32,
  key: u32,
  _pad: u32,
  start: f32,
  step: f32,
  start_i: i32,  // arange into int32: exact integer arithmetic (f32 is exact only below 2^24)
  step_i: i32,
}

@group(0) @binding(0) var<storage, read_write> out: array<O>;
@group(0) @binding(1) var<uniform> p: Params;

override WG: u32 = 256u;
override OP: u32 = 0u;
override INT_OUT: bool = false;

// "lowbias32" integer hash (Wellons): good avalanche for two multiplies.
fn mix(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

fn bits(i: u32) -> u32 {
  return mix(mix(i ^ p.key) + p.key);
}

const TWO_NEG24: f32 = 5.9604644775390625e-8;
const TWO_PI: f32 = 6.283185307179586;

// cos on [-pi, pi] by its Taylor series through x^18 (error < 4e-9 before rounding): WGSL's
// built-in cos may be off by 2^-11, and the CPU backend must reproduce these numbers.
fn cos_series(x: f32) -> f32 {
  let z = x * x;
  var term = 1.0;
  var sum = 1.0;
  for (var k = 1u; k <= 9u; k++) {
    term *= -z / f32((2u * k - 1u) * (2u * k));
    sum += term;
  }
  return sum;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  if (OP == 4u) {
    out[i] = O(bitcast<i32>(bitcast<u32>(p.start_i) + bits(i) % bitcast<u32>(p.step_i)));
    return;
  }
  if (OP == 0u && INT_OUT) {
    out[i] = O(p.start_i + i32(i) * p.step_i);
    return;
  }
  var v: f32;
  if (OP == 0u) {
    v = p.start + f32(i) * p.step;
  } else if (OP == 1u) {
    v = select(0.0, 1.0, i / p.cols == i % p.cols);
  } else if (OP == 2u) {
    v = f32(bits(i) >> 8u) * TWO_NEG24;
  } else {
    let u1 = (f32(bits(2u * i) >> 8u) + 1.0) * TWO_NEG24;
    let u2 = f32(bits(2u * i + 1u) >> 8u) * TWO_NEG24;
    v = -sqrt(-2.0 * log(u1)) * cos_series(TWO_PI * (u2 - 0.5));  // cos(2πu) = -cos(2π(u - 1/2))
  }
  out[i] = O(v);
}
