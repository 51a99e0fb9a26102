// Fused scaled-dot-product attention, backward, recomputing each score from the saved row log-sum-exp
// (P_ij = exp(s_ij - lse_i)), so the L×S matrices are never stored. With D_i = dO_i·O_i and
// dS_ij = P_ij (dO_i·v_j - D_i): dq_i = scale Σ_j dS_ij k_j, dk_j = scale Σ_i dS_ij q_i, dv_j = Σ_i P_ij dO_i.
// Entry `dq`: one invocation per query row (workgroups = batches × ceil(L / WG)); it writes dq [B, L, E]
// then D [B, L] into one buffer. Entry `dkv`: one invocation per key row (batches × ceil(S / WG)); it
// reads D from dq's buffer and writes dk [B, S, E] then dv [B, S, EV]. Tiles of BK rows of the other side are
// staged in workgroup memory when TILED (real GPUs), else read from storage. Dispatch over x then y.

const MAXD: u32 = 64u;
const BK: u32 = 32u;

struct Params {
  batches: u32,
  L: u32,
  S: u32,
  E: u32,
  EV: u32,
  scale: f32,
  causal: u32,
  mask_kind: u32, // 0 none, 1 boolean (int32, nonzero attends), 2 additive (float)
  m_off: u32,     // the mask is read at m_off + b1·m_sb1 + b2·m_sb2 + i·m_sl + j·m_ss, b = b1·m_inner + b2
  m_inner: u32,
  m_sb1: u32,
  m_sb2: u32,
  m_sl: u32,
  m_ss: u32,
  q_blocks: u32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>; // f32 or i32 bits, per mask_kind
@group(0) @binding(4) var<storage, read> go: array<f32>;   // dO, the output's gradient
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> aux: array<f32>;  // dq: the forward output O; dkv: dq's [dq | D] rows
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

override WG: u32 = 64u;
override TILED: bool = true;

var<workgroup> ta: array<f32, BK * MAXD>;
var<workgroup> tb: array<f32, BK * MAXD>;
var<workgroup> tl: array<f32, BK>;
var<workgroup> td: array<f32, BK>;

fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// The lowest float: the score of a masked-out key (compared, never exponentiated).
const NEG: f32 = -3.4028234663852886e38;

// The additive term for (i, j); NEG or below where the key is masked out (causal, boolean, -inf).
fn bias(b: u32, i: u32, j: u32) -> f32 {
  if (p.causal != 0u && j > i) { return NEG; }
  if (p.mask_kind == 0u) { return 0.0; }
  let at = p.m_off + (b / p.m_inner) * p.m_sb1 + (b % p.m_inner) * p.m_sb2 + i * p.m_sl + j * p.m_ss;
  if (p.mask_kind == 1u) { return select(NEG, 0.0, mask[at] != 0u); }
  return max(bitcast<f32>(mask[at]), NEG);
}

fn d_of(b: u32, i: u32) -> f32 {
  return aux[p.batches * p.L * p.E + b * p.L + i];
}

// dq: tiles of keys (ta) and values (tb). dkv: tiles of queries (ta), dO (tb), lse (tl) and D (td).
fn stage_kv(b: u32, j0: u32, lid: u32) {
  workgroupBarrier();
  for (var x = lid; x < BK * MAXD; x += WG) {
    let j = min(j0 + x / MAXD, p.S - 1u);
    let e = x % MAXD;
    ta[x] = select(0.0, k[(b * p.S + j) * p.E + min(e, p.E - 1u)], e < p.E);
    tb[x] = select(0.0, v[(b * p.S + j) * p.EV + min(e, p.EV - 1u)], e < p.EV);
  }
  workgroupBarrier();
}

fn stage_q(b: u32, i0: u32, lid: u32) {
  workgroupBarrier();
  for (var x = lid; x < BK * MAXD; x += WG) {
    let i = min(i0 + x / MAXD, p.L - 1u);
    let e = x % MAXD;
    ta[x] = select(0.0, q[(b * p.L + i) * p.E + min(e, p.E - 1u)], e < p.E);
    tb[x] = select(0.0, go[(b * p.L + i) * p.EV + min(e, p.EV - 1u)], e < p.EV);
  }
  for (var t = lid; t < BK; t += WG) {
    let i = min(i0 + t, p.L - 1u);
    tl[t] = lse[b * p.L + i];
    td[t] = d_of(b, i);
  }
  workgroupBarrier();
}

fn k_at(b: u32, t: u32, j: u32, e: u32) -> f32 {
  if (TILED) { return ta[t * MAXD + e]; }
  return k[(b * p.S + j) * p.E + e];
}

fn v_at(b: u32, t: u32, j: u32, e: u32) -> f32 {
  if (TILED) { return tb[t * MAXD + e]; }
  return v[(b * p.S + j) * p.EV + e];
}

fn q_at(b: u32, t: u32, i: u32, e: u32) -> f32 {
  if (TILED) { return ta[t * MAXD + e]; }
  return q[(b * p.L + i) * p.E + e];
}

fn go_at(b: u32, t: u32, i: u32, e: u32) -> f32 {
  if (TILED) { return tb[t * MAXD + e]; }
  return go[(b * p.L + i) * p.EV + e];
}

@compute @workgroup_size(WG)
fn dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
      @builtin(local_invocation_index) lid: u32) {
  let block = wid.y * nwg.x + wid.x;
  if (block >= p.batches * p.q_blocks) { return; } // uniform per workgroup
  let b = block / p.q_blocks;
  let i0 = (block % p.q_blocks) * WG;
  let i = min(i0 + lid, p.L - 1u);
  var qr: array<f32, MAXD>;
  var gr: array<f32, MAXD>;
  var acc: array<f32, MAXD>;
  for (var e = 0u; e < p.E; e++) { qr[e] = q[(b * p.L + i) * p.E + e] * p.scale; acc[e] = 0.0; }
  var dd = 0.0;
  for (var e = 0u; e < p.EV; e++) {
    gr[e] = go[(b * p.L + i) * p.EV + e];
    dd += gr[e] * aux[(b * p.L + i) * p.EV + e];
  }
  let li = lse[b * p.L + i];
  let end = select(p.S, min(p.S, i0 + WG), p.causal != 0u);
  for (var j0 = 0u; j0 < end; j0 += BK) {
    if (TILED) { stage_kv(b, j0, lid); }
    for (var t = 0u; t < BK; t++) {
      let j = j0 + t;
      if (j < end) {
        let add = bias(b, i, j);
        if (add > NEG) {
          var s = add;
          for (var e = 0u; e < p.E; e++) { s += qr[e] * k_at(b, t, j, e); }
          let pr = exp(s - li);
          var dp = 0.0;
          for (var e = 0u; e < p.EV; e++) { dp += gr[e] * v_at(b, t, j, e); }
          let ds = pr * (dp - dd);
          for (var e = 0u; e < p.E; e++) { acc[e] += ds * k_at(b, t, j, e); }
        }
      }
    }
  }
  if (i0 + lid >= p.L) { return; }
  // A row that attended to nothing has NaN output, and so NaN gradients.
  let o = (b * p.L + i) * p.E;
  for (var e = 0u; e < p.E; e++) { out[o + e] = select(nan_f32(), acc[e] * p.scale, li > NEG); }
  out[p.batches * p.L * p.E + b * p.L + i] = dd;
}

