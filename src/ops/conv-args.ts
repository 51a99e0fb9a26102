/**
 * Argument checks shared by conv2d and the pooling ops: every size a positive
 * (or, for padding, non-negative) integer, the shapes consistent, the output
 * non-empty. Each error names the op, the shapes and the fix.
 */
import { fmt } from "../shape.js";
import type { Tensor } from "../tensor.js";

/** A size for both spatial dims (`2`) or for each, `[h, w]`, as PyTorch's int-or-tuple arguments. */
export type Pair = number | readonly [number, number];

/**
 * Options of `nn.functional.conv2d` (and `nn.Conv2d`), PyTorch's keyword arguments. String paddings
 * (`"same"`, `"valid"`) and padding modes other than zeros are not supported.
 *
 * PyTorch: the `stride`, `padding`, `dilation`, `groups` arguments of `torch.nn.functional.conv2d`.
 * @example wg.nn.functional.conv2d(x, w, null, { stride: 2, padding: [1, 0] })
 */
export interface ConvOptions {
  /** Step of the window over the input; default 1. */
  stride?: Pair;
  /** Zeros added on both sides of each spatial dim; default 0. */
  padding?: Pair;
  /** Spacing between kernel taps (à trous); default 1. */
  dilation?: Pair;
  /** Split the channels into this many independent convolutions; must divide in and out channels; default 1. */
  groups?: number;
}

/** conv2d's checked arguments as the kernels and gradient rules read them. */
export interface ConvAttrs {
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  readonly xShape: readonly number[];
  readonly wShape: readonly number[];
}

/** An int or [h, w] of integers ≥ min, as [h, w]. */
export function pair(op: string, what: string, v: Pair | undefined, fallback: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [fallback, fallback] : typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!(typeof v === "number" || v === undefined || (Array.isArray(v) && v.length === 2)) || p.some((n) => !Number.isInteger(n) || n < min))
    throw new Error(
      `${op}: ${what} must be ${min > 0 ? "a positive" : "a non-negative"} integer or a pair [h, w] of them, got ${JSON.stringify(v)}. ` +
        // kernelSize is positional (conv weights carry it; pools take it as an argument), the rest are options.
        (what === "kernelSize"
          ? `Fix: pass the kernel size as e.g. 3 or [3, 3].`
          : `Fix: e.g. { ${what}: ${Math.max(min, 1)} } or { ${what}: [${Math.max(min, 1)}, ${Math.max(min, 1)}] }.`),
    );
  return p;
}

/** An Error naming `op` unless x is a 4-D [N, C, H, W] float tensor. */
export function check4d(op: string, x: Tensor): void {
  if (x.ndim !== 4)
    throw new Error(
      `${op}: input must be 4-D [N, C, H, W], got ${fmt(x.shape)}. ` +
        `Fix: add a batch dim with x.unsqueeze(0) for one image, or reshape flat rows with x.reshape(-1, C, H, W).`,
    );
  if (x.dtype === "int32") throw new Error(`${op}: input must be a float tensor, got int32 ${fmt(x.shape)}. Fix: x.float().`);
}

/** Output size along one dim: ⌊(in + 2p − d(k − 1) − 1) / s⌋ + 1; an error when the window does not fit. */
export function outSize(op: string, dim: string, size: number, k: number, s: number, p: number, d: number, shapes: string): number {
  const span = d * (k - 1) + 1;
  if (span > size + 2 * p)
    throw new Error(
      `${op}: the kernel spans ${span} along ${dim} (size ${k}, dilation ${d}) but the padded input has only ${size + 2 * p} (${size} + 2·${p}), ` +
        `so the output ${dim} would be ${Math.floor((size + 2 * p - span) / s) + 1} (≤ 0), for ${shapes}. Fix: use a smaller kernel or dilation, more padding, or a larger input.`,
    );
  return Math.floor((size + 2 * p - span) / s) + 1;
}

/** conv2d's arguments checked (shapes, groups, bias, an output of at least one pixel) and normalized to [h, w] pairs. */
export function checkConvArgs(x: Tensor, w: Tensor, bias: Tensor | null, opts: ConvOptions): ConvAttrs {
  check4d("conv2d", x);
  if (w.ndim !== 4)
    throw new Error(`conv2d: weight must be 4-D [outChannels, inChannels / groups, kH, kW], got ${fmt(w.shape)}. Fix: reshape it, e.g. w.reshape(Co, Ci, k, k).`);
  const stride = pair("conv2d", "stride", opts.stride, 1, 1);
  const padding = pair("conv2d", "padding", opts.padding, 0, 0);
  const dilation = pair("conv2d", "dilation", opts.dilation, 1, 1);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`conv2d: groups must be a positive integer, got ${groups}. Fix: e.g. { groups: 1 }.`);
  const shapes = `input ${fmt(x.shape)} and weight ${fmt(w.shape)}`;
  const [, C] = x.shape, [Co, Cg] = w.shape;
  if (C % groups !== 0 || Co % groups !== 0)
    throw new Error(
      `conv2d: with groups=${groups}, in channels (${C}) and out channels (${Co}) must both be divisible by groups, for ${shapes}. ` +
        `Fix: pick groups dividing both (depthwise: groups = in channels, weight [k·C, 1, kH, kW]).`,
    );
  if (Cg * groups !== C)
    throw new Error(
      `conv2d: input has ${C} channels but weight.shape[1] * groups = ${Cg} * ${groups} = ${Cg * groups}, for ${shapes}. ` +
        `Fix: make the weight [${Co}, ${C / groups}, kH, kW], or the input's channels ${Cg * groups}.`,
    );
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== Co))
    throw new Error(`conv2d: bias must be [${Co}] (one per out channel) for weight ${fmt(w.shape)}, got ${fmt(bias.shape)}. Fix: pass a [${Co}] bias or null.`);
  if (x.shape.some((s) => s === 0)) throw new Error(`conv2d: input ${fmt(x.shape)} is empty. Fix: pass at least one image with one pixel.`);
  outSize("conv2d", "height", x.shape[2], w.shape[2], stride[0], padding[0], dilation[0], shapes);
  outSize("conv2d", "width", x.shape[3], w.shape[3], stride[1], padding[1], dilation[1], shapes);
  return { stride, padding, dilation, groups, xShape: [...x.shape], wShape: [...w.shape] };
}
