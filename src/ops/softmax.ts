/**
 * Row ops along the last dim of contiguous rows: softmax, logSoftmax, their
 * gradients (kernels of their own, differentiable again for higher order),
 * and cross-entropy with int32 class indices fused into one kernel each way.
 */
import template from "../../shaders/softmax.wgsl";
import type { CpuView, Kernel } from "../backend/backend.js";
import { fmt, normalizeDim, numel } from "../shape.js";
import { apply, type Primitive } from "./primitive.js";
import { uniformLayout } from "../engine/wgsl.js";
import { arange } from "./creation.js";
import { dense } from "./layout.js";
import type { Tensor } from "../tensor.js";

const OPS = { softmax: 0, logSoftmax: 1, softmaxGrad: 2, logSoftmaxGrad: 3, crossEntropy: 4, crossEntropyGrad: 5 } as const;
type RowOp = keyof typeof OPS;

/**
 * The shader reads (x, g, t). The ops pass: softmax/logSoftmax [x]; their grads [y, g];
 * crossEntropy [x, t]; crossEntropyGrad [x, t, gl] (gl, one per row, in the g slot).
 */
const BINDINGS: Record<RowOp, (number | null)[]> = {
  softmax: [0, null, null],
  logSoftmax: [0, null, null],
  softmaxGrad: [0, 1, null],
  logSoftmaxGrad: [0, 1, null],
  crossEntropy: [0, null, 1],
  crossEntropyGrad: [0, 2, 1],
};

/** The inputs in the shader's (x, g, t) roles, for the CPU loops. */
function roles(op: RowOp, ins: readonly CpuView[]): (CpuView | undefined)[] {
  return BINDINGS[op].map((k) => (k === null ? undefined : ins[k]));
}

/** crossEntropy's ignoreIndex (its two ops only; the others take undefined). */
type RowAttrs = { ignore: number } | undefined;
const softmaxParams = uniformLayout(template);
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
    cpu([out], ins, attrs) {
      const [x, g, t] = roles(op, ins) as [CpuView, CpuView | undefined, CpuView | undefined];
      const cols = x.shape[x.shape.length - 1] ?? 1;
      const rows = cols === 0 ? 0 : numel(x.shape) / cols;
      const X = x.data, o = out.data, xo = x.offset;
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
        if (op === "crossEntropy") {
          const k = target(t!.data[r]);
          o[r] = k < 0 ? 0 : lse - X[base + k];
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
            : (Math.exp(v - lse) - (c === k ? 1 : 0)) * g!.data[g!.offset + r * (g!.strides[0] ?? 0)];
        }
      }
    },
    webgpu([out], ins, attrs, caps) {
      const x = ins[0];
      const cols = x.shape[x.shape.length - 1] ?? 1;
      const rows = cols === 0 ? 0 : numel(x.shape) / cols;
      if (ins.some((v, k) => v.offset !== 0 && !(op === "crossEntropyGrad" && k === 2)))
        // Row kernels address from element 0; views with an offset are copied first by the op wrappers.
        throw new Error(`${op}: internal error: row kernels need offset-0 inputs.`);
      const checks = op === "crossEntropy" || op === "crossEntropyGrad";
      const grad = op === "crossEntropyGrad";
      const ignore = attrs?.ignore ?? IGNORE_DEFAULT;
      const perRow = caps.force?.softmax ? caps.force.softmax === "rows" : cols > (caps.emulated ? 2048 : 64);
      const wg = perRow ? Math.min(256, caps.maxWorkgroupSize) : 64;
      return {
        key: `softmax:${wg}:${OPS[op]}`,
        code: () => template,
        entryPoint: perRow ? "rows" : "threads",
        constants: { WG: wg, OP: OPS[op] },
        params: softmaxParams.pack({ rows, cols, gl_offset: grad ? ins[2].offset : 0, gl_stride: grad ? (ins[2].strides[0] ?? 0) : 0, ignore: ignore | 0 }),
        workgroups: perRow ? rows : Math.ceil(rows / wg),
        bindings: BINDINGS[op],
        check: checks ? { idWord: softmaxParams.word("check_id"), message: (bits, row) => targetMessage(bits | 0, row, cols, ignore) } : undefined,
      };
    },
  };
}

const floatOnly = (op: string, x: Tensor) => {
  if (x.dtype === "int32") throw new Error(`${op}: needs a float tensor, got int32 of shape ${fmt(x.shape)}. Fix: x.float().${op}(-1).`);
};

const prims: { [K in RowOp]: Primitive<RowAttrs> } = {
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
  // out = (softmax(x) − onehot(t)) ⊙ gl. With cotangent v: ∂x = softmax'(x)ᵀ(v⊙gl); ∂gl = Σ_c v⊙(softmax(x) − onehot).
  crossEntropyGrad: {
    name: "crossEntropyGrad",
    infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
    kernel: rowKernel("crossEntropyGrad"),
    save: ([x, t, gl]) => [x, t, gl],
    // Ignored rows (t = ignoreIndex) are constant 0, so both gradients are 0 there (the mask kept(t)).
    grads: [
      (v, [x, t, gl], a) => rowGrad("softmaxGrad", x.softmax(-1), v.mul(gl.mul(kept(t, a)).unsqueeze(-1))),
      null,
      (v, [x, t], a) => v.mul(x.softmax(-1).sub(oneHot(t, x.shape[x.ndim - 1]))).sum(-1).mul(kept(t, a)),
    ],
    docs: ["d((softmax(x) - onehot(t))·g)/dx, applied to v: the softmax Jacobian times v⊙g", null, "d((softmax(x) - onehot(t))·g)/dg, applied to v: Σ_c v⊙(softmax(x) - onehot(t))"],
  },
};

const rows = dense;

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
function alongDim(op: RowOp, x: Tensor, dim: number): Tensor {
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

/** Per-row cross-entropy −log softmax(x)[t] of logits [N, C] (or [C]) and int32 targets [N] (or []). */
export function crossEntropyRows(logits: Tensor, targets: Tensor, ignoreIndex = IGNORE_DEFAULT): Tensor {
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
  return apply(prims.crossEntropy, [rows(logits), rows(targets)], { ignore: ignoreIndex });
}
