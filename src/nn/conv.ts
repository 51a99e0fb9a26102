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

export interface Conv2dOptions extends ConvOptions {
  bias?: boolean;
  device?: Device;
}

const uniform = (shape: number[], bound: number, device: Device | undefined) =>
  parameter(tidy(() => rand(shape, { device }).mul(2 * bound).sub(bound)));

/**
 * y = conv2d(x, W) + b with W [out, in / groups, kH, kW]. W and b start U(−1/√fanIn, 1/√fanIn),
 * fanIn = in / groups · kH · kW: PyTorch's kaiming_uniform_(a = √5) and its bias rule.
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly opts: ConvOptions;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
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

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: PoolOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.opts); }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: PoolOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernelSize, this.opts); }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | readonly (number | null)[]) { super(); }
  forward(x: Tensor): Tensor { return adaptiveAvgPool2d(x, this.outputSize); }
}

/** Flattens dims startDim..endDim (default: all but the batch dim), as torch.nn.Flatten. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return flatten(x, this.startDim, this.endDim); }
}

export interface BatchNormModuleOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
  device?: Device;
}

/**
 * Normalizes each channel with the batch's statistics while training (updating the running ones)
 * and with the running statistics in eval mode. weight starts at 1, bias at 0; the buffers
 * running_mean, running_var and num_batches_tracked are in stateDict() under PyTorch's names.
 */
class BatchNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(private readonly kind: string, private readonly ranks: readonly number[], readonly numFeatures: number, opts: BatchNormModuleOptions) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, device } = opts;
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new Error(`${kind}: numFeatures must be a positive integer (the channel count), got ${numFeatures}. Fix: e.g. new nn.${kind}(32).`);
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

  get runningMean(): Tensor | null { return this.buffer("running_mean"); }
  get runningVar(): Tensor | null { return this.buffer("running_var"); }
  get numBatchesTracked(): Tensor | null { return this.buffer("num_batches_tracked"); }

  private buffer(name: string): Tensor | null {
    return this.bufferMap.get(name) ?? null;
  }

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

/** Batch norm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormModuleOptions = {}) { super("BatchNorm1d", [2, 3], numFeatures, opts); }
}

/** Batch norm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormModuleOptions = {}) { super("BatchNorm2d", [4], numFeatures, opts); }
}
