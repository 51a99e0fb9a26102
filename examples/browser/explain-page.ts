/**
 * The explain page: an expression over named inputs (or one of the seeds'
 * worked examples) is parsed (never eval'd), run on the page's device, and
 * shown as wg.explain's SVG; clicking a node shows its rule, shapes and values.
 * window.explainPage.state is what the browser test reads.
 */
import * as wg from "../../src/browser.js";
import type { ExplainStep } from "../../src/browser.js";
import { evaluateExpression } from "../../src/autograd/explain-parse.js";
import { makeInputs } from "../../src/autograd/explain-inputs.js";
import { formatValues, forwardText, sendsText } from "../../src/autograd/explain-table.js";
import { showError, showNoWebgpu, webgpuStatus } from "./gpu-check.js";

const EXAMPLES: Record<string, { title: string; expr: string; inputs: string }> = {
  square: { title: "y = x² at x = 3: dy/dx = 6", expr: "x ** 2", inputs: "x = 3" },
  sum: { title: "L = x² + 3y at (2, 4): gradient (4, 3)", expr: "x ** 2 + 3 * y", inputs: "x = 2; y = 4" },
  chain: { title: "z = (x + y)² at (2, 3): local and upstream gradients, 10 and 10", expr: "(x + y) ** 2", inputs: "x = 2; y = 3" },
  network: { title: "the ReLU/sigmoid network: (relu(x W) · wout) → sigmoid → squared error", expr: "((x @ W).relu() @ wout).sigmoid().sub(t) ** 2", inputs: "x = [1, 2] const; t = [1] const; W ~ 2x3; wout ~ 3" },
  linear: { title: "a linear layer Y = XWᵀ + b, L = ΣY: grad b = batch size, grad W = column sums of X", expr: "(X @ W.T + b).sum()", inputs: "X ~ 5x3 const; W ~ 4x3; b ~ 4" },
  softmax: { title: "softmax regression with a squared loss", expr: "(x @ W).softmax(-1).sub(y).pow(2).sum(1).mean()", inputs: "x ~ 4x5 const; W ~ 5x3; y = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]] const" },
};

interface State {
  phase: "loading" | "ready" | "running" | "done" | "error";
  device: string;
  error: string;
  steps: number;
  selected: number | null;
}
const state: State = { phase: "loading", device: "", error: "", steps: 0, selected: null };
(window as unknown as { explainPage: { state: State } }).explainPage = { state };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let steps: ExplainStep[] = [];

function dl(rows: [string, string][]): HTMLElement {
  const list = document.createElement("dl");
  for (const [k, v] of rows) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v;
    list.append(dt, dd);
  }
  return list;
}

function showDetail(n: number): void {
  const s = steps[n - 1];
  if (!s) return;
  state.selected = n;
  document.querySelectorAll("#graph g.node.selected").forEach((g) => g.classList.remove("selected"));
  document.querySelector(`#graph #step-${n}`)?.classList.add("selected");
  const detail = $("detail");
  const h = document.createElement("h3");
  h.textContent = `step ${s.step}: ${s.node}${s.kind === "op" ? ` (the backward of ${s.op})` : ""}`;
  const rows: [string, string][] = [
    ["forward", forwardText(s)],
    ["saved", s.saved.join(", ") || "nothing"],
    ["gets g", `${JSON.stringify(s.upstream)} from ${s.from.length ? `step ${s.from.join(", ")}` : "the seed"}`],
  ];
  if (s.value) rows.push([s.kind === "leaf" ? "value" : "out", formatValues(s.value)]);
  if (s.upstreamValue) rows.push(["g", formatValues(s.upstreamValue)]);
  if (s.kind === "leaf") rows.push(["into", `${s.name ?? "the leaf"}.grad`]);
  const parts: HTMLElement[] = [h, dl(rows)];
  for (const e of s.inputs) {
    const r: [string, string][] = [["input", `${e.name} ${JSON.stringify(e.shape)}`], ["rule", e.rule ?? "no gradient"], ["sends", sendsText(e)]];
    if (e.local) r.push(["local", formatValues(e.local)]);
    if (e.sent) r.push(["sent", formatValues(e.sent)]);
    const box = dl(r);
    box.className = "edge";
    parts.push(box);
  }
  detail.replaceChildren(...parts);
}

async function run(): Promise<void> {
  state.phase = "running";
  state.error = "";
  $("notice").hidden = true;
  $("status").textContent = "running…";
  try {
    const inputs = makeInputs($<HTMLInputElement>("inputs").value, 3);
    const out = evaluateExpression($<HTMLInputElement>("expr").value, inputs);
    const e = await wg.explain(out, { values: true, names: inputs, maxValues: 24 });
    steps = e.steps;
    $("graph").innerHTML = e.toSvg(); // built by explain-graph.ts, every text escaped
    $("table").textContent = e.toString();
    state.steps = steps.length;
    state.phase = "done";
    $("status").textContent = `${steps.length} steps on ${state.device}`;
    showDetail(1);
  } catch (err) {
    state.error = (err as Error).message;
    state.phase = "error";
    $("status").textContent = "";
    showError($("notice"), state.error);
    $("notice").style.whiteSpace = "pre";
  }
}

function pick(key: string): void {
  const ex = EXAMPLES[key];
  if (!ex) return;
  $<HTMLSelectElement>("example").value = key;
  $<HTMLInputElement>("expr").value = ex.expr;
  $<HTMLInputElement>("inputs").value = ex.inputs;
}

async function start(device: "webgpu" | "cpu"): Promise<void> {
  const { adapterInfo } = await wg.init({ device, quiet: true });
  state.device = device;
  $("adapter").textContent = device === "webgpu" ? `adapter: ${[adapterInfo.vendor, adapterInfo.architecture].filter(Boolean).join(" ")}` : "CPU backend";
  const select = $<HTMLSelectElement>("example");
  for (const [key, ex] of Object.entries(EXAMPLES)) select.append(new Option(ex.title, key));
  select.onchange = () => (pick(select.value), void run());
  $<HTMLButtonElement>("run").onclick = () => void run();
  $("graph").addEventListener("click", (ev) => {
    const g = (ev.target as Element).closest("g.node");
    if (g) showDetail(Number(g.getAttribute("data-step")));
  });
  const q = new URLSearchParams(location.search);
  pick(q.get("example") ?? "network");
  if (q.get("expr")) $<HTMLInputElement>("expr").value = q.get("expr")!;
  if (q.get("inputs")) $<HTMLInputElement>("inputs").value = q.get("inputs")!;
  $<HTMLButtonElement>("run").disabled = false;
  state.phase = "ready";
  await run();
}

async function main(): Promise<void> {
  const gpu = await webgpuStatus();
  if (gpu.ok) return start("webgpu");
  $("adapter").textContent = "no WebGPU adapter";
  showNoWebgpu($("notice"), gpu.reason, () => void start("cpu"));
}

main().catch((e) => {
  state.phase = "error";
  state.error = (e as Error).message;
  showError($("notice"), `The explain page failed: ${state.error}`);
});
