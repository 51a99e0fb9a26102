/**
 * Adam with L2 weight decay added to the gradient (torch.optim.Adam), and
 * AdamW with decoupled decay p ← p·(1 − lr·wd) (torch.optim.AdamW).
 */
import type { Tensor } from "../tensor.js";
import type { UpdateAttrs } from "./kernel.js";
import { checkOption, checkOptions, Optimizer, type GroupSpec, type ParamGroup } from "./optimizer.js";

/**
 * Options of `optim.Adam` and `optim.AdamW`: every group's defaults.
 *
 * PyTorch: the keyword arguments of `torch.optim.Adam` (no amsgrad, maximize or foreach).
 * @example new wg.optim.AdamW(model.parameters(), { lr: 3e-4, betas: [0.9, 0.95], weightDecay: 0.1 })
 */
export interface AdamOptions {
  /** The learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates [β1, β2] of the moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to √v̂ in the denominator (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay p ← p·(1 − lr·wd) (default 0.01). */
  weightDecay?: number;
}

/**
 * One Adam or AdamW parameter group as held in `paramGroups`, with every hyperparameter resolved.
 *
 * PyTorch: an entry of `torch.optim.Adam.param_groups`.
 * @example new wg.optim.Adam(model.parameters()).paramGroups[0].betas // [0.9, 0.999]
 */
export interface AdamGroup extends ParamGroup {
  /** Decay rates [β1, β2] of the moment estimates. */
  betas: [number, number];
  /** Added to √v̂ in the denominator. */
  eps: number;
}

/**
 * The shared base of Adam and AdamW (not exported itself): the same moment estimates and bias
 * corrections; AdamW decays the parameter directly instead of adding weightDecay·p to the gradient.
 *
 * PyTorch: none (torch's Adam and AdamW are separate classes).
 * @example new wg.optim.AdamW(model.parameters()) instanceof wg.optim.Optimizer // true
 */
abstract class AdamFamily extends Optimizer<AdamGroup> {
  /**
   * The state entries' names in `stateDict()`: the first and second moment estimates m and v.
   *
   * PyTorch: `exp_avg`, `exp_avg_sq` in `torch.optim.Adam.state[p]`.
   * @example opt.stateNames // ["expAvg", "expAvgSq"]
   */
  readonly stateNames = ["expAvg", "expAvgSq"] as const;
  /**
   * True: each parameter's step count (for the bias corrections) is in `stateDict()`.
   *
   * PyTorch: `step` in `torch.optim.Adam.state[p]` (a number here, not a tensor).
   * @example opt.keepsStep // true
   */
  readonly keepsStep = true;

  /** decoupled (AdamW): decay the parameter directly instead of adding wd·p to the gradient. */
  constructor(name: string, params: Iterable<Tensor> | Iterable<GroupSpec<AdamGroup>>, opts: AdamOptions, defaultDecay: number, private readonly decoupled: boolean) {
    checkOptions(name, opts, "{ lr: 1e-3 }");
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = defaultDecay } = opts ?? {};
    super(name, params, { lr, betas, eps, weightDecay });
  }

  /** @internal Throw naming the hyperparameter (and its group) that is out of range. */
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

/**
 * Adam: with d = g + weightDecay·p, m ← β1·m + (1 − β1)·d, v ← β2·v + (1 − β2)·d², then
 * p ← p − lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps), t the parameter's step count; torch's
 * update, one fused kernel per parameter. Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.
 *
 * PyTorch: `torch.optim.Adam`.
 * @example const opt = new wg.optim.Adam(model.parameters(), { lr: 1e-3 })
 */
export class Adam extends AdamFamily {
  constructor(params: Iterable<Tensor> | Iterable<GroupSpec<AdamGroup>>, opts: AdamOptions = {}) {
    super("Adam", params, opts, 0, false);
  }
}

/**
 * AdamW: Adam with decoupled weight decay, p ← p·(1 − lr·weightDecay) before the Adam update of
 * the plain gradient; torch's update. Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8,
 * weightDecay 0.01 (as torch).
 *
 * PyTorch: `torch.optim.AdamW`.
 * @example const opt = new wg.optim.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 })
 */
export class AdamW extends AdamFamily {
  constructor(params: Iterable<Tensor> | Iterable<GroupSpec<AdamGroup>>, opts: AdamOptions = {}) {
    super("AdamW", params, opts, 0.01, true);
  }
}
