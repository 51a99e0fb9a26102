/** `webgrad sample`: generate text from a GPT written by `webgrad train --model gpt`. */
import { readFile } from "node:fs/promises";
import * as wg from "../node.js";
import { text } from "../data/text.js";
import { loadGpt } from "../train/gpt-files.js";
import { generate } from "../train/gpt-sample.js";
import { command, parseOptions, UsageError, withArgs } from "./registry.js";

const USAGE = `usage: webgrad sample [options]

Continue a prompt with a GPT trained by \`webgrad train --model gpt\`.

  --model FILE       the safetensors file (default out/gpt.safetensors)
  --prompt TEXT      the start of the text (default a newline)
  --tokens N         characters to generate (default 200)
  --temperature T    < 1 sharper, > 1 more varied (default 0.8)
  --top-k K          draw only among the K most likely characters (default all)
  --seed N           seeds the draws (default 0)
  --device D         webgpu, cpu or auto (default auto)
  --help             this text`;

const OPTIONS = {
  model: { type: "string", default: "out/gpt.safetensors" }, prompt: { type: "string", default: "\n" },
  tokens: { type: "string", default: "200" }, temperature: { type: "string", default: "0.8" }, "top-k": { type: "string" },
  seed: { type: "string", default: "0" }, device: { type: "string", default: "auto" }, help: { type: "boolean", default: false },
} as const;

function parse(argv: string[]) {
  const v = parseOptions(argv, OPTIONS);
  const int = (name: string, s: string, min: number) => {
    const x = Number(s);
    if (s.trim() === "" || !Number.isInteger(x) || x < min) throw new UsageError(`--${name} expects an integer ≥ ${min}, got "${s}".`);
    return x;
  };
  const temperature = Number(v.temperature);
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new UsageError(`--temperature expects a positive number, got "${v.temperature}".`);
  if (!["webgpu", "cpu", "auto"].includes(v.device)) throw new UsageError(`--device must be webgpu, cpu or auto, got "${v.device}".`);
  return {
    help: v.help, model: v.model, prompt: v.prompt, device: v.device as "webgpu" | "cpu" | "auto",
    tokens: int("tokens", v.tokens, 0), temperature, topK: v["top-k"] === undefined ? undefined : int("top-k", v["top-k"], 1), seed: int("seed", v.seed, 0),
  };
}

command("sample", "generate text from a GPT trained with `webgrad train --model gpt`", (argv) =>
  withArgs("sample", USAGE, argv, parse, async (a) => {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(a.model);
    } catch {
      console.error(`webgrad sample: cannot read ${a.model}. Fix: train one first with \`webgrad train --model gpt\`, or pass --model FILE.`);
      return 1;
    }
    const { device, adapterInfo } = await wg.init({ device: a.device });
    console.error(`device: ${device} (${adapterInfo.description})`);
    const { model, vocab } = loadGpt(bytes);
    const codec = text("", { blockSize: 1, vocab });
    const start = performance.now();
    const ids = await generate(model, codec.encode(a.prompt), { tokens: a.tokens, temperature: a.temperature, topK: a.topK, seed: a.seed });
    const seconds = (performance.now() - start) / 1000;
    process.stdout.write(a.prompt + codec.decode(ids) + "\n");
    console.error(`${ids.length} tokens in ${seconds.toFixed(1)} s (${(ids.length / seconds).toFixed(1)} tokens/s, KV cache)`);
    return 0;
  }),
);
