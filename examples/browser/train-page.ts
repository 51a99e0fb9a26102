/**
 * The training demo: an MLP or a CNN (the model selector) learns Fashion-MNIST with webgrad on the page's
 * WebGPU device (or the CPU backend when there is none). Steps run in
 * tidy() with the loss read back every few steps only; the page shows the
 * loss and test accuracy as they evolve, examples/s, and test images with
 * the model's guesses, and for the CNN its first layer's filters. URL parameters: model (mlp | cnn),
 * steps (stop after N), batch, hidden ("256,128"), widths (the CNN's, "16,32,128", or four with a third conv: "16,32,64,128"), lr, evalEvery,
 * evalSize, device (webgpu | cpu), autostart=0.
 * The state is mirrored on window.demo for tests.
 * It uses only the public package (data, models and training all through wg.*), so it can be copied
 * into an app as it is: replace the import below with `import * as wg from "webgrad"`.
 */
import * as wg from "../../src/browser.js";
import { drawChart } from "./chart.js";
import { showError, showNoWebgpu, webgpuStatus } from "./gpu-check.js";

const q = new URLSearchParams(location.search);
const num = (k: string, d: number) => (q.has(k) ? Number(q.get(k)) : d);
const cfg = {
  steps: num("steps", Infinity),
  batch: num("batch", 64),
  model: q.get("model") === "cnn" ? "cnn" : "mlp",
  hidden: (q.get("hidden") ?? "256,128").split(",").map(Number).filter((n) => n > 0),
  // Narrower than the trainer's default: a page on an emulated GPU should still move visibly.
  widths: (q.get("widths") ?? "16,32,128").split(",").map(Number).filter((n) => n > 0),
  lr: num("lr", 1e-3),
  evalEvery: num("evalEvery", 100),
  evalSize: num("evalSize", 1000),
  logEvery: num("logEvery", 10),
  autostart: q.get("autostart") !== "0",
};

const state = {
  phase: "starting" as "starting" | "loading" | "ready" | "training" | "stopped" | "done" | "error",
  device: "" as "" | "webgpu" | "cpu",
  adapter: "",
  step: 0,
  epoch: 0,
  losses: [] as { x: number; y: number }[],
  accuracies: [] as { x: number; y: number }[],
  examplesPerSecond: 0,
  /** The first conv layer's filters as last drawn (CNN only): [filters][9]. */
  filters: [] as number[][],
  error: "",
};
(window as unknown as { demo: unknown }).demo = { state, start: () => start(), stop: () => (running = false), config: cfg, selectModel: (k: string) => selectModel(k) };

const $ = (id: string) => document.getElementById(id)!;
let running = false;
let data: wg.data.FashionMnist | null = null;
let loader: wg.data.Batches | null = null;
/** The test images shown with the model's guesses, read back once: pixels [SHOWN, 784] and labels. */
const SHOWN = 24;
let shown: { pixels: Float32Array; labels: Int32Array } | null = null;
let model: wg.nn.Module | null = null;
let opt: wg.optim.Adam | null = null;
let epochIter: Iterator<wg.data.Batch> | null = null;

function setStatus(text: string, phase?: typeof state.phase) {
  if (phase) state.phase = phase;
  $("status").textContent = text;
}

function render() {
  $("s-device").textContent = state.device || "—";
  $("s-step").textContent = `${state.step} (${state.epoch})`;
  $("s-speed").textContent = state.examplesPerSecond ? Math.round(state.examplesPerSecond).toLocaleString() : "—";
  const lastLoss = state.losses[state.losses.length - 1];
  const lastAcc = state.accuracies[state.accuracies.length - 1];
  $("s-loss").textContent = lastLoss ? lastLoss.y.toFixed(4) : "—";
  $("s-acc").textContent = lastAcc ? `${(100 * lastAcc.y).toFixed(1)}%` : "—";
  drawChart($("loss-chart") as HTMLCanvasElement, { title: "training loss (cross-entropy)", color: "#5b6bd6", points: state.losses, format: (y) => y.toFixed(2) });
  drawChart($("acc-chart") as HTMLCanvasElement, { title: "test accuracy", color: "#2b8a3e", points: state.accuracies, yMin: 0, yMax: 1, format: (y) => `${Math.round(100 * y)}%` });
  const btn = $("toggle") as HTMLButtonElement;
  btn.disabled = !(state.phase === "ready" || state.phase === "training" || state.phase === "stopped");
  btn.textContent = running ? "Stop" : state.step ? "Resume" : "Start";
  ($("model") as HTMLSelectElement).disabled = running || !data;
}

/** Rows of 784 pixels as [B, 1, 28, 28] images, for the CNN's convolutions. */
class ToImage extends wg.nn.Module {
  forward(x: wg.Tensor): wg.Tensor {
    return x.reshape([x.shape[0], 1, 28, 28]);
  }
}

/**
 * conv(3x3)-BN-ReLU-maxpool twice (widths c1, c2), optionally a third conv-BN-ReLU (c3, no pool), then
 * linear-ReLU-dropout (h) and linear: 28 → 14 → 7 pixels a side. widths: [c1, c2, h] or [c1, c2, c3, h].
 */
