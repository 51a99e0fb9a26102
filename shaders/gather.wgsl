// torch.gather and its adjoint, over contiguous tensors of rank <= 8 along dim `dim`.
// Entry `gather`: one invocation per output element (index's shape): out[c] = x[c with c[dim] = index[c]].
// Entry `scatter_add`: one invocation per output element (x's shape): the sum of src[c'] over the
// positions c' of index that point at it; no atomics, so it is deterministic and needs no float atomics.
// An index outside [0, size of dim) (other than `ignore` when has_ignore) is reported to the error
// flag (group 1), which the host turns into an Error naming the op; an ignored index reads as 0 and
// receives no gradient. Dispatch: ceil(n / WG) workgroups over x then y.

alias T = f32;

struct Params {
  n: u32,
  rank: u32,
  dim: u32,
  check_id: u32,  // this launch's id for the error flag
  ignore: i32,
  has_ignore: u32,
  _pad: vec2<u32>,
  shape_x: array<vec4<u32>, 2>,
  shape_i: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> src: array<T>;    // gather: x;  scatter_add: src (index's shape)
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;
@group(0) @binding(3) var<uniform> p: Params;
@group(1) @binding(0) var<storage, read_write> flag: array<atomic<u32>, 4>;

override WG: u32 = 256u;

// Record the first failure: this launch's id in flag[0] (0 = none yet), the bad value's bits in flag[1], its position in flag[2].
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

fn ignored(k: i32) -> bool {
  return p.has_ignore != 0u && k == p.ignore;
}

@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let k = index[i];
  if (ignored(k)) {
    out[i] = T(0);
    return;
  }
  if (k < 0 || u32(k) >= p.shape_x[p.dim / 4u][p.dim % 4u]) {
    report(bitcast<u32>(k), i);
    out[i] = T(0);
    return;
  }
  var rem = i;
  var off = 0u;
  var stride = 1u;
  for (var d = p.rank; d > 0u; d--) {
    let c = rem % p.shape_i[(d - 1u) / 4u][(d - 1u) % 4u];
    rem /= p.shape_i[(d - 1u) / 4u][(d - 1u) % 4u];
    off += select(c, u32(k), d - 1u == p.dim) * stride;
    stride *= p.shape_x[(d - 1u) / 4u][(d - 1u) % 4u];
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
    let c = rem % p.shape_x[(d - 1u) / 4u][(d - 1u) % 4u];
    rem /= p.shape_x[(d - 1u) / 4u][(d - 1u) % 4u];
    if (d - 1u == p.dim) {
      hit = c;
      dim_stride = stride;
    } else {
      inside = inside && c < p.shape_i[(d - 1u) / 4u][(d - 1u) % 4u];
      base += c * stride;
    }
    stride *= p.shape_i[(d - 1u) / 4u][(d - 1u) % 4u];
  }
  var acc = T(0);
  if (inside) {
    for (var j = 0u; j < p.shape_i[p.dim / 4u][p.dim % 4u]; j++) {
      let pos = base + j * dim_stride;
      let k = index[pos];
      // The invocation at dim coordinate 0 of each index column checks that column.
      if (hit == 0u && !ignored(k) && (k < 0 || u32(k) >= p.shape_x[p.dim / 4u][p.dim % 4u])) { report(bitcast<u32>(k), o); }
      if (k == i32(hit) && !ignored(k)) { acc += src[pos]; }
    }
  }
  out[o] = acc;
}
