// Checks every element of a contiguous float32 tensor x (from element `offset`): MODE 0, finite
// (no NaN, no ±Inf); MODE 1, in [lo, hi] (NaN fails). One invocation per element, ceil(n / WG)
// workgroups over x then y; the first failure goes to the error flag (group 1) with its element.

struct Params {
  n: u32,
  offset: u32,
  check_id: u32,  // this launch's id for the error flag
  _pad: u32,
  lo: f32,
  hi: f32,
  _pad2: vec2<u32>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
@group(1) @binding(0) var<storage, read_write> flag: array<atomic<u32>, 4>;

override WG: u32 = 256u;
override MODE: u32 = 0u;

// Record the first failure: this launch's id in flag[0] (0 = none yet), the bad value's bits in flag[1], its element in flag[2].
fn report(bits: u32, pos: u32) {
  if (atomicLoad(&flag[0]) != 0u) { return; }
  loop {
    let r = atomicCompareExchangeWeak(&flag[0], 0u, p.check_id);
    if (r.exchanged) {
      atomicStore(&flag[1], bits);
      atomicStore(&flag[2], pos);
      return;
    }
    if (r.old_value != 0u) { return; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let v = x[p.offset + i];
  // Tested on the bits: compilers may assume floats are never NaN and fold comparisons.
  let bits = bitcast<u32>(v);
  let finite = (bits & 0x7f800000u) != 0x7f800000u;
  var ok = finite;
  if (MODE == 1u) { ok = finite && v >= p.lo && v <= p.hi; }
  if (!ok) { report(bits, i); }
}
