/** Convolution, pooling, batch-norm and Flatten modules, thin layers over the ops, with PyTorch's defaults. */
import type { Device } from "../backend/backend.js";
import { tidy } from "../engine/scope.js";
import { rand, zeros, ones, tensor } from "../ops/creation.js";
import { conv2d, type ConvOptions } from "../ops/conv.js";
import { pair, type Pair } from "../ops/conv-args.js";
import { maxPool2d, avgPool2d, adaptiveAvgPool2d, type PoolOptions } from "../ops/pool.js";
import { batchNorm } from "../ops/batchnorm.js";
import { flatten } from "../ops/layout.js";
import { noGrad } from "../autograd/mode.js";
import { fmt } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { Module, parameter } from "./module.js";

/**
 * Options of `nn.Conv2d`: `stride`, `padding`, `dilation` and `groups` as `nn.functional.conv2d`
 * takes them (defaults 1, 0, 1, 1), plus the two below.
 *
 * PyTorch: the keyword arguments of `torch.nn.Conv2d`.
 * @example new wg.nn.Conv2d(3, 16, 3, { stride: 2, padding: 1, bias: false })
 */
export interface Conv2dOptions extends ConvOptions {
  /** Learn an additive per-channel bias (default true). */
  bias?: boolean;
  /** Where the parameters live (default: `wg.defaultDevice()`). */
  device?: Device;
}

const uniform = (shape: number[], bound: number, device: Device | undefined) =>
  parameter(tidy(() => rand(shape, { device }).mul(2 * bound).sub(bound)));

/**
 * A 2-D convolution over NCHW images: input [N, inChannels, H, W], output [N, outChannels, H', W']
 * with H' = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1 (W' likewise). `kernelSize` is a
 * number or [kH, kW]. `weight` is [outChannels, inChannels / groups, kH, kW]; weight and bias start
 * U(−1/√fanIn, 1/√fanIn), fanIn = inChannels / groups · kH · kW: PyTorch's kaiming_uniform_(a = √5)
 * and its bias rule. Only 4-D (batched) input and zero padding; throws naming the shapes otherwise.
 *
 * PyTorch: `torch.nn.Conv2d`.
 * @example new wg.nn.Conv2d(1, 32, 3, { padding: 1 }).forward(x) // [N, 1, 28, 28] -> [N, 32, 28, 28]
 */
export class Conv2d extends Module {
  /**
   * The learned filters [outChannels, inChannels / groups, kH, kW], a parameter.
   *
   * PyTorch: `torch.nn.Conv2d.weight`.
   * @example new wg.nn.Conv2d(1, 32, 3).weight.shape // [32, 1, 3, 3]
   */
  readonly weight: Tensor;
  /**
   * The learned bias [outChannels], a parameter, or null with `{ bias: false }`.
   *
   * PyTorch: `torch.nn.Conv2d.bias`.
   * @example new wg.nn.Conv2d(1, 32, 3).bias.shape // [32]
   */
  readonly bias: Tensor | null;
  private readonly opts: ConvOptions;

  constructor(
    /** Channels of the input, C_in (PyTorch: `in_channels`). */
    readonly inChannels: number,
    /** Channels of the output, the number of filters (PyTorch: `out_channels`). */
    readonly outChannels: number,
    kernelSize: Pair,
    opts: Conv2dOptions = {},
  ) {
    super();
    const { bias = true, device, ...conv } = opts;
    const groups = conv.groups ?? 1;
    for (const [what, n] of [["inChannels", inChannels], ["outChannels", outChannels], ["groups", groups]] as const)
      if (!Number.isInteger(n) || n < 1) throw new Error(`Conv2d: ${what} must be a positive integer, got ${n}. Fix: e.g. new nn.Conv2d(1, 32, 3, { padding: 1 }).`);
    if (inChannels % groups || outChannels % groups)
      throw new Error(`Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups}). Fix: pick groups dividing both.`);
    const [kh, kw] = pair("Conv2d", "kernelSize", kernelSize, 1, 1);
    const fanIn = (inChannels / groups) * kh * kw;
    this.weight = uniform([outChannels, inChannels / groups, kh, kw], 1 / Math.sqrt(fanIn), device);
    this.bias = bias ? uniform([outChannels], 1 / Math.sqrt(fanIn), device) : null;
    this.opts = conv;
  }