function cnn(widths: number[], device: "webgpu" | "cpu"): wg.nn.Sequential {
  const { nn } = wg;
  const convs = widths.slice(0, -1);
  const h = widths[widths.length - 1];
  // No conv bias: batch norm subtracts the channel mean right after, which would cancel it.
  const block = (cin: number, cout: number, pool: boolean) => [
    new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false, device }), new nn.BatchNorm2d(cout, { device }), new nn.ReLU(), ...(pool ? [new nn.MaxPool2d(2)] : []),
  ];
  return new nn.Sequential(
    new ToImage(), ...convs.flatMap((c, i) => block(i ? convs[i - 1] : 1, c, i < 2)), new nn.Flatten(),
    new nn.Linear(convs[convs.length - 1] * 7 * 7, h, { device }), new nn.ReLU(), new nn.Dropout(0.25), new nn.Linear(h, 10, { device }),
  );
}

function buildModel(device: "webgpu" | "cpu") {
  wg.manualSeed(0);
  if (cfg.model === "cnn") {
    if (cfg.widths.length !== 3 && cfg.widths.length !== 4)
      throw new Error(`the CNN takes three or four widths (conv1, conv2[, conv3], linear), got widths=${cfg.widths.join(",")}. Fix: e.g. ?widths=16,32,128.`);
    model = cnn(cfg.widths, device);
  } else {
    const sizes = [784, ...cfg.hidden, 10];
    const layers: wg.nn.Module[] = [];
    sizes.slice(1).forEach((out, i) => {
      layers.push(new wg.nn.Linear(sizes[i], out, { device }));
      if (i < sizes.length - 2) layers.push(new wg.nn.ReLU());
    });
    model = new wg.nn.Sequential(...layers);
  }
  opt = new wg.optim.Adam(model.parameters(), { lr: cfg.lr });
  $("filters-box").hidden = cfg.model !== "cnn";
}

/** Switch models between runs: a fresh model, and the curves start over. */
function selectModel(kind: string) {
  if (running || !data || (kind !== "mlp" && kind !== "cnn")) return;
  cfg.model = kind;
  for (const t of [...model!.parameters(), ...model!.buffers()]) t.dispose();
  Object.assign(state, { step: 0, epoch: 0, losses: [], accuracies: [], examplesPerSecond: 0, filters: [] });
  epochIter?.return?.(); // releases the current batch and the epoch's permutation
  epochIter = null;
  buildModel(state.device as "webgpu" | "cpu");
  render();
}

/** Each 3x3 filter of the first conv layer as a tiny image, scaled to its own range. */
async function drawFilters() {
  if (cfg.model !== "cnn") return;
  const w = model!.parameters()[0]; // [c1, 1, 3, 3]
  const [c1, , kh, kw] = w.shape;
  const values = Array.from(await w.data());
  state.filters = Array.from({ length: c1 }, (_, f) => values.slice(f * kh * kw, (f + 1) * kh * kw));
  $("filters").replaceChildren(...state.filters.map((v) => {
    const c = document.createElement("canvas");
    c.width = kw;
    c.height = kh;
    const lo = Math.min(...v), hi = Math.max(...v);
    const img = c.getContext("2d")!.createImageData(kw, kh);
    v.forEach((x, p) => {
      const g = Math.round((255 * (x - lo)) / (hi - lo || 1));
      img.data.set([g, g, g, 255], 4 * p);
    });
    c.getContext("2d")!.putImageData(img, 0, 0);
    return c;
  }));
}

/** The next training batch; each pass over the loader is an epoch in a fresh order. The previous batch is released here. */
function nextBatch(): wg.data.Batch {
  for (;;) {
    epochIter ??= loader![Symbol.iterator]();
    const r = epochIter.next();
    if (!r.done) return r.value;
    epochIter = null;
    state.epoch++;
  }
}

async function evaluate() {
  // The first evalSize test examples, as views of the test tensors (no copy); all of them: the split itself.
  const all = data!.test;
  const n = Math.min(cfg.evalSize, all.labels.shape[0]);
  const test = n < all.labels.shape[0] ? { images: all.images.slice(0, 0, n), labels: all.labels.slice(0, 0, n) } : all;
  let correct = 0;
  let guesses: Int32Array | null = null;
  model!.eval();
  for (const b of wg.data.batches(test, { batchSize: 500 })) {
    const pred = wg.tidy(() => wg.noGrad(() => model!.forward(b.x).argmax(1)));
    const hits = wg.tidy(() => pred.eq(b.y).sum());
    correct += await hits.item();
    if (!guesses) guesses = (await pred.data()) as Int32Array;
    pred.dispose();
    hits.dispose();
  }
  model!.train();
  if (test !== all) [test.images, test.labels].forEach((t) => t.dispose());
  state.accuracies.push({ x: state.step, y: correct / n });
  drawGrid(guesses!.subarray(0, SHOWN));
  await drawFilters();
}

