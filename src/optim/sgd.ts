/** Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD). */
import { Tensor } from "../tensor.js";
import type { UpdateAttrs } from "./kernel.js";
import { checkOption, checkOptions, Optimizer, type GroupSpec, type ParamGroup } from "./optimizer.js";

/**
 * Options of `optim.SGD`: every group's defaults.
 *
 * PyTorch: the keyword arguments of `torch.optim.SGD` (no maximize or foreach).
 * @example new wg.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true })
 */
export interface SGDOptions {
  /** The learning rate; required (as in torch 1.13), here or in every group. */
  lr: number;
  /** Momentum factor (default 0: plain SGD, which keeps no state). */
  momentum?: number;
  /** Nesterov momentum (default false); needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, g + weightDecay·p (default 0). */
  weightDecay?: number;
  /** Dampening of the momentum: buf ← momentum·buf + (1 − dampening)·g (default 0). */
  dampening?: number;
}

/**
 * One SGD parameter group as held in `paramGroups`, with every hyperparameter resolved.
 *
 * PyTorch: an entry of `torch.optim.SGD.param_groups`.
 * @example new wg.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }).paramGroups[0].momentum // 0.9
 */
export interface SGDGroup extends ParamGroup {
  /** Momentum factor (0: none). */
  momentum: number;
  /** Dampening of the momentum. */
  dampening: number;
  /** Nesterov momentum. */
  nesterov: boolean;
}

/**
 * Stochastic gradient descent: with d = g + weightDecay·p, buf ← momentum·buf + (1 − dampening)·d
 * (buf = d at the first step), then p ← p − lr·(nesterov ? d + momentum·buf : buf), or p ← p − lr·d
 * without momentum; torch's update. lr has no default: give it in opts, or in every group.
 *
 * PyTorch: `torch.optim.SGD`.
 * @example const opt = new wg.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
 */
export class SGD extends Optimizer<SGDGroup> {
  /**
   * The state entry's name in `stateDict()`: the momentum buffer.
   *
   * PyTorch: `momentum_buffer` in `torch.optim.SGD.state[p]`.
   * @example opt.stateNames // ["momentumBuffer"]
   */
  readonly stateNames = ["momentumBuffer"] as const;
  /**
   * False: SGD keeps no step counts, as torch's.
   *
   * PyTorch: none (torch's SGD state has no `step`).
   * @example opt.keepsStep // false
   */
  readonly keepsStep = false;

  constructor(params: Iterable<Tensor> | Iterable<GroupSpec<SGDGroup>>, opts: SGDOptions) {
    checkOptions("SGD", opts, "{ lr: 0.01, momentum: 0.9 }");
    const { lr, momentum = 0, nesterov = false, weightDecay = 0, dampening = 0 } = opts ?? ({} as SGDOptions);
    super("SGD", params, { lr, momentum, dampening, weightDecay, nesterov });
  }

  /** @internal Throw naming the hyperparameter (and its group) that is out of range. */
  checkGroup(g: SGDGroup, group: number | null): void {
    checkOption("SGD", "lr", g.lr, (v) => v >= 0 && Number.isFinite(v), "a non-negative number (it has no default)", group);
    checkOption("SGD", "momentum", g.momentum, (v) => v >= 0 && Number.isFinite(v), "a non-negative number", group);
    checkOption("SGD", "weightDecay", g.weightDecay, (v) => v >= 0 && Number.isFinite(v), "a non-negative number", group);
    checkOption("SGD", "dampening", g.dampening, (v) => Number.isFinite(v), "a finite number", group);
    if (typeof g.nesterov !== "boolean")
      throw new Error(`SGD: nesterov${group === null ? "" : ` of parameter group ${group}`} must be true or false, got ${String(g.nesterov)}.`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0))
      throw new Error(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${g.momentum} and dampening ${g.dampening}${group === null ? "" : ` in parameter group ${group}`}. Fix: e.g. { momentum: 0.9, nesterov: true }.`);
  }

  protected stateFactor(g: SGDGroup): number {
    return g.momentum !== 0 ? 1 : 0;
  }

  /** The first step sets the buffer to the gradient, so it needs no zero fill. */
  protected override initialState(p: Tensor): Tensor {
    return Tensor.empty(p.shape, p.dtype, p.device);
  }

  protected attrs(g: SGDGroup, _step: number, first: boolean): UpdateAttrs {
    return {
      rule: "sgd", first, useMomentum: g.momentum !== 0, nesterov: g.nesterov, lr: g.lr, weightDecay: g.weightDecay,
      decay: 1, momentum: g.momentum, dampening: g.dampening, beta1: 0, beta2: 0, eps: 0, stepSize: 0, bc2Sqrt: 1,
    };
  }
}
