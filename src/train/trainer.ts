/**
 * The training loop shared by `webgrad train`, the tests and the examples.
 * Platform-neutral (no Node imports) and written against the public package
 * only (wg.data for the batches): it trains on wg.defaultDevice(), so call
 * wg.init first; data on another device is copied there once. The loss is summed on the device and read back once
 * per progress update, never per step: a readback is a sync point that
 * stalls the GPU queue.
 */
import * as wg from "../index.js";
import { buildModel, checkCnnWidths, CNN_WIDTHS, DEFAULT_HIDDEN, MODEL_DEFAULTS, type ModelKind, type Recipe } from "./models.js";
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

/** What train() needs of wg.data.fashionMnist()'s result: the two splits (images [N, features], labels [N] int32) and the class names. */
export type TrainData = Pick<wg.data.FashionMnist, "train" | "test" | "classes">;
type Split = wg.data.LabeledData;

/** The first `n` rows of a split as views (no copy), or the split itself when it has no more; `owned` collects what was made here. */
function head(s: Split, n: number, owned: wg.Tensor[]): Split {
  if (n >= rowsOf(s)) return s;
  const out = wg.tidy(() => ({ images: s.images.slice(0, 0, n), labels: s.labels.slice(0, 0, n) }));
  owned.push(out.images, out.labels);
  return out;
}

/** The split on the default device: copied there once when it is elsewhere (the copy joins `owned`). */
async function onDevice(s: Split, owned: wg.Tensor[]): Promise<Split> {
  const device = wg.defaultDevice();
  if (s.images.device === device && s.labels.device === device) return s;
  const out = { images: await s.images.to(device), labels: await s.labels.to(device) };
  owned.push(out.images, out.labels);
  return out;
}
const rowsOf = (s: Split) => s.labels.shape[0];

/** Fill in the model's defaults and check every option before any work starts. */
function resolve(data: TrainData, opts: TrainOptions, owned: wg.Tensor[]): { config: Config; trainSet: Split; testSet: Split } {
  const kind = opts.model ?? "mlp";
  const defaults = MODEL_DEFAULTS[kind];
  if (!defaults) throw new Error(`train: unknown model "${kind}"; expected one of ${Object.keys(MODEL_DEFAULTS).join(", ")}.`);
  const schedule = opts.schedule ?? "cosine";
  if (schedule !== "cosine" && schedule !== "constant") throw new Error(`train: schedule must be "cosine" or "constant", got "${schedule}".`);
  const hidden = kind === "mlp" ? (opts.hidden ?? DEFAULT_HIDDEN) : kind === "cnn" ? (opts.hidden ?? CNN_WIDTHS) : [];
  hidden.forEach((h) => positive("hidden width", h, true));
  if (kind === "cnn") checkCnnWidths(hidden);
  const trainSet = opts.limit === undefined ? data.train : head(data.train, positive("limit", opts.limit, true), owned);
  const testSet = opts.testLimit === undefined ? data.test : head(data.test, positive("testLimit", opts.testLimit, true), owned);
  const config = {
    model: kind,
    hidden,
    epochs: positive("epochs", opts.epochs ?? defaults.epochs, true),
    batchSize: positive("batchSize", opts.batchSize ?? defaults.batchSize, true),
    lr: positive("lr", opts.lr ?? defaults.lr, false),
    schedule,
    seed: opts.seed ?? 0,
    trainExamples: rowsOf(trainSet),
    testExamples: rowsOf(testSet),
  };
  return { config, trainSet, testSet };
}

export async function train(data: TrainData, opts: TrainOptions = {}): Promise<TrainResult> {
  const owned: wg.Tensor[] = [];
  try {
    const { config, trainSet, testSet } = resolve(data, opts, owned);
    return await trainOn(config, await onDevice(trainSet, owned), await onDevice(testSet, owned), data.classes.length, opts);
  } finally {
    owned.forEach((t) => t.dispose());
  }
}

async function trainOn(config: Config, trainSet: Split, testSet: Split, classes: number, opts: TrainOptions): Promise<TrainResult> {
  wg.manualSeed(config.seed);
  const recipe = buildModel(config.model, trainSet.images.shape[1], classes, config.lr, config.hidden);
  const loader = wg.data.batches(trainSet, { batchSize: config.batchSize, shuffle: true, seed: config.seed });
  const run: Run = { ...recipe, config, loader, opts, lossSum: wg.zeros([]), lossCurve: [] };
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
      history.push({ epoch, trainLoss, testAccuracy, examplesPerSecond: config.trainExamples / epochTrain, seconds: now() - t0 });
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
    examplesPerSecond: (config.trainExamples * config.epochs) / trainSeconds,
    steps: loader.length * config.epochs,
    seconds: now() - start,
  };
}

interface Run extends Recipe {
  config: Config;
  /** The shuffled training batches; each pass is an epoch with its own order, all drawn from config.seed. */
  loader: wg.data.Batches;
  opts: TrainOptions;
  /** Σ batch loss × batch size since the last readback, kept on the device. */
  lossSum: wg.Tensor;
  lossCurve: Point[];
}

/** One pass over the shuffled training set; returns its mean loss. */
async function trainEpoch(run: Run, epoch: number): Promise<number> {
  const { model, optimizer, config, loader, opts, lossSum } = run;
  const steps = loader.length;
  const every = Math.max(2, Math.ceil(steps / (opts.updatesPerEpoch ?? 10)));
  const t0 = now();
  let step = 0, seen = 0, pending = 0, epochLoss = 0;
  model.train();
  // Each batch is released when the next is drawn (and when the loop ends or throws).
  for (const b of loader) {
    const n = b.y.shape[0];
    optimizer.lr = scheduledLr(config.schedule, config.lr, (epoch - 1) * steps + step, config.epochs * steps);
    wg.tidy(() => {
      optimizer.zeroGrad();
      const loss = run.loss(model.forward(b.x), b.y);
      loss.backward();
      optimizer.step();
      lossSum.add_(loss.detach().mul(n));
    });
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
  return epochLoss / config.trainExamples;
}

/** Fraction of `split` classified correctly (leaves the model in eval mode); the count stays on the device until one readback at the end. */
export async function evaluate(model: wg.nn.Module, split: Split, batchSize = 1000): Promise<number> {
  const correct = wg.zeros([], { device: wg.defaultDevice() });
  model.eval();
  try {
    for (const b of wg.data.batches(split, { batchSize })) wg.noGrad(() => wg.tidy(() => void correct.add_(model.forward(b.x).argmax(1).eq(b.y).sum())));
    return (await correct.item()) / rowsOf(split);
  } finally {
    correct.dispose();
  }
}
