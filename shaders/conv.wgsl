// conv2d (NCHW) and its two gradients, each an implicit GEMM C[m, n] = Σ_k A[m, k] B[k, n] per group,
// whose operands are gathered from the tensors on the fly (no im2col buffer):
//   OP 0 forward:  y[nb, co, oh, ow]   m = co, n = (nb, oh, ow), k = (ci, kh, kw); A = w, B = x taps (+ bias)
//   OP 1 dgrad:    dx[nb, ci, ih, iw]  m = ci, n = (nb, ih, iw), k = (co, kh, kw); A = w, B = gy taps
//   OP 2 wgrad:    dw[s, co, ci, kh, kw] m = co, n = (ci, kh, kw), k = (nb, oh, ow) over split s of K; A = gy, B = x taps
// Dispatch: tiles_n * tiles_m * groups * splits workgroups, over x then y past the per-dimension limit.
// Entry `tiled` (16x16 threads, 4x4 outputs each, A and B staged in workgroup memory) suits GPUs;
// entry `blocked` (WX x WY threads, R rows x 4 columns each, straight from global memory) suits CPU emulators.

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  Co: u32, KH: u32, KW: u32, OH: u32,
  OW: u32, sh: u32, sw: u32, ph: u32,
  pw: u32, dh: u32, dw: u32, groups: u32,
  Cg: u32, Cog: u32, M: u32, NN: u32,    // GEMM rows and columns per group
  K: u32, kchunk: u32, tiles_n: u32, tiles_m: u32,
  splits: u32, n1: u32, n2: u32, k1: u32, // inner sizes of the (·, n1, n2) and (·, k1, k2) decompositions
  k2: u32, has_bias: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<storage, read> inB: array<f32>;  // x (OP 0, 2) or gy (OP 1): the gathered operand
@group(0) @binding(1) var<storage, read> inA: array<f32>;  // w (OP 0, 1) or gy (OP 2)
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

override OP: u32 = 0u;
override WX: u32 = 8u;
override WY: u32 = 8u;
override R: u32 = 8u;
override UNIT_STRIDE: u32 = 0u;  // 1: stride [1, 1] (the host sets it)

fn decomp(v: u32, d1: u32, d2: u32) -> vec3<u32> {
  return vec3<u32>(v / (d1 * d2), (v / d2) % d1, v % d2);
}

// What a column n contributes to every tap address: a height and width offset and a base.
struct Col { h: i32, w: i32, base: u32 }
// What a reduction index k contributes: the same for B, and A's offset within its row.
struct Red { h: i32, w: i32, base: u32, a: u32 }

fn col_of(grp: u32, n: u32) -> Col {
  let d = decomp(n, p.n1, p.n2);
  if (OP == 0u) { return Col(i32(d.y * p.sh) - i32(p.ph), i32(d.z * p.sw) - i32(p.pw), d.x * p.C * p.H * p.W); }
  if (OP == 1u) { return Col(i32(d.y + p.ph), i32(d.z + p.pw), d.x * p.Co * p.OH * p.OW); }
  return Col(i32(d.y * p.dh), i32(d.z * p.dw), (grp * p.Cg + d.x) * p.H * p.W);
}

fn red_of(grp: u32, k: u32) -> Red {
  return red_at(grp, k, decomp(k, p.k1, p.k2));
}

// d = decomp(k): the blocked loop steps it by one instead of dividing (integer division is slow on emulators).
fn red_at(grp: u32, k: u32, d: vec3<u32>) -> Red {
  if (OP == 0u) { return Red(i32(d.y * p.dh), i32(d.z * p.dw), (grp * p.Cg + d.x) * p.H * p.W, k); }
  if (OP == 1u) {
    let co = grp * p.Cog + d.x;
    return Red(-i32(d.y * p.dh), -i32(d.z * p.dw), co * p.OH * p.OW, co * p.Cg * p.KH * p.KW + d.y * p.KW + d.z);
  }
  return Red(i32(d.y * p.sh) - i32(p.ph), i32(d.z * p.sw) - i32(p.pw), d.x * p.C * p.H * p.W,
             d.x * p.Co * p.OH * p.OW + d.y * p.OW + d.z);
}

fn row_base(grp: u32, m: u32) -> u32 {
  if (OP == 0u) { return (grp * p.Cog + m) * p.Cg * p.KH * p.KW; }
  if (OP == 1u) { return m * p.KH * p.KW; }
  return (grp * p.Cog + m) * p.OH * p.OW;
}

