// C[b, m, n] = sum_k A[b, m, k] * B[b, k, n] for strided A and B (transposed operands are read
// in place through their strides; broadcast batch dims have stride 0). C is contiguous [batch, M, N].
// One workgroup computes a TILE_M x TILE_N block of one batch; dispatch: tilesN * tilesM * batch
// workgroups, laid out over x then y past 65,535.
// Entry `tiled` (16x16 threads, 4x4 outputs each, K staged in workgroup memory) suits GPUs;
// entry `blocked` (8x8 threads, 8x8 outputs each, straight from global memory) suits CPU emulators,
// where barriers and workgroup memory cost more than they save and every load is a per-lane gather.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch_rank: u32,
  off_a: u32,
  off_b: u32,
  tiles_n: u32,
  tiles_m: u32,
  a_m: u32,  // A's stride along m
  a_k: u32,  // A's stride along k
  b_k: u32,
  b_n: u32,
  batches: u32,
  grid: u32,  // 1: dispatched as (tiles_n, tiles_m, batches); 0: a flat count over x then y
  _p1: u32,
  _p2: u32,
  batch_shape: vec4<u32>,
  batch_a: vec4<u32>,
  batch_b: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

struct Tile {
  batch: u32,
  m0: u32,
  n0: u32,
  base_a: u32,
  base_b: u32,
}

// Integer division is scalar code on an emulator's SIMD lanes: the 3-D grid and the outermost
// batch dim (whose index is what remains) divide nothing.
fn locate(wid: vec3<u32>, nwg: vec3<u32>, tile_m: u32, tile_n: u32) -> Tile {
  var t: Tile;
  if (p.grid == 1u) {
    t.n0 = wid.x * tile_n;
    t.m0 = wid.y * tile_m;
    t.batch = wid.z;
  } else {
    let w = wid.y * nwg.x + wid.x;
    t.n0 = (w % p.tiles_n) * tile_n;
    t.m0 = ((w / p.tiles_n) % p.tiles_m) * tile_m;
    t.batch = w / (p.tiles_n * p.tiles_m);
  }
  var rem = t.batch;
  t.base_a = p.off_a;
  t.base_b = p.off_b;
  for (var d = p.batch_rank; d > 1u; d--) {
    let size = p.batch_shape[d - 1u];
    let i = rem % size;
    rem /= size;
    t.base_a += i * p.batch_a[d - 1u];
    t.base_b += i * p.batch_b[d - 1u];
  }
  if (p.batch_rank > 0u) {
    t.base_a += rem * p.batch_a[0];
    t.base_b += rem * p.batch_b[0];
  }
  return t;
}

fn load_a(t: Tile, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  return A[t.base_a + m * p.a_m + k * p.a_k];
}

fn load_b(t: Tile, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  return B[t.base_b + k * p.b_k + n * p.b_n];
}

// Every entry stores element i of C through here: the scheduler fuses elementwise consumers of
// the product (bias, activation) by replacing this function (an epilogue).
fn store_c(i: u32, v: f32) { C[i] = v; }

// A launch that also writes the row sums of A, R[m] = sum_k A[m, k] (a bias gradient: the scheduler
// fuses sum(G, 0) into the matmul reading Gᵀ, engine/fusion.ts), dispatches one more slice of
// workgroups past its last batch, and every entry hands those here: `size` invocations each, row m
// to invocation m % size of workgroup (m / size) % (tiles_n tiles_m). This empty body is the anchor
// that launch replaces (ops/matmul.ts, ROW_SUMS), with R bound after C.
fn row_sums(t: Tile, tile_m: u32, tile_n: u32, li: u32, size: u32) {}

fn store(t: Tile, m: u32, n0: u32, v: vec4<f32>) {
  if (m >= p.M) { return; }
  let row = (t.batch * p.M + m) * p.N;
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < p.N) { store_c(row + n0 + j, v[j]); }
  }
}

const BK: u32 = 16u;
var<workgroup> As: array<f32, 1024>;  // [BK][64], k-major
var<workgroup> Bs: array<f32, 1024>;  // [BK][64], k-major

@compute @workgroup_size(16, 16)
fn tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = locate(wid, nwg, 64u, 64u);
  if (t.batch >= p.batches) { row_sums(t, 64u, 64u, li, 256u); return; }  // uniform per workgroup
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var l = 0u; l < 4u; l++) {
      let e = li + l * 256u;
      As[(e % BK) * 64u + e / BK] = load_a(t, t.m0 + e / BK, k0 + e % BK);
      Bs[(e / 64u) * 64u + e % 64u] = load_b(t, k0 + e / 64u, t.n0 + e % 64u);
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
    store(t, t.m0 + lid.y * 4u + i, t.n0 + lid.x * 4u, acc[i]);
  }
}

