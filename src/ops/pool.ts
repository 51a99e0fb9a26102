/**
 * Pooling over NCHW planes with PyTorch's semantics. maxPool2d is three small
 * kernels (shaders/pool.wgsl): the arg-max of each window, a gather through it,
 * and that gather's adjoint, a scatter; gather and scatter are each other's
 * gradient, so the rules compose to any order. avgPool2d (count_include_pad, as
 * PyTorch's default) is a depthwise conv2d with a constant kernel;
 * adaptiveAvgPool2d is two matmuls with averaging matrices; pad is cat and slice.
 */
import template from "../../shaders/pool.wgsl";
import type { CpuView, GpuCaps, GpuLaunch, Kernel } from "../backend/backend.js";
import { fmt, numel } from "../shape.js";
import { apply, type Primitive } from "./primitive.js";
import { dense, cat, slice } from "./layout.js";
import { full, tensor } from "./creation.js";
import { conv2d } from "./conv.js";
import { check4d, outSize, pair, type Pair } from "./conv-args.js";
import type { Tensor } from "../tensor.js";
import { specialize, uniformLayout } from "../engine/wgsl.js";

/**
 * Options of `nn.functional.maxPool2d` and `avgPool2d` (and their modules). No dilation or ceilMode; avgPool2d always
 * counts padding in the divisor (PyTorch's default countIncludePad).
 *
 * PyTorch: the `stride`, `padding` arguments of `torch.nn.functional.max_pool2d` / `avg_pool2d`.
 * @example wg.nn.functional.maxPool2d(x, 3, { stride: 2, padding: 1 })
 */
export interface PoolOptions {
  /** Step of the window; default (or `null`): the kernel size, so windows do not overlap. */
  stride?: Pair | null;
  /** Padding on both sides of each spatial dim, at most half the kernel (as PyTorch); default 0. */
  padding?: Pair;
}

interface PoolAttrs {
  readonly planes: number;
  readonly H: number; readonly W: number; readonly OH: number; readonly OW: number;
  readonly KH: number; readonly KW: number; readonly sh: number; readonly sw: number; readonly ph: number; readonly pw: number;
}

type PoolOp = "max_index" | "gather" | "scatter";

const poolParams = uniformLayout(template);

const POOL_VARIANTS = ["elements", "planes"];

/**
 * GPUs: one invocation per element. Emulators: one workgroup of 4 (one SIMD group) per plane, stepping
 * along rows without a division per element, disjoint windows scattered from their one candidate:
 * SwiftShader, [64, 32, 28, 28] 2x2 (min of 4 runs, 2 alternating rounds): arg-max 114/62 -> 51/53 ms,
 * gradient 155/117 -> 44/29 ms.
 */
function poolPlanes(caps: GpuCaps): boolean {
  const forced = caps.force?.maxPool2d;
  if (forced !== undefined && !POOL_VARIANTS.includes(forced))
    throw new Error(`maxPool2d: unknown forced variant "${forced}"; expected one of ${POOL_VARIANTS.join(", ")}.`);
  return forced ? forced === "planes" : caps.emulated;
}

function launch(op: PoolOp, n: number, a: PoolAttrs, caps: GpuCaps): GpuLaunch {
  const o = op === "max_index" ? "i32" : "f32";
  const rows = poolPlanes(caps);
  const count = rows ? a.planes : n;
  const wg = rows ? 4 : 256;
  return {
    key: `pool:${o}:${a.KH}x${a.KW}:${a.sh}x${a.sw}:${wg}`,
    code: () => specialize("maxPool2d", template, [["alias O = f32;", `alias O = ${o};`]]),
    entryPoint: rows ? `${op}_plane` : op,
    constants: { KH: a.KH, KW: a.KW, SH: a.sh, SW: a.sw, WG: wg },
    params: poolParams.pack({ n: count, H: a.H, W: a.W, OH: a.OH, OW: a.OW, ph: a.ph, pw: a.pw }),
    workgroups: rows ? count : Math.ceil(count / wg),
    bindings: op === "max_index" ? [0, null] : [0, 1],
  };
}

/** Calls visit(o, i) for each output position o of the plane and each input position i in its window. */
function eachWindow(a: PoolAttrs, visit: (o: number, i: number) => void): void {
  for (let oh = 0; oh < a.OH; oh++)
    for (let ow = 0; ow < a.OW; ow++)
      for (let kh = 0; kh < a.KH; kh++) {
        const h = oh * a.sh - a.ph + kh;
        if (h < 0 || h >= a.H) continue;
        for (let kw = 0; kw < a.KW; kw++) {
          const w = ow * a.sw - a.pw + kw;
          if (w >= 0 && w < a.W) visit(oh * a.OW + ow, h * a.W + w);
        }
      }
}

