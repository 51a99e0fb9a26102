// Sort positions per row (as sort.wgsl: stable ties, NaN the largest) by a bitonic network in
// workgroup memory: one workgroup per row of a contiguous [rows, n] input, n padded to the power of
// two P (pad slots sort after everything); values and positions both live in workgroup memory, so
// P * 8 bytes must fit the adapter's workgroup storage. Writes the first k positions of each row.
// Dispatch: rows workgroups over x then y.

alias T = f32;

struct Params {
  rows: u32,
  n: u32,
  k: u32,
  descending: u32,
}

@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 256u;
override P: u32 = 2048u;
override IS_FLOAT: bool = true;

var<workgroup> keys: array<T, P>;
var<workgroup> pos: array<u32, P>;

fn is_nan(v: T) -> bool {
  return IS_FLOAT && (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn less(a: T, b: T) -> bool {
  if (is_nan(a)) { return false; }
  return is_nan(b) || a < b;
}

// The element in slot a comes before the one in slot b (a strict total order: ties by position).
fn before(a: u32, b: u32) -> bool {
  if (pos[a] >= p.n) { return false; }
  if (pos[b] >= p.n) { return true; }
  let u = keys[a];
  let v = keys[b];
  let first = select(less(u, v), less(v, u), p.descending != 0u);
  let tie = !less(u, v) && !less(v, u);
  return first || (tie && pos[a] < pos[b]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.rows) { return; }
  for (var i = lid; i < P; i += WG) {
    if (i < p.n) { keys[i] = x[row * p.n + i]; }
    pos[i] = i;
  }
  workgroupBarrier();
  for (var size = 2u; size <= P; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var t = lid; t < P / 2u; t += WG) {
        let i = 2u * t - (t & (stride - 1u));  // the lower slot of this compare-exchange pair
        let j = i + stride;
        // blocks with bit `size` clear sort ascending in slot order, the others the reverse
        let swap = select(before(i, j), before(j, i), (i & size) == 0u);
        if (swap) {
          let kv = keys[i];
          keys[i] = keys[j];
          keys[j] = kv;
          let pv = pos[i];
          pos[i] = pos[j];
          pos[j] = pv;
        }
      }
      workgroupBarrier();
    }
  }
  for (var s = lid; s < p.k; s += WG) { out[row * p.k + s] = i32(pos[s]); }
}