  /**
   * `nn.functional.conv2d(x, weight, bias, opts)` for x [N, inChannels, H, W].
   *
   * PyTorch: `torch.nn.Conv2d.forward`.
   * @example new wg.nn.Conv2d(3, 8, 3).forward(wg.ones([2, 3, 5, 5])).shape // [2, 8, 3, 3]
   */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
}

/**
 * The maximum of each kH×kW window of NCHW input [N, C, H, W] → [N, C, H', W']; `opts.stride`
 * defaults to the kernel size, `opts.padding` to 0 (at most half the kernel; padding never wins
 * the max). The gradient goes to the window's arg-max (the first, on ties). No parameters.
 *
 * PyTorch: `torch.nn.MaxPool2d` (no dilation, ceilMode or returned indices).
 * @example new wg.nn.MaxPool2d(2).forward(x) // [N, C, 28, 28] -> [N, C, 14, 14]
 */
export class MaxPool2d extends Module {
  constructor(
    /** The window: an int or [kH, kW] (PyTorch: `kernel_size`). */
    readonly kernelSize: Pair,
    /** The options as given: `stride` (default the kernel size) and `padding` (default 0). */
    readonly opts: PoolOptions = {},
  ) { super(); }
  /**
   * `nn.functional.maxPool2d(x, kernelSize, opts)`.
   *
   * PyTorch: `torch.nn.MaxPool2d.forward`.
   * @example new wg.nn.MaxPool2d(2).forward(wg.ones([1, 1, 4, 4])).shape // [1, 1, 2, 2]
   */
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.opts); }
}

/**
 * The mean of each kH×kW window of NCHW input [N, C, H, W] → [N, C, H', W']; `opts.stride`
 * defaults to the kernel size, `opts.padding` to 0, and padded zeros count in the mean
 * (PyTorch's default count_include_pad). No parameters.
 *
 * PyTorch: `torch.nn.AvgPool2d` (no ceilMode or divisorOverride).
 * @example new wg.nn.AvgPool2d(2).forward(x) // [N, C, 28, 28] -> [N, C, 14, 14]
 */
export class AvgPool2d extends Module {
  constructor(
    /** The window: an int or [kH, kW] (PyTorch: `kernel_size`). */
    readonly kernelSize: Pair,
    /** The options as given: `stride` (default the kernel size) and `padding` (default 0; padded zeros count in the average, as PyTorch's default). */
    readonly opts: PoolOptions = {},
  ) { super(); }
  /**
   * `nn.functional.avgPool2d(x, kernelSize, opts)`.
   *
   * PyTorch: `torch.nn.AvgPool2d.forward`.
   * @example new wg.nn.AvgPool2d(2).forward(wg.ones([1, 1, 4, 4])) // [1, 1, 2, 2] of ones
   */
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernelSize, this.opts); }
}

/**
 * Average pooling of NCHW input [N, C, H, W] to a fixed [N, C, oH, oW] whatever H and W, with
 * PyTorch's window rule; `outputSize` is a number (square) or [oH, oW], where null keeps the
 * input's size. No parameters.
 *
 * PyTorch: `torch.nn.AdaptiveAvgPool2d`.
 * @example new wg.nn.AdaptiveAvgPool2d(1).forward(x) // [N, C, H, W] -> [N, C, 1, 1]
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(
    /** The output's [H, W] (an int for both; null keeps the input's size in that dim) (PyTorch: `output_size`). */
    readonly outputSize: number | readonly (number | null)[],
  ) { super(); }
  /**
   * `nn.functional.adaptiveAvgPool2d(x, outputSize)`.
   *
   * PyTorch: `torch.nn.AdaptiveAvgPool2d.forward`.
   * @example new wg.nn.AdaptiveAvgPool2d([2, null]).forward(wg.ones([1, 3, 6, 5])).shape // [1, 3, 2, 5]
   */
  forward(x: Tensor): Tensor { return adaptiveAvgPool2d(x, this.outputSize); }
}

/**
 * Flattens dims `startDim`..`endDim` (default 1 and -1: all but the batch dim) into one, e.g.
 * [N, C, H, W] → [N, C·H·W]. No parameters.
 *
 * PyTorch: `torch.nn.Flatten`.
 * @example new wg.nn.Flatten().forward(wg.ones([2, 3, 4, 4])).shape // [2, 48]
 */
