/**
 * Row ops along the last dim of contiguous rows: softmax, logSoftmax, their
 * gradients (kernels of their own, differentiable again for higher order),
 * and cross-entropy with int32 class indices fused into one kernel each way.
 */
import template from "../../shaders/softmax.wgsl";
import meanEntry from "../../shaders/cross-entropy-mean.wgsl";
import type { CpuView, Kernel } from "../backend/backend.js";
import type { TypedArray } from "../dtype.js";
import { fmt, normalizeDim, numel } from "../shape.js";
import { apply, applyMulti, type MultiPrimitive, type Primitive } from "./primitive.js";
import { specialize, uniformLayout } from "../engine/wgsl.js";
import { arange } from "./creation.js";
import { isScalarConstant } from "./constants.js";
import { adapterChoice } from "../engine/scheduler.js";
import { isGradEnabled } from "../autograd/mode.js";
import { dense } from "./layout.js";
import type { Tensor } from "../tensor.js";

const OPS = { softmax: 0, logSoftmax: 1, softmaxGrad: 2, logSoftmaxGrad: 3, crossEntropy: 4, crossEntropyGrad: 5, crossEntropyMean: 6 } as const;
type RowOp = keyof typeof OPS;

/**
 * The shader reads (x, g, t, scale). The ops pass: softmax/logSoftmax [x]; their grads [y, g];
 * crossEntropy and crossEntropyMean [x, t]; crossEntropyGrad [x, t, gl] or [x, t, gl, scale]
 * (gl, one per row, in the g slot).
 */
const BINDINGS: Record<RowOp, (number | null)[]> = {
  softmax: [0, null, null, null],
  logSoftmax: [0, null, null, null],
  softmaxGrad: [0, 1, null, null],
  logSoftmaxGrad: [0, 1, null, null],
  crossEntropy: [0, null, 1, null],
  crossEntropyGrad: [0, 2, 1, 3],
  crossEntropyMean: [0, null, 1, null],
};

/** The inputs in the shader's (x, g, t, scale) roles, for the CPU loops. */
function roles(op: RowOp, ins: readonly CpuView[]): (CpuView | undefined)[] {
  return BINDINGS[op].map((k) => (k === null ? undefined : ins[k]));
}

/** crossEntropyMean's one-workgroup kernel takes inputs up to this many elements; past it the mean is the rows' sum over their count (3 launches, every core busy). */
export const MEAN_LIMIT = 1 << 18;

/** crossEntropy's ignoreIndex (its three ops only; the others take undefined). */
type RowAttrs = { ignore: number } | undefined;
const softmaxParams = uniformLayout(template);
/** Where softmax.wgsl binds its params; crossEntropyMean's entry binds them after its second output. */
const PARAMS_BINDING = "@group(0) @binding(5) var<uniform> p: Params;";
const IGNORE_DEFAULT = -100;

/** The same words on every device for a class index outside [0, cols). */
export function targetMessage(k: number, row: number, cols: number, ignore: number): string {
  return (
    `crossEntropy: target ${k} in row ${row} is out of range for ${cols} classes: valid class indices are 0 to ${cols - 1} ` +
    `(or ignoreIndex, ${ignore}). Fix: check the labels against the logits' last dim.`
  );
}