// B[k, n]: an input pixel (OP 0, 2), zero in the padding; or (OP 1) the output pixel whose tap lands
// on input pixel (ih, iw): oh = (ih + ph − kh·dh) / sh when that is a whole number in [0, OH).
// Branch-free (a negative offset wraps to a large u32; `&` does not short-circuit; an invalid tap loads
// element 0 and discards it): emulators pay for every divergent branch in the inner loop.
fn tap(c: Col, r: Red) -> f32 {
  let h = u32(c.h + r.h);
  let w = u32(c.w + r.w);
  if (OP == 1u) {
    var oh = h;
    var ow = w;
    var ok = true;
    if (UNIT_STRIDE == 0u) {  // a constant: stride 1 needs no division (slow on emulators)
      oh = h / p.sh;
      ow = w / p.sw;
      ok = (oh * p.sh == h) & (ow * p.sw == w) & (i32(h) >= 0) & (i32(w) >= 0);
    }
    ok = ok & (oh < p.OH) & (ow < p.OW);
    return select(0.0, inB[select(0u, c.base + r.base + oh * p.OW + ow, ok)], ok);
  }
  let ok = (h < p.H) & (w < p.W);
  return select(0.0, inB[select(0u, c.base + r.base + h * p.W + w, ok)], ok);
}

fn store(grp: u32, split: u32, m: u32, n: u32, v: f32) {
  if (m >= p.M || n >= p.NN) { return; }
  if (OP == 2u) {
    out[split * p.Co * p.Cg * p.KH * p.KW + (grp * p.Cog + m) * p.NN + n] = v;
    return;
  }
  let d = decomp(n, p.n1, p.n2);
  if (OP == 0u) {
    let co = grp * p.Cog + m;
    var b = 0.0;
    if (p.has_bias != 0u) { b = bias[co]; }
    out[((d.x * p.Co + co) * p.OH + d.y) * p.OW + d.z] = v + b;
    return;
  }
  out[((d.x * p.C + grp * p.Cg + m) * p.H + d.y) * p.W + d.z] = v;
}

// store() split into a column part and a row part, so an invocation decomposes each of its columns
// once, not once per output (three divisions an element: on SwiftShader two thirds of a first
// layer's forward, whose K is 9). out index = out_row(m) + out_col(n); the caller masks m < M, n < NN.
fn out_col(n: u32) -> u32 {
  if (OP == 2u) { return n; }
  let d = decomp(n, p.n1, p.n2);
  if (OP == 0u) { return d.x * p.Co * p.OH * p.OW + d.y * p.OW + d.z; }
  return d.x * p.C * p.H * p.W + d.y * p.W + d.z;
}

fn out_row(grp: u32, split: u32, m: u32) -> u32 {
  if (OP == 0u) { return (grp * p.Cog + m) * p.OH * p.OW; }
  if (OP == 1u) { return (grp * p.Cg + m) * p.H * p.W; }
  return split * p.Co * p.Cg * p.KH * p.KW + (grp * p.Cog + m) * p.NN;
}

// What every output of row m adds: the bias of the forward.
fn row_bias(grp: u32, m: u32) -> f32 {
  if (OP == 0u && p.has_bias != 0u) { return bias[grp * p.Cog + m]; }
  return 0.0;
}

struct Tile { grp: u32, split: u32, m0: u32, n0: u32, k0: u32, k1: u32, live: bool }

fn locate(wid: vec3<u32>, nwg: vec3<u32>, tile_m: u32, tile_n: u32) -> Tile {
  let w = wid.y * nwg.x + wid.x;
  var t: Tile;
  t.n0 = (w % p.tiles_n) * tile_n;
  t.m0 = ((w / p.tiles_n) % p.tiles_m) * tile_m;
  let gs = w / (p.tiles_n * p.tiles_m);
  t.grp = gs % p.groups;
  t.split = gs / p.groups;
  t.live = t.split < p.splits;
  t.k0 = t.split * p.kchunk;
  t.k1 = min(p.K, t.k0 + p.kchunk);
  return t;
}

const BK: u32 = 16u;
var<workgroup> As: array<f32, 1024>;  // [BK][64], k-major
var<workgroup> Bs: array<f32, 1024>;  // [BK][64], k-major

@compute @workgroup_size(16, 16)
fn tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = locate(wid, nwg, 64u, 64u);
  if (!t.live) { return; }  // spare workgroups of a split dispatch; uniform per workgroup
  var acc: array<vec4<f32>, 4>;
  for (var k0 = t.k0; k0 < t.k1; k0 += BK) {
    for (var l = 0u; l < 4u; l++) {
      let e = li + l * 256u;
      let m = t.m0 + e / BK;
      let ka = k0 + e % BK;
      var a = 0.0;
      if (m < p.M && ka < t.k1) { a = inA[row_base(t.grp, m) + red_of(t.grp, ka).a]; }
      As[(e % BK) * 64u + e / BK] = a;
      let kb = k0 + e / 64u;
      let n = t.n0 + e % 64u;
      var b = 0.0;
      if (n < p.NN && kb < t.k1) { b = tap(col_of(t.grp, n), red_of(t.grp, kb)); }
      Bs[e] = b;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let a = vec4<f32>(As[k * 64u + lid.y * 4u], As[k * 64u + lid.y * 4u + 1u],
                        As[k * 64u + lid.y * 4u + 2u], As[k * 64u + lid.y * 4u + 3u]);
      let b = vec4<f32>(Bs[k * 64u + lid.x * 4u], Bs[k * 64u + lid.x * 4u + 1u],
                        Bs[k * 64u + lid.x * 4u + 2u], Bs[k * 64u + lid.x * 4u + 3u]);
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      store(t.grp, t.split, t.m0 + lid.y * 4u + i, t.n0 + lid.x * 4u + j, acc[i][j]);
    }
  }
}

