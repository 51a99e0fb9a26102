/** Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD). */
import { Tensor } from "../tensor.js";
import type { UpdateAttrs } from "./kernel.js";
import { checkOption, checkOptions, Optimizer, type GroupSpec, type ParamGroup } from "./optimizer.js";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  dampening?: number;
}

export interface SGDGroup extends ParamGroup {
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDGroup> {
  readonly stateNames = ["momentumBuffer"] as const;
  readonly keepsStep = false;

  /** lr has no default: give it in opts, or in every group. */
  constructor(params: Iterable<Tensor> | Iterable<GroupSpec<SGDGroup>>, opts: SGDOptions) {
    checkOptions("SGD", opts, "{ lr: 0.01, momentum: 0.9 }");
    const { lr, momentum = 0, nesterov = false, weightDecay = 0, dampening = 0 } = opts ?? ({} as SGDOptions);
    super("SGD", params, { lr, momentum, dampening, weightDecay, nesterov });
  }

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