// 8x8 outputs per invocation (8x8 invocations: a 64x64 tile): 64 multiply-adds per 16 loads.
// Edge rows and columns are clamped to the last one, so the loop has no branches; stores are masked.
@compute @workgroup_size(8, 8)
fn blocked(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = locate(wid, nwg, 64u, 64u);
  if (t.batch >= p.batches) { row_sums(t, 64u, 64u, lid.y * 8u + lid.x, 64u); return; }  // uniform per workgroup
  let m = t.m0 + lid.y * 8u;
  let n = t.n0 + lid.x * 8u;
  if (m >= p.M || n >= p.N) { return; }
  var a_row: array<u32, 8>;
  var b_col: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) {
    a_row[i] = t.base_a + min(m + i, p.M - 1u) * p.a_m;
    b_col[i] = t.base_b + min(n + i, p.N - 1u) * p.b_n;
  }
  // Written out in full: emulators keep dynamically indexed locals in memory, not registers.
  var c0: vec4<f32>; var c1: vec4<f32>; var c2: vec4<f32>; var c3: vec4<f32>;
  var c4: vec4<f32>; var c5: vec4<f32>; var c6: vec4<f32>; var c7: vec4<f32>;
  var d0: vec4<f32>; var d1: vec4<f32>; var d2: vec4<f32>; var d3: vec4<f32>;
  var d4: vec4<f32>; var d5: vec4<f32>; var d6: vec4<f32>; var d7: vec4<f32>;
  let r0 = a_row[0]; let r1 = a_row[1]; let r2 = a_row[2]; let r3 = a_row[3];
  let r4 = a_row[4]; let r5 = a_row[5]; let r6 = a_row[6]; let r7 = a_row[7];
  let s0 = b_col[0]; let s1 = b_col[1]; let s2 = b_col[2]; let s3 = b_col[3];
  let s4 = b_col[4]; let s5 = b_col[5]; let s6 = b_col[6]; let s7 = b_col[7];
  var ka = 0u;
  var kb = 0u;
  for (var k = 0u; k < p.K; k++) {
    let b0 = vec4<f32>(B[s0 + kb], B[s1 + kb], B[s2 + kb], B[s3 + kb]);
    let b1 = vec4<f32>(B[s4 + kb], B[s5 + kb], B[s6 + kb], B[s7 + kb]);
    let a0 = A[r0 + ka]; let a1 = A[r1 + ka]; let a2 = A[r2 + ka]; let a3 = A[r3 + ka];
    let a4 = A[r4 + ka]; let a5 = A[r5 + ka]; let a6 = A[r6 + ka]; let a7 = A[r7 + ka];
    c0 += a0 * b0; d0 += a0 * b1; c1 += a1 * b0; d1 += a1 * b1;
    c2 += a2 * b0; d2 += a2 * b1; c3 += a3 * b0; d3 += a3 * b1;
    c4 += a4 * b0; d4 += a4 * b1; c5 += a5 * b0; d5 += a5 * b1;
    c6 += a6 * b0; d6 += a6 * b1; c7 += a7 * b0; d7 += a7 * b1;
    ka += p.a_k;
    kb += p.b_k;
  }
  let acc = array<vec4<f32>, 16>(c0, d0, c1, d1, c2, d2, c3, d3, c4, d4, c5, d5, c6, d6, c7, d7);
  for (var i = 0u; i < 8u; i++) {
    store(t, m + i, n, acc[2u * i]);
    store(t, m + i, n + 4u, acc[2u * i + 1u]);
  }
}

// Stores columns n, n+4, n+8, n+12 of row m (the 16x8 entries interleave their lanes' columns).
fn store4(t: Tile, m: u32, n: u32, v: vec4<f32>) {
  if (m >= p.M) { return; }
  let row = (t.batch * p.M + m) * p.N;
  for (var j = 0u; j < 4u; j++) {
    if (n + 4u * j < p.N) { store_c(row + n + 4u * j, v[j]); }
  }
}