export class Flatten extends Module {
  constructor(
    /** The first dim merged (default 1, keeping the batch dim). */
    readonly startDim = 1,
    /** The last dim merged (default -1). */
    readonly endDim = -1,
  ) { super(); }
  /**
   * `x.flatten(startDim, endDim)`.
   *
   * PyTorch: `torch.nn.Flatten.forward`.
   * @example new wg.nn.Flatten(0).forward(wg.ones([2, 3])).shape // [6]
   */
  forward(x: Tensor): Tensor { return flatten(x, this.startDim, this.endDim); }
}

/**
 * Options of `nn.BatchNorm1d` and `nn.BatchNorm2d`.
 *
 * PyTorch: the keyword arguments of `torch.nn.BatchNorm2d` (momentum must be a number; there is no cumulative-average `None`).
 * @example new wg.nn.BatchNorm2d(32, { momentum: 0.01, affine: false })
 */
export interface BatchNormModuleOptions {
  /** Added to the variance before its square root (default 1e-5). */
  eps?: number;
  /** Running statistics update as running = (1 − momentum)·running + momentum·batch (default 0.1). */
  momentum?: number;
  /** Learn a per-channel weight (starting at 1) and bias (starting at 0) (default true). */
  affine?: boolean;
  /** Keep running_mean / running_var buffers for eval mode (default true); without them eval mode normalizes with the batch's statistics. */
  trackRunningStats?: boolean;
  /** Where the parameters and buffers live (default: `wg.defaultDevice()`). */
  device?: Device;
}

/**
 * The shared base of BatchNorm1d and BatchNorm2d (not exported itself): normalizes each channel
 * with the batch's statistics while training (updating the running ones) and with the running
 * statistics in eval mode. weight starts at 1, bias at 0; the buffers running_mean, running_var
 * and num_batches_tracked are in stateDict() under PyTorch's names. `numFeatures` (the channel
 * count C) is a read-only property.
 *
 * PyTorch: `torch.nn.modules.batchnorm._BatchNorm`.
 * @example new wg.nn.BatchNorm2d(16).numFeatures // 16
 */
class BatchNorm extends Module {
  /**
   * The learned per-channel scale [numFeatures] (starts at 1), a parameter; null with `{ affine: false }`.
   *
   * PyTorch: `torch.nn.BatchNorm2d.weight`.
   * @example new wg.nn.BatchNorm2d(32).weight.shape // [32]
   */
  readonly weight: Tensor | null;
  /**
   * The learned per-channel shift [numFeatures] (starts at 0), a parameter; null with `{ affine: false }`.
   *
   * PyTorch: `torch.nn.BatchNorm2d.bias`.
   * @example new wg.nn.BatchNorm2d(32).bias.shape // [32]
   */
  readonly bias: Tensor | null;
  /**
   * Added to the variance before its square root (option `eps`, default 1e-5).
   *
   * PyTorch: `torch.nn.BatchNorm2d.eps`.
   * @example new wg.nn.BatchNorm1d(8).eps // 0.00001
   */
  readonly eps: number;
  /**
   * The running statistics' update factor (option `momentum`, default 0.1).
   *
   * PyTorch: `torch.nn.BatchNorm2d.momentum`.
   * @example new wg.nn.BatchNorm1d(8).momentum // 0.1
   */
  readonly momentum: number;

