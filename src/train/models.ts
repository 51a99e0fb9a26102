/**
 * The two models `webgrad train` knows, each with its loss, optimizer and
 * defaults. softmax-regression is the seed model (shared/seeds): ŷ = softmax(Wx + b)
 * and the squared loss ||ŷ − y||² against one-hot y, trained with SGD.
 */
import * as wg from "../index.js";
import { oneHot } from "../ops/index.js";
import type { Tensor } from "../tensor.js";

export const MODEL_KINDS = ["mlp", "softmax-regression"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export interface Hyper {
  epochs: number;
  batchSize: number;
  lr: number;
}

export const MODEL_DEFAULTS: Record<ModelKind, Hyper & { about: string }> = {
  mlp: { epochs: 10, batchSize: 128, lr: 1e-3, about: "784-256-128-10 ReLU MLP, cross-entropy, Adam" },
  // Plain SGD as in the seed. Larger rates (0.5, or momentum 0.9) can saturate the softmax early, where the
  // squared loss's gradient vanishes and a class never recovers: 0.2 gave 0.839-0.840 test accuracy over 3 seeds.
  "softmax-regression": { epochs: 10, batchSize: 128, lr: 0.2, about: "Linear 784→10, softmax, squared loss on one-hot targets, SGD" },
};

export interface Optimizer {
  /** Read at every step, so a schedule can change it between steps. */
  lr: number;
  step(): void;
  zeroGrad(): void;
}

export interface Recipe {
  /** Maps x [B, features] to class scores [B, classes] (argmax = prediction). */
  model: wg.nn.Module;
  /** Mean loss over the batch: a scalar tensor. */
  loss(scores: Tensor, y: Tensor): Tensor;
  optimizer: Optimizer;
}

export const DEFAULT_HIDDEN = [256, 128];

/** `hidden`: the MLP's hidden layer widths (ignored by softmax-regression, which has none). */
export function buildModel(kind: ModelKind, features: number, classes: number, lr: number, hidden = DEFAULT_HIDDEN): Recipe {
  const { nn, optim } = wg;
  switch (kind) {
    case "mlp": {
      const widths = [features, ...hidden];
      const layers = hidden.flatMap((h, i) => [new nn.Linear(widths[i], h), new nn.ReLU()]);
      const model = new nn.Sequential(...layers, new nn.Linear(widths[widths.length - 1], classes));
      return { model, loss: (logits, y) => nn.functional.crossEntropy(logits, y), optimizer: new optim.Adam(model.parameters(), { lr }) };
    }
    case "softmax-regression": {
      const model = new nn.Sequential(new nn.Linear(features, classes), new nn.Softmax(1));
      // Σ over classes, mean over the batch: the seed's per-example ||ŷ − y||².
      const loss = (probs: Tensor, y: Tensor) => nn.functional.mseLoss(probs, oneHot(y, classes), { reduction: "sum" }).div(y.shape[0]);
      return { model, loss, optimizer: new optim.SGD(model.parameters(), { lr }) };
    }
  }
  return kind satisfies never;
}
