// torch.gather and its adjoint, over contiguous tensors of rank <= 8 along dim `dim`.
// Entry `gather`: one invocation per output element (index's shape): out[c] = x[c with c[dim] = index[c]].
// Entry `scatter_add`: one invocation per output element (x's shape): the sum of src[c'] over the
// positions c' of index that point at it; no atomics, so it is deterministic and needs no float atomics.
// Dispatch: ceil(n / WG) workgroups over x then y.

alias T = f32;

struct Params {
  n: u32,
  rank: u32,
  dim: u32,
  _pad: u32,
  shape_x: array<vec4<u32>, 2>,
  shape_i: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> src: array<T>;    // gather: x;  scatter_add: src (index's shape)
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;
@group(0) @binding(3) var<uniform> p: Params;

override WG: u32 = 256u;

// Infinity and NaN are not representable as WGSL constants; build them at run time.
fn inf_f32() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let k = index[i];
  if (k < 0 || u32(k) >= at(p.shape_x, p.dim)) {
    out[i] = T(nan_f32());  // an out-of-range index poisons its element
    return;
  }
  var rem = i;
  var off = 0u;
  var stride = 1u;
  for (var d = p.rank; d > 0u; d--) {
    let c = rem % at(p.shape_i, d - 1u);
    rem /= at(p.shape_i, d - 1u);
    off += select(c, u32(k), d - 1u == p.dim) * stride;
    stride *= at(p.shape_x, d - 1u);
  }
  out[i] = src[off];
}

@compute @workgroup_size(WG)
fn scatter_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * nwg.x + wid.x) * WG + lid;
  if (o >= p.n) { return; }
  // Position in index's layout of (coords of o) with dim's coord set to 0, and index's stride along dim.
  var rem = o;
  var base = 0u;
  var stride = 1u;
  var dim_stride = 1u;
  var hit = 0u;
  var inside = true;
  for (var d = p.rank; d > 0u; d--) {
    let c = rem % at(p.shape_x, d - 1u);
    rem /= at(p.shape_x, d - 1u);
    if (d - 1u == p.dim) {
      hit = c;
      dim_stride = stride;
    } else {
      inside = inside && c < at(p.shape_i, d - 1u);
      base += c * stride;
    }
    stride *= at(p.shape_i, d - 1u);
  }
  var acc = T(0);
  if (inside) {
    for (var j = 0u; j < at(p.shape_i, p.dim); j++) {
      let pos = base + j * dim_stride;
      if (index[pos] == i32(hit)) { acc += src[pos]; }
    }
  }
  out[o] = acc;
}