function rowKernel(op: RowOp): Kernel<RowAttrs> {
  return {
    name: op,
    cpu([out, out2, dx], ins, attrs) {
      const [x, g, t, scale] = roles(op, ins) as (CpuView | undefined)[] as [CpuView, CpuView | undefined, CpuView | undefined, CpuView | undefined];
      const cols = x.shape[x.shape.length - 1] ?? 1;
      const rows = cols === 0 ? 0 : numel(x.shape) / cols;
      const X = x.data, o = out.data, xo = x.offset;
      const factor = scale ? scale.data[scale.offset] : 1;
      let [total, kept] = [0, 0];
      for (let r = 0; r < rows; r++) {
        const base = xo + r * cols;
        let m = -Infinity;
        for (let c = 0; c < cols; c++) m = Math.max(m, X[base + c]);
        let s = 0;
        // -1: an ignored row (loss 0, gradient 0)
        const target = (k: number) => {
          const ignore = attrs?.ignore ?? IGNORE_DEFAULT;
          if (k === ignore) return -1;
          if (!Number.isInteger(k) || k < 0 || k >= cols) throw new Error(targetMessage(k, r, cols, ignore));
          return k;
        };
        if (op === "softmaxGrad") for (let c = 0; c < cols; c++) s += g!.data[r * cols + c] * X[base + c];
        else if (op === "logSoftmaxGrad") for (let c = 0; c < cols; c++) s += g!.data[r * cols + c];
        else for (let c = 0; c < cols; c++) s += Math.exp(X[base + c] - m);
        const lse = m + Math.log(s);
        if (op === "crossEntropy" || op === "crossEntropyMean") {
          const k = target(t!.data[r]);
          const loss = k < 0 ? 0 : lse - X[base + k];
          if (op === "crossEntropy") o[r] = loss;
          else [total, kept] = [total + loss, kept + (k < 0 ? 0 : 1)];
          continue;
        }
        const k = op === "crossEntropyGrad" ? target(t!.data[r]) : -1;
        if (op === "crossEntropyGrad" && k < 0) {
          o.fill(0, r * cols, (r + 1) * cols);
          continue;
        }
        for (let c = 0; c < cols; c++) {
          const v = X[base + c];
          const gi = op === "softmaxGrad" || op === "logSoftmaxGrad" ? g!.data[r * cols + c] : 0;
          o[r * cols + c] =
            op === "softmax" ? Math.exp(v - lse)
            : op === "logSoftmax" ? v - lse
            : op === "softmaxGrad" ? v * (gi - s)
            : op === "logSoftmaxGrad" ? gi - Math.exp(v) * s
            : (Math.exp(v - lse) - (c === k ? 1 : 0)) * g!.data[g!.offset + r * (g!.strides[0] ?? 0)] * factor;
        }
      }
      if (op === "crossEntropyMean") [o[0], out2.data[0]] = [total / kept, 1 / kept];
      if (op === "crossEntropyMean" && dx) meanGradient(dx.data, x, t!, rows, cols, 1 / kept, attrs?.ignore ?? IGNORE_DEFAULT);
    },
    webgpu(outs, ins, attrs, caps) {
      const x = ins[0];
      const cols = x.shape[x.shape.length - 1] ?? 1;
      const rows = cols === 0 ? 0 : numel(x.shape) / cols;
      if (ins.some((v, k) => v.offset !== 0 && !(op === "crossEntropyGrad" && k === 2)))
        // Row kernels address from element 0; views with an offset are copied first by the op wrappers.
        throw new Error(`${op}: internal error: row kernels need offset-0 inputs.`);
      const checks = op === "crossEntropy" || op === "crossEntropyGrad" || op === "crossEntropyMean";
      const grad = op === "crossEntropyGrad";
      const scale = grad ? ins[3] : undefined;
      const ignore = attrs?.ignore ?? IGNORE_DEFAULT;
      const mean = op === "crossEntropyMean";
      const withGrad = mean && outs.length > 2;
      const perRow = caps.force?.softmax ? caps.force.softmax === "rows" : cols > (caps.emulated ? 2048 : 64);
      // The mean's one workgroup: on an emulator a single SIMD group, whose barriers switch no invocations out.
      const wg = mean && caps.emulated ? 4 : perRow || mean ? Math.min(256, caps.maxWorkgroupSize) : 64;
      return {
        key: `softmax:${wg}:${OPS[op]}${withGrad ? ":grad" : ""}`,
        code: mean ? () => specialize(op, template, [[PARAMS_BINDING, ""]]) + meanEntry : () => template,
        entryPoint: mean ? "mean" : perRow ? "rows" : "threads",
        constants: mean ? { WG: wg, OP: OPS[op], GRAD: withGrad ? 1 : 0 } : ({ WG: wg, OP: OPS[op] } as Record<string, number>),
        params: softmaxParams.pack({
          rows, cols, gl_offset: grad ? ins[2].offset : 0, gl_stride: grad ? (ins[2].strides[0] ?? 0) : 0, ignore: ignore | 0,
          scaled: scale ? 1 : 0, s_offset: scale?.offset ?? 0,
        }),
        workgroups: mean ? 1 : perRow ? rows : Math.ceil(rows / wg),
        bindings: BINDINGS[op].map((k) => (k !== null && k < ins.length ? k : null)),
        outputBindings: mean && !withGrad ? [0, 1, null] : undefined,
        check: checks ? { idWord: softmaxParams.word("check_id"), message: (bits, row) => targetMessage(bits | 0, row, cols, ignore) } : undefined,
      };
    },
  };
}

/**
 * crossEntropyMean's third output on the CPU: (softmax(x) − onehot(t)) · inv per row, 0 on ignored
 * rows, computed as crossEntropyGrad's loop does with a unit upstream gradient and inv as its scale.
 */