// R (1, 2, 4 or 8) rows x 4 columns per invocation: 4R multiply-adds per R row loads and 4 taps. Edge rows
// and columns are clamped to the last one, so the loop has no data-dependent branches; stores are masked.
// Rows past R are cut by the override constant at pipeline creation.
@compute @workgroup_size(WX, WY)
fn blocked(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = locate(wid, nwg, R * WY, 4u * WX);
  let m = t.m0 + lid.y * R;
  let n = t.n0 + lid.x * 4u;
  if (!t.live || m >= p.M || n >= p.NN) { return; }
  let j0 = col_of(t.grp, n); let j1 = col_of(t.grp, min(n + 1u, p.NN - 1u));
  let j2 = col_of(t.grp, min(n + 2u, p.NN - 1u)); let j3 = col_of(t.grp, min(n + 3u, p.NN - 1u));
  let r0 = row_base(t.grp, m); let r1 = row_base(t.grp, min(m + 1u, p.M - 1u));
  let r2 = row_base(t.grp, min(m + 2u, p.M - 1u)); let r3 = row_base(t.grp, min(m + 3u, p.M - 1u));
  let r4 = row_base(t.grp, min(m + 4u, p.M - 1u)); let r5 = row_base(t.grp, min(m + 5u, p.M - 1u));
  let r6 = row_base(t.grp, min(m + 6u, p.M - 1u)); let r7 = row_base(t.grp, min(m + 7u, p.M - 1u));
  // Written out in full: emulators keep dynamically indexed locals in memory, not registers.
  var c0: vec4<f32>; var c1: vec4<f32>; var c2: vec4<f32>; var c3: vec4<f32>;
  var c4: vec4<f32>; var c5: vec4<f32>; var c6: vec4<f32>; var c7: vec4<f32>;
  var d = decomp(t.k0, p.k1, p.k2);
  for (var k = t.k0; k < t.k1; k++) {
    let r = red_at(t.grp, k, d);
    d.z += 1u;
    if (d.z == p.k2) { d.z = 0u; d.y += 1u; }
    if (d.y == p.k1) { d.y = 0u; d.x += 1u; }
    let b = vec4<f32>(tap(j0, r), tap(j1, r), tap(j2, r), tap(j3, r));
    c0 += inA[r0 + r.a] * b;
    if (R > 1u) { c1 += inA[r1 + r.a] * b; }
    if (R > 2u) { c2 += inA[r2 + r.a] * b; c3 += inA[r3 + r.a] * b; }
    if (R > 4u) {
      c4 += inA[r4 + r.a] * b; c5 += inA[r5 + r.a] * b; c6 += inA[r6 + r.a] * b; c7 += inA[r7 + r.a] * b;
    }
  }
  let cols = vec4<u32>(out_col(n), out_col(min(n + 1u, p.NN - 1u)), out_col(min(n + 2u, p.NN - 1u)), out_col(min(n + 3u, p.NN - 1u)));
  // Unrolled, with vector components by name: an emulator copies a local array or vector it
  // indexes dynamically, once per access.
  store_cols(t, m, n, 1u, cols, c0);
  if (R > 1u) { store_cols(t, m + 1u, n, 1u, cols, c1); }
  if (R > 2u) { store_cols(t, m + 2u, n, 1u, cols, c2); store_cols(t, m + 3u, n, 1u, cols, c3); }
  if (R > 4u) {
    store_cols(t, m + 4u, n, 1u, cols, c4); store_cols(t, m + 5u, n, 1u, cols, c5);
    store_cols(t, m + 6u, n, 1u, cols, c6); store_cols(t, m + 7u, n, 1u, cols, c7);
  }
}

// Row m of a tile, plus the row's bias: columns n + step·j for j < 4, at output columns `cols`, each
// masked at the edge (`blocked` stores step 1, `subgroup` step 4).
fn store_cols(t: Tile, m: u32, n: u32, step: u32, cols: vec4<u32>, c: vec4<f32>) {
  if (m >= p.M) { return; }
  let o = out_row(t.grp, t.split, m) + cols;
  let v = c + row_bias(t.grp, m);
  if (n < p.NN) { out[o.x] = v.x; }
  if (n + step < p.NN) { out[o.y] = v.y; }
  if (n + 2u * step < p.NN) { out[o.z] = v.z; }
  if (n + 3u * step < p.NN) { out[o.w] = v.w; }
}
