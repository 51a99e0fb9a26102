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

export interface LinearOptions {
  bias?: boolean;
  device?: Device;
}

/** y = x Wᵀ + b with W [out, in]; W and b start U(−1/√in, 1/√in), PyTorch's default. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, { bias = true, device }: LinearOptions = {}) {
    super();
    for (const [what, n] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const)
      if (!Number.isInteger(n) || n < 1) throw new Error(`Linear: ${what} must be a positive integer, got ${n}. Fix: e.g. new nn.Linear(784, 10).`);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniform([outFeatures, inFeatures], bound, device);
    this.bias = bias ? uniform([outFeatures], bound, device) : null;
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures)
      throw new Error(
        `Linear(${this.inFeatures}, ${this.outFeatures}): input ${fmt(x.shape)} has ${x.shape[x.ndim - 1] ?? "no"} features in its last dim, ` +
          `expected ${this.inFeatures}. Fix: reshape the input to [..., ${this.inFeatures}] (e.g. x.flatten(1)).`,
      );
    return F.linear(x, this.weight, this.bias);
  }
}

/** Modules applied in order; their parameters are named by position ("0.weight"), as in PyTorch. */
export class Sequential extends Module {
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

  forward(x: Tensor): Tensor {
    return this.modules.reduce((h, m) => m.forward(h), x);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return x.relu(); }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return x.sigmoid(); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return x.tanh(); }
}

export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") { super(); }
  forward(x: Tensor): Tensor { return x.gelu({ approximate: this.approximate }); }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.softmax(this.dim); }
}

/** Zeroes elements with probability p while training, scaling the rest by 1/(1 − p); the identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    F.checkProbability("Dropout", p);
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
}
