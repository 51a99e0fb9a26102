/** Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD). */
import { Tensor } from "../tensor.js";
import type { UpdateAttrs } from "./kernel.js";
import { checkOption, Optimizer } from "./optimizer.js";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  dampening?: number;
}

export class SGD extends Optimizer {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  dampening: number;

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    super("SGD", params);
    const { lr, momentum = 0, nesterov = false, weightDecay = 0, dampening = 0 } = opts ?? ({} as SGDOptions);
    checkOption("SGD", "lr", lr, (v) => v >= 0 && Number.isFinite(v), "a non-negative number (it has no default)");
    checkOption("SGD", "momentum", momentum, (v) => v >= 0 && Number.isFinite(v), "a non-negative number");
    checkOption("SGD", "weightDecay", weightDecay, (v) => v >= 0 && Number.isFinite(v), "a non-negative number");
    checkOption("SGD", "dampening", dampening, (v) => Number.isFinite(v), "a finite number");
    if (nesterov && (momentum <= 0 || dampening !== 0))
      throw new Error(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${momentum} and dampening ${dampening}. Fix: e.g. { momentum: 0.9, nesterov: true }.`);
    this.lr = lr;
    this.momentum = momentum;
    this.nesterov = nesterov;
    this.weightDecay = weightDecay;
    this.dampening = dampening;
  }

  protected stateFactor(): number {
    return this.momentum !== 0 ? 1 : 0;
  }

  /** The first step sets the buffer to the gradient, so it needs no zero fill. */
  protected override initialState(p: Tensor): Tensor {
    return Tensor.empty(p.shape, p.dtype, p.device);
  }

  protected attrs(_step: number, first: boolean): UpdateAttrs {
    return {
      rule: "sgd", first, useMomentum: this.momentum !== 0, nesterov: this.nesterov, lr: this.lr, weightDecay: this.weightDecay,
      decay: 1, momentum: this.momentum, dampening: this.dampening, beta1: 0, beta2: 0, eps: 0, stepSize: 0, bc2Sqrt: 1,
    };
  }
}
