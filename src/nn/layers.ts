/** Layers: Linear, Sequential, the activations and Dropout, each a thin Module over nn.functional. */
import type { Device } from "../backend/backend.js";
import { tidy } from "../engine/scope.js";
import { rand } from "../ops/creation.js";
import { fmt } from "../shape.js";
import type { Tensor } from "../tensor.js";
import * as F from "./functional.js";
import { Module, parameter } from "./module.js";

/** U(−bound, bound), from wg.rand so manualSeed makes it reproducible on every device. */
function uniform(shape: number[], bound: number, device: Device | undefined): Tensor {
  return parameter(tidy(() => rand(shape, { device }).mul(2 * bound).sub(bound)));
}

/**
 * Options of `nn.Linear`.
 *
 * PyTorch: the `bias` and `device` arguments of `torch.nn.Linear`.
 * @example new wg.nn.Linear(4, 2, { bias: false }).bias // null
 */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Where the parameters live (default: `wg.defaultDevice()`). */
  device?: Device;
}

/**
 * A fully connected layer, y = x Wᵀ + b, over the last dim: input [..., inFeatures], output
 * [..., outFeatures]. `weight` is [outFeatures, inFeatures] and `bias` [outFeatures]; both start
 * U(−1/√inFeatures, 1/√inFeatures), PyTorch's default (drawn with `wg.rand`, so `wg.manualSeed`
 * fixes them on every device). `inFeatures` and `outFeatures` stay readable as properties.
 *
 * PyTorch: `torch.nn.Linear`.
 * @example new wg.nn.Linear(784, 128).forward(x) // [N, 784] -> [N, 128]
 */
export class Linear extends Module {
  /**
   * The learned weight [outFeatures, inFeatures], a parameter.
   *
   * PyTorch: `torch.nn.Linear.weight`.
   * @example new wg.nn.Linear(784, 128).weight.shape // [128, 784]
   */
  readonly weight: Tensor;
  /**
   * The learned bias [outFeatures], a parameter, or null with `{ bias: false }`.
   *
   * PyTorch: `torch.nn.Linear.bias`.
   * @example new wg.nn.Linear(784, 128).bias.shape // [128]
   */
  readonly bias: Tensor | null;

  constructor(
    /** The size of each input's last dim (PyTorch: `in_features`). */
    readonly inFeatures: number,
    /** The size of each output's last dim (PyTorch: `out_features`). */
    readonly outFeatures: number,
    { bias = true, device }: LinearOptions = {},
  ) {
    super();
    for (const [what, n] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const)
      if (!Number.isInteger(n) || n < 1) throw new Error(`Linear: ${what} must be a positive integer, got ${n}. Fix: e.g. new nn.Linear(784, 10).`);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniform([outFeatures, inFeatures], bound, device);
    this.bias = bias ? uniform([outFeatures], bound, device) : null;
  }

  /**
   * x Wᵀ + b for x [..., inFeatures] → [..., outFeatures]; throws naming the shapes when the last dim is not inFeatures.
   *
   * PyTorch: `torch.nn.Linear.forward`.
   * @example new wg.nn.Linear(4, 2).forward(wg.ones([3, 4])).shape // [3, 2]
   */
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures)
      throw new Error(
        `Linear(${this.inFeatures}, ${this.outFeatures}): input ${fmt(x.shape)} has ${x.shape[x.ndim - 1] ?? "no"} features in its last dim, ` +
          `expected ${this.inFeatures}. Fix: reshape the input to [..., ${this.inFeatures}] (e.g. x.flatten(1)).`,
      );
    return F.linear(x, this.weight, this.bias);
  }
}

/**
 * Modules applied in order, each to the previous one's output; their parameters are named by
 * position ("0.weight", "2.bias"), as in PyTorch, so state dicts line up with torch's.
 *
 * PyTorch: `torch.nn.Sequential`.
 * @example new wg.nn.Sequential(new wg.nn.Linear(784, 128), new wg.nn.ReLU(), new wg.nn.Linear(128, 10)).forward(x) // [N, 10]
 */
export class Sequential extends Module {
  /**
   * The modules in order (index i is the submodule named "i").
   *
   * PyTorch: indexing `torch.nn.Sequential` (`seq[i]`).
   * @example new wg.nn.Sequential(new wg.nn.ReLU(), new wg.nn.Tanh()).modules.length // 2
   */
  readonly modules: Module[];

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`Sequential: argument ${i} is ${typeof m}, not a Module. Fix: pass layers, e.g. new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU()).`);
    });
    this.modules = modules;
  }

  protected override members(): [string, Module][] {
    return this.modules.map((m, i) => [String(i), m]);
  }

  /**
   * Feeds `x` through every module in turn and returns the last output (`x` itself when empty).
   *
   * PyTorch: `torch.nn.Sequential.forward`.
   * @example new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU()).forward(wg.ones([2, 4])).shape // [2, 8]
   */
  forward(x: Tensor): Tensor {
    return this.modules.reduce((h, m) => m.forward(h), x);
  }
}

