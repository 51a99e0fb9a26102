// The conv entry for adapters with the `subgroups` feature (appended to conv.wgsl, after `enable subgroups;`).
// A workgroup is 4 invocations, so one subgroup (WebGPU's smallest subgroup has 4): all four compute the
// same 16 GEMM rows, each its own 8 columns n0 + lane + 4j (a 16x32 tile). Per k each lane loads 4 of the
// 16 A values (rows m0 + 4q + its subgroup lane) and subgroupBroadcast hands every lane all 16: a quarter
// of the A loads, and twice the columns per tap computation, of `blocked`. No invocation returns early
// (every lane must reach the broadcasts): edges are clamped, stores masked.
@compute @workgroup_size(4)
fn subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let t = locate(wid, nwg, 16u, 32u);
  if (!t.live) { return; }  // uniform per workgroup
  let n = t.n0 + li;
  let nl = p.NN - 1u;
  let ml = p.M - 1u;
  let j0 = col_of(t.grp, min(n + 0u, nl));
  let j1 = col_of(t.grp, min(n + 4u, nl));
  let j2 = col_of(t.grp, min(n + 8u, nl));
  let j3 = col_of(t.grp, min(n + 12u, nl));
  let j4 = col_of(t.grp, min(n + 16u, nl));
  let j5 = col_of(t.grp, min(n + 20u, nl));
  let j6 = col_of(t.grp, min(n + 24u, nl));
  let j7 = col_of(t.grp, min(n + 28u, nl));
  let r0 = row_base(t.grp, min(t.m0 + 0u + sid, ml));
  let r1 = row_base(t.grp, min(t.m0 + 4u + sid, ml));
  let r2 = row_base(t.grp, min(t.m0 + 8u + sid, ml));
  let r3 = row_base(t.grp, min(t.m0 + 12u + sid, ml));
  // Written out in full: emulators keep dynamically indexed locals in memory, not registers.
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
  var d = decomp(t.k0, p.k1, p.k2);
  for (var k = t.k0; k < t.k1; k++) {
    let r = red_at(t.grp, k, d);
    d.z += 1u;
    if (d.z == p.k2) { d.z = 0u; d.y += 1u; }
    if (d.y == p.k1) { d.y = 0u; d.x += 1u; }
    let b0 = vec4<f32>(tap(j0, r), tap(j1, r), tap(j2, r), tap(j3, r));
    let b1 = vec4<f32>(tap(j4, r), tap(j5, r), tap(j6, r), tap(j7, r));
    let x0 = inA[r0 + r.a];
    let x1 = inA[r1 + r.a];
    let x2 = inA[r2 + r.a];
    let x3 = inA[r3 + r.a];
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
  }
  let lo = vec4<u32>(out_col(min(n, nl)), out_col(min(n + 4u, nl)), out_col(min(n + 8u, nl)), out_col(min(n + 12u, nl)));
  let hi = vec4<u32>(out_col(min(n + 16u, nl)), out_col(min(n + 20u, nl)), out_col(min(n + 24u, nl)), out_col(min(n + 28u, nl)));
  // Unrolled, with vector components by name (store_cols in conv.wgsl): an emulator copies a local
  // array or vector it indexes dynamically, once per access.
  store_cols(t, t.m0 + 0u, n, 4u, lo, c0); store_cols(t, t.m0 + 0u, n + 16u, 4u, hi, d0);
  store_cols(t, t.m0 + 1u, n, 4u, lo, c1); store_cols(t, t.m0 + 1u, n + 16u, 4u, hi, d1);
  store_cols(t, t.m0 + 2u, n, 4u, lo, c2); store_cols(t, t.m0 + 2u, n + 16u, 4u, hi, d2);
  store_cols(t, t.m0 + 3u, n, 4u, lo, c3); store_cols(t, t.m0 + 3u, n + 16u, 4u, hi, d3);
  store_cols(t, t.m0 + 4u, n, 4u, lo, c4); store_cols(t, t.m0 + 4u, n + 16u, 4u, hi, d4);
  store_cols(t, t.m0 + 5u, n, 4u, lo, c5); store_cols(t, t.m0 + 5u, n + 16u, 4u, hi, d5);
  store_cols(t, t.m0 + 6u, n, 4u, lo, c6); store_cols(t, t.m0 + 6u, n + 16u, 4u, hi, d6);
  store_cols(t, t.m0 + 7u, n, 4u, lo, c7); store_cols(t, t.m0 + 7u, n + 16u, 4u, hi, d7);
  store_cols(t, t.m0 + 8u, n, 4u, lo, c8); store_cols(t, t.m0 + 8u, n + 16u, 4u, hi, d8);
  store_cols(t, t.m0 + 9u, n, 4u, lo, c9); store_cols(t, t.m0 + 9u, n + 16u, 4u, hi, d9);
  store_cols(t, t.m0 + 10u, n, 4u, lo, c10); store_cols(t, t.m0 + 10u, n + 16u, 4u, hi, d10);
  store_cols(t, t.m0 + 11u, n, 4u, lo, c11); store_cols(t, t.m0 + 11u, n + 16u, 4u, hi, d11);
  store_cols(t, t.m0 + 12u, n, 4u, lo, c12); store_cols(t, t.m0 + 12u, n + 16u, 4u, hi, d12);
  store_cols(t, t.m0 + 13u, n, 4u, lo, c13); store_cols(t, t.m0 + 13u, n + 16u, 4u, hi, d13);
  store_cols(t, t.m0 + 14u, n, 4u, lo, c14); store_cols(t, t.m0 + 14u, n + 16u, 4u, hi, d14);
  store_cols(t, t.m0 + 15u, n, 4u, lo, c15); store_cols(t, t.m0 + 15u, n + 16u, 4u, hi, d15);
}

