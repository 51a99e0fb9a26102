// Embedding rows, weight [num, dim] and int32 indices [tokens], with flat addressing (no shape arrays).
// Entry `forward`: one invocation per output element (t, c): out[t, c] = weight[index[t], c].
// Entry `backward`: one invocation per weight element (v, c): dw[v, c] = Σ over t with index[t] = v of g[t, c],
// a loop over the tokens in order (deterministic, no float atomics).
// Entry `onehot`: one invocation per element (t, v) of out [tokens, num]: 1 where index[t] = v, else 0
// (the small-vocabulary backward is the matmul onehotᵀ·g). An index outside [0, num) is
// reported to the error flag (group 1) and reads as 0. Dispatch: ceil(n / WG) workgroups over x then y.

struct Params {
  n: u32,        // output elements
  dim: u32,
  num: u32,
  tokens: u32,
  off_src: u32,  // element offset of src in its buffer
  off_index: u32,
  check_id: u32, // this launch's id for the error flag
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;  // forward: weight; backward: g [tokens, dim]
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
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

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let t = i / p.dim;
  let k = index[p.off_index + t];
  if (k < 0 || u32(k) >= p.num) {
    report(bitcast<u32>(k), t);
    out[i] = 0.0;
    return;
  }
  out[i] = src[p.off_src + u32(k) * p.dim + (i - t * p.dim)];
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * nwg.x + wid.x) * WG + lid;
  if (o >= p.n) { return; }
  let v = i32(o / p.dim);
  let c = o - u32(v) * p.dim;
  var acc = 0.0;
  for (var t = 0u; t < p.tokens; t++) {
    let k = index[p.off_index + t];
    // Column 0 of row 0 checks every index once.
    if (o == 0u && (k < 0 || u32(k) >= p.num)) { report(bitcast<u32>(k), t); }
    if (k == v) { acc += src[p.off_src + t * p.dim + c]; }
  }
  out[o] = acc;
}

@compute @workgroup_size(WG)
fn onehot(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let t = i / p.num;
  let k = index[p.off_index + t];
  if (i - t * p.num == 0u && (k < 0 || u32(k) >= p.num)) { report(bitcast<u32>(k), t); }
  out[i] = select(0.0, 1.0, k == i32(i - t * p.num));
}
