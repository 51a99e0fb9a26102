// The 16x8 matmul entry for adapters with the `subgroups` feature (appended to matmul.wgsl, after
// `enable subgroups;`). A workgroup is 4 invocations, so always one subgroup (WebGPU's smallest
// subgroup has 4): all 4 compute the same 16 rows, each its own 8 columns (a 16x32 tile). Each lane
// loads 4 of the 16 A values per k, the rows m + 4q + (its subgroup lane), and subgroupBroadcast
// hands every lane all 16: a quarter of the A loads of `wide`. No invocation returns early: every
// lane must reach the broadcasts; edges are clamped and stores masked.
@compute @workgroup_size(4)
fn subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let t = locate(wid, nwg, 16u, 32u);
  if (t.batch >= p.batches) { row_sums(t, 16u, 32u, li, 4u); return; }  // uniform per workgroup
  let m = t.m0;
  let n = t.n0 + li;
  let r0 = t.base_a + min(m + 0u + sid, p.M - 1u) * p.a_m;
  let r1 = t.base_a + min(m + 4u + sid, p.M - 1u) * p.a_m;
  let r2 = t.base_a + min(m + 8u + sid, p.M - 1u) * p.a_m;
  let r3 = t.base_a + min(m + 12u + sid, p.M - 1u) * p.a_m;
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
    let x0 = A[r0 + ka];
    let x1 = A[r1 + ka];
    let x2 = A[r2 + ka];
    let x3 = A[r3 + ka];
    let a0 = subgroupBroadcast(x0, 0u);
    let a1 = subgroupBroadcast(x0, 1u);
    let a2 = subgroupBroadcast(x0, 2u);
    let a3 = subgroupBroadcast(x0, 3u);
    let a4 = subgroupBroadcast(x1, 0u);
    let a5 = subgroupBroadcast(x1, 1u);
    let a6 = subgroupBroadcast(x1, 2u);
    let a7 = subgroupBroadcast(x1, 3u);
    let a8 = subgroupBroadcast(x2, 0u);
    let a9 = subgroupBroadcast(x2, 1u);
    let a10 = subgroupBroadcast(x2, 2u);
    let a11 = subgroupBroadcast(x2, 3u);
    let a12 = subgroupBroadcast(x3, 0u);
    let a13 = subgroupBroadcast(x3, 1u);
    let a14 = subgroupBroadcast(x3, 2u);
    let a15 = subgroupBroadcast(x3, 3u);
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
  if (n >= p.N) { return; }
  let acc = array<vec4<f32>, 32>(c0, d0, c1, d1, c2, d2, c3, d3, c4, d4, c5, d5, c6, d6, c7, d7, c8, d8, c9, d9, c10, d10, c11, d11, c12, d12, c13, d13, c14, d14, c15, d15);
  for (var i = 0u; i < 16u; i++) {
    store4(t, m + i, n, acc[2u * i]);
    store4(t, m + i, n + 16u, acc[2u * i + 1u]);
  }
}

// The 16x4 entry: the same scheme with 4 columns per lane, a 16x16 tile, for products at most 16
// wide (attention's P·V and its gradients, [L, S] @ [S, 16]), where the 16x32 tile computes half
// its columns only to drop them. Its row and column offsets are scalar lets, as in `subgroup`: the
// same computed as vec4<u32> by a shared helper ran this entry 2x slower on SwiftShader.
@compute @workgroup_size(4)
fn subgroup_narrow(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let t = locate(wid, nwg, 16u, 16u);
  if (t.batch >= p.batches) { row_sums(t, 16u, 16u, li, 4u); return; }  // uniform per workgroup
  let m = t.m0;
  let n = t.n0 + li;
  let r0 = t.base_a + min(m + 0u + sid, p.M - 1u) * p.a_m;
  let r1 = t.base_a + min(m + 4u + sid, p.M - 1u) * p.a_m;
  let r2 = t.base_a + min(m + 8u + sid, p.M - 1u) * p.a_m;
  let r3 = t.base_a + min(m + 12u + sid, p.M - 1u) * p.a_m;
  let s0 = t.base_b + min(n + 0u, p.N - 1u) * p.b_n;
  let s1 = t.base_b + min(n + 4u, p.N - 1u) * p.b_n;
  let s2 = t.base_b + min(n + 8u, p.N - 1u) * p.b_n;
  let s3 = t.base_b + min(n + 12u, p.N - 1u) * p.b_n;
  var c0: vec4<f32>; var c1: vec4<f32>; var c2: vec4<f32>; var c3: vec4<f32>; var c4: vec4<f32>; var c5: vec4<f32>; var c6: vec4<f32>; var c7: vec4<f32>;
  var c8: vec4<f32>; var c9: vec4<f32>; var c10: vec4<f32>; var c11: vec4<f32>; var c12: vec4<f32>; var c13: vec4<f32>; var c14: vec4<f32>; var c15: vec4<f32>;
  var ka = 0u;
  var kb = 0u;
  for (var k = 0u; k < p.K; k++) {
    let b = vec4<f32>(B[s0 + kb], B[s1 + kb], B[s2 + kb], B[s3 + kb]);
    let x0 = A[r0 + ka];
    let x1 = A[r1 + ka];
    let x2 = A[r2 + ka];
    let x3 = A[r3 + ka];
    c0 += subgroupBroadcast(x0, 0u) * b;
    c1 += subgroupBroadcast(x0, 1u) * b;
    c2 += subgroupBroadcast(x0, 2u) * b;
    c3 += subgroupBroadcast(x0, 3u) * b;
    c4 += subgroupBroadcast(x1, 0u) * b;
    c5 += subgroupBroadcast(x1, 1u) * b;
    c6 += subgroupBroadcast(x1, 2u) * b;
    c7 += subgroupBroadcast(x1, 3u) * b;
    c8 += subgroupBroadcast(x2, 0u) * b;
    c9 += subgroupBroadcast(x2, 1u) * b;
    c10 += subgroupBroadcast(x2, 2u) * b;
    c11 += subgroupBroadcast(x2, 3u) * b;
    c12 += subgroupBroadcast(x3, 0u) * b;
    c13 += subgroupBroadcast(x3, 1u) * b;
    c14 += subgroupBroadcast(x3, 2u) * b;
    c15 += subgroupBroadcast(x3, 3u) * b;
    ka += p.a_k;
    kb += p.b_k;
  }
  if (n >= p.N) { return; }
  store4(t, m + 0u, n, c0);
  store4(t, m + 1u, n, c1);
  store4(t, m + 2u, n, c2);
  store4(t, m + 3u, n, c3);
  store4(t, m + 4u, n, c4);
  store4(t, m + 5u, n, c5);
  store4(t, m + 6u, n, c6);
  store4(t, m + 7u, n, c7);
  store4(t, m + 8u, n, c8);
  store4(t, m + 9u, n, c9);
  store4(t, m + 10u, n, c10);
  store4(t, m + 11u, n, c11);
  store4(t, m + 12u, n, c12);
  store4(t, m + 13u, n, c13);
  store4(t, m + 14u, n, c14);
  store4(t, m + 15u, n, c15);
}
