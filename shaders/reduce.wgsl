// Reduces x over a set of dims: out[o] = fold(x[outer(o) + inner(j)] for j < inner), where outer()
// and inner() map flat indices through the kept and reduced dims' strides.
// Entry `rows`: one workgroup per output (WG threads stride over j, then a tree in workgroup memory).
// Entry `threads`: one invocation per output (small inner sizes). Both dispatch over x then y past 65,535.
// OP: 0 sum, 1 max, 2 min, 3 argmax, 4 argmin (argmax/argmin write the index j, first on ties).
// NaN propagates as in PyTorch: max/min of a group with a NaN is NaN, argmax/argmin the first NaN's index.

alias T = f32;
alias O = f32;

struct Params {
  outer: u32,
  inner: u32,
  offset: u32,
  rank_o: u32,
  rank_i: u32,
  ident: u32,  // bits of the fold's identity in T
  _pad: vec2<u32>,
  shape_o: array<vec4<u32>, 2>,
  stride_o: array<vec4<u32>, 2>,
  shape_i: array<vec4<u32>, 2>,
  stride_i: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<O>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 256u;
override OP: u32 = 0u;
// False for i32, so is_nan never looks at an integer's bits.
override T_FLOAT: bool = true;

var<workgroup> vals: array<T, WG>;
var<workgroup> idxs: array<u32, WG>;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn outer_offset(o: u32) -> u32 {
  var rem = o;
  var off = p.offset;
  for (var d = p.rank_o; d > 0u; d--) {
    let size = at(p.shape_o, d - 1u);
    off += (rem % size) * at(p.stride_o, d - 1u);
    rem /= size;
  }
  return off;
}

fn inner_offset(j: u32) -> u32 {
  if (p.rank_i == 1u) { return j * p.stride_i[0].x; }
  var rem = j;
  var off = 0u;
  for (var d = p.rank_i; d > 0u; d--) {
    let size = at(p.shape_i, d - 1u);
    off += (rem % size) * at(p.stride_i, d - 1u);
    rem /= size;
  }
  return off;
}

// By bits: WGSL lets the compiler assume no NaN, so x != x may fold to false.
fn is_nan(x: T) -> bool {
  return T_FLOAT && (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// Does (v, i) beat the current (best, bi)? A NaN beats any number; ties go to the lower index.
fn better(v: T, i: u32, best: T, bi: u32) -> bool {
  let vn = is_nan(v);
  let bn = is_nan(best);
  if (vn || bn) { return vn && (!bn || i < bi); }
  if (OP == 1u || OP == 3u) { return v > best || (v == best && i < bi); }
  return v < best || (v == best && i < bi);
}

fn combine(acc: T, v: T) -> T {
  if (OP == 0u) { return acc + v; }
  if (is_nan(acc)) { return acc; }
  if (is_nan(v)) { return v; }
  if (OP == 1u) { return max(acc, v); }
  return min(acc, v);
}

fn emit(o: u32, v: T, i: u32) {
  if (OP >= 3u) { out[o] = O(i32(i)); } else { out[o] = O(v); }
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  if (o >= p.outer) { return; }  // uniform across the workgroup
  let base = outer_offset(o);
  var acc = bitcast<T>(p.ident);
  var ai = 0xffffffffu;
  for (var j = lid; j < p.inner; j += WG) {
    let v = x[base + inner_offset(j)];
    if (OP >= 3u) {
      if (better(v, j, acc, ai)) { acc = v; ai = j; }
    } else {
      acc = combine(acc, v);
    }
  }
  vals[lid] = acc;
  idxs[lid] = ai;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (OP >= 3u) {
        if (better(vals[lid + s], idxs[lid + s], vals[lid], idxs[lid])) {
          vals[lid] = vals[lid + s];
          idxs[lid] = idxs[lid + s];
        }
      } else {
        vals[lid] = combine(vals[lid], vals[lid + s]);
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { emit(o, vals[0], idxs[0]); }
}

@compute @workgroup_size(WG)
fn threads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * nwg.x + wid.x) * WG + lid;
  if (o >= p.outer) { return; }
  let base = outer_offset(o);
  var acc = bitcast<T>(p.ident);
  var ai = 0xffffffffu;
  for (var j = 0u; j < p.inner; j++) {
    let v = x[base + inner_offset(j)];
    if (OP >= 3u) {
      if (better(v, j, acc, ai)) { acc = v; ai = j; }
    } else {
      acc = combine(acc, v);
    }
  }
  emit(o, acc, ai);
}
