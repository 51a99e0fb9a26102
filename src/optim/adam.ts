/**
 * Adam with L2 weight decay added to the gradient (torch.optim.Adam), and
 * AdamW with decoupled decay p ← p·(1 − lr·wd) (torch.optim.AdamW).
 */
import type { Tensor } from "../tensor.js";
import type { UpdateAttrs } from "./kernel.js";
import { checkOption, Optimizer } from "./optimizer.js";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

abstract class AdamFamily extends Optimizer {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;

  /** decoupled (AdamW): decay the parameter directly instead of adding wd·p to the gradient. */
  constructor(name: string, params: Iterable<Tensor>, opts: AdamOptions, defaultDecay: number, private readonly decoupled: boolean) {
    super(name, params);
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = defaultDecay } = opts ?? {};
    checkOption(name, "lr", lr, (v) => v >= 0 && Number.isFinite(v), "a non-negative number");
    if (!Array.isArray(betas) || betas.length !== 2)
      throw new Error(`${name}: betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}. Fix: e.g. { betas: [0.9, 0.999] }.`);
    checkOption(name, "betas[0]", betas[0], (v) => v >= 0 && v < 1, "in [0, 1)");
    checkOption(name, "betas[1]", betas[1], (v) => v >= 0 && v < 1, "in [0, 1)");
    checkOption(name, "eps", eps, (v) => v >= 0 && Number.isFinite(v), "a non-negative number");
    checkOption(name, "weightDecay", weightDecay, (v) => v >= 0 && Number.isFinite(v), "a non-negative number");
    this.lr = lr;
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** m and v, stacked. */
  protected stateFactor(): number {
    return 2;
  }

  protected attrs(step: number, first: boolean): UpdateAttrs {
    const [beta1, beta2] = this.betas;
    const wd = this.weightDecay;
    return {
      rule: "adam", first, useMomentum: false, nesterov: false, lr: this.lr, momentum: 0, dampening: 0, beta1, beta2, eps: this.eps,
      weightDecay: this.decoupled ? 0 : wd,
      decay: this.decoupled ? 1 - this.lr * wd : 1,
      stepSize: this.lr / (1 - beta1 ** step),
      bc2Sqrt: Math.sqrt(1 - beta2 ** step),
    };
  }
}

export class Adam extends AdamFamily {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super("Adam", params, opts, 0, false);
  }
}

export class AdamW extends AdamFamily {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super("AdamW", params, opts, 0.01, true);
  }
}
