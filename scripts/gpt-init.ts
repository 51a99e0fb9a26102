/**
 * Writes the default GPT's initial weights (seed 0, before any step) as safetensors, for
 * scripts/gpt-replica.py. Not part of the build or the tests; bundle it and run it:
 *
 *   npx esbuild scripts/gpt-init.ts --bundle --platform=node --format=esm --external:webgpu \
 *     --loader:.wgsl=text --outfile=/tmp/gpt-init.mjs && node /tmp/gpt-init.mjs out/gpt-init.safetensors
 */
import { writeFileSync } from "node:fs";
import * as wg from "../src/node.js";
import { Gpt } from "../src/train/gpt.js";
import { GPT_DEFAULTS } from "../src/train/gpt-trainer.js";
import { saveGpt } from "../src/train/gpt-files.js";
import { loadFortunes } from "../src/data/fortunes.js";

const out = process.argv[2] ?? "out/gpt-init.safetensors";
await wg.init({ device: "cpu" }); // the same numbers as on WebGPU (manualSeed is device-independent)
const data = wg.data.text(await loadFortunes(), { blockSize: GPT_DEFAULTS.blockSize });
wg.manualSeed(GPT_DEFAULTS.seed);
const { nLayer, nHead, nEmbd, blockSize } = GPT_DEFAULTS;
const model = new Gpt({ vocabSize: data.vocab.length, blockSize, nLayer, nHead, nEmbd });
writeFileSync(out, await saveGpt(model, data.vocab));
console.log(`wrote ${out}: ${data.vocab.length} characters, ${data.train.length} training and ${data.val.length} validation`);
