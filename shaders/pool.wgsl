// Max pooling over NCHW planes, in three kernels; one invocation per element, ceil(n / WG) workgroups
// over x then y past the per-dimension limit (the `_plane` entries at the end: a workgroup per plane). Indices are flat offsets h·W + w within a plane.
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

// Where the maximum of window (oh, ow) of the plane at `base` is (-1 if the window holds no input).
fn window_max(base: u32, oh: u32, ow: u32) -> i32 {
  if (p.ph == 0u && p.pw == 0u) { return window_max_inside(base, oh * SH * p.W + ow * SW); }
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
      if (is_nan(v)) { return k; }
      if (best < 0 || v > m) { best = k; m = v; }
    }
  }
  return best;
}

// Without padding every window lies inside the plane (OH = ⌊(H − KH) / SH⌋ + 1): no bounds tests.
// k0 is the window's top-left offset in the plane.
fn window_max_inside(base: u32, k0: u32) -> i32 {
  var best = k0;
  var m = src[base + k0];
  // Branch-free: a larger value, or the first NaN, takes over; once m is NaN nothing does.
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      let k = k0 + kh * p.W + kw;
      let v = src[base + k];
      let take = !is_nan(m) && (v > m || is_nan(v));
      best = select(best, k, take);
      m = select(m, v, take);
    }
  }
  return i32(best);
}

// Σ g over the windows of plane `plane` (g at obase) that contain input (ih, iw) and chose it.
fn window_sum(obase: u32, ih: u32, iw: u32) -> f32 {
  // Windows oh with oh·sh − ph ≤ ih < oh·sh − ph + KH, clamped to [0, OH).
  let h1 = min((ih + p.ph) / SH + 1u, p.OH);
  let w1 = min((iw + p.pw) / SW + 1u, p.OW);
  let h0 = select(0u, (ih + p.ph + 1u - KH + SH - 1u) / SH, ih + p.ph + 1u > KH);
  let w0 = select(0u, (iw + p.pw + 1u - KW + SW - 1u) / SW, iw + p.pw + 1u > KW);
  let k = i32(ih * p.W + iw);
  var acc = 0.0;
  for (var a = 0u; a < NH; a++) {
    let oh = h0 + a;
    for (var b = 0u; b < NW; b++) {
      let ow = w0 + b;
      if (oh >= h1 || ow >= w1) { continue; }
      let o = obase + oh * p.OW + ow;
      if (idx[o] == k) { acc += src[o]; }
    }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn max_index(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = flat(wid, nwg, lid);
  if (i >= p.n) { return; }
  let plane = i / (p.OH * p.OW);
  out[i] = O(window_max(plane * p.H * p.W, (i / p.OW) % p.OH, i % p.OW));
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
  out[i] = O(window_sum(plane * p.OH * p.OW, (i / p.W) % p.H, i % p.W));
}

// The `_plane` entries (emulators): one workgroup per plane (p.n counts planes), its WG invocations
// stepping along each row (lid, lid + WG, ...): no division per element, and few workgroups, since
// SwiftShader pays for each workgroup and runs the WG = 4 neighbouring elements as one SIMD group.
@compute @workgroup_size(WG)
fn max_index_plane(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y * nwg.x + wid.x;
  if (plane >= p.n) { return; }
  let base = plane * p.H * p.W;
  var row = plane * p.OH * p.OW;
  for (var oh = 0u; oh < p.OH; oh++) {
    for (var ow = lid; ow < p.OW; ow += WG) { out[row + ow] = O(window_max(base, oh, ow)); }
    row += p.OW;
  }
}

@compute @workgroup_size(WG)
fn gather_plane(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y * nwg.x + wid.x;
  if (plane >= p.n) { return; }
  let base = plane * p.H * p.W;
  let o0 = plane * p.OH * p.OW;
  for (var o = o0 + lid; o < o0 + p.OH * p.OW; o += WG) { out[o] = O(src[base + u32(idx[o])]); }
}

// Windows that do not overlap (SH ≥ KH and SW ≥ KW): input (ih, iw) can only be chosen by window
// (⌊(ih + ph) / SH⌋, ⌊(iw + pw) / SW⌋), clamped; idx names a position inside its window, so a match
// also means the input lies in that window. The window row is found once per input row.
@compute @workgroup_size(WG)
fn scatter_plane(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y * nwg.x + wid.x;
  if (plane >= p.n) { return; }
  let obase = plane * p.OH * p.OW;
  var row = plane * p.H * p.W;
  for (var ih = 0u; ih < p.H; ih++) {
    if (SH < KH || SW < KW) {
      for (var iw = lid; iw < p.W; iw += WG) { out[row + iw] = O(window_sum(obase, ih, iw)); }
    } else {
      let orow = obase + min((ih + p.ph) / SH, p.OH - 1u) * p.OW;
      let k = i32(ih * p.W);
      for (var iw = lid; iw < p.W; iw += WG) {
        let o = orow + min((iw + p.pw) / SW, p.OW - 1u);
        out[row + iw] = O(select(0.0, src[o], idx[o] == k + i32(iw)));
      }
    }
    row += p.W;
  }
}
