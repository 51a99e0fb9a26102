// Max pooling over NCHW planes, in three kernels; one invocation per element, ceil(n / WG) workgroups
// over x then y past the per-dimension limit. Indices are flat offsets h·W + w within a plane.
// The window and stride are override constants, so the window loops have fixed trip counts (unrolled)
// and the stride divisions are by constants: a pipeline per window shape, of which a model has few.
// Entry `max_index`: idx[plane, oh, ow] = where the window's maximum is (the first in scan order; a NaN wins).
// Entry `gather`:    y[plane, o] = x[plane, idx[plane, o]].
// Entry `scatter`:   dx[plane, i] = Σ g[plane, o] over the windows o containing i whose idx is i (no atomics).

struct Params {
  n: u32, H: u32, W: u32, OH: u32,
  OW: u32, ph: u32, pw: u32,
}

alias O = f32;  // the host makes this i32 for max_index, whose output is int32

@group(0) @binding(0) var<storage, read> src: array<f32>;   // x (max_index, gather) or g (scatter)
@group(0) @binding(1) var<storage, read> idx: array<i32>;   // unused by max_index
@group(0) @binding(2) var<storage, read_write> out: array<O>;
@group(0) @binding(3) var<uniform> p: Params;

override WG: u32 = 256u;
override KH: u32 = 2u;
override KW: u32 = 2u;
override SH: u32 = 2u;
override SW: u32 = 2u;
// The most windows along one axis that can hold an input position.
override NH: u32 = (KH + SH - 1u) / SH;
override NW: u32 = (KW + SW - 1u) / SW;

// A bit test: compilers may fold v != v away, assuming no NaNs.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn flat(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn max_index(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let plane = i / (p.OH * p.OW);
  let oh = (i / p.OW) % p.OH;
  let ow = i % p.OW;
  let base = plane * p.H * p.W;
  var best = -1;
  var m = 0.0;
  for (var kh = 0u; kh < KH; kh++) {
    let h = i32(oh * SH + kh) - i32(p.ph);
    if (h < 0 || h >= i32(p.H)) { continue; }
    for (var kw = 0u; kw < KW; kw++) {
      let w = i32(ow * SW + kw) - i32(p.pw);
      if (w < 0 || w >= i32(p.W)) { continue; }
      let k = h * i32(p.W) + w;
      let v = src[base + u32(k)];
      if (best < 0 || v > m || is_nan(v)) { best = k; m = v; }
      if (is_nan(v)) { out[i] = O(best); return; }
    }
  }
  out[i] = O(best);
}

@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let plane = i / (p.OH * p.OW);
  out[i] = O(src[plane * p.H * p.W + u32(idx[i])]);
}

@compute @workgroup_size(WG)
fn scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let plane = i / (p.H * p.W);
  let k = i32(i % (p.H * p.W));
  let ih = (i / p.W) % p.H;
  let iw = i % p.W;
  // Windows oh with oh·sh − ph ≤ ih < oh·sh − ph + KH, clamped to [0, OH).
  let h1 = min((ih + p.ph) / SH + 1u, p.OH);
  let w1 = min((iw + p.pw) / SW + 1u, p.OW);
  let h0 = select(0u, (ih + p.ph + 1u - KH + SH - 1u) / SH, ih + p.ph + 1u > KH);
  let w0 = select(0u, (iw + p.pw + 1u - KW + SW - 1u) / SW, iw + p.pw + 1u > KW);
  var acc = 0.0;
  let base = plane * p.OH * p.OW;
  for (var a = 0u; a < NH; a++) {
    let oh = h0 + a;
    for (var b = 0u; b < NW; b++) {
      let ow = w0 + b;
      if (oh >= h1 || ow >= w1) { continue; }
      let o = base + oh * p.OW + ow;
      if (idx[o] == k) { acc += src[o]; }
    }
  }
  out[i] = O(acc);
}
