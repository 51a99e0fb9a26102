// Layer norm over contiguous rows of length `cols`: y = (x - mean)·rstd·w + b, rstd = 1/√(var + eps),
// var biased. stats holds (mean, rstd) per row, written by the forward and read by the backward.
// Entries: forward_rows / backward_rows, one workgroup per row; forward_threads / backward_threads,
// one invocation per row (no workgroup memory: what CPU emulators run fastest); weight_grad, one
// invocation per column: dw[j] = Σ_r g[r, j]·x̂[r, j]. Dispatch: workgroups over x then y.

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  has_w: u32, // 0: no weight (a weight of ones)
  has_b: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> stats_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;   // y, dx or dw
@group(0) @binding(6) var<storage, read_write> stats: array<f32>; // forward only: (mean, rstd) per row
@group(0) @binding(7) var<uniform> p: Params;

override WG: u32 = 64u;

var<workgroup> red: array<vec2<f32>, WG>;

// Branches, not select(): select evaluates both operands, and without a weight (or bias) the
// binding is the backend's 256-byte unused-binding buffer, which w[j] (b[j]) would read past.
fn weight(j: u32) -> f32 {
  if (p.has_w != 0u) { return w[j]; }
  return 1.0;
}

fn wg_sum(v: vec2<f32>, lid: u32) -> vec2<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// Σ d and Σ d² over the part of a row that invocation `lid` of `n` reads, d = x - x[row start]:
// shifting by one of the row's values keeps E[d²] - E[d]² from cancelling when |mean| ≫ std.
fn moments(base: u32, lid: u32, n: u32) -> vec2<f32> {
  let shift = x[base];
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < p.cols; j += n) {
    let d = x[base + j] - shift;
    acc += vec2<f32>(d, d * d);
  }
  return acc;
}

fn finish_stats(row: u32, sums: vec2<f32>) -> vec2<f32> {
  let n = f32(p.cols);
  let md = sums.x / n;
  let v = max(sums.y / n - md * md, 0.0);
  return vec2<f32>(x[row * p.cols] + md, inverseSqrt(v + p.eps));
}

fn write_row(row: u32, ms: vec2<f32>, lid: u32, n: u32) {
  let base = row * p.cols;
  for (var j = lid; j < p.cols; j += n) {
    let y = (x[base + j] - ms.x) * ms.y * weight(j);
    var v = y;
    if (p.has_b != 0u) { v += b[j]; }
    out[base + j] = v;
  }
}

// Σ gh and Σ gh·x̂ over the invocation's part of the row, gh = g·w.
fn grad_sums(row: u32, ms: vec2<f32>, lid: u32, n: u32) -> vec2<f32> {
  let base = row * p.cols;
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < p.cols; j += n) {
    let gh = g[base + j] * weight(j);
    acc += vec2<f32>(gh, gh * (x[base + j] - ms.x) * ms.y);
  }
  return acc;
}

// dx = rstd·(gh - mean(gh) - x̂·mean(gh·x̂))
fn write_dx(row: u32, ms: vec2<f32>, sums: vec2<f32>, lid: u32, n: u32) {
  let base = row * p.cols;
  let m1 = sums.x / f32(p.cols);
  let m2 = sums.y / f32(p.cols);
  for (var j = lid; j < p.cols; j += n) {
    let xh = (x[base + j] - ms.x) * ms.y;
    out[base + j] = ms.y * (g[base + j] * weight(j) - m1 - xh * m2);
  }
}

fn saved(row: u32) -> vec2<f32> {
  return vec2<f32>(stats_in[2u * row], stats_in[2u * row + 1u]);
}

@compute @workgroup_size(WG)
fn forward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.rows) { return; } // uniform per workgroup: the barriers below stay uniform
  let ms = finish_stats(row, wg_sum(moments(row * p.cols, lid, WG), lid));
  write_row(row, ms, lid, WG);
  if (lid == 0u) {
    stats[2u * row] = ms.x;
    stats[2u * row + 1u] = ms.y;
  }
}

@compute @workgroup_size(WG)
fn forward_threads(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.y * nwg.x * WG + gid.x;
  if (row >= p.rows) { return; }
  let ms = finish_stats(row, moments(row * p.cols, 0u, 1u));
  write_row(row, ms, 0u, 1u);
  stats[2u * row] = ms.x;
  stats[2u * row + 1u] = ms.y;
}

@compute @workgroup_size(WG)
fn backward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.rows) { return; }
  let ms = saved(row);
  write_dx(row, ms, wg_sum(grad_sums(row, ms, lid, WG), lid), lid, WG);
}

@compute @workgroup_size(WG)
fn backward_threads(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.y * nwg.x * WG + gid.x;
  if (row >= p.rows) { return; }
  let ms = saved(row);
  write_dx(row, ms, grad_sums(row, ms, 0u, 1u), 0u, 1u);
}

@compute @workgroup_size(WG)
fn weight_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.y * nwg.x * WG + gid.x;
  if (j >= p.cols) { return; }
  var acc = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let ms = saved(r);
    acc += g[r * p.cols + j] * (x[r * p.cols + j] - ms.x) * ms.y;
  }
  out[j] = acc;
}