function cpuPool(op: PoolOp, out: CpuView, ins: readonly CpuView[], a: PoolAttrs): void {
  const src = ins[0].data, idx = ins[1]?.data;
  const pin = a.H * a.W, pout = a.OH * a.OW;
  if (op === "scatter") out.data.fill(0);
  for (let p = 0; p < a.planes; p++) {
    if (op === "max_index") {
      const best = new Float64Array(pout).fill(-Infinity);
      const at = new Int32Array(pout).fill(-1);
      // Strictly greater, in scan order: ties keep the first; a NaN, once found, stays.
      eachWindow(a, (o, i) => {
        const v = src[p * pin + i];
        if (at[o] < 0 || (!Number.isNaN(best[o]) && (v > best[o] || Number.isNaN(v)))) (best[o] = v), (at[o] = i);
      });
      out.data.set(at, p * pout);
    } else if (op === "gather") {
      for (let o = 0; o < pout; o++) out.data[p * pout + o] = src[p * pin + idx![p * pout + o]];
    } else for (let o = 0; o < pout; o++) out.data[p * pin + idx![p * pout + o]] += src[p * pout + o];
  }
}

function poolKernel(op: PoolOp): Kernel<PoolAttrs> {
  return {
    name: op === "max_index" ? "maxPool2dIndex" : op === "gather" ? "maxPool2d" : "maxPool2dBackward",
    cpu: ([out], ins, a) => cpuPool(op, out, ins, a),
    webgpu: ([out], _ins, a, caps) => launch(op, numel(out.shape), a, caps),
  };
}

const indexPrim: Primitive<PoolAttrs> = {
  name: "maxPool2dIndex",
  infer: ([x], a) => ({ shape: [...x.shape.slice(0, 2), a.OH, a.OW], dtype: "int32" }),
  kernel: poolKernel("max_index"),
  grads: [null],
  docs: [null],
};

// y = x[idx]; with cotangent g: ∂x = scatter of g to idx (and the scatter's adjoint is this gather).
const gatherPrim: Primitive<PoolAttrs> = {
  name: "maxPool2d",
  infer: ([x], a) => ({ shape: [...x.shape.slice(0, 2), a.OH, a.OW], dtype: x.dtype }),
  kernel: poolKernel("gather"),
  save: ([, idx]) => [idx],
  grads: [(g, [idx], a) => apply(scatterPrim, [dense(g), idx], a), null],
  docs: ["d maxPool2d(x)/dx = 1 at each window's arg-max (g scattered there), else 0", null],
};

const scatterPrim: Primitive<PoolAttrs> = {
  name: "maxPool2dBackward",
  infer: ([g], a) => ({ shape: [...g.shape.slice(0, 2), a.H, a.W], dtype: g.dtype }),
  kernel: poolKernel("scatter"),
  save: ([, idx]) => [idx],
  grads: [(v, [idx], a) => apply(gatherPrim, [dense(v), idx], a), null],
  docs: ["d scatter(g, idx)/dg, applied to v: v gathered at idx", null],
};

/** Kernel, stride (default: the kernel) and padding (at most half the kernel, as PyTorch) checked; output sizes. */
function poolAttrs(op: string, x: Tensor, kernelSize: Pair, opts: PoolOptions): PoolAttrs {
  check4d(op, x);
  const [KH, KW] = pair(op, "kernelSize", kernelSize, 1, 1);
  const [sh, sw] = opts.stride == null ? [KH, KW] : pair(op, "stride", opts.stride, 1, 1);
  const [ph, pw] = pair(op, "padding", opts.padding, 0, 0);
  if (2 * ph > KH || 2 * pw > KW)
    throw new Error(`${op}: padding [${ph}, ${pw}] must be at most half the kernel [${KH}, ${KW}] (input ${fmt(x.shape)}). Fix: use padding ≤ kernelSize / 2.`);
  const shapes = `input ${fmt(x.shape)} and kernel [${KH}, ${KW}]`;
  const [N, C, H, W] = x.shape;
  // As PyTorch: only the batch may be empty. (An empty plane has windows of padding alone, whose
  // maximum has no position.)
  if (C === 0 || H === 0 || W === 0)
    throw new Error(`${op}: expected an [N, C, H, W] input with non-zero C, H and W (only the batch N may be 0), got ${fmt(x.shape)}.`);
  const OH = outSize(op, "height", H, KH, sh, ph, 1, shapes);
  const OW = outSize(op, "width", W, KW, sw, pw, 1, shapes);
  return { planes: N * C, H, W, OH, OW, KH, KW, sh, sw, ph, pw };
}

/**
 * The maximum of each KH×KW window of x [N, C, H, W] (padding never wins: it counts as −∞), giving
 * [N, C, OH, OW] with OH = ⌊(H + 2·padding − KH) / stride⌋ + 1. Differentiable to any order: the gradient goes to each
 * window's arg-max (the first, on ties).
 *
 * PyTorch: `torch.nn.functional.max_pool2d`.
 * @example wg.nn.functional.maxPool2d(wg.arange(16).reshape([1, 1, 4, 4]), 2) // tensor([[[[5, 7], [13, 15]]]])
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: PoolOptions = {}): Tensor {
  const a = poolAttrs("maxPool2d", x, kernelSize, opts);
  const xs = dense(x);
  const idx = apply(indexPrim, [xs], a);
  const y = apply(gatherPrim, [xs, idx], a);
  idx.dispose();
  return y;
}

/**
 * The mean of each KH×KW window of x [N, C, H, W]: the window's sum over KH·KW, padding counted as zeros
 * (countIncludePad, PyTorch's default). Output shape as maxPool2d. Differentiable (a depthwise conv2d).
 *
 * PyTorch: `torch.nn.functional.avg_pool2d`.
 * @example wg.nn.functional.avgPool2d(wg.arange(16).reshape([1, 1, 4, 4]), 2) // tensor([[[[2.5, 4.5], [10.5, 12.5]]]])
 */
