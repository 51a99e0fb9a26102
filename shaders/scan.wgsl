// One invocation scans one row of a dense tensor seen as [outer, len, inner]: out[k] = Σ_{j ≤ k} x[j]
// along the row (REVERSE: Σ_{j ≥ k}), the row read and written with stride `inner`.
// Dispatch: ceil(outer · inner / WG) workgroups, laid out over x then y past 65,535.

alias T = f32;

struct Params {
  rows: u32,  // outer · inner
  len: u32,
  inner: u32,
  reverse: u32,
}

@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;
  if (r >= p.rows) { return; }
  let base = (r / p.inner) * p.len * p.inner + r % p.inner;
  var acc = T(0);
  for (var k = 0u; k < p.len; k++) {
    let at = base + select(k, p.len - 1u - k, p.reverse == 1u) * p.inner;
    acc += x[at];
    out[at] = acc;
  }
}