function meanGradient(dx: TypedArray, x: CpuView, t: CpuView, rows: number, cols: number, inv: number, ignore: number): void {
  const X = x.data;
  const factor = Math.fround(inv); // the scale crossEntropyGrad reads from the float32 second output
  for (let r = 0; r < rows; r++) {
    const base = x.offset + r * cols;
    const k = t.data[t.offset + r];
    if (k === ignore) {
      dx.fill(0, r * cols, (r + 1) * cols);
      continue;
    }
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, X[base + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(X[base + c] - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) dx[r * cols + c] = (Math.exp(X[base + c] - lse) - (c === k ? 1 : 0)) * factor;
  }
}

const floatOnly = (op: string, x: Tensor) => {
  if (x.dtype === "int32") throw new Error(`${op}: needs a float tensor, got int32 of shape ${fmt(x.shape)}. Fix: x.float().${op}(-1).`);
};

const prims: { [K in Exclude<RowOp, "crossEntropyMean">]: Primitive<RowAttrs> } = {
  softmax: {
    name: "softmax",
    infer: ([x]) => (floatOnly("softmax", x), { shape: x.shape, dtype: x.dtype }),
    kernel: rowKernel("softmax"),
    save: (_ins, y) => [y],
    grads: [(g, [y]) => rowGrad("softmaxGrad", y, g)],
    docs: ["d softmax(x)/dx, applied to g: y ⊙ (g - Σ g⊙y) per row, y = softmax(x)"],
  },
  logSoftmax: {
    name: "logSoftmax",
    infer: ([x]) => (floatOnly("logSoftmax", x), { shape: x.shape, dtype: x.dtype }),
    kernel: rowKernel("logSoftmax"),
    save: (_ins, y) => [y],
    grads: [(g, [y]) => rowGrad("logSoftmaxGrad", y, g)],
    docs: ["d logSoftmax(x)/dx, applied to g: g - exp(y)·Σg per row, y = logSoftmax(x)"],
  },
  // out = y ⊙ (g − s), s = Σ g⊙y. With cotangent v: ∂y = v⊙(g − s) − g·Σ(v⊙y); ∂g = y⊙(v − Σ v⊙y).
  softmaxGrad: {
    name: "softmaxGrad",
    infer: ([y]) => ({ shape: y.shape, dtype: y.dtype }),
    kernel: rowKernel("softmaxGrad"),
    save: ([y, g]) => [y, g],
    grads: [
      (v, [y, g]) => v.mul(g.sub(g.mul(y).sum(-1, true))).sub(g.mul(v.mul(y).sum(-1, true))),
      (v, [y]) => rowGrad("softmaxGrad", y, v),
    ],
    docs: ["d(y ⊙ (g - Σ g⊙y))/dy, applied to v: v⊙(g - Σ g⊙y) - g·Σ(v⊙y)", "d(y ⊙ (g - Σ g⊙y))/dg, applied to v: y⊙(v - Σ v⊙y)"],
  },
  // out = g − e^y·Σg. With cotangent v: ∂y = −v⊙e^y·Σg; ∂g = v − Σ(v⊙e^y).
  logSoftmaxGrad: {
    name: "logSoftmaxGrad",
    infer: ([y]) => ({ shape: y.shape, dtype: y.dtype }),
    kernel: rowKernel("logSoftmaxGrad"),
    save: ([y, g]) => [y, g],
    grads: [
      (v, [y, g]) => v.mul(y.exp()).mul(g.sum(-1, true)).neg(),
      (v, [y]) => v.sub(v.mul(y.exp()).sum(-1, true)),
    ],
    docs: ["d(g - exp(y)·Σg)/dy, applied to v: -v⊙exp(y)·Σg", "d(g - exp(y)·Σg)/dg, applied to v: v - Σ v⊙exp(y)"],
  },
  crossEntropy: {
    name: "crossEntropy",
    infer: ([x]) => ({ shape: x.shape.slice(0, -1), dtype: x.dtype }),
    kernel: rowKernel("crossEntropy"),
    save: ([x, t]) => [x, t],
    grads: [(gl, [x, t], a) => crossEntropyGrad(x, t, gl, a), null],
    docs: ["d CE(x, t)/dx = softmax(x) - onehot(t) per row, times g", null],
  },
  // out = (softmax(x) − onehot(t)) ⊙ gl (· s, crossEntropyMean's 1/kept, a constant of the targets).
  // With cotangent v: ∂x = softmax'(x)ᵀ(v⊙gl·s); ∂gl = Σ_c v⊙(softmax(x) − onehot)·s.
  crossEntropyGrad: {
    name: "crossEntropyGrad",
    infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
    kernel: rowKernel("crossEntropyGrad"),
    save: ([x, t, gl, s]) => (s ? [x, t, gl, s] : [x, t, gl]),
    // Ignored rows (t = ignoreIndex) are constant 0, so both gradients are 0 there (the mask kept(t)).
    grads: [
      (v, [x, t, gl, s], a) => rowGrad("softmaxGrad", x.softmax(-1), v.mul(scaled(gl.mul(kept(t, a)), s).unsqueeze(-1))),
      null,
      (v, [x, t, , s], a) => scaled(v.mul(x.softmax(-1).sub(oneHot(t, x.shape[x.ndim - 1]))).sum(-1).mul(kept(t, a)), s),
      null,
    ],
    docs: [
      "d((softmax(x) - onehot(t))·g)/dx, applied to v: the softmax Jacobian times v⊙g",
      null,
      "d((softmax(x) - onehot(t))·g)/dg, applied to v: Σ_c v⊙(softmax(x) - onehot(t))",
      null,
    ],
  },
};

const scaled = (x: Tensor, s: Tensor | undefined) => (s ? x.mul(s) : x);

/**
 * The mean cross-entropy of logits [N, C] over the rows whose target is not ignoreIndex, in one
 * launch; its second output, 1/kept, scales the gradient (one crossEntropyGrad launch backward).
 */
const meanPrim: MultiPrimitive<RowAttrs> = {
  name: "crossEntropy",
  infer: ([x]) => ({ shape: [], dtype: x.dtype, extras: gradInForward(x) ? [[], x.shape] : [[]] }),
  kernel: rowKernel("crossEntropyMean"),
  save: ([x, t], _out, [inv, dx]) => (dx ? [x, t, inv, dx] : [x, t, inv]),
  grads: [
    // backward()'s own seed (the cached constant 1) with no graph to build: the gradient the forward wrote.
    (g, [x, t, inv, dx], a) =>
      dx && !isGradEnabled() && isScalarConstant(g, 1) ? dx : apply(prims.crossEntropyGrad, [x, t, g.expand([x.shape[0]]), inv], a),
    null,
  ],
  docs: ["d mean CE(x, t)/dx = (softmax(x) - onehot(t)) / kept per kept row, times g", null],
};

const rows = dense;

/**
 * crossEntropyMean also writes its gradient for a unit upstream gradient (a third output) when
 * backward may need it and the logits are at most this many elements; loss.backward() then
 * launches nothing for the loss. On emulators that is every size the one-workgroup mean takes:
 * SwiftShader, `bench --filter ^crossEntropy`, [2048, 128] 6.2-6.4 ms against 10.5 with
 * crossEntropyGrad's launch (`--force crossEntropy=backward`), [128, 10] level within noise
 * (0.24-0.34 vs 0.30 ms). On GPUs, where the one workgroup leaves the others idle,
 * 2^14 elements (64 per invocation), a bound not yet measured on one. force.crossEntropy:
 * "forward" (always, up to MEAN_LIMIT) or "backward" (never).
 */
const GRAD_IN_FORWARD_LIMIT = { emulated: MEAN_LIMIT, gpu: 1 << 14 } as const;
function gradInForward(x: Tensor): boolean {
  if (!isGradEnabled() || !x.requiresGrad) return false;
  const { emulated, forced } = adapterChoice(x.device, "crossEntropy");
  if (forced !== undefined && forced !== "forward" && forced !== "backward")
    throw new Error(`crossEntropy: unknown forced variant "${forced}"; expected "forward" or "backward".`);
  if (forced) return forced === "forward";
  return x.size <= (emulated ? GRAD_IN_FORWARD_LIMIT.emulated : GRAD_IN_FORWARD_LIMIT.gpu);
}

function rowGrad(op: "softmaxGrad" | "logSoftmaxGrad", y: Tensor, g: Tensor): Tensor {
  return apply(prims[op], [rows(y), rows(g)], undefined);
}

/** gl (one per row) is read through its stride, so mean()'s broadcast gradient needs no copy. */
function crossEntropyGrad(x: Tensor, t: Tensor, gl: Tensor, a: RowAttrs): Tensor {
  return apply(prims.crossEntropyGrad, [rows(x), rows(t), gl], a);
}

/** 1 for rows whose target is not ignoreIndex, else 0 (float32). */
const kept = (t: Tensor, a: RowAttrs) => t.ne(a?.ignore ?? IGNORE_DEFAULT);

/** A float32 [..., classes] mask with 1 at each index of the int32 tensor t. */
export function oneHot(t: Tensor, classes: number): Tensor {
  return arange(classes, { dtype: "int32", device: t.device }).eq(t.unsqueeze(-1));
}

/** Apply a last-dim row op along `dim` by moving that dim last (a view) and back. */
function alongDim(op: "softmax" | "logSoftmax", x: Tensor, dim: number): Tensor {
  const d = normalizeDim(op, dim, x.ndim, x.shape);
  const last = Math.max(x.ndim - 1, 0);
  if (x.ndim === 0) return apply(prims[op], [rows(x.reshape([1]))], undefined).reshape([]);
  if (d === last) return apply(prims[op], [rows(x)], undefined);
  return apply(prims[op], [rows(x.transpose(d, last))], undefined).transpose(d, last);
}

/**
 * exp(x − max) / Σ exp(x − max) along `dim` (default −1, the last dim): each slice sums to 1.
 * Stable for large inputs, NaN-propagating, float only. Differentiable to any order (its gradient is a kernel too).
 *
 * PyTorch: `torch.softmax` / `torch.nn.functional.softmax`.
 * @example wg.tensor([0, Math.log(3)]).softmax(0) // tensor([0.25, 0.75])
 */
export const softmax = (x: Tensor, dim = -1): Tensor => alongDim("softmax", x, dim);
/**
 * log(softmax(x)) along `dim` (default −1), computed as x − max − log Σ exp(x − max) so it stays finite where softmax
 * underflows to 0. Float only; differentiable to any order.
 *
 * PyTorch: `torch.log_softmax` / `torch.nn.functional.log_softmax`.
 * @example wg.tensor([0, 0]).logSoftmax() // tensor([-0.6931, -0.6931])
 */
export const logSoftmax = (x: Tensor, dim = -1): Tensor => alongDim("logSoftmax", x, dim);

/**
 * The mean cross-entropy of logits [N, C] and int32 targets [N] over the targets that are not
 * ignoreIndex (NaN when all are): one launch up to MEAN_LIMIT elements, else the rows' losses
 * summed over their count.
 */
export function crossEntropyMean(logits: Tensor, targets: Tensor, ignoreIndex = IGNORE_DEFAULT): Tensor {
  checkRows(logits, targets, ignoreIndex);
  if (logits.ndim !== 2 || logits.size > MEAN_LIMIT) return meanOverKept(() => crossEntropyRows(logits, targets, ignoreIndex), targets, ignoreIndex);
  return applyMulti(meanPrim, [rows(logits), rows(targets)], { ignore: ignoreIndex });
}

/**
 * Σ loss over the count of targets that are not ignoreIndex (0/0 = NaN when all are, as PyTorch),
 * the mean of the class-index losses. The count is queued first, so the loss's sum, queued last,
 * takes the division as its epilogue: 2 launches after the losses.
 */
export function meanOverKept(loss: () => Tensor, targets: Tensor, ignoreIndex: number): Tensor {
  const kept = targets.ne(ignoreIndex).sum();
  return loss().sum().div(kept);
}

/** Per-row cross-entropy −log softmax(x)[t] of logits [N, C] (or [C]) and int32 targets [N] (or []). */
export function crossEntropyRows(logits: Tensor, targets: Tensor, ignoreIndex = IGNORE_DEFAULT): Tensor {
  checkRows(logits, targets, ignoreIndex);
  return apply(prims.crossEntropy, [rows(logits), rows(targets)], { ignore: ignoreIndex });
}

function checkRows(logits: Tensor, targets: Tensor, ignoreIndex: number): void {
  if (targets.dtype !== "int32")
    throw new Error(`crossEntropy: class-index targets must be int32, got ${targets.dtype} ${fmt(targets.shape)}. Fix: wg.tensor(labels, { dtype: "int32" }), or pass probabilities of the logits' shape.`);
  floatOnly("crossEntropy", logits);
  const lead = logits.shape.slice(0, -1);
  if (logits.ndim < 1 || logits.ndim > 2 || targets.shape.join() !== lead.join())
    throw new Error(
      `crossEntropy: logits ${fmt(logits.shape)} and targets ${fmt(targets.shape)} do not match: expected logits [N, C] with targets [N] (or [C] with []). ` +
        `Fix: flatten extra dims, e.g. logits.reshape(-1, C) with targets.reshape(-1).`,
    );
  if (!Number.isInteger(ignoreIndex) || Math.abs(ignoreIndex) > 2 ** 31 - 1)
    throw new Error(`crossEntropy: ignoreIndex must be an int32 integer, got ${ignoreIndex}. Fix: e.g. { ignoreIndex: -100 } (the default).`);
}
