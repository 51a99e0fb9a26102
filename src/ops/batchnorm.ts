/**
 * Batch normalization (torch.nn.functional.batch_norm) over [N, C], [N, C, L]
 * or [N, C, H, W], composed from per-channel primitives: channelAffine
 * (y = x·scale[c] + shift[c], one kernel, shaders/batchnorm.wgsl), channelSum
 * (row sums over the contiguous inner dims, then over N) and channelSumSq
 * (Σ (x − m[c])², the variance's numerator, in one pass). Autograd
 * differentiates the composite, through the batch statistics too. Broadcasting
 * a [1, C, 1, 1] operand instead would send every full-size op down the
 * strided elementwise path and every gradient through a strided reduction.
 */
import template from "../../shaders/batchnorm.wgsl";
import type { GpuCaps, Kernel } from "../backend/backend.js";
import { noGrad } from "../autograd/mode.js";
import { fmt, numel } from "../shape.js";
import { uniformLayout } from "../engine/wgsl.js";
import { apply, record, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import { zeros } from "./creation.js";
import type { Tensor } from "../tensor.js";

const channelParams = uniformLayout(template);

interface ChannelAttrs {
  readonly C: number;
  readonly inner: number;
}

const AFFINE_VARIANTS = ["flat", "rows", "rows4"];

/**
 * Rows of a multiple of 4 take `affine_rows`, one workgroup per (n, c) row: 64 invocations on GPUs;
 * on emulators 4 (one SIMD group), each stepping a quarter of the row, since SwiftShader's cost is
 * per invocation: [64, 32, 28, 28] 129 ms flat -> 44 ms (rows of 4) -> 58 ms (rows of 64).
 * Returns the workgroup size, or 0 for the flat entry (4 elements per invocation, any inner).
 */
function affineRowsWorkgroup(a: ChannelAttrs, caps: GpuCaps): number {
  const forced = caps.force?.channelAffine;
  if (forced !== undefined && !AFFINE_VARIANTS.includes(forced))
    throw new Error(`channelAffine: unknown forced variant "${forced}"; expected one of ${AFFINE_VARIANTS.join(", ")}.`);
  // Rows shorter than 4·WG would leave invocations idle: a GPU's 64 need 256 elements, an emulator's 4 need 16.
  const variant = forced ?? (a.inner % 4 !== 0 || a.inner < (caps.emulated ? 16 : 256) ? "flat" : caps.emulated ? "rows4" : "rows");
  if (variant !== "flat" && a.inner % 4 !== 0) return 0;  // forcing rows onto ragged rows: the only entry that can run them
  return variant === "flat" ? 0 : variant === "rows" ? 64 : 4;
}

/** ins [x, scale, shift]: y = x·scale[c] + shift[c]; ins [shift] alone: y = shift[c] broadcast to `shape`. */
function channelKernel(name: string): Kernel<ChannelAttrs> {
  return {
    name,
    cpu([y], ins, a) {
      const [x, scale, shift] = ins.length === 1 ? [null, null, ins[0]] : ins;
      for (let i = 0; i < y.data.length; i++) {
        const c = Math.floor(i / a.inner) % a.C;
        y.data[i] = (x ? x.data[i] * scale!.data[c] : 0) + shift.data[c];
      }
    },
    webgpu([y], ins, a, caps) {
      const n = numel(y.shape), broadcast = ins.length === 1;
      const wg = affineRowsWorkgroup(a, caps);
      return {
        key: wg ? `channelAffine:rows${wg}` : "channelAffine",
        code: () => template,
        entryPoint: wg ? "affine_rows" : "affine",
        constants: wg ? { WG: wg } : undefined,
        params: channelParams.pack({ n, C: a.C, inner: a.inner, broadcast: broadcast ? 1 : 0 }),
        workgroups: wg ? n / a.inner : Math.ceil(n / 1024),
        bindings: broadcast ? [null, null, 0] : [0, 1, 2],
      };
    },
  };
}

// y = x·s[c] + t[c]. With cotangent g: ∂x = g·s[c] (the same map, t = 0); ∂s = Σ_c g·x; ∂t = Σ_c g.
const affinePrim: Primitive<ChannelAttrs> = {
  name: "channelAffine",
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  kernel: channelKernel("channelAffine"),
  save: ([x, scale]) => [x, scale],
  grads: [
    (g, [, scale], a) => channelAffine(g, scale, zeros([a.C], { device: g.device, dtype: g.dtype }), a),
    (g, [x]) => channelSum(g.mul(x)),
    (g) => channelSum(g),
  ],
  docs: ["d(x·s[c] + t[c])/dx = s[c]", "d(x·s[c] + t[c])/ds[c] = Σ over n, h, w of g·x", "d(x·s[c] + t[c])/dt[c] = Σ over n, h, w of g"],
};

// y[n, c, ...] = v[c]; its adjoint is channelSum, and channelSum's is this.
const broadcastPrim: Primitive<ChannelAttrs & { shape: readonly number[] }> = {
  name: "channelBroadcast",
  infer: ([v], a) => ({ shape: [...a.shape], dtype: v.dtype }),
  kernel: channelKernel("channelBroadcast"),
  grads: [(g) => channelSum(g)],
  docs: ["d v[c] broadcast/dv[c] = Σ over n, h, w of g"],
};

/**
 * Sums along the last dim (rows of `inner`) or the first (`lead` rows of `inner` columns) of a dense
 * tensor; `rowsq` sums (x − m[r mod C])² along the last dim, with m the second input.
 */
type SumAttrs = { readonly along: "row" | "lead" | "rowsq"; readonly rows: number; readonly inner: number; readonly C?: number };

const sumKernel: Kernel<SumAttrs> = {
  name: "channelSum",
  cpu([y], [x, m], a) {
    const out = new Float64Array(y.data.length);
    for (let r = 0; r < a.rows; r++)
      for (let k = 0; k < a.inner; k++) {
        const v = x.data[r * a.inner + k];
        if (a.along === "rowsq") out[r] += (v - m.data[r % a.C!]) ** 2;
        else out[a.along === "row" ? r : k] += v;
      }
    y.data.set(out);
  },
  webgpu([y], _ins, a) {
    const n = numel(y.shape);
    return {
      key: "channelAffine",
      code: () => template,
      entryPoint: a.along === "row" ? "row_sum" : a.along === "rowsq" ? "row_sumsq" : "lead_sum",
      params: channelParams.pack({ n, C: a.along === "rowsq" ? a.C! : a.rows, inner: a.inner }),
      workgroups: Math.ceil(n / 256),
      bindings: a.along === "rowsq" ? [0, null, 1] : [0, null, null],
    };
  },
};

// Not differentiated itself: channelSum and the conv weight gradient record their rules on the result.
const sumPrim: Primitive<SumAttrs> = {
  name: "channelSum",
  infer: ([x], a) => ({ shape: [a.along === "lead" ? a.inner : a.rows], dtype: x.dtype }),
  kernel: sumKernel,
  grads: [null],
  docs: [null],
};

/** Σ_i t[i, ...] over the first dim of a tensor, as a flat [rest] tensor (rest = t.size / t.shape[0]). */
export function sumLeading(t: Tensor): Tensor {
  return apply(sumPrim, [dense(t)], { along: "lead", rows: t.shape[0], inner: t.size / t.shape[0] });
}

function channelAffine(x: Tensor, scale: Tensor, shift: Tensor, a: ChannelAttrs): Tensor {
  return apply(affinePrim, [dense(x), dense(scale), dense(shift)], a);
}

const sumRule = [(g: Tensor, _saved: Tensor[], shape: readonly number[]) =>
  apply(broadcastPrim, [dense(g)], { C: shape[1], inner: numel(shape) / (shape[0] * shape[1]), shape })];

/**
 * Σ over every dim but 1 of [N, C, ...]: contiguous row sums over the inner dims, then over N.
 * Its gradient broadcasts back with one dense kernel (the reductions' own rules would expand
 * a stride-0 view and copy it through the strided path).
 */
export function channelSum(t: Tensor): Tensor {
  const [N, C] = t.shape;
  const s = noGrad(() => {
    if (t.ndim === 2) return sumLeading(t);
    const rows = apply(sumPrim, [dense(t)], { along: "row", rows: N * C, inner: t.size / (N * C) });
    const total = sumLeading(rows.reshape([N, C]));
    rows.dispose();
    return total;
  });
  record("channelSum", [t], s, sumRule, () => [], t.shape);
  return s;
}

/** The inner size (numel over N·C) and N·inner, the count per channel, of [N, C, ...]. */
function perChannel(t: Tensor) {
  const [N, C] = t.shape;
  const inner = t.size / (N * C);
  return { N, C, inner, count: N * inner };
}

// s[c] = Σ (x − m[c])² over n and the inner dims. ∂x = 2·g[c]·(x − m[c]), one channelAffine;
// ∂m[c] = −2·g[c]·Σ (x − m[c]) = −2·g[c]·(Σ x − count·m[c]).
const sumSqRules = [
  (g: Tensor, [x, m]: Tensor[]) => channelAffine(x, g.mul(2), g.mul(m).mul(-2), perChannel(x)),
  (g: Tensor, [x, m]: Tensor[]) => g.mul(channelSum(x).sub(m.mul(perChannel(x).count))).mul(-2),
];

/**
 * Σ (x − m[c])² over every dim but 1 of [N, C, ...]: one pass over x (the squared deviations are never
 * written out), then a sum over N. Differentiable in x and m.
 */
export function channelSumSq(x: Tensor, m: Tensor): Tensor {
  const { N, C, inner } = perChannel(x);
  const s = noGrad(() => {
    const rows = apply(sumPrim, [dense(x), dense(m)], { along: "rowsq", rows: N * C, inner, C });
    const total = sumLeading(rows.reshape([N, C]));
    rows.dispose();
    return total;
  });
  record("channelSumSq", [x, m], s, sumSqRules, () => [x, m], undefined, ["d Σ(x − m[c])²/dx = 2·(x − m[c])", "d Σ(x − m[c])²/dm[c] = −2·Σ(x − m[c])"]);
  return s;
}

/**
 * Options of `nn.functional.batchNorm`, PyTorch's keyword arguments.
 *
 * PyTorch: the `weight`, `bias`, `training`, `momentum`, `eps` arguments of `torch.nn.functional.batch_norm`.
 * @example wg.nn.functional.batchNorm(x, runningMean, runningVar, { training: true, momentum: 0.01 })
 */
export interface BatchNormOptions {
  /** Per-channel scale γ [C] applied after normalizing; default none (1). */
  weight?: Tensor | null;
  /** Per-channel shift β [C] added last; default none (0). */
  bias?: Tensor | null;
  /** Batch statistics (and a running-statistics update) when true; the running statistics when false (the default). */
  training?: boolean;
  /** Weight m of the batch in running ← (1 − m)·running + m·batch, in [0, 1]; default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root, > 0; default 1e-5. */
  eps?: number;
}

function checkChannelVector(what: string, t: Tensor | null | undefined, x: Tensor): void {
  if (!t) return;
  const C = x.shape[1];
  if (t.ndim !== 1 || t.shape[0] !== C)
    throw new Error(`batchNorm: ${what} must be [${C}] (one per channel of input ${fmt(x.shape)}), got ${fmt(t.shape)}. Fix: make it [${C}].`);
  if (t.device !== x.device) throw new Error(`batchNorm: ${what} is on ${t.device}, the input ${fmt(x.shape)} on ${x.device}. Fix: await ${what}.to("${x.device}").`);
}

/**
 * Normalizes each channel (dim 1) of x [N, C], [N, C, L] or [N, C, H, W]: (x − mean)/√(var + eps)·weight + bias.
 * Training uses the batch's mean and biased variance (differentiable through them) and, when both running tensors
 * are given, updates them in place with the unbiased variance, as PyTorch; eval (the default) uses runningMean and
 * runningVar, which must then be given.
 *
 * PyTorch: `torch.nn.functional.batch_norm`.
 * @example wg.nn.functional.batchNorm(wg.tensor([[1, 2], [3, 6]]), null, null, { training: true }) // ≈ tensor([[-1, -1], [1, 1]])
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = opts;
  if (x.ndim < 2 || x.ndim > 4 || x.dtype === "int32")
    throw new Error(`batchNorm: input must be a float [N, C], [N, C, L] or [N, C, H, W] tensor, got ${x.dtype} ${fmt(x.shape)}. Fix: reshape it so channels are dim 1.`);
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    throw new Error(`batchNorm: eps must be > 0 and momentum in [0, 1], got eps ${eps}, momentum ${momentum}. Fix: the defaults are 1e-5 and 0.1.`);
  for (const [what, t] of [["runningMean", runningMean], ["runningVar", runningVar], ["weight", weight], ["bias", bias]] as const)
    checkChannelVector(what, t, x);
  const C = x.shape[1];
  const perChannel = x.size / C;
  const a = { C, inner: perChannel / x.shape[0] };
  let mean: Tensor, v: Tensor;
  if (training) {
    if (perChannel <= 1)
      throw new Error(
        `batchNorm: training needs more than one value per channel to take batch statistics, got input ${fmt(x.shape)}. ` +
          `Fix: use a batch of at least 2, or eval mode (model.eval()) to normalize with the running statistics.`,
      );
    mean = channelSum(x).div(perChannel);
    v = channelSumSq(x, mean).div(perChannel); // biased, as PyTorch normalizes; two passes, so no cancellation
    if (runningMean && runningVar) updateRunning(runningMean, runningVar, mean, v, momentum, perChannel);
  } else {
    if (!runningMean || !runningVar)
      throw new Error(`batchNorm: eval mode (training false) normalizes with the running statistics, but runningMean or runningVar is null (input ${fmt(x.shape)}). Fix: pass both, or { training: true }.`);
    mean = runningMean;
    v = runningVar;
  }
  let scale = v.add(eps).pow(-0.5);
  if (weight) scale = scale.mul(weight);
  let shift = mean.mul(scale).neg();
  if (bias) shift = shift.add(bias);
  return channelAffine(x, scale, shift, a);
}

/** running ← (1 − m)·running + m·batch, with the unbiased variance (n / (n − 1)) as PyTorch. */
function updateRunning(rm: Tensor, rv: Tensor, mean: Tensor, v: Tensor, m: number, n: number): void {
  noGrad(() => {
    const bm = mean.reshape(rm.shape).mul(m), bv = v.reshape(rv.shape).mul((m * n) / (n - 1));
    rm.mul_(1 - m).add_(bm);
    rv.mul_(1 - m).add_(bv);
    bm.dispose();
    bv.dispose();
  });
}
