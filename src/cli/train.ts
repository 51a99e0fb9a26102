/**
 * `webgrad train`: Fashion-MNIST with the MLP or the seed's softmax
 * regression; writes out/model.safetensors and out/training.svg. Human output
 * goes to stderr when --json asks for one machine-readable line on stdout.
 */
import { join } from "node:path";
// node.js, not index.js: it registers how Node reaches WebGPU (Dawn).
import * as wg from "../node.js";
import { DEFAULT_DATA_DIR } from "../data/node-files.js";
import { writeFileAtomic } from "../train/files.js";
import { CNN_WIDTHS, MODEL_DEFAULTS, MODEL_KINDS, type ModelKind } from "../train/models.js";
import { trainingSvg } from "../train/plot-svg.js";
import { progressBar } from "../train/progress.js";
import { train, type Schedule, type TrainResult } from "../train/trainer.js";
import { runTrainGpt } from "./train-gpt.js";
import { command, parseOptions, UsageError, withArgs } from "./registry.js";

const USAGE = `usage: webgrad train [options]

Train a classifier on Fashion-MNIST and write OUT/model.safetensors and OUT/training.svg.

  --model NAME       ${MODEL_KINDS.map((k) => `${k}: ${MODEL_DEFAULTS[k].about}`).join("\n                     ")}
                     gpt: a character-level GPT on Debian's fortunes (webgrad train --model gpt --help)
                     (default mlp)
  --hidden W,W,...   the MLP's hidden layer widths (default 256,128); for the cnn: conv1,conv2[,conv3],linear
                     channels (default ${CNN_WIDTHS.join(",")})
  --device D         webgpu, cpu or auto (default auto: WebGPU when an adapter exists)
  --epochs N         passes over the training set (default ${MODEL_DEFAULTS.mlp.epochs}; ${MODEL_DEFAULTS.cnn.epochs} for the cnn)
  --batch-size N     examples per step (default ${MODEL_DEFAULTS.mlp.batchSize}; ${MODEL_DEFAULTS.cnn.batchSize} for the cnn)
  --lr X             learning rate (default ${MODEL_DEFAULTS.mlp.lr} for mlp, ${MODEL_DEFAULTS["softmax-regression"].lr} for softmax-regression, ${MODEL_DEFAULTS.cnn.lr} for the cnn)
  --schedule S       cosine (the rate decays to 0 over the run) or constant (default cosine)
  --seed N           seeds the weights and the shuffling (default 0)
  --limit N          train on the first N training examples only (quick runs)
  --test-limit N     evaluate on the first N test examples only
  --data DIR         the IDX files (default ${DEFAULT_DATA_DIR}, from apt-get install -y dataset-fashion-mnist)
  --out DIR          where the outputs go (default out)
  --json             print one JSON line with the results on stdout (progress stays on stderr)
  --help             this text`;

const OPTIONS = {
  model: { type: "string", default: "mlp" },
  hidden: { type: "string" },
  device: { type: "string", default: "auto" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  schedule: { type: "string", default: "cosine" },
  seed: { type: "string", default: "0" },
  limit: { type: "string" },
  "test-limit": { type: "string" },
  data: { type: "string", default: DEFAULT_DATA_DIR },
  out: { type: "string", default: "out" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;


function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x)) throw new UsageError(`--${name} expects a number, got "${v}".`);
  return x;
}

function parse(argv: string[]) {
  const values = parseOptions(argv, OPTIONS);
  if (!(MODEL_KINDS as readonly string[]).includes(values.model)) throw new UsageError(`--model must be one of ${MODEL_KINDS.join(", ")}, got "${values.model}".`);
  if (!["cosine", "constant"].includes(values.schedule)) throw new UsageError(`--schedule must be cosine or constant, got "${values.schedule}".`);
  if (!["webgpu", "cpu", "auto"].includes(values.device)) throw new UsageError(`--device must be webgpu, cpu or auto, got "${values.device}".`);
  return {
    help: values.help,
    json: values.json,
    device: values.device as "webgpu" | "cpu" | "auto",
    data: values.data,
    out: values.out,
    opts: {
      model: values.model as ModelKind,
      hidden: values.hidden?.split(",").map((w) => number("hidden", w)!),
      epochs: number("epochs", values.epochs),
      batchSize: number("batch-size", values["batch-size"]),
      lr: number("lr", values.lr),
      schedule: values.schedule as Schedule,
      seed: number("seed", values.seed),
      limit: number("limit", values.limit),
      testLimit: number("test-limit", values["test-limit"]),
    },
  };
}

