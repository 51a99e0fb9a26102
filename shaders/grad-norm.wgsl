// Gradient clipping on the device, up to K = 4 gradients per launch. Entry `partial`: workgroup w
// reduces gradient k = w / PARTS (read from x<k>), elements (w % PARTS)·WG + lid stepping by
// PARTS·WG, to one value written to y0[(slot + k)·PARTS + w % PARTS]: Σ|g| (kind 0, p = 1), Σg²
// (kind 1, p = 2) or max|g| (kind 2, p = ∞); dispatch: PARTS workgroups per gradient. Entry `total`:
// one workgroup reduces the n.x partials in x0 to y0[0] = the total norm and y0[1] = the clip
// coefficient min(1, max_norm / (total + 1e-6)). Entry `scale`: one invocation multiplies element i
// of gradient k (y<k>) by x0[1] in place; dispatch: ceil(n[k] / WG) workgroups per gradient, laid out
// over x then y past 65,535. NaN propagates through all three (max included), as in torch.

struct Params {
  // Elements of each gradient (partial, scale; 0 for an unused slot), or n.x partials (total).
  n: vec4<u32>,
  // scale: the first workgroup of each gradient.
  start: vec4<u32>,
  slot: u32,
  kind: u32,
  // 0x7fc00000: a NaN from the host, since a NaN constant is a shader-creation error.
  nan_bits: u32,
  max_norm: f32,
}

@group(0) @binding(0) var<storage, read> x0: array<f32>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read> x2: array<f32>;
@group(0) @binding(3) var<storage, read> x3: array<f32>;
@group(0) @binding(4) var<storage, read_write> y0: array<f32>;
@group(0) @binding(5) var<storage, read_write> y1: array<f32>;
@group(0) @binding(6) var<storage, read_write> y2: array<f32>;
@group(0) @binding(7) var<storage, read_write> y3: array<f32>;
@group(0) @binding(8) var<uniform> u: Params;

override WG: u32 = 256u;
override PARTS: u32 = 32u;

var<workgroup> acc: array<f32, WG>;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn combine(a: f32, b: f32) -> f32 {
  if (u.kind != 2u) { return a + b; }
  // WGSL's max may drop a NaN operand; torch's max|g| keeps it.
  if (is_nan(a) || is_nan(b)) { return bitcast<f32>(u.nan_bits); }
  return max(a, b);
}

fn term(v: f32) -> f32 {
  return select(abs(v), v * v, u.kind == 1u);
}

fn load(k: u32, i: u32) -> f32 {
  switch k {
    case 0u: { return x0[i]; }
    case 1u: { return x1[i]; }
    case 2u: { return x2[i]; }
    default: { return x3[i]; }
  }
}

// Component k of v by name: SwiftShader copies a uniform vector indexed dynamically (v[k]).
fn slot(v: vec4<u32>, k: u32) -> u32 {
  return select(select(select(v.x, v.y, k == 1u), v.z, k == 2u), v.w, k == 3u);
}

// Tree reduction of acc; every invocation of the workgroup calls it (barriers in uniform control flow).
fn reduce_acc(lid: u32) -> f32 {
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { acc[lid] = combine(acc[lid], acc[lid + s]); }
    workgroupBarrier();
  }
  return acc[0];
}

@compute @workgroup_size(WG)
fn partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x / PARTS;
  let part = wid.x % PARTS;
  // Its size once: u.n[k] in the loop condition would be a dynamic index per iteration.
  let n = slot(u.n, k);
  var a = 0.0;
  for (var i = part * WG + lid; i < n; i += PARTS * WG) { a = combine(a, term(load(k, i))); }
  acc[lid] = a;
  let r = reduce_acc(lid);
  if (lid == 0u) { y0[(u.slot + k) * PARTS + part] = r; }
}

@compute @workgroup_size(WG)
fn total(@builtin(local_invocation_index) lid: u32) {
  var a = 0.0;
  for (var i = lid; i < u.n.x; i += WG) { a = combine(a, x0[i]); }
  acc[lid] = a;
  let r = reduce_acc(lid);
  if (lid == 0u) {
    let t = select(r, sqrt(r), u.kind == 1u);
    let c = u.max_norm / (t + 1e-6);
    y0[0] = t;
    // torch.clamp(c, max=1) keeps a NaN coefficient; WGSL's min need not.
    y0[1] = select(min(c, 1.0), c, is_nan(c));
  }
}

@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let w = wid.y * nwg.x + wid.x;
  // The gradient of workgroup w: the last non-empty one starting at or before w. Components by name,
  // not u.n[j] in a loop: SwiftShader copies a uniform vector indexed dynamically (2x slower).
  var k = 0u;
  if (u.n.y > 0u && w >= u.start.y) { k = 1u; }
  if (u.n.z > 0u && w >= u.start.z) { k = 2u; }
  if (u.n.w > 0u && w >= u.start.w) { k = 3u; }
  let first = slot(u.start, k);
  let count = slot(u.n, k);
  let i = (w - first) * WG + lid;
  if (i >= count) { return; }
  let c = x0[1];
  switch k {
    case 0u: { y0[i] = y0[i] * c; }
    case 1u: { y1[i] = y1[i] * c; }
    case 2u: { y2[i] = y2[i] * c; }
    default: { y3[i] = y3[i] * c; }
  }
}
