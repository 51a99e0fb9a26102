/**
 * `webgrad train --model gpt`: the character-level GPT on Debian's fortunes;
 * writes OUT/gpt.safetensors (config and vocabulary in its metadata) and
 * OUT/gpt-training.svg. --json ends with one JSON line on stdout.
 */
import { join } from "node:path";
import * as wg from "../node.js";
import { text } from "../data/text.js";
import { DEFAULT_FORTUNES_DIR, loadFortunes } from "../data/fortunes.js";
import { writeFileAtomic } from "../train/files.js";
import { saveGpt } from "../train/gpt-files.js";
import { GPT_DEFAULTS, trainGpt, type GptTrainResult } from "../train/gpt-trainer.js";
import { gptLossSvg } from "../train/gpt-plot.js";
import { parseOptions, UsageError, withArgs } from "./registry.js";

const D = GPT_DEFAULTS;
const USAGE = `usage: webgrad train --model gpt [options]

Train a character-level GPT on Debian's fortunes (the last 10% is validation);
write OUT/gpt.safetensors and OUT/gpt-training.svg.

  --device D         webgpu, cpu or auto (default auto)
  --steps N          training steps (default ${D.steps})
  --batch-size N     windows per step (default ${D.batchSize})
  --block-size N     context length (default ${D.blockSize})
  --layers N         transformer blocks (default ${D.nLayer})
  --heads N          attention heads (default ${D.nHead})
  --embd N           embedding width (default ${D.nEmbd})
  --lr X             peak learning rate, after ${D.warmupSteps} warm-up steps, cosine to lr/10 (default ${D.lr})
  --eval-every N     steps between loss readouts (default ${D.evalEvery}); each measures validation on
                     ${D.evalBatches} batches, the last one on ${D.finalEvalBatches}
  --seed N           seeds the weights and the windows (default 0)
  --data DIR         the fortune files (default ${DEFAULT_FORTUNES_DIR}, apt-get install -y fortunes)
  --out DIR          where the outputs go (default out)
  --json             one JSON line with the results on stdout (progress on stderr)
  --help             this text`;

const OPTIONS = {
  model: { type: "string", default: "gpt" },
  device: { type: "string", default: "auto" },
  steps: { type: "string" }, "batch-size": { type: "string" }, "block-size": { type: "string" },
  layers: { type: "string" }, heads: { type: "string" }, embd: { type: "string" }, lr: { type: "string" },
  "eval-every": { type: "string" }, seed: { type: "string" },
  data: { type: "string", default: DEFAULT_FORTUNES_DIR }, out: { type: "string", default: "out" },
  json: { type: "boolean", default: false }, help: { type: "boolean", default: false },
} as const;

function num(name: string, v: string | undefined, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !(x > 0) || (integer && !Number.isInteger(x))) throw new UsageError(`--${name} expects a positive ${integer ? "integer" : "number"}, got "${v}".`);
  return x;
}

function parse(argv: string[]) {
  const v = parseOptions(argv, OPTIONS);
  if (!["webgpu", "cpu", "auto"].includes(v.device)) throw new UsageError(`--device must be webgpu, cpu or auto, got "${v.device}".`);
  const seed = v.seed === undefined ? 0 : Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed expects an integer, got "${v.seed}".`);
  return {
    help: v.help, json: v.json, device: v.device as "webgpu" | "cpu" | "auto", data: v.data, out: v.out,
    blockSize: num("block-size", v["block-size"]) ?? D.blockSize,
    opts: {
      steps: num("steps", v.steps), batchSize: num("batch-size", v["batch-size"]), nLayer: num("layers", v.layers),
      nHead: num("heads", v.heads), nEmbd: num("embd", v.embd), lr: num("lr", v.lr, false), evalEvery: num("eval-every", v["eval-every"]), seed,
    },
  };
}

export function runTrainGpt(argv: string[]): Promise<number> {
  return withArgs("train", USAGE, argv, parse, async (args) => {
    const say = (s: string) => (args.json ? process.stderr : process.stdout).write(`${s}\n`);
    let corpus: string;
    try {
      corpus = await loadFortunes(args.data);
    } catch (e) {
      console.error(`webgrad train: ${(e as Error).message}`);
      return 1;
    }
    const { device, adapterInfo } = await wg.init({ device: args.device });
    say(`device: ${device} (${adapterInfo.description})`);
    const data = text(corpus, { blockSize: args.blockSize });
    say(`corpus: ${data.train.length} train / ${data.val.length} validation characters, vocabulary ${data.vocab.length}`);
    const opts = Object.fromEntries(Object.entries(args.opts).filter(([, x]) => x !== undefined));
    const r = await trainGpt(data, { ...opts, onEval: (e) => void say(`step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, validation loss ${e.valLoss.toFixed(4)} nats/char, ${e.seconds.toFixed(1)} s`) });
    const paths = await writeOutputs(args.out, r, data.vocab, device);
    say(`wrote ${paths.join(" and ")}`);
    say(`done: ${r.steps} steps in ${r.seconds.toFixed(1)} s, ${Math.round(r.tokensPerSecond)} tokens/s; validation loss ${r.valLoss.toFixed(4)}`);
    if (args.json)
      console.log(JSON.stringify({ valLoss: r.valLoss, trainLoss: r.trainLoss, steps: r.steps, tokensPerSecond: Math.round(r.tokensPerSecond), seconds: +r.seconds.toFixed(2), device, adapter: adapterInfo.description, config: r.config, history: r.history, outputs: paths }));
    return 0;
  });
}

async function writeOutputs(out: string, r: GptTrainResult, vocab: string[], device: string): Promise<string[]> {
  const c = r.config;
  const modelPath = join(out, "gpt.safetensors");
  const plotPath = join(out, "gpt-training.svg");
  const title = `GPT ${c.nLayer}×${c.nEmbd} (${c.nHead} heads, context ${c.blockSize}) on fortunes, ${device}: validation loss ${r.valLoss.toFixed(3)} nats/char`;
  await writeFileAtomic(modelPath, await saveGpt(r.model, vocab, { valLoss: String(r.valLoss), steps: String(r.steps) }));
  await writeFileAtomic(plotPath, gptLossSvg(title, r.history));
  return [modelPath, plotPath];
}
