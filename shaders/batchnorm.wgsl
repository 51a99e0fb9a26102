// Per-channel affine map of a dense [N, C, inner] tensor: y[i] = x[i] · scale[c] + shift[c], c = (i / inner) mod C;
// with p.broadcast set, y[i] = shift[c] (x and scale unread).
// One invocation per 4 consecutive elements (a vec4 load when inner is a multiple of 4, so the
// four share one channel); ceil(n / 4 / WG) workgroups over x then y past the per-dimension limit
// (`affine_rows` below: one workgroup per row).

struct Params {
  n: u32,
  C: u32,
  inner: u32,
  broadcast: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> shift: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
// The same buffers as vec4s, for `affine_rows` (an entry point may not use both views).
@group(0) @binding(0) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4<f32>>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn affine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i0 = ((wid.y * nwg.x + wid.x) * WG + lid) * 4u;
  if (i0 >= p.n) { return; }
  if (p.inner % 4u == 0u) {  // uniform: all four in one channel
    let c = (i0 / p.inner) % p.C;
    var v = vec4<f32>(shift[c]);
    if (p.broadcast == 0u) { v += vec4<f32>(x[i0], x[i0 + 1u], x[i0 + 2u], x[i0 + 3u]) * scale[c]; }
    y[i0] = v.x; y[i0 + 1u] = v.y; y[i0 + 2u] = v.z; y[i0 + 3u] = v.w;
    return;
  }
  for (var i = i0; i < min(i0 + 4u, p.n); i++) {
    let c = (i / p.inner) % p.C;
    if (p.broadcast == 0u) { y[i] = x[i] * scale[c] + shift[c]; } else { y[i] = shift[c]; }
  }
}

// Entry `affine_rows`, for inner a multiple of 4: one workgroup per row r = n·C + c, so the channel
// is computed once per workgroup, not divided out per element; invocations step vec4s lid, lid + WG, ...
@compute @workgroup_size(WG)
fn affine_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let r = wid.y * nwg.x + wid.x;
  if (r * p.inner >= p.n) { return; }
  let c = r % p.C;
  let n4 = p.inner / 4u;
  let base = r * n4;
  let t = vec4<f32>(shift[c]);
  if (p.broadcast != 0u) {
    for (var k = lid; k < n4; k += WG) { y4[base + k] = t; }
    return;
  }
  let s = scale[c];
  for (var k = lid; k < n4; k += WG) { y4[base + k] = x4[base + k] * s + t; }
}

// Sums without workgroup memory or barriers (costly on emulators), for per-channel statistics and
// split-K partial sums. Entry `row_sum`: y[r] = Σ_k x[r·inner + k], one invocation per row (p.n rows).
// Entry `lead_sum`: y[j] = Σ_i x[i·inner + j] over i < p.C, one invocation per column (p.n columns).
@compute @workgroup_size(WG)
fn row_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;
  if (r >= p.n) { return; }
  let base = r * p.inner;
  var acc = vec4<f32>(0.0);
  let n4 = p.inner / 4u;
  for (var k = 0u; k < n4; k++) {
    let i = base + 4u * k;
    acc += vec4<f32>(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
  }
  var s = acc.x + acc.y + acc.z + acc.w;
  for (var k = 4u * n4; k < p.inner; k++) { s += x[base + k]; }
  y[r] = s;
}

// Entry `row_sumsq`: y[r] = Σ_k (x[r·inner + k] − shift[r mod C])², the squared deviations a variance
// sums, without writing x − mean and its square out first.
@compute @workgroup_size(WG)
fn row_sumsq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;
  if (r >= p.n) { return; }
  let m = shift[r % p.C];
  let base = r * p.inner;
  var acc = vec4<f32>(0.0);
  let n4 = p.inner / 4u;
  for (var k = 0u; k < n4; k++) {
    let i = base + 4u * k;
    let d = vec4<f32>(x[i], x[i + 1u], x[i + 2u], x[i + 3u]) - m;
    acc += d * d;
  }
  var s = acc.x + acc.y + acc.z + acc.w;
  for (var k = 4u * n4; k < p.inner; k++) {
    let d = x[base + k] - m;
    s += d * d;
  }
  y[r] = s;
}

@compute @workgroup_size(WG)
fn lead_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let j = (wid.y * nwg.x + wid.x) * WG + lid;
  if (j >= p.n) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.C; i++) { s += x[i * p.inner + j]; }
  y[j] = s;
}