  constructor(private readonly kind: string, private readonly ranks: readonly number[], readonly numFeatures: number, opts: BatchNormModuleOptions) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, device } = opts;
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new Error(`${kind}: numFeatures must be a positive integer (the channel count), got ${numFeatures}. Fix: e.g. new nn.${kind}(32).`);
    // Checked here too, so a bad option fails where the module is made, not at its first forward.
    if (!(typeof eps === "number" && eps > 0 && Number.isFinite(eps)) || !(typeof momentum === "number" && momentum >= 0 && momentum <= 1))
      throw new Error(`${kind}: eps must be > 0 and momentum in [0, 1], got eps ${eps}, momentum ${momentum}. Fix: the defaults are 1e-5 and 0.1.`);
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? parameter(ones([numFeatures], { device })) : null;
    this.bias = affine ? parameter(zeros([numFeatures], { device })) : null;
    if (trackRunningStats) {
      this.registerBuffer("running_mean", zeros([numFeatures], { device }));
      this.registerBuffer("running_var", ones([numFeatures], { device }));
      this.registerBuffer("num_batches_tracked", tensor(0, { dtype: "int32", device }));
    }
  }

  /**
   * The running per-channel mean [numFeatures] (the "running_mean" buffer, starts at 0), or null with `{ trackRunningStats: false }`.
   *
   * PyTorch: `torch.nn.BatchNorm2d.running_mean`.
   * @example new wg.nn.BatchNorm1d(4).runningMean // tensor([0, 0, 0, 0])
   */
  get runningMean(): Tensor | null { return this.buffer("running_mean"); }
  /**
   * The running per-channel unbiased variance [numFeatures] (the "running_var" buffer, starts at 1), or null with `{ trackRunningStats: false }`.
   *
   * PyTorch: `torch.nn.BatchNorm2d.running_var`.
   * @example new wg.nn.BatchNorm1d(4).runningVar // tensor([1, 1, 1, 1])
   */
  get runningVar(): Tensor | null { return this.buffer("running_var"); }
  /**
   * How many training batches have updated the running statistics: an int32 scalar (the "num_batches_tracked" buffer), or null with `{ trackRunningStats: false }`.
   *
   * PyTorch: `torch.nn.BatchNorm2d.num_batches_tracked`.
   * @example await bn.numBatchesTracked.item() // 0 before the first training forward
   */
  get numBatchesTracked(): Tensor | null { return this.buffer("num_batches_tracked"); }

  private buffer(name: string): Tensor | null {
    return this.bufferMap.get(name) ?? null;
  }

  /**
   * Normalizes `x` per channel (dim 1), output of the input's shape: in training mode with the
   * batch's mean and biased variance, updating the running statistics (unbiased variance) and
   * numBatchesTracked; in eval mode with the running statistics. Throws naming the shapes when the
   * rank or the channel count does not fit.
   *
   * PyTorch: `torch.nn.BatchNorm2d.forward`.
   * @example new wg.nn.BatchNorm1d(3).forward(wg.randn([8, 3])).shape // [8, 3]
   */
  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures)
      throw new Error(
        `${this.kind}(${this.numFeatures}): expected a ${this.ranks.map((r) => `${r}-D`).join(" or ")} input with ${this.numFeatures} channels in dim 1, got ${fmt(x.shape)}. ` +
          `Fix: ${this.ranks.includes(4) ? "use BatchNorm1d for [N, C] features" : "use BatchNorm2d for [N, C, H, W] images"}, or match the channel count.`,
      );
    const track = this.runningMean !== null;
    const training = this.training || !track;
    const y = batchNorm(x, this.runningMean, this.runningVar, { weight: this.weight, bias: this.bias, training, momentum: this.momentum, eps: this.eps });
    if (this.training && track) noGrad(() => this.numBatchesTracked!.add_(1));
    return y;
  }
}

/**
 * Batch normalization of [N, C] features or [N, C, L] sequences over every dim but the channel
 * dim 1: y = (x − mean) / √(var + eps) · weight + bias. `numFeatures` is C. weight starts at 1,
 * bias at 0; the buffers running_mean, running_var and num_batches_tracked are in `stateDict()`
 * under PyTorch's names, so state dicts line up with torch's.
 *
 * PyTorch: `torch.nn.BatchNorm1d`.
 * @example new wg.nn.BatchNorm1d(128).forward(x) // [N, 128] -> [N, 128]
 */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormModuleOptions = {}) { super("BatchNorm1d", [2, 3], numFeatures, opts); }
}

/**
 * Batch normalization of [N, C, H, W] images per channel, over N, H and W:
 * y = (x − mean) / √(var + eps) · weight + bias. `numFeatures` is C. weight starts at 1, bias at 0;
 * the buffers running_mean, running_var and num_batches_tracked are in `stateDict()` under
 * PyTorch's names, so state dicts line up with torch's.
 *
 * PyTorch: `torch.nn.BatchNorm2d`.
 * @example new wg.nn.BatchNorm2d(32).forward(x) // [N, 32, H, W] -> [N, 32, H, W]
 */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormModuleOptions = {}) { super("BatchNorm2d", [4], numFeatures, opts); }
}
