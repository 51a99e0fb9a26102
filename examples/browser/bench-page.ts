/**
 * The benchmark runner in the browser: bench/'s cases, runner and counters on the page's
 * WebGPU device (or the CPU backend), a table, a bar chart of medians, and the JSON to download.
 * URL parameters for tests: autorun=quick|full, filter=REGEX, runs=N. State on window.bench.
 */
import * as wg from "../../src/browser.js";
import { suite, type BenchCase } from "../../bench/cases.js";
import { DEFAULT_OPTIONS, QUICK_OPTIONS, runSuite, type Measurement } from "../../bench/runner.js";
import { installCounters } from "../../bench/counters.js";
import { rate } from "../../bench/report.js";
import { webgradImpl, webgradLiveTensors } from "../../bench/webgrad-impl.js";
import { showError, showNoWebgpu, webgpuStatus } from "./gpu-check.js";

const q = new URLSearchParams(location.search);
const $ = (id: string) => document.getElementById(id)!;
const state = { phase: "starting", device: "" as "" | "webgpu" | "cpu", adapter: "", results: [] as Measurement[], error: "" };
(window as unknown as { bench: unknown }).bench = { state };

function drawBars(results: Measurement[]): void {
  const canvas = $("bars") as HTMLCanvasElement;
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 900;
  const rows = results.filter((r) => Number.isFinite(r.medianMs));
  const h = Math.max(120, 26 * rows.length + 40);
  canvas.style.height = `${h}px`;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  const g = canvas.getContext("2d")!;
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#1d2330";
  g.fillText("median ms per run (log scale)", 200, 16);
  const left = 200, right = w - 200;
  const max = Math.max(1, ...rows.map((r) => r.medianMs));
  const min = Math.min(0.1, ...rows.map((r) => r.medianMs));
  const x = (v: number) => left + ((Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min) || 1)) * (right - left);
  rows.forEach((r, i) => {
    const y = 28 + i * 26;
    g.fillStyle = "#1d2330";
    g.fillText(r.caseId, 6, y + 14);
    g.fillStyle = "#5b6bd6";
    g.fillRect(left, y + 3, Math.max(2, x(r.medianMs) - left), 16);
    g.fillStyle = "#444";
    g.fillText(`${r.medianMs.toFixed(r.medianMs < 10 ? 2 : 0)} ms  ${rate(r)}`, x(r.medianMs) + 6, y + 15);
  });
}

function addRow(m: Measurement): void {
  const tr = document.createElement("tr");
  const c = m.counts;
  const cells = [m.caseId, m.shape, m.medianMs, m.minMs, m.maxMs].map((v) => (typeof v === "number" ? v.toFixed(v < 10 ? 2 : 1) : v));
  cells.push(m.error ? `error: ${m.error}` : rate(m));
  cells.push(...(c ? [c.launches, c.submits, c.buffers, c.bindGroups, c.readbacks].map(String) : ["-", "-", "-", "-", "-"]));
  tr.replaceChildren(...cells.map((v) => Object.assign(document.createElement("td"), { textContent: String(v) })));
  $("results").querySelector("tbody")!.append(tr);
}

async function run(quick: boolean): Promise<void> {
  for (const id of ["quick", "full", "download"]) ($(id) as HTMLButtonElement).disabled = true;
  $("results").querySelector("tbody")!.replaceChildren();
  state.results = [];
  state.phase = "running";
  const filter = q.get("filter") ? new RegExp(q.get("filter")!) : null;
  const cases: BenchCase[] = suite(quick).filter((c) => !filter || filter.test(c.id));
  const options = { ...(quick ? QUICK_OPTIONS : DEFAULT_OPTIONS), ...(q.get("runs") ? { runs: Number(q.get("runs")) } : {}) };
  const device = state.device as "webgpu" | "cpu";
  const lib = { name: device === "webgpu" ? "webgrad" : "webgrad-cpu", impl: webgradImpl(device), liveTensors: () => webgradLiveTensors(device) };
  let done = 0;
  for (const c of cases) {
    $("status").textContent = `running ${c.id} (${done + 1}/${cases.length})…`;
    await new Promise((r) => setTimeout(r, 0)); // let the page paint between cases
    const [m] = await runSuite([c], [lib], options);
    state.results.push(m);
    addRow(m);
    drawBars(state.results);
    done++;
  }
  $("status").textContent = `done: ${cases.length} cases on ${state.adapter}`;
  state.phase = "done";
  for (const id of ["quick", "full", "download"]) ($(id) as HTMLButtonElement).disabled = false;
}

function download(): void {
  const doc = { adapter: state.adapter, device: state.device, userAgent: navigator.userAgent, date: new Date().toISOString(), results: state.results };
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
  a.download = "webgrad-bench.json";
  a.click();
  URL.revokeObjectURL(a.href);
}

async function boot(device: "webgpu" | "cpu"): Promise<void> {
  const { adapterInfo } = await wg.init({ device });
  if (device === "webgpu") installCounters();
  state.device = device;
  state.adapter = device === "webgpu" ? [adapterInfo.vendor, adapterInfo.architecture].filter(Boolean).join(" ") + (adapterInfo.emulated ? " (a CPU emulation of a GPU: its timings do not rank kernels as a real GPU would)" : "") : "CPU backend (plain JavaScript)";
  $("adapter").textContent = `adapter: ${state.adapter}`;
  state.phase = "ready";
  ($("quick") as HTMLButtonElement).onclick = () => run(true).catch(fail);
  ($("full") as HTMLButtonElement).onclick = () => run(false).catch(fail);
  ($("download") as HTMLButtonElement).onclick = download;
  for (const id of ["quick", "full"]) ($(id) as HTMLButtonElement).disabled = false;
  const auto = q.get("autorun");
  if (auto) await run(auto !== "full");
}

function fail(e: unknown): void {
  state.error = (e as Error).message;
  state.phase = "error";
  showError($("notice"), `The benchmark stopped: ${state.error}`);
}

async function main(): Promise<void> {
  if (q.get("device") === "cpu") return boot("cpu");
  const gpu = await webgpuStatus();
  if (gpu.ok) return boot("webgpu");
  $("adapter").textContent = "no WebGPU adapter";
  showNoWebgpu($("notice"), gpu.reason, () => {
    $("notice").hidden = true;
    boot("cpu").catch(fail);
  });
}

main().catch(fail);