function drawGrid(guesses: Int32Array) {
  const grid = $("grid");
  const { pixels, labels } = shown!;
  const classes = data!.classes;
  grid.replaceChildren();
  guesses.forEach((g, i) => {
    const truth = labels[i];
    const cell = document.createElement("div");
    cell.className = `sample ${g === truth ? "right" : "wrong"}`;
    const c = document.createElement("canvas");
    c.width = c.height = 28;
    const img = c.getContext("2d")!.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = 255 - Math.round(255 * pixels[i * 784 + p]);
      img.data.set([v, v, v, 255], 4 * p);
    }
    c.getContext("2d")!.putImageData(img, 0, 0);
    const label = document.createElement("div");
    label.textContent = g === truth ? classes[g] : `${classes[g]} (is ${classes[truth]})`;
    cell.append(c, label);
    grid.append(cell);
  });
}

async function trainLoop() {
  if (state.step === 0 && state.accuracies.length === 0) await evaluate(); // where chance puts an untrained model
  let seen = 0;
  let t0 = performance.now();
  while (running && state.step < cfg.steps) {
    const b = nextBatch();
    const loss = wg.tidy(() => {
      opt!.zeroGrad();
      const l = wg.nn.functional.crossEntropy(model!.forward(b.x), b.y);
      l.backward();
      opt!.step();
      return l;
    });
    state.step++;
    seen += b.x.shape[0];
    if (state.step % cfg.logEvery === 0 || state.step === cfg.steps) {
      state.losses.push({ x: state.step, y: await loss.item() }); // the only readback in a run of steps
      const t1 = performance.now();
      state.examplesPerSecond = (1000 * seen) / (t1 - t0);
      seen = 0;
      t0 = t1;
    }
    loss.dispose();
    if (state.step % cfg.evalEvery === 0 || state.step === cfg.steps) await evaluate();
    if (state.step % cfg.logEvery === 0) {
      render();
      await new Promise((r) => setTimeout(r, 0)); // let the page repaint and take clicks
    }
  }
  running = false;
  if (state.step >= cfg.steps) setStatus(`done: ${state.step} steps`, "done");
  else setStatus("stopped", "stopped");
  render();
}

function start() {
  if (running || !data) return;
  running = true;
  setStatus("training…", "training");
  render();
  trainLoop().catch(fail);
}

function fail(e: unknown) {
  running = false;
  state.error = (e as Error).message;
  setStatus("stopped by an error", "error");
  showError($("notice"), `Training stopped: ${state.error}`);
  render();
}

async function boot(device: "webgpu" | "cpu") {
  const { adapterInfo } = await wg.init({ device });
  state.device = device;
  const name = [adapterInfo.vendor, adapterInfo.architecture].filter(Boolean).join(" ");
  const extra = adapterInfo.description && adapterInfo.description !== name ? ` (${adapterInfo.description})` : "";
  state.adapter = device === "webgpu" ? `${name}${extra}` + (adapterInfo.emulated ? ", a CPU emulation of a GPU" : "") : "CPU backend (plain JavaScript)";
  $("adapter").textContent = `adapter: ${state.adapter}`;
  setStatus("loading Fashion-MNIST…", "loading");
  const status = await (await fetch("data/status.json")).json().catch(() => ({ missing: [] }));
  if (status.missing?.length)
    throw new Error(`the server has no Fashion-MNIST files in ${status.dir} (missing ${status.missing.join(", ")}). Install Debian's dataset-fashion-mnist, or start the demo with --data DIR.`);
  // The four IDX files the demo server serves under data/, as tensors on the page's device.
  data = await wg.data.fashionMnist({ baseUrl: "data", device });
  loader = wg.data.batches(data.train, { batchSize: cfg.batch, shuffle: true, seed: 1 });
  shown = await firstTestImages(data);
  buildModel(device);
  setStatus(`ready: ${data.train.labels.shape[0].toLocaleString()} training and ${data.test.labels.shape[0].toLocaleString()} test images`, "ready");
  $("toggle").onclick = () => (running ? (running = false) : start());
  const select = $("model") as HTMLSelectElement;
  select.value = cfg.model;
  select.onchange = () => selectModel(select.value);
  render();
  if (cfg.autostart) start();
}

/** The first SHOWN test images and labels on the host (one readback each), for the grid. */
async function firstTestImages(d: wg.data.FashionMnist) {
  const [x, y] = [d.test.images.slice(0, 0, SHOWN), d.test.labels.slice(0, 0, SHOWN)];
  const out = { pixels: (await x.data()) as Float32Array, labels: (await y.data()) as Int32Array };
  x.dispose();
  y.dispose();
  return out;
}

async function main() {
  render();
  const forced = q.get("device");
  if (forced === "cpu") return boot("cpu");
  const gpu = await webgpuStatus();
  if (gpu.ok) return boot("webgpu");
  $("adapter").textContent = "no WebGPU adapter";
  setStatus("WebGPU unavailable", "starting");
  showNoWebgpu($("notice"), gpu.reason, () => {
    $("notice").hidden = true;
    boot("cpu").catch(fail);
  });
}

main().catch(fail);
