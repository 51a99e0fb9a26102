/**
 * The training loop shared by `webgrad train`, the tests and the examples.
 * Platform-neutral (no Node imports): it trains on wg.defaultDevice(), so
 * call wg.init first. The loss is summed on the device and read back once
 * per progress update, never per step: a readback is a sync point that
 * stalls the GPU queue.
 */
import * as wg from "../index.js";
import { batchCount, batches, Rng } from "../data/batches.js";
import { head, type Dataset, type Split } from "../data/dataset.js";
import { buildModel, CNN_WIDTHS, DEFAULT_HIDDEN, MODEL_DEFAULTS, type ModelKind, type Recipe } from "./models.js";
import type { Point } from "./plot-svg.js";
import type { Progress } from "./progress.js";

export interface TrainOptions {
  model?: ModelKind;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** The MLP's hidden widths (default [256, 128]). */
  hidden?: number[];
  /** "cosine" (default): the rate falls from lr to 0 along a half cosine over all steps; "constant": lr throughout. */
  schedule?: Schedule;
  /** Seeds the weights (wg.manualSeed) and the shuffling (default 0). */
  seed?: number;
  /** Train on the first `limit` training examples only. */
  limit?: number;
  /** Evaluate on the first `testLimit` test examples only. */
  testLimit?: number;
  /** Progress updates (loss readbacks) per epoch; default 10. */
  updatesPerEpoch?: number;
  onProgress?: (p: Progress) => void;
  onEpoch?: (e: EpochStats) => void;
}

export type Schedule = "cosine" | "constant";

/** The learning rate at step t of T: cosine annealing (Loshchilov & Hutter) ends training with small, low-noise steps. */
export function scheduledLr(schedule: Schedule, lr: number, t: number, T: number): number {
  return schedule === "cosine" ? 0.5 * lr * (1 + Math.cos((Math.PI * t) / T)) : lr;
}

export interface EpochStats {
  epoch: number;
  /** Mean training loss over the epoch. */
  trainLoss: number;
  testAccuracy: number;
  /** Training examples per second (training steps only, evaluation excluded). */
  examplesPerSecond: number;
  /** Wall time of the epoch, evaluation included. */
  seconds: number;
}

export interface TrainResult {
  model: wg.nn.Module;
  config: Required<Pick<TrainOptions, "model" | "hidden" | "epochs" | "batchSize" | "lr" | "schedule" | "seed">> & { trainExamples: number; testExamples: number };
  history: EpochStats[];
  /** Mean training loss per progress update; x in fractional epochs. */
  lossCurve: Point[];
  testAccuracy: number;
  finalLoss: number;
  examplesPerSecond: number;
  steps: number;
  seconds: number;
}

const now = () => performance.now() / 1000;

function positive(name: string, v: number, integer: boolean): number {
  if (!(v > 0) || (integer && !Number.isInteger(v)) || !Number.isFinite(v))
    throw new Error(`train: ${name} must be a positive ${integer ? "integer" : "number"}, got ${v}.`);
  return v;
}

type Config = TrainResult["config"];

/** Fill in the model's defaults and check every option before any work starts. */
function resolve(data: Dataset, opts: TrainOptions): { config: Config; trainSet: Split; testSet: Split } {
  const kind = opts.model ?? "mlp";
  const defaults = MODEL_DEFAULTS[kind];
  if (!defaults) throw new Error(`train: unknown model "${kind}"; expected one of ${Object.keys(MODEL_DEFAULTS).join(", ")}.`);
  const schedule = opts.schedule ?? "cosine";
  if (schedule !== "cosine" && schedule !== "constant") throw new Error(`train: schedule must be "cosine" or "constant", got "${schedule}".`);
  const hidden = kind === "mlp" ? (opts.hidden ?? DEFAULT_HIDDEN) : kind === "cnn" ? (opts.hidden ?? CNN_WIDTHS) : [];
  hidden.forEach((h) => positive("hidden width", h, true));
  const trainSet = opts.limit === undefined ? data.train : head(data.train, positive("limit", opts.limit, true));
  const testSet = opts.testLimit === undefined ? data.test : head(data.test, positive("testLimit", opts.testLimit, true));
  const config = {
    model: kind,
    hidden,
    epochs: positive("epochs", opts.epochs ?? defaults.epochs, true),
    batchSize: positive("batchSize", opts.batchSize ?? defaults.batchSize, true),
    lr: positive("lr", opts.lr ?? defaults.lr, false),
    schedule,
    seed: opts.seed ?? 0,
    trainExamples: trainSet.n,
    testExamples: testSet.n,
  };
  return { config, trainSet, testSet };
}