/**
 * max(x, 0) elementwise, any shape; no parameters.
 *
 * PyTorch: `torch.nn.ReLU`.
 * @example new wg.nn.ReLU().forward(wg.tensor([-1, 2])) // tensor([0, 2])
 */
export class ReLU extends Module {
  /**
   * `x.relu()`: same shape as `x`.
   *
   * PyTorch: `torch.nn.ReLU.forward`.
   * @example new wg.nn.ReLU().forward(wg.tensor([-1, 2])) // tensor([0, 2])
   */
  forward(x: Tensor): Tensor { return x.relu(); }
}

/**
 * 1 / (1 + e^−x) elementwise, any shape; no parameters.
 *
 * PyTorch: `torch.nn.Sigmoid`.
 * @example new wg.nn.Sigmoid().forward(wg.tensor([0])) // tensor([0.5])
 */
export class Sigmoid extends Module {
  /**
   * `x.sigmoid()`: same shape as `x`.
   *
   * PyTorch: `torch.nn.Sigmoid.forward`.
   * @example new wg.nn.Sigmoid().forward(wg.tensor([0])) // tensor([0.5])
   */
  forward(x: Tensor): Tensor { return x.sigmoid(); }
}

/**
 * tanh elementwise, any shape; no parameters.
 *
 * PyTorch: `torch.nn.Tanh`.
 * @example new wg.nn.Tanh().forward(wg.tensor([0])) // tensor([0])
 */
export class Tanh extends Module {
  /**
   * `x.tanh()`: same shape as `x`.
   *
   * PyTorch: `torch.nn.Tanh.forward`.
   * @example new wg.nn.Tanh().forward(wg.tensor([0])) // tensor([0])
   */
  forward(x: Tensor): Tensor { return x.tanh(); }
}

/**
 * GELU elementwise, any shape: x·Φ(x) with the exact erf (`approximate` "none", the default) or
 * PyTorch's tanh approximation ("tanh"); no parameters.
 *
 * PyTorch: `torch.nn.GELU`.
 * @example new wg.nn.GELU("tanh").forward(x) // same shape as x
 */
export class GELU extends Module {
  constructor(
    /** `"none"` for the exact erf form (the default), `"tanh"` for the tanh approximation. */
    readonly approximate: "none" | "tanh" = "none",
  ) { super(); }
  /**
   * `x.gelu({ approximate })`: same shape as `x`.
   *
   * PyTorch: `torch.nn.GELU.forward`.
   * @example new wg.nn.GELU().forward(wg.tensor([0])) // tensor([0])
   */
  forward(x: Tensor): Tensor { return x.gelu({ approximate: this.approximate }); }
}

/**
 * Softmax over `dim` (default -1, the last; PyTorch's default is an implicit, deprecated choice),
 * any shape; no parameters.
 *
 * PyTorch: `torch.nn.Softmax`.
 * @example new wg.nn.Softmax(1).forward(wg.zeros([1, 4])) // tensor([[0.25, 0.25, 0.25, 0.25]])
 */
export class Softmax extends Module {
  constructor(
    /** The dim that sums to 1 (default the last). */
    readonly dim = -1,
  ) { super(); }
  /**
   * `x.softmax(dim)`: same shape as `x`, each slice along `dim` summing to 1.
   *
   * PyTorch: `torch.nn.Softmax.forward`.
   * @example new wg.nn.Softmax().forward(wg.zeros([2])) // tensor([0.5, 0.5])
   */
  forward(x: Tensor): Tensor { return x.softmax(this.dim); }
}

/**
 * While training, zeroes each element with probability `p` (default 0.5) and scales the rest by
 * 1/(1 − p); the identity in eval mode. Any shape; no parameters. A `p` outside [0, 1] throws.
 *
 * PyTorch: `torch.nn.Dropout`.
 * @example new wg.nn.Dropout(0.1).forward(x) // same shape as x
 */
export class Dropout extends Module {
  constructor(
    /** The probability of zeroing each element in training mode (default 0.5). */
    readonly p = 0.5,
  ) {
    super();
    F.checkProbability("Dropout", p);
  }
  /**
   * `wg.nn.functional.dropout(x, p, training)`: a fresh random mask each call while training, `x` itself in eval mode.
   *
   * PyTorch: `torch.nn.Dropout.forward`.
   * @example new wg.nn.Dropout(0.5).eval().forward(x) // x
   */
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
}
