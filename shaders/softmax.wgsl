// Row ops over contiguous rows of length `cols`, numerically stable (max-subtracted):
// OP 0 softmax(x), 1 logSoftmax(x), 2 softmax grad y*(g - sum(g*y)), 3 logSoftmax grad g - exp(y)*sum(g),
// 4 cross-entropy loss per row logsumexp(x) - x[t], 5 its grad (softmax(x) - onehot(t)) * gl[row] * scale,
// 6 (cross-entropy-mean.wgsl, appended) their mean.
// Inputs: x (or y), g (ops 2, 3; per-row gl for op 5), t (int32 targets, ops 4, 5, 6), scale (op 5:
// 1/kept of op 6, when p.scaled is 1).
// Ops 4, 5, 6: a target equal to `ignore` gives loss 0 and gradient 0; one outside [0, cols) is reported
// to the error flag (group 1) with its row, and the host throws at the next sync point.
// Entry `rows`: one workgroup per row; entry `threads`: one invocation per row. Dispatch over x then y.
// As PyTorch, softmax/logSoftmax (and cross-entropy) of a row whose max is not finite (a NaN, +Inf, or all
// -Inf) is all NaN.

struct Params {
  rows: u32,
  cols: u32,
  // op 5 reads its per-row gl through an offset and a stride (0 when mean() broadcast one value)
  gl_offset: u32,
  gl_stride: u32,
  ignore: i32,    // ops 4, 5, 6: crossEntropy's ignoreIndex
  check_id: u32,  // ops 4, 5, 6: this launch's id for the error flag
  scaled: u32,    // op 5: 1 when scale[s_offset] scales the gradient
  s_offset: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<i32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
@group(1) @binding(0) var<storage, read_write> flag: array<atomic<u32>, 4>;

override WG: u32 = 256u;
override OP: u32 = 0u;

var<workgroup> red: array<f32, WG>;

// Infinity and NaN are not representable as WGSL constants; build them at run time.
fn inf_f32() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// By bits: WGSL lets the compiler assume no NaN, so x != x may fold to false.
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// max that keeps a NaN (the builtin may drop it).
fn max_nan(a: f32, b: f32) -> f32 {
  return select(select(max(a, b), b, is_nan(b)), a, is_nan(a));
}

// max of x[base + c] for c = start, start + step, ... < cols: the builtin max, made NaN if any element's
// magnitude bits exceed Inf's (one integer max per element, cheaper than max_nan's two NaN tests).
fn strided_max(base: u32, start: u32, step: u32) -> f32 {
  var m = -inf_f32();  // stays -Inf only for a row of -Inf
  var mag = 0u;
  for (var c = start; c < p.cols; c += step) {
    let v = x[base + c];
    m = max(m, v);
    mag = max(mag, bitcast<u32>(v) & 0x7fffffffu);
  }
  return select(m, nan_f32(), mag > 0x7f800000u);
}

fn wg_reduce(v: f32, lid: u32, is_max: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] = select(red[lid] + red[lid + s], max_nan(red[lid], red[lid + s]), is_max);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn uses_max() -> bool {
  return OP == 0u || OP == 1u || OP == 4u || OP == 5u;
}

// The summand of the row's sum, given the row max m.
fn summand(i: u32, m: f32) -> f32 {
  if (OP == 2u) { return g[i] * x[i]; }
  if (OP == 3u) { return g[i]; }
  return exp(x[i] - m);
}

// Record the first failure: this launch's id in flag[0] (0 = none yet), the bad value's bits in flag[1], its row in flag[2].
fn report(bits: u32, row: u32) {
  if (atomicLoad(&flag[0]) != 0u) { return; }
  loop {
    let r = atomicCompareExchangeWeak(&flag[0], 0u, p.check_id);
    if (r.exchanged) {
      atomicStore(&flag[1], bits);
      atomicStore(&flag[2], row);
      return;
    }
    if (r.old_value != 0u) { return; }
  }
}

const NO_CLASS: u32 = 0xffffffffu;  // an ignored row, or a bad target (reported)

fn class_of(r: u32) -> u32 {
  let k = t[r];
  if (k == p.ignore) { return NO_CLASS; }
  if (k < 0 || u32(k) >= p.cols) {
    report(bitcast<u32>(k), r);
    return NO_CLASS;
  }
  return u32(k);
}

fn element(r: u32, c: u32, m: f32, s: f32) -> f32 {
  let i = r * p.cols + c;
  if (OP <= 1u && !is_finite(m)) { return nan_f32(); }
  if (OP == 0u) { return exp(x[i] - m) / s; }
  if (OP == 1u) { return x[i] - m - log(s); }
  if (OP == 2u) { return x[i] * (g[i] - s); }
  if (OP == 3u) { return g[i] - exp(x[i]) * s; }
  let k = class_of(r);
  if (k == NO_CLASS) { return 0.0; }
  if (!is_finite(m)) { return nan_f32(); }
  return (exp(x[i] - m) / s - select(0.0, 1.0, c == k)) * row_factor(r);
}

// Op 5's factor for row r: its gl, times the scale when there is one.
fn row_factor(r: u32) -> f32 {
  let gl = g[p.gl_offset + r * p.gl_stride];
  if (p.scaled == 1u) { return gl * scale[p.s_offset]; }
  return gl;
}

fn row_loss(r: u32, m: f32, s: f32) -> f32 {
  let k = class_of(r);
  if (k == NO_CLASS) { return 0.0; }
  if (!is_finite(m)) { return nan_f32(); }
  return m + log(s) - x[r * p.cols + k];
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = wid.y * nwg.x + wid.x;
  if (r >= p.rows) { return; }  // uniform per workgroup
  let base = r * p.cols;
  var m = 0.0;
  if (uses_max()) { m = wg_reduce(strided_max(base, lid, WG), lid, true); }
  var s = 0.0;
  for (var c = lid; c < p.cols; c += WG) { s += summand(base + c, m); }
  s = wg_reduce(s, lid, false);
  if (OP == 4u) {
    if (lid == 0u) { out[r] = row_loss(r, m, s); }
    return;
  }
  for (var c = lid; c < p.cols; c += WG) { out[base + c] = element(r, c, m, s); }
}

@compute @workgroup_size(WG)
fn threads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var m = 0.0;
  if (uses_max()) { m = strided_max(base, 0u, 1u); }
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) { s += summand(base + c, m); }
  if (OP == 4u) {
    out[r] = row_loss(r, m, s);
    return;
  }
  for (var c = 0u; c < p.cols; c++) { out[base + c] = element(r, c, m, s); }
}
