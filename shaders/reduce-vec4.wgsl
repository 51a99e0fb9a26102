// Sum, max or min of contiguous rows: out[o] = fold(x[base(o) + j] for j < inner) where the reduced
// dim is one dense dim whose length and row starts are multiples of 4, read as vec4s. One invocation
// per output, as the `threads` entry of reduce.wgsl; on CPU emulators a vec4 load is one 16-byte
// read where four scalar loads are four (SwiftShader, bench "sum dim1 2048x2048": 78 ms, against
// 1295 ms for `threads` and 844 ms for TF.js).
// The Params block is the one in reduce.wgsl, so src/ops/reduce.ts fills both the same way; offsets and
// strides are in elements. Dispatch: ceil(outer / WG) workgroups, over x then y past 65,535.
// OP: 0 sum, 1 max, 2 min.

alias T = f32;
alias O = T;

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

@group(0) @binding(0) var<storage, read> x: array<vec4<T>>;
@group(0) @binding(1) var<storage, read_write> out: array<O>;
@group(0) @binding(2) var<uniform> p: Params;

// Every output is stored through here, as in reduce.wgsl (the scheduler's epilogue anchor).
fn store_out(i: u32, v: O) { out[i] = v; }

override WG: u32 = 64u;
override OP: u32 = 0u;

// Element offset of output o's row: a multiple of 4 (the launch checks offset and strides).
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

fn combine(acc: vec4<T>, v: vec4<T>) -> vec4<T> {
  if (OP == 0u) { return acc + v; }
  if (OP == 1u) { return max(acc, v); }
  return min(acc, v);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * nwg.x + wid.x) * WG + lid;
  if (o >= p.outer) { return; }
  let base = outer_offset(o) / 4u;
  let n4 = p.inner / 4u;
  var acc = vec4<T>(bitcast<T>(p.ident));
  for (var j = 0u; j < n4; j++) {
    acc = combine(acc, x[base + j]);
  }
  // The four lanes' partial folds, pairwise as a tree would.
  let lo = combine(vec4<T>(acc.x), vec4<T>(acc.y));
  let hi = combine(vec4<T>(acc.z), vec4<T>(acc.w));
  store_out(o, combine(lo, hi).x);
}

// Sum of columns: outputs 4q .. 4q + 3 are four neighbours in every reduced row (the kept dims' last
// has stride 1 and a length that is a multiple of 4, the one reduced dim a stride that is one too),
// so invocation q folds vec4s down the rows, in the order `threads` folds each output. SwiftShader,
// bench "sum dim0 2048x2048", two alternations: 10.3 and 8.6 ms, against 12.6 and 19.3 for `threads`
// (jax-js 8.5-13.9 in the same runs). Dispatch: ceil(outer / (4 WG)) workgroups.
@compute @workgroup_size(WG)
fn columns(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let o = ((wid.y * nwg.x + wid.x) * WG + lid) * 4u;
  if (o >= p.outer) { return; }
  let base = outer_offset(o) / 4u;
  let step = p.stride_i[0].x / 4u;
  var acc = vec4<T>(bitcast<T>(p.ident));
  for (var j = 0u; j < p.inner; j++) {
    acc = combine(acc, x[base + j * step]);
  }
  store_out(o, acc.x);
  store_out(o + 1u, acc.y);
  store_out(o + 2u, acc.z);
  store_out(o + 3u, acc.w);
}
