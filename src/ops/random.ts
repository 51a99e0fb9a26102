/** bernoulli and multinomial on the device from the seeded uniforms of rand (same numbers on every device). */
import template from "../../shaders/multinomial.wgsl";
import type { Kernel } from "../backend/backend.js";
import { fmt } from "../shape.js";
import { noGrad } from "../autograd/mode.js";
import { tidy } from "../engine/scope.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import { rand } from "./creation.js";
import { checkRange } from "./check.js";
import type { Tensor } from "../tensor.js";

/**
 * Draws 1 with probability p and 0 otherwise, elementwise, in p's shape and dtype (1 where a seeded uniform is below
 * p). p must be a float tensor in [0, 1]; outside it or NaN is an Error (at the next sync point on WebGPU). Not
 * differentiable (the result carries no gradient).
 *
 * PyTorch: `torch.bernoulli`.
 * @example wg.bernoulli(wg.full([4], 0.5)) // e.g. tensor([0, 1, 1, 0])
 */
export function bernoulli(p: Tensor): Tensor {
  if (p.dtype === "int32") throw new Error(`bernoulli: p must be a float tensor of probabilities, got int32 ${fmt(p.shape)}. Fix: p.float().`);
  checkRange(p, 0, 1, (v, i) => `bernoulli: p must be in [0, 1], got ${v} at element ${i} (shape ${fmt(p.shape)}). Fix: p.clamp(0, 1), or sigmoid of logits.`);
  return noGrad(() => tidy(() => rand(p.shape, { device: p.device, dtype: p.dtype }).lt(p).cast(p.dtype)));
}

interface Attrs {
  n: number;
  replacement: boolean;
  message: (bits: number, at: number) => string;
}

const f32 = new DataView(new ArrayBuffer(4));
const asFloat = (bits: number) => (f32.setUint32(0, bits >>> 0, true), f32.getFloat32(0, true));

/** The first problem of a row as the kernel reports it: [value bits, reason] (see shaders/multinomial.wgsl), or null. */
function rowProblem(row: ArrayLike<number>, a: Attrs): [number, number] | null {
  let nonzero = 0;
  for (let j = 0; j < row.length; j++) {
    f32.setFloat32(0, row[j], true);
    if (!Number.isFinite(row[j])) return [f32.getUint32(0, true), 1];
    if (row[j] < 0) return [f32.getUint32(0, true), 0];
    if (row[j] > 0) nonzero++;
  }
  if (nonzero === 0) return [0, 2];
  return !a.replacement && nonzero < a.n ? [nonzero, 3] : null;
}

/** Inverse-CDF draws in float32 rounding, the kernel's loop step for step. */
function drawRow(w: number[], u: ArrayLike<number>, a: Attrs): number[] {
  const picks: number[] = [];
  for (let s = 0; s < a.n; s++) {
    const total = w.reduce((t, v) => Math.fround(t + v), 0);
    const target = Math.fround(u[s] * total);
    let acc = 0;
    let pick = 0;
    for (let j = 0; j < w.length; j++) {
      if (w[j] <= 0) continue;
      pick = j;
      acc = Math.fround(acc + w[j]);
      if (target < acc) break;
    }
    picks.push(pick);
    if (!a.replacement) w[pick] = 0;
  }
  return picks;
}

const multinomialKernel: Kernel<Attrs> = {
  name: "multinomial",
  cpu([out], [probs, u], a) {
    const [rows, c] = probs.shape;
    for (let r = 0; r < rows; r++) {
      const row = Array.from({ length: c }, (_, j) => probs.data[probs.offset + r * c + j]);
      const bad = rowProblem(row, a);
      if (bad) throw new Error(a.message(bad[0], r * 4 + bad[1]));
      const picks = drawRow(row.map(Math.fround), u.data.subarray(u.offset + r * a.n, u.offset + (r + 1) * a.n), a);
      picks.forEach((k, s) => (out.data[r * (c + a.n) + c + s] = k));
    }
  },
  webgpu(_outs, [probs], a) {
    const [rows, c] = probs.shape;
    return {
      key: "multinomial",
      code: () => template,
      constants: { WG: 64 },
      params: new Uint32Array([rows, c, a.n, 0, a.replacement ? 1 : 0, 0, 0, 0]).buffer,
      workgroups: Math.ceil(rows / 64),
      check: { idWord: 3, message: a.message },
    };
  },
};

const multinomialPrim: Primitive<Attrs> = {
  name: "multinomial",
  infer: ([probs], a) => ({ shape: [probs.shape[0], probs.shape[1] + a.n], dtype: "int32" }),
  kernel: multinomialKernel,
  grads: [null, null],
  docs: [null, null],
};

const reasons = ["is negative", "is not finite", "", ""];

function messageFor(probs: Tensor, n: number) {
  return (bits: number, at: number) => {
    const row = Math.floor(at / 4), why = at % 4;
    const where = `multinomial: row ${row} of probs ${fmt(probs.shape)}`;
    if (why < 2) return `${where} has a probability that ${reasons[why]} (${asFloat(bits)}). Fix: pass non-negative finite weights (softmax of logits).`;
    if (why === 2) return `${where} is all zero: there is nothing to sample. Fix: give every row at least one positive weight.`;
    return `${where} has ${bits} non-zero categories, fewer than the ${n} samples asked for without replacement. Fix: ask for at most ${bits}, or pass { replacement: true }.`;
  };
}

/**
 * Draws `n` int32 category indices per row of non-negative weights (they need not sum to 1): probs [C] gives [n],
 * probs [R, C] gives [R, n]. Without replacement (the default, as PyTorch) a category is drawn at most once per row, so
 * a row needs at least `n` non-zero weights; `{ replacement: true }` lifts that. Negative, non-finite or all-zero rows
 * are an Error (at the next sync point on WebGPU). Not differentiable.
 *
 * PyTorch: `torch.multinomial`.
 * @example wg.multinomial(wg.tensor([[0.1, 0.9], [1, 0]]), 3, { replacement: true }) // int32 shape [2, 3]; row 1 all 0
 */
export function multinomial(probs: Tensor, n: number, opts: { replacement?: boolean } = {}): Tensor {
  const replacement = opts.replacement ?? false;
  if (probs.ndim < 1 || probs.ndim > 2 || probs.dtype === "int32")
    throw new Error(`multinomial: probs must be a 1-D or 2-D float tensor, got ${probs.dtype} ${fmt(probs.shape)}.`);
  const c = probs.shape[probs.ndim - 1];
  if (!Number.isInteger(n) || n <= 0 || (!replacement && n > c))
    throw new Error(
      `multinomial: cannot draw n = ${n} samples from ${c} categories${replacement ? "" : " without replacement"} (probs ${fmt(probs.shape)}). ` +
        `Fix: n must be a positive integer${replacement ? "" : ` at most ${c}, or pass { replacement: true }`}.`,
    );
  const rowCount = probs.ndim === 1 ? 1 : probs.shape[0];
  return noGrad(() =>
    tidy(() => {
      const rows = dense(probs.detach().cast("float32")).reshape([rowCount, c]);
      const both = apply(multinomialPrim, [rows, rand([rowCount, n], { device: probs.device })], { n, replacement, message: messageFor(probs, n) });
      const out = dense(both.slice(1, c, c + n));
      return probs.ndim === 1 ? out.reshape([n]) : out;
    }),
  );
}