@compute @workgroup_size(WG)
fn dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let k_blocks = (p.S + WG - 1u) / WG;
  let block = wid.y * nwg.x + wid.x;
  if (block >= p.batches * k_blocks) { return; } // uniform per workgroup
  let b = block / k_blocks;
  let j0 = (block % k_blocks) * WG;
  let j = min(j0 + lid, p.S - 1u);
  var kr: array<f32, MAXD>;
  var vr: array<f32, MAXD>;
  var dk: array<f32, MAXD>;
  var dv: array<f32, MAXD>;
  for (var e = 0u; e < p.E; e++) { kr[e] = k[(b * p.S + j) * p.E + e] * p.scale; dk[e] = 0.0; }
  for (var e = 0u; e < p.EV; e++) { vr[e] = v[(b * p.S + j) * p.EV + e]; dv[e] = 0.0; }
  // Under a causal mask only queries i >= j0 attend to this block's keys.
  let start = select(0u, j0 - j0 % BK, p.causal != 0u);
  for (var i00 = start; i00 < p.L; i00 += BK) {
    if (TILED) { stage_q(b, i00, lid); }
    for (var t = 0u; t < BK; t++) {
      let i = i00 + t;
      if (i < p.L) {
        let add = bias(b, i, j);
        let li = select(lse[b * p.L + i], tl[t], TILED);
        if (add > NEG && li > NEG) {
          var s = add;
          for (var e = 0u; e < p.E; e++) { s += kr[e] * q_at(b, t, i, e); }
          let pr = exp(s - li);
          var dp = 0.0;
          for (var e = 0u; e < p.EV; e++) {
            let gi = go_at(b, t, i, e);
            dv[e] += pr * gi;
            dp += gi * vr[e];
          }
          let ds = pr * (dp - select(d_of(b, i), td[t], TILED));
          for (var e = 0u; e < p.E; e++) { dk[e] += ds * q_at(b, t, i, e); }
        }
      }
    }
  }
  if (j0 + lid >= p.S) { return; }
  for (var e = 0u; e < p.E; e++) { out[(b * p.S + j) * p.E + e] = dk[e] * p.scale; }
  let o = p.batches * p.S * p.E + (b * p.S + j) * p.EV;
  for (var e = 0u; e < p.EV; e++) { out[o + e] = dv[e]; }
}
