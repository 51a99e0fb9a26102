// Fused scaled-dot-product attention, forward: out[b, i] = Σ_j softmax_j(scale·q_i·k_j + mask_ij) v_j
// with an online softmax over key tiles, so the L×S score matrix is never stored; lse[b, i] = the row's
// log-sum-exp, saved for the backward. One invocation per query row, one workgroup per block of WG rows
// of one batch (workgroups = batches × ceil(L / WG), over x then y). TILED: the workgroup stages each
// tile of BK keys and values in workgroup memory (real GPUs); else every invocation reads them from
// storage (CPU emulators, where barriers cost more than they save). MAXD (≥ E, Ev) and BK are set by the op.

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
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

override WG: u32 = 64u;
override TILED: bool = true;

var<workgroup> ks: array<f32, BK * MAXD>;
var<workgroup> vs: array<f32, BK * MAXD>;

fn neg_inf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

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

// scale·q_i·k_j + mask_ij for key j (tile slot t), NEG where masked or past the end; qr holds scale·q_i.
fn score(b: u32, i: u32, j: u32, end: u32, t: u32, qr: ptr<function, array<f32, MAXD>>) -> f32 {
  if (j >= end) { return NEG; }
  let add = bias(b, i, j);
  if (add <= NEG) { return NEG; }
  var d = 0.0;
  for (var e = 0u; e < p.E; e++) { d += (*qr)[e] * key_at(b, t, j, e); }
  return max(d + add, NEG);
}

fn key_at(b: u32, t: u32, j: u32, e: u32) -> f32 {
  if (TILED) { return ks[t * MAXD + e]; }
  return k[(b * p.S + j) * p.E + e];
}

fn value_at(b: u32, t: u32, j: u32, e: u32) -> f32 {
  if (TILED) { return vs[t * MAXD + e]; }
  return v[(b * p.S + j) * p.EV + e];
}

// Stage keys and values j0 .. j0 + BK of batch b in workgroup memory, all invocations sharing the copy.
fn stage(b: u32, j0: u32, lid: u32) {
  workgroupBarrier();
  for (var x = lid; x < BK * MAXD; x += WG) {
    let t = x / MAXD;
    let e = x % MAXD;
    let j = j0 + t;
    let inside = j < p.S;
    ks[x] = select(0.0, k[(b * p.S + min(j, p.S - 1u)) * p.E + min(e, p.E - 1u)], inside && e < p.E);
    vs[x] = select(0.0, v[(b * p.S + min(j, p.S - 1u)) * p.EV + min(e, p.EV - 1u)], inside && e < p.EV);
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let block = wid.y * nwg.x + wid.x;
  if (block >= p.batches * p.q_blocks) { return; } // uniform per workgroup
  let b = block / p.q_blocks;
  let i0 = (block % p.q_blocks) * WG;
  let i = i0 + lid;
  let live = i < p.L;
  let row = min(i, p.L - 1u);
  var qr: array<f32, MAXD>;
  var acc: array<f32, MAXD>;
  for (var e = 0u; e < p.E; e++) { qr[e] = q[(b * p.L + row) * p.E + e] * p.scale; }
  for (var e = 0u; e < p.EV; e++) { acc[e] = 0.0; }
  var m = NEG;
  var l = 0.0;
  // Under a causal mask no row of this block attends past key i0 + WG - 1.
  let end = select(p.S, min(p.S, i0 + WG), p.causal != 0u);
  var sc: array<f32, BK>;
  for (var j0 = 0u; j0 < end; j0 += BK) {
    if (TILED) { stage(b, j0, lid); }
    var mt = m;
    for (var t = 0u; t < BK; t++) {
      sc[t] = score(b, row, j0 + t, end, t, &qr);
      mt = max(mt, sc[t]);
    }
    if (mt > NEG) {
      // Rescale what was summed under the old max; nothing was summed while m was NEG.
      let corr = select(exp(m - mt), 0.0, m <= NEG);
      l *= corr;
      for (var e = 0u; e < p.EV; e++) { acc[e] *= corr; }
      m = mt;
      for (var t = 0u; t < BK; t++) {
        if (sc[t] > NEG) {
          let w = exp(sc[t] - m);
          l += w;
          for (var e = 0u; e < p.EV; e++) { acc[e] += w * value_at(b, t, j0 + t, e); }
        }
      }
    }
  }
  if (!live) { return; }
  // A row that attends to nothing is 0/0, NaN, as PyTorch's softmax of an all -inf row.
  let o = (b * p.L + i) * p.EV;
  for (var e = 0u; e < p.EV; e++) { out[o + e] = select(nan_f32(), acc[e] / l, l > 0.0); }
  lse[b * p.L + i] = select(neg_inf(), m + log(l), l > 0.0);
}
