// The GPT's training math against PyTorch 1.13, step by step: the same weights and batches (from the
// formulas of scripts/gpt-golden.py, which wrote test/fixtures/gpt-golden.json), 12 steps of the
// trainer's loop (loss, backward, clipGradNorm at 1.0, AdamW with decay on the matrices) give
// PyTorch's losses and gradient norms on every device.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { Gpt } from "../src/train/gpt.js";
import { DEVICES, expectClose, startWebgpu } from "./helpers.js";

const golden = JSON.parse(readFileSync(new URL("./fixtures/gpt-golden.json", import.meta.url), "utf8")) as { losses: number[]; norms: number[] };
const [V, T, B] = [11, 8, 4];

/** Element i of parameter `name`, as init() in scripts/gpt-golden.py. */
function init(name: string, n: number): Float32Array {
  const k = [...name].reduce((a, c) => a + c.charCodeAt(0), 0) % 97;
  const ln = /\.ln[12]\.weight$/.test(name) || name === "lnF.weight";
  return Float32Array.from({ length: n }, (_, i) => (ln ? 1 + 0.05 * Math.cos(i + k) : 0.2 * Math.sin(1.3 * i + 0.7 * k)));
}

/** Step s's batch, as batch() in the script. */
function batch(s: number, device: "cpu" | "webgpu") {
  const x = Array.from({ length: B * T }, (_, j) => ((7 * Math.floor(j / T) + 3 * (j % T) + 5 * s + ((Math.floor(j / T) * (j % T)) % 3)) % V));
  const y = x.map((v, j) => (3 * v + (j % T) + s) % V);
  const t = (d: number[]) => wg.tensor(Int32Array.from(d), { shape: [B, T], dtype: "int32", device });
  return { x: t(x), y: t(y) };
}

beforeAll(startWebgpu);

describe.each(DEVICES)("the GPT against PyTorch on %s", (device) => {
  test("12 AdamW steps from the same weights and batches: PyTorch's losses and gradient norms", async () => {
    await wg.init({ device }); // the model's parameters go to the default device
    const model = new Gpt({ vocabSize: V, blockSize: T, nLayer: 2, nHead: 2, nEmbd: 8 });
    expect(model.parameters()[0].device).toBe(device);
    wg.noGrad(() => model.namedParameters().forEach(([name, p]) => p.copy_(wg.tensor(init(name, p.size), { shape: p.shape, device }))));
    const params = model.parameters();
    const opt = new wg.optim.AdamW([{ params: params.filter((p) => p.ndim >= 2), weightDecay: 0.1 }, { params: params.filter((p) => p.ndim < 2), weightDecay: 0 }], { lr: 1e-2, betas: [0.9, 0.99] });
    const losses: number[] = [];
    const norms: number[] = [];
    for (let s = 0; s < golden.losses.length; s++) {
      const { x, y } = batch(s, device);
      opt.zeroGrad();
      const loss = model.loss(x, y);
      loss.backward();
      const norm = wg.nn.utils.clipGradNorm(params, 1.0);
      opt.step();
      losses.push(await loss.item());
      norms.push(await norm.item());
      for (const t of [x, y, loss, norm]) t.dispose();
    }
    expect(losses[0]).not.toBe(losses.at(-1)); // it trains
    expectClose(losses, golden.losses, 1e-5, 1e-4, "losses");
    expectClose(norms, golden.norms, 1e-5, 1e-4, "gradient norms");
  });
});