export async function train(data: Dataset, opts: TrainOptions = {}): Promise<TrainResult> {
  const { config, trainSet, testSet } = resolve(data, opts);
  wg.manualSeed(config.seed);
  const recipe = buildModel(config.model, trainSet.features, data.classes, config.lr, config.hidden);
  const run: Run = { ...recipe, config, trainSet, opts, rng: new Rng(config.seed), lossSum: wg.zeros([]), lossCurve: [] };
  const history: EpochStats[] = [];
  const start = now();
  let trainSeconds = 0;
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const t0 = now();
      const trainLoss = await trainEpoch(run, epoch);
      const epochTrain = now() - t0;
      trainSeconds += epochTrain;
      const testAccuracy = await evaluate(recipe.model, testSet, Math.max(config.batchSize, 1000));
      history.push({ epoch, trainLoss, testAccuracy, examplesPerSecond: trainSet.n / epochTrain, seconds: now() - t0 });
      opts.onEpoch?.(history[history.length - 1]);
    }
  } finally {
    run.lossSum.dispose();
  }
  const last = history[history.length - 1];
  return {
    model: recipe.model,
    config,
    history,
    lossCurve: run.lossCurve,
    testAccuracy: last.testAccuracy,
    finalLoss: last.trainLoss,
    examplesPerSecond: (trainSet.n * config.epochs) / trainSeconds,
    steps: batchCount(trainSet.n, config.batchSize) * config.epochs,
    seconds: now() - start,
  };
}

interface Run extends Recipe {
  config: Config;
  trainSet: Split;
  opts: TrainOptions;
  rng: Rng;
  /** Σ batch loss × batch size since the last readback, kept on the device. */
  lossSum: wg.Tensor;
  lossCurve: Point[];
}

/** One pass over the shuffled training set; returns its mean loss. */
async function trainEpoch(run: Run, epoch: number): Promise<number> {
  const { model, optimizer, config, trainSet, opts, lossSum } = run;
  const steps = batchCount(trainSet.n, config.batchSize);
  const every = Math.max(2, Math.ceil(steps / (opts.updatesPerEpoch ?? 10)));
  const t0 = now();
  let step = 0, seen = 0, pending = 0, epochLoss = 0;
  model.train();
  for (const b of batches(trainSet, { batchSize: config.batchSize, shuffle: run.rng })) {
    const n = b.y.shape[0];
    optimizer.lr = scheduledLr(config.schedule, config.lr, (epoch - 1) * steps + step, config.epochs * steps);
    try {
      wg.tidy(() => {
        optimizer.zeroGrad();
        const loss = run.loss(model.forward(b.x), b.y);
        loss.backward();
        optimizer.step();
        lossSum.add_(loss.detach().mul(n));
      });
    } finally {
      b.dispose();
    }
    step++;
    seen += n;
    pending += n;
    if (step % every !== 0 && step !== steps) continue;
    const sum = await lossSum.item();
    lossSum.zero_();
    const mean = sum / pending;
    if (!Number.isFinite(mean))
      throw new Error(`train: the loss became ${mean} in epoch ${epoch}, step ${step}; the learning rate ${config.lr} is probably too high. Fix: a smaller --lr.`);
    epochLoss += sum;
    pending = 0;
    run.lossCurve.push({ x: epoch - 1 + step / steps, y: mean });
    opts.onProgress?.({ epoch, epochs: config.epochs, batch: step, batches: steps, examplesPerSecond: seen / (now() - t0), loss: mean });
  }
  return epochLoss / trainSet.n;
}

/** Fraction of `split` classified correctly (leaves the model in eval mode); the count stays on the device until one readback at the end. */
export async function evaluate(model: wg.nn.Module, split: Split, batchSize = 1000): Promise<number> {
  const correct = wg.zeros([], { device: wg.defaultDevice() });
  model.eval();
  try {
    for (const b of batches(split, { batchSize })) {
      try {
        wg.noGrad(() => wg.tidy(() => void correct.add_(model.forward(b.x).argmax(1).eq(b.y).sum())));
      } finally {
        b.dispose();
      }
    }
    return (await correct.item()) / split.n;
  } finally {
    correct.dispose();
  }
}