export function avgPool2d(x: Tensor, kernelSize: Pair, opts: PoolOptions = {}): Tensor {
  const a = poolAttrs("avgPool2d", x, kernelSize, opts);
  const [N, C] = x.shape;
  const w = full([1, 1, a.KH, a.KW], 1 / (a.KH * a.KW), { device: x.device, dtype: x.dtype });
  const y = conv2d(x.reshape([N * C, 1, a.H, a.W]), w, null, { stride: [a.sh, a.sw], padding: [a.ph, a.pw] });
  return y.reshape([N, C, a.OH, a.OW]);
}

/** P [out, in] with row i averaging in[⌊i·in/out⌋, ⌈(i+1)·in/out⌉): PyTorch's adaptive windows. */
function averagingMatrix(out: number, size: number, x: Tensor): Tensor {
  const m = new Float64Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out), end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return tensor(m, { shape: [out, size], device: x.device, dtype: x.dtype });
}

/**
 * Averages x [N, C, H, W] down (or up) to [N, C, h, w] with PyTorch's adaptive windows (row i averages input rows
 * ⌊i·H/h⌋ to ⌈(i+1)·H/h⌉ − 1): y[n, c] = P_h · x[n, c] · P_wᵀ. `outputSize` is an int, or [h, w] where `null` keeps
 * that input size. Differentiable (two matmuls).
 *
 * PyTorch: `torch.nn.functional.adaptive_avg_pool2d`.
 * @example wg.nn.functional.adaptiveAvgPool2d(wg.ones([2, 3, 7, 9]), [2, null]) // shape [2, 3, 2, 9]
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  check4d("adaptiveAvgPool2d", x);
  const [, , H, W] = x.shape;
  const req = typeof outputSize === "number" ? [outputSize, outputSize] : [outputSize[0] ?? H, outputSize[1] ?? W];
  if (req.length !== 2 || req.some((s) => !Number.isInteger(s) || s < 1))
    throw new Error(`adaptiveAvgPool2d: outputSize must be a positive integer or [h, w] of them, got ${JSON.stringify(outputSize)} (input ${fmt(x.shape)}). Fix: e.g. adaptiveAvgPool2d(x, 1).`);
  const [OH, OW] = req;
  if (H === 0 || W === 0) throw new Error(`adaptiveAvgPool2d: input ${fmt(x.shape)} has an empty plane. Fix: pass at least one pixel.`);
  return averagingMatrix(OH, H, x).matmul(x.matmul(averagingMatrix(OW, W, x).T));
}

/**
 * Pads with the constant `value` (default 0): `pads` lists [before, after] pairs starting from the last dim
 * (`[1, 2]` pads the last dim, `[l, r, t, b]` the last two); negative pads crop. Any rank and dtype; differentiable in
 * x. Constant mode only (no reflect/replicate/circular).
 *
 * PyTorch: `torch.nn.functional.pad` (mode "constant").
 * @example wg.nn.functional.pad(wg.tensor([[1, 2]]), [1, 2]) // tensor([[0, 1, 2, 0, 0]])
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length > 2 * x.ndim || pads.some((p) => !Number.isInteger(p)))
    throw new Error(
      `pad: pads must be an even number (at most ${2 * x.ndim}) of integers [before, after, ...] starting from the last dim, got ${JSON.stringify(pads)} for input ${fmt(x.shape)}. ` +
        `Fix: e.g. pad(x, [1, 1, 2, 2]) pads the last dim by 1 and the one before by 2.`,
    );
  let y = x;
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    const [lo, hi] = [pads[2 * i], pads[2 * i + 1]];
    if (y.shape[d] + Math.min(lo, 0) + Math.min(hi, 0) < 0)
      throw new Error(`pad: cropping [${lo}, ${hi}] leaves dim ${d} of input ${fmt(x.shape)} with a negative size. Fix: crop less.`);
    if (lo < 0 || hi < 0) y = slice(y, d, Math.max(-lo, 0), y.shape[d] - Math.max(-hi, 0));
    const block = (n: number) => full(y.shape.map((s, k) => (k === d ? n : s)), value, { device: x.device, dtype: x.dtype });
    const parts = [...(lo > 0 ? [block(lo)] : []), y, ...(hi > 0 ? [block(hi)] : [])];
    if (parts.length > 1) y = cat(parts, d);
  }
  return y;
}
