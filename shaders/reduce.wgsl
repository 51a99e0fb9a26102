// Reduces x over a set of dims: out[o] = fold(x[outer(o) + inner(j)] for j < inner), where outer()
// and inner() map flat indices through the kept and reduced dims' strides.
// Entry `rows`: one workgroup per output (WG threads stride over j, then a tree in workgroup memory).
// Entry `threads`: one invocation per output (small inner sizes). Both dispatch over x then y past 65,535.
// OP: 0 sum, 1 max, 2 min, 3 argmax, 4 argmin (argmax/argmin write the index j, first on ties), 5 prod.
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

// Every entry reads element i of x through here: the scheduler fuses elementwise producers of x
// (a mask, a squared difference) by replacing this function (a prologue, engine/prologue.ts).
fn load_x(i: u32) -> T { return x[i]; }

// Every output is stored through here: the scheduler fuses elementwise consumers of the result (a
// mean's division) by replacing this function (an epilogue, engine/epilogue.ts).
fn store_out(i: u32, v: O) { out[i] = v; }

override WG: u32 = 256u;
override OP: u32 = 0u;
// False for i32, so is_nan never looks at an integer's bits.
override T_FLOAT: bool = true;
// rows: each invocation folds one contiguous run of j (CPU emulators: one stream per lane, no
// division per element) instead of j = lid, lid + WG, ... (GPUs: neighbouring lanes read neighbours).
override CHUNKED: bool = false;

var<workgroup> vals: array<T, WG>;
var<workgroup> idxs: array<u32, WG>;

fn outer_offset(o: u32) -> u32 {
  var rem = o;
  var off = p.offset;
  for (var d = p.rank_o; d > 0u; d--) {
    let size = p.shape_o[(d - 1u) / 4u][(d - 1u) % 4u];
    off += (rem % size) * p.stride_o[(d - 1u) / 4u][(d - 1u) % 4u];
    rem /= size;
  }
  return off;
}

fn inner_offset(j: u32) -> u32 {
  if (p.rank_i == 1u) { return j * p.stride_i[0].x; }
  var rem = j;
  var off = 0u;
  for (var d = p.rank_i; d > 0u; d--) {
    let size = p.shape_i[(d - 1u) / 4u][(d - 1u) % 4u];
    off += (rem % size) * p.stride_i[(d - 1u) / 4u][(d - 1u) % 4u];
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
  if (OP == 5u) { return acc * v; }
  if (is_nan(acc)) { return acc; }
  if (is_nan(v)) { return v; }
  if (OP == 1u) { return max(acc, v); }
  return min(acc, v);
}

fn emit(o: u32, v: T, i: u32) {
  if (OP == 3u || OP == 4u) { store_out(o, O(i32(i))); } else { store_out(o, O(v)); }
}

// The running fold of one invocation: the value, and for argmax/argmin its index j.
struct Fold {
  acc: T,
  ai: u32,
}

fn step(f: ptr<function, Fold>, v: T, j: u32) {
  if (OP == 3u || OP == 4u) {
    if (better(v, j, (*f).acc, (*f).ai)) { (*f).acc = v; (*f).ai = j; }
  } else {
    (*f).acc = combine((*f).acc, v);
  }
}

// Folds j in [j0, j1) in order. With at most 2 reduced dims (the common [N, H·W] of a per-channel
// sum) the offset is stepped like an odometer, no division per element: on SwiftShader a sum of
// [64, 32, 28, 28] over (0, 2, 3) took 3x longer through inner_offset.
fn fold_range(f: ptr<function, Fold>, base: u32, j0: u32, j1: u32) {
  if (p.rank_i > 2u) {
    for (var j = j0; j < j1; j++) { step(f, load_x(base + inner_offset(j)), j); }
    return;
  }
  let two = p.rank_i == 2u;
  let n1 = select(max(p.inner, 1u), p.shape_i[0].y, two);
  let t1 = select(p.stride_i[0].x, p.stride_i[0].y, two);
  let t0 = select(0u, p.stride_i[0].x, two);
  var c1 = j0 % n1;
  var off = base + (j0 / n1) * t0 + c1 * t1;
  for (var j = j0; j < j1; j++) {
    step(f, load_x(off), j);
    c1++;
    off += t1;
    // u32 arithmetic wraps, so adding t0 - n1·t1 moves back to the row start, then one row on.
    if (c1 == n1) { c1 = 0u; off += t0 - n1 * t1; }
  }
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  if (o >= p.outer) { return; }  // uniform across the workgroup
  let base = outer_offset(o);
  var f = Fold(bitcast<T>(p.ident), 0xffffffffu);
  if (CHUNKED) {
    let chunk = (p.inner + WG - 1u) / WG;
    let j0 = min(lid * chunk, p.inner);
    fold_range(&f, base, j0, min(j0 + chunk, p.inner));
  } else {
    for (var j = lid; j < p.inner; j += WG) { step(&f, load_x(base + inner_offset(j)), j); }
  }
  vals[lid] = f.acc;
  idxs[lid] = f.ai;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (OP == 3u || OP == 4u) {
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
  var f = Fold(bitcast<T>(p.ident), 0xffffffffu);
  fold_range(&f, outer_offset(o), 0u, p.inner);
  emit(o, f.acc, f.ai);
}
