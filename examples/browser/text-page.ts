/**
 * The text demo: a character-level GPT learns Debian's fortunes (served by the
 * demo server at /data/fortunes.txt) on the page's WebGPU device, with the
 * training and validation loss drawn at each evaluation, and text generated
 * from the current model on request (between steps, at the next evaluation).
 * URL parameters: steps, batch, block (context), layers, embd, heads, lr, evalEvery, tokens (per sample),
 * device (webgpu | cpu).
 * The state is mirrored on window.demo for tests.
 */
import * as wg from "../../src/browser.js";
import type { Gpt } from "../../src/train/gpt.js";
import { GPT_DEFAULTS, trainGpt, type GptEval } from "../../src/train/gpt-trainer.js";
import { generate } from "../../src/train/gpt-sample.js";
import { drawChart } from "./chart.js";
import { showError, showNoWebgpu, webgpuStatus } from "./gpu-check.js";

const q = new URLSearchParams(location.search);
const num = (k: string, d: number) => (q.has(k) ? Number(q.get(k)) : d);
const cfg = {
  steps: num("steps", GPT_DEFAULTS.steps), batchSize: num("batch", GPT_DEFAULTS.batchSize), nLayer: num("layers", GPT_DEFAULTS.nLayer),
  nEmbd: num("embd", GPT_DEFAULTS.nEmbd), nHead: num("heads", GPT_DEFAULTS.nHead), lr: num("lr", GPT_DEFAULTS.lr), evalEvery: num("evalEvery", 20),
};
const blockSize = num("block", GPT_DEFAULTS.blockSize);
const sampleTokens = num("tokens", 200);
const state = { phase: "starting", device: "", history: [] as GptEval[], samples: [] as string[], error: "" };
(window as unknown as { demo: typeof state }).demo = state;

const $ = (id: string) => document.getElementById(id)!;
let wantSample = false;
let stop = false;

function draw(): void {
  const train = state.history.map((h) => ({ x: h.step, y: h.trainLoss }));
  const val = state.history.map((h) => ({ x: h.step, y: h.valLoss }));
  drawChart($("train") as HTMLCanvasElement, { title: "training loss (nats/char)", color: "#1f77b4", points: train, yMin: 0 });
  drawChart($("val") as HTMLCanvasElement, { title: "validation loss (nats/char)", color: "#d62728", points: val, yMin: 0 });
  const last = state.history.at(-1);
  if (last) $("status").textContent = `step ${last.step}: train ${last.trainLoss.toFixed(3)}, validation ${last.valLoss.toFixed(3)} nats/char, ${last.seconds.toFixed(0)} s`;
}

async function sample(model: Gpt, data: wg.data.TextData): Promise<void> {
  const prompt = ($("prompt") as HTMLInputElement).value || "\n";
  const temperature = Number(($("temperature") as HTMLInputElement).value) || 0.8;
  const out = await generate(model, data.encode(prompt), { tokens: sampleTokens, temperature, topK: 20, seed: state.samples.length });
  const t = prompt + data.decode(out);
  state.samples.push(t);
  $("sample").textContent = t;
}

async function run(device: "webgpu" | "cpu"): Promise<void> {
  const info = await wg.init({ device });
  state.device = info.device;
  $("adapter").textContent = `${info.device}: ${info.adapterInfo.description}`;
  state.phase = "loading";
  const res = await fetch("data/fortunes.txt");
  if (!res.ok) throw new Error(`the corpus: ${res.status} ${await res.text()}`);
  const data = wg.data.text(await res.text(), { blockSize });
  state.phase = "training";
  await trainGpt(data, {
    ...cfg, shouldStop: () => stop,
    onEval: async (e, model) => {
      state.history.push(e);
      draw();
      if (wantSample) {
        wantSample = false;
        try { await sample(model, data); } catch (err) { $("sample").textContent = (err as Error).message; }
      }
      await new Promise((r) => setTimeout(r, 0)); // let the page paint and take clicks
    },
  });
  state.phase = stop ? "stopped" : "done";
}

$("generate").addEventListener("click", () => { wantSample = true; $("sample").textContent = "(at the next evaluation…)"; });
$("stop").addEventListener("click", () => { stop = true; });
const fail = (e: unknown) => { state.phase = "error"; state.error = (e as Error).message; showError($("notice"), state.error); };
(async () => {
  const gpu = await webgpuStatus();
  if (q.get("device") === "cpu") return run("cpu").catch(fail);
  if (gpu.ok) return run("webgpu").catch(fail);
  showNoWebgpu($("notice"), gpu.reason, () => void run("cpu").catch(fail));
})();
