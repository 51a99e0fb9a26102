/**
 * The two models `webgrad train` knows, each with its loss, optimizer and
 * defaults. softmax-regression is the seed model (shared/seeds): ŷ = softmax(Wx + b)
 * and the squared loss ||ŷ − y||² against one-hot y, trained with SGD.
 */
import * as wg from "../index.js";
import { oneHot } from "../ops/index.js";
import type { Tensor } from "../tensor.js";
import type { Device } from "../backend/backend.js";

export const MODEL_KINDS = ["mlp", "softmax-regression", "cnn"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/**
 * The CNN's default widths: channels of its three conv blocks (the third on the 7x7 grid, unpooled),
 * then its hidden linear layer. Chosen for the fewest CPU-seconds to 0.91 on SwiftShader: the same
 * recipe in PyTorch 1.13 (AdamW 2e-3, cosine, batch 64; scripts/cnn-design.py) reached 0.9119 after 2
 * epochs and 0.9177 after 3 with a third block 16-32-64, where the two-block 16-32-128 stops at
 * 0.9094-0.9107 after 3 epochs and 32-64-128 (1.8x the multiply-adds; batch 128) at 0.9049 after 2.
 */
export const CNN_WIDTHS = [16, 32, 64, 128];
/**
 * Two epochs, the cheapest run that still clears 0.91 with these widths (see CNN_WIDTHS): webgrad on
 * SwiftShader read 0.9125 after 2 epochs, in 43 minutes on 2 cores.
 */
export const CNN_EPOCHS = 2;

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
  cnn: { epochs: CNN_EPOCHS, batchSize: 64, lr: 2e-3, about: `two conv(3x3)-BN-ReLU-maxpool blocks (${CNN_WIDTHS.slice(0, 2).join(", ")} channels), a conv-BN-ReLU block (${CNN_WIDTHS[2]}), linear-ReLU-dropout (${CNN_WIDTHS[3]}), linear; AdamW, cosine, ${CNN_EPOCHS} epochs` },
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
    case "cnn": {
      const model = cnnModel(features, classes, hidden.length ? hidden : CNN_WIDTHS);
      return { model, loss: (logits, y) => nn.functional.crossEntropy(logits, y), optimizer: new optim.AdamW(model.parameters(), { lr, weightDecay: 1e-4 }) };
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

/** Rows of `features` pixels as [B, 1, side, side] images. */
class ToImage extends wg.nn.Module {
  constructor(readonly side: number) { super(); }
  forward(x: Tensor): Tensor { return x.reshape([x.shape[0], 1, this.side, this.side]); }
}

/** The cnn's widths are [c1, c2, hidden] or [c1, c2, c3, hidden]. */
export function checkCnnWidths(widths: readonly number[]): void {
  if (widths.length !== 3 && widths.length !== 4)
    throw new Error(`train: the cnn takes three or four widths (conv1, conv2[, conv3], linear), got ${widths.join(",")}. Fix: e.g. --hidden 16,32,64,128.`);
}

/**
 * conv-BN-ReLU-pool twice (3x3, padding 1, 2x2 pools), then linear-ReLU-dropout(0.25) and linear.
 * widths: [c1, c2, hidden], or [c1, c2, c3, hidden] for a third conv-BN-ReLU block (no pool) on
 * the pooled side/4 grid before the linear layers.
 */
export function cnnModel(features: number, classes: number, widths: readonly number[], device?: Device): wg.nn.Sequential {
  const { nn } = wg;
  const side = Math.round(Math.sqrt(features));
  if (side * side !== features || side % 4 !== 0)
    throw new Error(`train: the cnn needs square images with a side divisible by 4, got ${features} features per example.`);
  checkCnnWidths(widths);
  const convs = widths.slice(0, -1);
  const h = widths[widths.length - 1];
  // No conv bias: batch norm subtracts the channel mean right after, which would cancel it.
  const block = (cin: number, cout: number, pool: boolean) => [
    new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false, device }), new nn.BatchNorm2d(cout, { device }), new nn.ReLU(), ...(pool ? [new nn.MaxPool2d(2)] : []),
  ];
  const blocks = convs.flatMap((c, i) => block(i ? convs[i - 1] : 1, c, i < 2));
  return new nn.Sequential(
    new ToImage(side), ...blocks, new nn.Flatten(),
    new nn.Linear(convs[convs.length - 1] * (side / 4) ** 2, h, { device }), new nn.ReLU(), new nn.Dropout(0.25), new nn.Linear(h, classes, { device }),
  );
}
