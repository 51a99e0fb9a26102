/**
 * layerNorm over the trailing normalizedShape dims, as torch.nn.functional.layer_norm:
 * y = (x - mean)·rstd·w + b with the biased variance, rstd = 1/√(var + eps). One fused
 * kernel each way; the forward saves (mean, rstd) per row for the backward. The fused
 * backward is the first-order path; under createGraph the rules recompute the
 * statistics with differentiable ops, so higher derivatives are exact.
 */
import template from "../../shaders/layernorm.wgsl";
import type { CpuView, GpuCaps, Kernel } from "../backend/backend.js";
import { fmt, numel } from "../shape.js";
import { isGradEnabled } from "../autograd/mode.js";
import type { Rule } from "../autograd/node.js";
import { apply, applyMulti, type MultiPrimitive, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import type { Tensor } from "../tensor.js";

interface Attrs {
  eps: number;
  cols: number;
  nd: number; // how many trailing dims are normalized
  hasW: boolean;
  hasB: boolean;
}

/** Which binding each input fills in the shader's (x, w, b, g, stats) read slots. */
type Slots = [number | null, number | null, number | null, number | null, number | null];

function launch(entry: string, a: Attrs, rows: number, caps: GpuCaps, bindings: Slots, outs: (number | null)[], perColumn = false) {
  const perRow = !perColumn && (caps.force?.layerNorm ? caps.force.layerNorm === "rows" : a.cols > (caps.emulated ? 2048 : 64));
  const wg = perRow ? Math.min(64, caps.maxWorkgroupSize) : 64;
  const P = new ArrayBuffer(32);
  new Uint32Array(P).set([rows, a.cols, 0, a.hasW ? 1 : 0, a.hasB ? 1 : 0]);
  new Float32Array(P)[2] = a.eps;
  const n = perColumn ? a.cols : rows;
  return {
    key: `layerNorm:${wg}`,
    code: () => template,
    entryPoint: perColumn ? entry : `${entry}_${perRow ? "rows" : "threads"}`,
    constants: { WG: wg },
    params: P,
    workgroups: perRow ? rows : Math.ceil(n / wg),
    bindings,
    outputBindings: outs,
  };
}

/** Mean and rstd of each row (two passes, in the view's precision). */
function rowStats(x: CpuView, r: number, cols: number, eps: number): [number, number] {
  let s = 0;
  for (let j = 0; j < cols; j++) s += x.data[r * cols + j];
  const mean = s / cols;
  let v = 0;
  for (let j = 0; j < cols; j++) v += (x.data[r * cols + j] - mean) ** 2;
  return [mean, 1 / Math.sqrt(v / cols + eps)];
}

const rowsOf = (x: { shape: readonly number[] }, a: Attrs) => (a.cols === 0 ? 0 : numel(x.shape) / a.cols);

const forwardKernel: Kernel<Attrs> = {
  name: "layerNorm",
  cpu([y, stats], ins, a) {
    const [x, w, b] = [ins[0], a.hasW ? ins[1] : null, a.hasB ? ins[a.hasW ? 2 : 1] : null];
    for (let r = 0; r < rowsOf(x, a); r++) {
      const [mean, rstd] = rowStats(x, r, a.cols, a.eps);
      stats.data[2 * r] = mean;
      stats.data[2 * r + 1] = rstd;
      for (let j = 0; j < a.cols; j++)
        y.data[r * a.cols + j] = (x.data[r * a.cols + j] - mean) * rstd * (w ? w.data[j] : 1) + (b ? b.data[j] : 0);
    }
  },
  webgpu(_outs, [x], a, caps) {
    const slots: Slots = [0, a.hasW ? 1 : null, a.hasB ? (a.hasW ? 2 : 1) : null, null, null];
    return launch("forward", a, rowsOf(x, a), caps, slots, [0, 1]);
  },
};

/** dx = rstd·(gh - mean(gh) - x̂·mean(gh·x̂)), gh = g·w; inputs [x, w?, g, stats]. */
const backwardKernel: Kernel<Attrs> = {
  name: "layerNormBackward",
  cpu([dx], ins, a) {
    const [x, w, g, st] = a.hasW ? ins : [ins[0], null, ins[1], ins[2]];
    const n = a.cols;
    for (let r = 0; r < rowsOf(x, a); r++) {
      const [mean, rstd] = [st.data[2 * r], st.data[2 * r + 1]];
      const gh = (j: number) => g.data[r * n + j] * (w ? w.data[j] : 1);
      const xh = (j: number) => (x.data[r * n + j] - mean) * rstd;
      let m1 = 0, m2 = 0;
      for (let j = 0; j < n; j++) {
        m1 += gh(j) / n;
        m2 += (gh(j) * xh(j)) / n;
      }
      for (let j = 0; j < n; j++) dx.data[r * n + j] = rstd * (gh(j) - m1 - xh(j) * m2);
    }
  },
  webgpu(_outs, [x], a, caps) {
    const slots: Slots = a.hasW ? [0, 1, null, 2, 3] : [0, null, null, 1, 2];
    return launch("backward", a, rowsOf(x, a), caps, slots, [0, null]);
  },
};

/** dw[j] = Σ_r g[r, j]·x̂[r, j]; inputs [x, g, stats]. */
const weightGradKernel: Kernel<Attrs> = {
  name: "layerNormWeightGrad",
  cpu([dw], [x, g, st], a) {
    dw.data.fill(0);
    for (let r = 0; r < rowsOf(x, a); r++)
      for (let j = 0; j < a.cols; j++)
        dw.data[j] += g.data[r * a.cols + j] * (x.data[r * a.cols + j] - st.data[2 * r]) * st.data[2 * r + 1];
  },
  webgpu(_outs, [x], a, caps) {
    return launch("weight_grad", a, rowsOf(x, a), caps, [0, null, null, 1, 2], [0, null], true);
  },
};

// The first-order kernels run under noGrad only (the rules below switch to ops under createGraph).
const firstOrder = (name: string, kernel: Kernel<Attrs>, shape: (ins: readonly Tensor[], a: Attrs) => number[], n: number): Primitive<Attrs> => ({
  name,
  infer: (ins, a) => ({ shape: shape(ins, a), dtype: ins[0].dtype }),
  kernel,
  grads: Array(n).fill(null),
  docs: Array(n).fill(null),
});
const backwardPrim = (hasW: boolean) => firstOrder("layerNormBackward", backwardKernel, ([x]) => x.shape, hasW ? 4 : 3);
const weightGradPrim = firstOrder("layerNormWeightGrad", weightGradKernel, (_ins, a) => [a.cols], 3);

/** The dims of x that are not normalized: the leading ones. */
const leadDims = (x: Tensor, a: Attrs) => Array.from({ length: x.ndim - a.nd }, (_, i) => i);

/** x̂ and rstd recomputed with differentiable ops over the trailing dims (the createGraph path). */
function normalized(x: Tensor, a: Attrs, dims: number[]): [Tensor, Tensor] {
  const flat = x.reshape([...x.shape.slice(0, dims.length), a.cols]);
  const mean = flat.mean(-1, true);
  const d = flat.sub(mean);
  const rstd = d.mul(d).mean(-1, true).add(a.eps).sqrt().pow(-1);
  return [d.mul(rstd).reshape(x.shape), rstd];
}

const ruleX: Rule<Attrs> = (g, [x, stats, w], a) => {
  if (!isGradEnabled()) return apply(backwardPrim(a.hasW), a.hasW ? [dense(x), w, dense(g), stats] : [dense(x), dense(g), stats], a);
  const dims = leadDims(x, a);
  const [xh, rstd] = normalized(x, a, dims);
  const gh = (a.hasW ? g.mul(w.reshape(x.shape.slice(dims.length))) : g).reshape([...x.shape.slice(0, dims.length), a.cols]);
  const xf = xh.reshape(gh.shape);
  return gh.sub(gh.mean(-1, true)).sub(xf.mul(gh.mul(xf).mean(-1, true))).mul(rstd).reshape(x.shape);
};

const ruleW: Rule<Attrs> = (g, [x, stats, w], a) => {
  if (!isGradEnabled()) return apply(weightGradPrim, [dense(x), dense(g), stats], a).reshape(w.shape);
  const dims = leadDims(x, a);
  const gxh = g.mul(normalized(x, a, dims)[0]);
  return (dims.length ? gxh.sum(dims) : gxh).reshape(w.shape);
};

const ruleB: Rule<Attrs> = (g, [x], a) => {
  const dims = leadDims(x, a);
  return dims.length ? g.sum(dims) : g;
};

const DOC_X = "d LN(x)/dx, applied to g: rstd·(gh - mean(gh) - x̂·mean(gh·x̂)), gh = g·w, x̂ = (x - mean)·rstd";
const variants = new Map<string, MultiPrimitive<Attrs>>();

function forwardPrim(hasW: boolean, hasB: boolean): MultiPrimitive<Attrs> {
  const key = `${hasW}:${hasB}`;
  let p = variants.get(key);
  if (!p) {
    p = {
      name: "layerNorm",
      infer: ([x], a) => ({ shape: x.shape, dtype: x.dtype, extras: [[rowsOf(x, a), 2]] }),
      kernel: forwardKernel,
      save: (ins, _out, [stats]) => [ins[0], stats, ...(hasW ? [ins[1]] : [])],
      grads: [ruleX, ...(hasW ? [ruleW] : []), ...(hasB ? [ruleB] : [])],
      docs: [DOC_X, ...(hasW ? ["d LN(x)/dw = Σ over rows of g·x̂"] : []), ...(hasB ? ["d LN(x)/db = Σ over rows of g"] : [])],
    };
    variants.set(key, p);
  }
  return p;
}

/**
 * Options of `nn.functional.layerNorm`, PyTorch's keyword arguments.
 *
 * PyTorch: the `weight`, `bias`, `eps` arguments of `torch.nn.functional.layer_norm`.
 * @example wg.nn.functional.layerNorm(x, [64], { weight: gamma, bias: beta, eps: 1e-6 })
 */
export interface LayerNormOptions {
  /** Elementwise scale of normalizedShape's shape; default none (1). */
  weight?: Tensor | null;
  /** Elementwise shift of normalizedShape's shape; default none (0). */
  bias?: Tensor | null;
  /** Added to the variance before the square root, ≥ 0; default 1e-5. */
  eps?: number;
}

/**
 * Normalizes over the trailing dims `normalizedShape` (an int for the last dim): (x − mean)/√(var + eps)·weight +
 * bias with the biased variance, per leading index. One fused kernel each way; differentiable in x, weight and bias
 * to any order.
 *
 * PyTorch: `torch.nn.functional.layer_norm`.
 * @example wg.nn.functional.layerNorm(wg.tensor([[1, 2, 3]]), 3) // ≈ tensor([[-1.2247, 0, 1.2247]])
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], opts: LayerNormOptions = {}): Tensor {
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const { weight = null, bias = null, eps = 1e-5 } = opts;
  const trailing = x.shape.slice(x.ndim - shape.length);
  if (shape.length === 0 || shape.length > x.ndim || trailing.join() !== shape.join())
    throw new Error(
      `layerNorm: normalizedShape ${fmt(shape)} must equal the trailing dims of the input ${fmt(x.shape)}. ` +
        `Fix: pass the last dim(s) of the input, e.g. layerNorm(x, [${x.shape[x.ndim - 1] ?? 1}]).`,
    );
  if (x.dtype === "int32") throw new Error(`layerNorm: needs a float input, got int32 ${fmt(x.shape)}. Fix: x.float().`);
  if (!(eps >= 0)) throw new Error(`layerNorm: eps must be a non-negative number, got ${eps}.`);
  for (const [what, t] of [["weight", weight], ["bias", bias]] as const)
    if (t && t.shape.join() !== shape.join())
      throw new Error(`layerNorm: ${what} has shape ${fmt(t.shape)}, expected normalizedShape ${fmt(shape)}. Fix: make it ${fmt(shape)}.`);
  const a: Attrs = { eps, cols: numel(shape), nd: shape.length, hasW: weight !== null, hasB: bias !== null };
  const ins = [dense(x), ...(weight ? [dense(weight)] : []), ...(bias ? [dense(bias)] : [])];
  return applyMulti(forwardPrim(a.hasW, a.hasB), ins, a);
}