// 16x8 outputs per invocation, 4x4 invocations: a 64x32 tile, 128 multiply-adds per 24 loads.
// An invocation's columns are n, n+4, ..., n+28 with n = n0 + lane: the 4 lanes that an emulator
// runs as one SIMD vector read adjacent B elements. Edges are clamped, stores masked.
@compute @workgroup_size(4, 4)
fn wide(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = locate(wid, nwg, 64u, 32u);
  if (t.batch >= p.batches) { row_sums(t, 64u, 32u, lid.y * 4u + lid.x, 16u); return; }  // uniform per workgroup
  let m = t.m0 + lid.y * 16u;
  let n = t.n0 + lid.x;
  if (m >= p.M || n >= p.N) { return; }
  let r0 = t.base_a + min(m + 0u, p.M - 1u) * p.a_m;
  let r1 = t.base_a + min(m + 1u, p.M - 1u) * p.a_m;
  let r2 = t.base_a + min(m + 2u, p.M - 1u) * p.a_m;
  let r3 = t.base_a + min(m + 3u, p.M - 1u) * p.a_m;
  let r4 = t.base_a + min(m + 4u, p.M - 1u) * p.a_m;
  let r5 = t.base_a + min(m + 5u, p.M - 1u) * p.a_m;
  let r6 = t.base_a + min(m + 6u, p.M - 1u) * p.a_m;
  let r7 = t.base_a + min(m + 7u, p.M - 1u) * p.a_m;
  let r8 = t.base_a + min(m + 8u, p.M - 1u) * p.a_m;
  let r9 = t.base_a + min(m + 9u, p.M - 1u) * p.a_m;
  let r10 = t.base_a + min(m + 10u, p.M - 1u) * p.a_m;
  let r11 = t.base_a + min(m + 11u, p.M - 1u) * p.a_m;
  let r12 = t.base_a + min(m + 12u, p.M - 1u) * p.a_m;
  let r13 = t.base_a + min(m + 13u, p.M - 1u) * p.a_m;
  let r14 = t.base_a + min(m + 14u, p.M - 1u) * p.a_m;
  let r15 = t.base_a + min(m + 15u, p.M - 1u) * p.a_m;
  let s0 = t.base_b + min(n + 0u, p.N - 1u) * p.b_n;
  let s1 = t.base_b + min(n + 4u, p.N - 1u) * p.b_n;
  let s2 = t.base_b + min(n + 8u, p.N - 1u) * p.b_n;
  let s3 = t.base_b + min(n + 12u, p.N - 1u) * p.b_n;
  let s4 = t.base_b + min(n + 16u, p.N - 1u) * p.b_n;
  let s5 = t.base_b + min(n + 20u, p.N - 1u) * p.b_n;
  let s6 = t.base_b + min(n + 24u, p.N - 1u) * p.b_n;
  let s7 = t.base_b + min(n + 28u, p.N - 1u) * p.b_n;
  var c0: vec4<f32>; var d0: vec4<f32>;
  var c1: vec4<f32>; var d1: vec4<f32>;
  var c2: vec4<f32>; var d2: vec4<f32>;
  var c3: vec4<f32>; var d3: vec4<f32>;
  var c4: vec4<f32>; var d4: vec4<f32>;
  var c5: vec4<f32>; var d5: vec4<f32>;
  var c6: vec4<f32>; var d6: vec4<f32>;
  var c7: vec4<f32>; var d7: vec4<f32>;
  var c8: vec4<f32>; var d8: vec4<f32>;
  var c9: vec4<f32>; var d9: vec4<f32>;
  var c10: vec4<f32>; var d10: vec4<f32>;
  var c11: vec4<f32>; var d11: vec4<f32>;
  var c12: vec4<f32>; var d12: vec4<f32>;
  var c13: vec4<f32>; var d13: vec4<f32>;
  var c14: vec4<f32>; var d14: vec4<f32>;
  var c15: vec4<f32>; var d15: vec4<f32>;
  var ka = 0u;
  var kb = 0u;
  for (var k = 0u; k < p.K; k++) {
    let b0 = vec4<f32>(B[s0 + kb], B[s1 + kb], B[s2 + kb], B[s3 + kb]);
    let b1 = vec4<f32>(B[s4 + kb], B[s5 + kb], B[s6 + kb], B[s7 + kb]);
    let a0 = A[r0 + ka];
    let a1 = A[r1 + ka];
    let a2 = A[r2 + ka];
    let a3 = A[r3 + ka];
    let a4 = A[r4 + ka];
    let a5 = A[r5 + ka];
    let a6 = A[r6 + ka];
    let a7 = A[r7 + ka];
    let a8 = A[r8 + ka];
    let a9 = A[r9 + ka];
    let a10 = A[r10 + ka];
    let a11 = A[r11 + ka];
    let a12 = A[r12 + ka];
    let a13 = A[r13 + ka];
    let a14 = A[r14 + ka];
    let a15 = A[r15 + ka];
    c0 += a0 * b0; d0 += a0 * b1;
    c1 += a1 * b0; d1 += a1 * b1;
    c2 += a2 * b0; d2 += a2 * b1;
    c3 += a3 * b0; d3 += a3 * b1;
    c4 += a4 * b0; d4 += a4 * b1;
    c5 += a5 * b0; d5 += a5 * b1;
    c6 += a6 * b0; d6 += a6 * b1;
    c7 += a7 * b0; d7 += a7 * b1;
    c8 += a8 * b0; d8 += a8 * b1;
    c9 += a9 * b0; d9 += a9 * b1;
    c10 += a10 * b0; d10 += a10 * b1;
    c11 += a11 * b0; d11 += a11 * b1;
    c12 += a12 * b0; d12 += a12 * b1;
    c13 += a13 * b0; d13 += a13 * b1;
    c14 += a14 * b0; d14 += a14 * b1;
    c15 += a15 * b0; d15 += a15 * b1;
    ka += p.a_k;
    kb += p.b_k;
  }
  let acc = array<vec4<f32>, 32>(c0, d0, c1, d1, c2, d2, c3, d3, c4, d4, c5, d5, c6, d6, c7, d7, c8, d8, c9, d9, c10, d10, c11, d11, c12, d12, c13, d13, c14, d14, c15, d15);
  for (var i = 0u; i < 16u; i++) {
    store4(t, m + i, n, acc[2u * i]);
    store4(t, m + i, n + 16u, acc[2u * i + 1u]);
  }
}

