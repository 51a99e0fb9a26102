// Gradient norms on the device, for clipGradNorm. Entry `partial`: workgroup w of the launch for one
// gradient reduces its elements w·WG + lid, w·WG + lid + PARTS·WG, ... to one value, written to
// out[slot·PARTS + w]: Σ|g| (kind 0, p = 1), Σg² (kind 1, p = 2) or max|g| (kind 2, p = ∞).
// Dispatch: PARTS workgroups. Entry `total`: one workgroup reduces the count partials in x to
// out[0] = the total norm and out[1] = the clip coefficient min(1, max_norm / (total + 1e-6)).
// NaN propagates through both (max included), so a NaN gradient gives a NaN norm, as in torch.

struct Params {
  // partial: elements of this gradient; total: partials to reduce.
  n: u32,
  slot: u32,
  kind: u32,
  // 0x7fc00000: a NaN from the host, since a NaN constant is a shader-creation error.
  nan_bits: u32,
  max_norm: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

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
  var a = 0.0;
  for (var i = wid.x * WG + lid; i < u.n; i += PARTS * WG) { a = combine(a, term(x[i])); }
  acc[lid] = a;
  let r = reduce_acc(lid);
  if (lid == 0u) { out[u.slot * PARTS + wid.x] = r; }
}

@compute @workgroup_size(WG)
fn total(@builtin(local_invocation_index) lid: u32) {
  var a = 0.0;
  for (var i = lid; i < u.n; i += WG) { a = combine(a, x[i]); }
  acc[lid] = a;
  let r = reduce_acc(lid);
  if (lid == 0u) {
    let t = select(r, sqrt(r), u.kind == 1u);
    let c = u.max_norm / (t + 1e-6);
    out[0] = t;
    // torch.clamp(c, max=1) keeps a NaN coefficient; WGSL's min need not.
    out[1] = select(min(c, 1.0), c, is_nan(c));
  }
}
