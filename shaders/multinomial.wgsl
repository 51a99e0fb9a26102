// torch.multinomial over a contiguous [rows, c] probability matrix with given uniforms u [rows, n].
// One invocation per row: it checks the row (reporting to the error flag), then draws n samples in
// order by inverse CDF in f32 (sum, u * total, running sum: the same rounding as the CPU loop).
// Without replacement a drawn category's weight is zeroed in the row's scratch copy, kept as f32
// bits in the first c words of the output row (out is [rows, c + n]: scratch, then the samples).
// Dispatch: ceil(rows / WG) workgroups over x then y.

struct Params {
  rows: u32,
  c: u32,
  n: u32,
  check_id: u32,
  replacement: u32,
}

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(1) @binding(0) var<storage, read_write> flag: array<atomic<u32>, 4>;

override WG: u32 = 64u;

// The first failure: this launch's id, the bad value's bits, and row * 4 + reason
// (0 negative, 1 not finite, 2 all zero, 3 fewer non-zero categories than samples).
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

// 0 when the row is a valid distribution for n draws, else reported and 1.
fn check(row: u32) -> u32 {
  var total = 0.0;
  var nonzero = 0u;
  for (var j = 0u; j < p.c; j++) {
    let v = probs[row * p.c + j];
    let b = bitcast<u32>(v);
    if ((b & 0x7fffffffu) >= 0x7f800000u) { report(b, row * 4u + 1u); return 1u; }
    if (v < 0.0) { report(b, row * 4u); return 1u; }
    total += v;
    nonzero += select(0u, 1u, v > 0.0);
  }
  if (nonzero == 0u) { report(0u, row * 4u + 2u); return 1u; }
  if (p.replacement == 0u && nonzero < p.n) { report(nonzero, row * 4u + 3u); return 1u; }
  return 0u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * nwg.x + wid.x) * WG + lid;
  if (row >= p.rows) { return; }
  let w = p.c + p.n;
  let base = row * w;
  if (check(row) != 0u) {
    for (var s = 0u; s < p.n; s++) { out[base + p.c + s] = 0; }
    return;
  }
  for (var j = 0u; j < p.c; j++) { out[base + j] = bitcast<i32>(probs[row * p.c + j]); }
  for (var s = 0u; s < p.n; s++) {
    var total = 0.0;
    for (var j = 0u; j < p.c; j++) { total += bitcast<f32>(out[base + j]); }
    let goal = u[row * p.n + s] * total;
    var acc = 0.0;
    var pick = 0u;
    for (var j = 0u; j < p.c; j++) {
      let v = bitcast<f32>(out[base + j]);
      if (v > 0.0) {
        pick = j;  // the last positive category catches a target rounded up to the total
        acc += v;
        if (goal < acc) { break; }
      }
    }
    out[base + p.c + s] = i32(pick);
    if (p.replacement == 0u) { out[base + pick] = 0; }
  }
}