export function runTrain(argv: string[]): Promise<number> {
  const m = argv.indexOf("--model");
  if ((m >= 0 && argv[m + 1] === "gpt") || argv.includes("--model=gpt")) return runTrainGpt(argv);
  return withArgs("train", USAGE, argv, parse, (args) => runTrainWith(args));
}

async function runTrainWith(args: ReturnType<typeof parse>): Promise<number> {
  const say = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
  // init first: the dataset's tensors go to the default device (the device line waits, so a missing dataset prints nothing on stdout).
  const { device, adapterInfo } = await wg.init({ device: args.device });
  let data;
  try {
    data = await wg.data.fashionMnist({ dir: args.data });
  } catch (e) {
    console.error(`webgrad train: ${(e as Error).message}`);
    return 1;
  }
  say(`device: ${device} (${adapterInfo.description}; vendor ${adapterInfo.vendor}, architecture ${adapterInfo.architecture})`);

  const bar = progressBar(process.stderr);
  const result = await train(data, {
    ...args.opts,
    updatesPerEpoch: process.stderr.isTTY ? 50 : 10,
    onProgress: bar.update,
    onEpoch: (e) => {
      bar.done();
      say(`epoch ${e.epoch}: ${figures(e.trainLoss, e.testAccuracy, e.examplesPerSecond)}, ${e.seconds.toFixed(1)} s`);
    },
  });

  const paths = await writeOutputs(args.out, result, device);
  data.dispose();
  say(`wrote ${paths.join(" and ")}`);
  const n = result.config.epochs;
  say(`done: ${n} epoch${n === 1 ? "" : "s"} (${result.steps} steps) in ${result.seconds.toFixed(1)} s; ${figures(result.finalLoss, result.testAccuracy, result.examplesPerSecond)}`);
  if (args.json) console.log(JSON.stringify(summary(result, device, adapterInfo.description, paths)));
  return 0;
}

/** The same figures, named alike, in each epoch's line and in the summary (the summary's are the last epoch's, and the mean rate). */
function figures(trainLoss: number, testAccuracy: number, examplesPerSecond: number): string {
  return `train loss ${trainLoss.toFixed(4)}, test accuracy ${testAccuracy.toFixed(4)}, ${Math.round(examplesPerSecond)} training examples/s`;
}

/** OUT/model.safetensors and OUT/training.svg, each written atomically; returns their paths. */
async function writeOutputs(out: string, result: TrainResult, device: string): Promise<string[]> {
  const { config } = result;
  const arch = config.model === "mlp" ? ` ${[784, ...config.hidden, 10].join("-")}` : config.model === "cnn" ? ` ${config.hidden.join("-")}` : "";
  const title = `${config.model}${arch} on Fashion-MNIST (${config.trainExamples} train / ${config.testExamples} test, ${device}): test accuracy ${result.testAccuracy.toFixed(4)}`;
  const modelPath = join(out, "model.safetensors");
  const plotPath = join(out, "training.svg");
  const metadata = { model: config.model, hidden: config.hidden.join(","), epochs: String(config.epochs), testAccuracy: String(result.testAccuracy) };
  const accuracy = result.history.map((h) => ({ x: h.epoch, y: h.testAccuracy }));
  await writeFileAtomic(modelPath, await wg.save(result.model.stateDict(), metadata));
  await writeFileAtomic(plotPath, trainingSvg({ title, loss: result.lossCurve, accuracy }));
  return [modelPath, plotPath];
}

/** The --json line: the headline figures first, then the configuration and the per-epoch history. */
function summary(result: TrainResult, device: string, adapter: string, outputs: string[]) {
  const { epochs, ...config } = result.config;
  return {
    testAccuracy: result.testAccuracy,
    epochs,
    examplesPerSecond: Math.round(result.examplesPerSecond),
    device,
    adapter,
    finalLoss: result.finalLoss,
    seconds: +result.seconds.toFixed(2),
    ...config,
    steps: result.steps,
    history: result.history,
    outputs,
  };
}

command("train", "train a Fashion-MNIST classifier (MLP, CNN or softmax regression); writes a model and a plot", runTrain);
