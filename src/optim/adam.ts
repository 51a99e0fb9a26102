/**
 * Adam with L2 weight decay added to the gradient (torch.optim.Adam), and
 * AdamW with decoupled decay p ← p·(1 − lr·wd) (torch.optim.AdamW).
 */
import type { Tensor } from "../tensor.js";
import type { UpdateAttrs } from "./kernel.js";
import { checkOption, checkOptions, Optimizer, type GroupSpec, type ParamGroup } from "./optimizer.js";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface AdamGroup extends ParamGroup {
  betas: [number, number];
  eps: number;
}

abstract class AdamFamily extends Optimizer<AdamGroup> {
  readonly stateNames = ["expAvg", "expAvgSq"] as const;
  readonly keepsStep = true;

  /** decoupled (AdamW): decay the parameter directly instead of adding wd·p to the gradient. */
  constructor(name: string, params: Iterable<Tensor> | Iterable<GroupSpec<AdamGroup>>, opts: AdamOptions, defaultDecay: number, private readonly decoupled: boolean) {
    checkOptions(name, opts, "{ lr: 1e-3 }");
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = defaultDecay } = opts ?? {};
    super(name, params, { lr, betas, eps, weightDecay });
  }

  checkGroup(g: AdamGroup, group: number | null): void {
    const name = this.name;
    checkOption(name, "lr", g.lr, (v) => v >= 0 && Number.isFinite(v), "a non-negative number", group);
    if (!Array.isArray(g.betas) || g.betas.length !== 2)
      throw new Error(`${name}: betas${group === null ? "" : ` of parameter group ${group}`} must be a pair [beta1, beta2], got ${JSON.stringify(g.betas)}. Fix: e.g. { betas: [0.9, 0.999] }.`);
    checkOption(name, "betas[0]", g.betas[0], (v) => v >= 0 && v < 1, "in [0, 1)", group);
    checkOption(name, "betas[1]", g.betas[1], (v) => v >= 0 && v < 1, "in [0, 1)", group);
    checkOption(name, "eps", g.eps, (v) => v >= 0 && Number.isFinite(v), "a non-negative number", group);
    checkOption(name, "weightDecay", g.weightDecay, (v) => v >= 0 && Number.isFinite(v), "a non-negative number", group);
  }

  /** m and v, stacked. */
  protected stateFactor(): number {
    return 2;
  }

  protected attrs(g: AdamGroup, step: number, first: boolean): UpdateAttrs {
    const [beta1, beta2] = g.betas;
    const wd = g.weightDecay;
    return {
      rule: "adam", first, useMomentum: false, nesterov: false, lr: g.lr, momentum: 0, dampening: 0, beta1, beta2, eps: g.eps,
      weightDecay: this.decoupled ? 0 : wd,
      decay: this.decoupled ? 1 - g.lr * wd : 1,
      stepSize: g.lr / (1 - beta1 ** step),
      bc2Sqrt: Math.sqrt(1 - beta2 ** step),
    };
  }
}

export class Adam extends AdamFamily {
  constructor(params: Iterable<Tensor> | Iterable<GroupSpec<AdamGroup>>, opts: AdamOptions = {}) {
    super("Adam", params, opts, 0, false);
  }
}

export class AdamW extends AdamFamily {
  constructor(params: Iterable<Tensor> | Iterable<GroupSpec<AdamGroup>>, opts: AdamOptions = {}) {
    super("AdamW", params, opts, 0.01, true);
  }
}
