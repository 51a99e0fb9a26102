/**
 * CPU loops of the fused attention kernels, written from the math (not from the WGSL): the
 * forward takes each row's scores in full (no online softmax), so parity tests compare two
 * different computations of the same numbers.
 */
import type { CpuView } from "../backend/backend.js";

/** The sizes, scale and mask layout every attention kernel (CPU and WGSL) reads; q is [B, L, E], k [B, S, E], v [B, S, EV]. */
export interface AttnDims {
  B: number;
  L: number;
  S: number;
  E: number;
  EV: number;
  scale: number;
  causal: boolean;
  /** 0 none, 1 boolean (nonzero attends), 2 additive. */
  maskKind: 0 | 1 | 2;
  /** Where mask (b, i, j) is: off + ⌊b / inner⌋·sb1 + (b mod inner)·sb2 + i·sl + j·ss. */
  mask: { off: number; inner: number; sb1: number; sb2: number; sl: number; ss: number };
}

/** The additive term of (b, i, j); -Infinity where the key is masked out. */
export function maskBias(a: AttnDims, mask: CpuView | undefined, b: number, i: number, j: number): number {
  if (a.causal && j > i) return -Infinity;
  if (a.maskKind === 0 || !mask) return 0;
  const m = a.mask;
  const v = mask.data[m.off + Math.floor(b / m.inner) * m.sb1 + (b % m.inner) * m.sb2 + i * m.sl + j * m.ss];
  return a.maskKind === 1 ? (v !== 0 ? 0 : -Infinity) : v;
}

/** scale·q_i·k_j + mask for every key j of row (b, i). */
function scores(a: AttnDims, q: CpuView, k: CpuView, mask: CpuView | undefined, b: number, i: number): Float64Array {
  const s = new Float64Array(a.S);
  for (let j = 0; j < a.S; j++) {
    const add = maskBias(a, mask, b, i, j);
    if (add === -Infinity) {
      s[j] = -Infinity;
      continue;
    }
    let d = 0;
    for (let e = 0; e < a.E; e++) d += q.data[(b * a.L + i) * a.E + e] * k.data[(b * a.S + j) * a.E + e];
    s[j] = d * a.scale + add;
  }
  return s;
}

/** out = softmax(scores)·v per row and lse = log Σ exp(scores); a row with nothing attended is NaN, lse -Infinity. */
export function attentionForward(a: AttnDims, [out, lse]: readonly CpuView[], [q, k, v, mask]: readonly (CpuView | undefined)[]): void {
  for (let b = 0; b < a.B; b++)
    for (let i = 0; i < a.L; i++) {
      const s = scores(a, q!, k!, mask, b, i);
      const m = Math.max(...s);
      let sum = 0;
      for (let j = 0; j < a.S; j++) sum += m === -Infinity ? 0 : Math.exp(s[j] - m);
      lse.data[b * a.L + i] = sum > 0 ? m + Math.log(sum) : -Infinity;
      for (let e = 0; e < a.EV; e++) {
        let acc = 0;
        for (let j = 0; j < a.S; j++) if (s[j] !== -Infinity) acc += Math.exp(s[j] - m) * v!.data[(b * a.S + j) * a.EV + e];
        out.data[(b * a.L + i) * a.EV + e] = sum > 0 ? acc / sum : NaN;
      }
    }
}

/** P, dP = dO·vᵀ and dS = P(dP - D) of row (b, i), given D = dO_i·O_i. */
function rowGrads(a: AttnDims, [q, k, v, mask, go, lse]: readonly (CpuView | undefined)[], b: number, i: number, D: number) {
  const s = scores(a, q!, k!, mask, b, i);
  const li = lse!.data[b * a.L + i];
  const P = new Float64Array(a.S), dS = new Float64Array(a.S);
  for (let j = 0; j < a.S; j++) {
    if (s[j] === -Infinity) continue;
    P[j] = Math.exp(s[j] - li);
    let dp = 0;
    for (let e = 0; e < a.EV; e++) dp += go!.data[(b * a.L + i) * a.EV + e] * v!.data[(b * a.S + j) * a.EV + e];
    dS[j] = P[j] * (dp - D);
  }
  return { P, dS, dead: li === -Infinity };
}

/** dq [B, L, E] then D [B, L] in one buffer. Inputs q, k, v, mask, dO, lse, O. */
export function attentionDq(a: AttnDims, [out]: readonly CpuView[], ins: readonly (CpuView | undefined)[]): void {
  const k = ins[1]!;
  for (let b = 0; b < a.B; b++)
    for (let i = 0; i < a.L; i++) {
      let D = 0;
      for (let e = 0; e < a.EV; e++) D += ins[4]!.data[(b * a.L + i) * a.EV + e] * ins[6]!.data[(b * a.L + i) * a.EV + e];
      const { dS, dead } = rowGrads(a, ins, b, i, D);
      for (let e = 0; e < a.E; e++) {
        let acc = 0;
        for (let j = 0; j < a.S; j++) acc += dS[j] * k.data[(b * a.S + j) * a.E + e];
        out.data[(b * a.L + i) * a.E + e] = dead ? NaN : acc * a.scale;
      }
      out.data[a.B * a.L * a.E + b * a.L + i] = D;
    }
}

/** dk [B, S, E] then dv [B, S, EV] in one buffer. Inputs q, k, v, mask, dO, lse, and dq's buffer (for D). */
export function attentionDkv(a: AttnDims, [out]: readonly CpuView[], ins: readonly (CpuView | undefined)[]): void {
  const [q, , , , go, , dq] = ins;
  out.data.fill(0);
  for (let b = 0; b < a.B; b++)
    for (let i = 0; i < a.L; i++) {
      const { P, dS } = rowGrads(a, ins, b, i, dq!.data[a.B * a.L * a.E + b * a.L + i]);
      for (let j = 0; j < a.S; j++) {
        if (P[j] === 0 && dS[j] === 0) continue;
        const rk = (b * a.S + j) * a.E, rv = a.B * a.S * a.E + (b * a.S + j) * a.EV;
        for (let e = 0; e < a.E; e++) out.data[rk + e] += dS[j] * q!.data[(b * a.L + i) * a.E + e] * a.scale;
        for (let e = 0; e < a.EV; e++) out.data[rv + e] += P[j] * go!.data[(b * a.L + i) * a.EV + e];
      }
    }
}
