// Sort positions per row (torch.sort / torch.topk with stable ties), over a contiguous [rows, n] input.
// One invocation per input element: its rank is the number of row elements that come before it
// (smaller, or equal with a lower index; NaN sorts as the largest; `descending` reverses the values'
// order, not the ties'), and when rank < k it writes its column into out[row, rank]. Work per row is n²,
// with no barriers or workgroup memory. Dispatch: ceil(rows * n / WG) workgroups over x then y.

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
override IS_FLOAT: bool = true;

fn is_nan(v: T) -> bool {
  return IS_FLOAT && (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// a strictly before b in ascending order, NaN last (all NaNs equal).
fn less(a: T, b: T) -> bool {
  if (is_nan(a)) { return false; }
  return is_nan(b) || a < b;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + lid;
  if (e >= p.rows * p.n) { return; }
  let row = e / p.n;
  let i = e % p.n;
  let base = row * p.n;
  let v = x[e];
  var rank = 0u;
  for (var j = 0u; j < p.n; j++) {
    let w = x[base + j];
    let before = select(less(w, v), less(v, w), p.descending != 0u);
    let tie = !less(w, v) && !less(v, w) && j < i;
    rank += select(0u, 1u, before || tie);
  }
  if (rank < p.k) { out[row * p.k + rank] = i32(i); }
}
