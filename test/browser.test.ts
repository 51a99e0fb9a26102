/**
 * The browser build in a real headless Chromium (Debian's, driven by playwright-core) on its
 * WebGPU adapter: op parity in the page, the demo training, and the page without WebGPU.
 * Server and browser are started here, on loopback, and stopped at the end.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { serveDemo, type DemoServer } from "../src/cli/demo-server.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--enable-unsafe-webgpu", "--disable-quic", "--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let server: DemoServer;
let browser: Browser;

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: run bash scripts/setup.sh (installs Debian's chromium)`).toBe(true);
  execFileSync(process.execPath, ["scripts/build.mjs", "--demo"], { stdio: "pipe" });
  server = await serveDemo({ root: "dist/demo", dataDir: "/usr/share/datasets/fashion-mnist" });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Ways a page can find itself without WebGPU, simulated before any page script runs. */
const WITHOUT_WEBGPU = {
  "no navigator.gpu": () => Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined }),
  "no adapter": () => {
    const gpu = (navigator as Navigator & { gpu: GPU }).gpu;
    gpu.requestAdapter = async () => null;
  },
  "an insecure context": () => Object.defineProperty(window, "isSecureContext", { get: () => false }),
};
type Without = keyof typeof WITHOUT_WEBGPU;

/** A page whose uncaught errors, and requests that fail (a missing favicon), fail the test. */
async function open(path: string, without?: Without): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  if (without) await context.addInitScript(WITHOUT_WEBGPU[without]);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  await page.goto(server.url + path);
  return { page, errors };
}

test("op parity: matmul, softmax, elementwise and reductions match the CPU backend inside the page", async () => {
  const { page, errors } = await open("selftest.html");
  await page.waitForFunction(() => (window as unknown as { selftest?: unknown }).selftest, undefined, { timeout: 120_000 });
  const result = await page.evaluate(() => (window as unknown as { selftest: { ok: boolean; adapter: { architecture: string; vendor: string }; cases: { name: string; ok: boolean; forwardError: number; backwardError: number }[] } }).selftest);
  console.log(`browser adapter: ${result.adapter.vendor} ${result.adapter.architecture}`);
  for (const c of result.cases) expect(c.ok, `${c.name}: forward ${c.forwardError}, backward ${c.backwardError}`).toBe(true);
  expect(result.cases.length).toBeGreaterThanOrEqual(12);
  expect(result.ok).toBe(true);
  expect(errors).toEqual([]);
  await page.context().close();
}, 180_000);

test("the demo trains a few hundred steps: the loss falls and accuracy rises far above chance", async () => {
  const { page, errors } = await open("?steps=300&batch=64&hidden=64&evalEvery=100&evalSize=1000&logEvery=10");
  await page.waitForFunction(() => {
    const s = (window as unknown as { demo?: { state: { phase: string } } }).demo?.state.phase;
    return s === "done" || s === "error";
  }, undefined, { timeout: 300_000, polling: 500 });
  const state = await page.evaluate(() => (window as unknown as { demo: { state: { phase: string; device: string; error: string; losses: { y: number }[]; accuracies: { y: number }[]; examplesPerSecond: number } } }).demo.state);
  expect(state.error).toBe("");
  expect(state.phase).toBe("done");
  expect(state.device).toBe("webgpu");
  const first = state.losses.slice(0, 3).reduce((s, l) => s + l.y, 0) / 3;
  const last = state.losses.slice(-5).reduce((s, l) => s + l.y, 0) / 5;
  expect(last).toBeLessThan(0.6 * first);
  const acc = state.accuracies.map((a) => a.y);
  expect(acc.length).toBe(4); // before training, then every 100 steps
  expect(acc[0]).toBeLessThan(0.3);
  expect(acc[acc.length - 1]).toBeGreaterThan(0.65);
  expect(acc[acc.length - 1]).toBeGreaterThan(acc[1] - 0.02);
  expect(state.examplesPerSecond).toBeGreaterThan(0);
  expect(await page.locator("#grid .sample").count()).toBe(24);
  expect(await page.locator("#s-acc").textContent()).toMatch(/%$/);
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: "test-results/demo-trained.png", fullPage: true });
  console.log(`browser demo: loss ${first.toFixed(3)} → ${last.toFixed(3)}, accuracy ${acc.map((a) => a.toFixed(3)).join(" → ")}, ${Math.round(state.examplesPerSecond)} examples/s`);
  expect(errors).toEqual([]);
  await page.context().close();
}, 360_000);

test("the model selector trains the CNN and shows its first layer's filters; switching back to the MLP hides them", async () => {
  const { page, errors } = await open("?model=cnn&widths=4,8,16&steps=40&batch=16&evalEvery=40&evalSize=200&logEvery=10");
  await page.waitForFunction(() => ["done", "error"].includes((window as unknown as { demo?: { state: { phase: string } } }).demo?.state.phase ?? ""), undefined, { timeout: 300_000, polling: 500 });
  type Demo = { state: { phase: string; error: string; losses: { y: number }[]; filters: number[][] }; selectModel(k: string): void };
  const state = await page.evaluate(() => (window as unknown as { demo: Demo }).demo.state);
  expect(state.error).toBe("");
  expect(state.losses.length).toBe(4);
  expect(state.filters.length).toBe(4);
  expect(state.filters.every((f) => f.length === 9 && f.every(Number.isFinite))).toBe(true);
  expect(await page.locator("#filters canvas").count()).toBe(4);
  expect(await page.locator("#filters-box").isVisible()).toBe(true);
  expect(await page.locator("#model").inputValue()).toBe("cnn");
  await page.evaluate(() => (window as unknown as { demo: Demo }).demo.selectModel("mlp"));
  expect(await page.locator("#filters-box").isVisible()).toBe(false);
  expect(await page.evaluate(() => (window as unknown as { demo: Demo }).demo.state.losses.length)).toBe(0);
  expect(errors).toEqual([]);
  await page.context().close();
}, 360_000);

test("the text page trains a tiny GPT on the corpus, draws both loss curves and generates text on request", async () => {
  const { page, errors } = await open("text.html?steps=6&batch=4&block=16&layers=1&embd=16&heads=2&evalEvery=3&tokens=24");
  // Ask for a sample before the first evaluation: it is drawn there, from the model being trained.
  await page.click("#generate");
  type Text = { phase: string; error: string; device: string; history: { trainLoss: number; valLoss: number }[]; samples: string[] };
  await page.waitForFunction(() => ["done", "error"].includes((window as unknown as { demo?: Text }).demo?.phase ?? ""), undefined, { timeout: 300_000, polling: 500 });
  const state = await page.evaluate(() => (window as unknown as { demo: Text }).demo);
  expect(state.error).toBe("");
  expect(state.device).toBe("webgpu");
  expect(state.history.length).toBe(2);
  // Untrained, a 113-character model starts near ln 113 ≈ 4.7; it must be a finite loss below that bound plus slack.
  expect(state.history.every((h) => Number.isFinite(h.trainLoss) && Number.isFinite(h.valLoss) && h.valLoss < 5.5)).toBe(true);
  expect(await page.locator("#status").textContent()).toMatch(/^step 6: train \d\.\d{3}, validation \d\.\d{3} nats\/char/);
  expect(state.samples.length).toBe(1);
  expect(state.samples[0].startsWith("The ")).toBe(true);
  expect(Array.from(state.samples[0]).length).toBe(4 + 24);
  expect(await page.locator("#sample").textContent()).toBe(state.samples[0]);
  expect(errors).toEqual([]);
  await page.context().close();
}, 360_000);

test("without WebGPU the page says so plainly and offers the CPU backend, which then trains", async () => {
  const { page, errors } = await open("?steps=20&batch=32&hidden=32&evalEvery=20&evalSize=200&logEvery=10", "no navigator.gpu");
  await page.locator("#use-cpu").waitFor({ timeout: 30_000 });
  expect(await page.locator("#notice").textContent()).toMatch(/WebGPU is not available on this page\. This browser has no WebGPU \(navigator\.gpu is missing\)/);
  expect(await page.locator("h1").textContent()).not.toMatch(/GPU/); // the page may run on the CPU backend
  expect(await page.locator("#adapter").textContent()).toBe("no WebGPU adapter");
  await page.locator("#use-cpu").click();
  await page.waitForFunction(() => (window as unknown as { demo: { state: { phase: string } } }).demo.state.phase === "done", undefined, { timeout: 120_000 });
  const state = await page.evaluate(() => (window as unknown as { demo: { state: { device: string; losses: unknown[] } } }).demo.state);
  expect(state.device).toBe("cpu");
  expect(state.losses.length).toBe(2);
  expect(errors).toEqual([]);
  await page.context().close();
}, 180_000);

test.each([
  ["no adapter", /This browser supports WebGPU, but it found no GPU adapter to run it on/],
  ["an insecure context", /not a secure context, and WebGPU exists only in one/],
] as [Without, RegExp][])("with %s, both pages explain it and offer the CPU backend", async (without, message) => {
  for (const path of ["", "bench.html"]) {
    const { page, errors } = await open(path, without);
    await page.locator("#use-cpu").waitFor({ timeout: 30_000 });
    expect(await page.locator("#notice").textContent()).toMatch(message);
    expect(errors).toEqual([]);
    await page.context().close();
  }
}, 120_000);

test("the benchmark page runs cases in the browser and reports sane figures", async () => {
  const { page, errors } = await open("bench.html?autorun=quick&filter=" + encodeURIComponent("^(matmul 128|elementwise-chain 100|readback 1M)$") + "&runs=2");
  await page.waitForFunction(() => ["done", "error"].includes((window as unknown as { bench: { state: { phase: string } } }).bench.state.phase), undefined, { timeout: 120_000 });
  const state = await page.evaluate(() => (window as unknown as { bench: { state: { phase: string; error: string; results: { caseId: string; medianMs: number; error?: string; counts: { launches: number; readbacks: number } | null }[] } } }).bench.state);
  expect(state.error).toBe("");
  expect(state.results.map((r) => r.caseId)).toEqual(["matmul 128", "elementwise-chain 100", "readback 1M"]);
  for (const r of state.results) {
    expect(r.error).toBeUndefined();
    expect(r.medianMs).toBeGreaterThan(0);
  }
  expect(state.results[0].counts!.launches).toBe(1);
  expect(state.results[1].counts!.launches, "the 100-op chain fuses (on by default)").toBe(1);
  expect(state.results[2].counts!.readbacks).toBe(1);
  expect(await page.locator("#results tbody tr").count()).toBe(3);
  // Units in the headers and the rate; a shape such as "128x128 @ 128x128" on one line.
  expect(await page.locator("#results thead th").allTextContents()).toEqual(expect.arrayContaining(["median ms", "min ms", "max ms"]));
  expect(await page.locator("#results tbody tr:nth-child(2) td:nth-child(6)").textContent()).toMatch(/µs\/op \(host [\d.]+ µs\)/);
  const shapeLines = await page.locator("#results tbody td:nth-child(2)").evaluateAll((tds) =>
    tds.map((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    }),
  );
  expect(shapeLines).toEqual([1, 1, 1]);
  expect(await page.locator("#download").isEnabled()).toBe(true);
  expect(errors).toEqual([]);
  await page.context().close();
}, 180_000);

test("the explain page draws the seeds' network as SVG; clicking a node shows its rule, shapes and values", async () => {
  const { page, errors } = await open("explain.html?example=network");
  const phase = () => page.evaluate(() => (window as unknown as { explainPage: { state: { phase: string; error: string; steps: number } } }).explainPage.state);
  await page.waitForFunction(() => ["done", "error"].includes((window as unknown as { explainPage?: { state: { phase: string } } }).explainPage?.state.phase ?? ""), undefined, { timeout: 120_000 });
  expect((await phase()).error).toBe("");
  expect((await phase()).steps).toBe(13);
  expect(await page.locator("#graph svg g.node").count()).toBe(13);
  expect(await page.locator("#graph svg path.edge").count()).toBe(12);
  const box = await page.locator("#graph #step-3").boundingBox();
  expect(box!.width).toBeGreaterThan(50); // laid out and rendered, not just in the DOM
  await page.locator("#graph #step-3").click();
  const detail = await page.locator("#detail").innerText();
  expect(detail).toContain("step 3: SigmoidBackward (the backward of sigmoid)");
  expect(detail).toContain("d σ(x)/dx = σ(x)(1 - σ(x))");
  expect(detail).toMatch(/local\s+0\.\d+/);
  expect(await page.locator("#graph #step-3.selected").count()).toBe(1);
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: "test-results/explain.png", fullPage: true });
  // A bad expression: the page says where, and nothing crashes.
  await page.fill("#expr", "(x @ W).relu(.sum()");
  await page.click("#run");
  await page.waitForFunction(() => (window as unknown as { explainPage: { state: { phase: string } } }).explainPage.state.phase === "error");
  expect(await page.locator("#notice").textContent()).toMatch(/expected an input name, a number or "\(" but found "\." \(at column 14\)/);
  expect(errors).toEqual([]);
  await page.context().close();
}, 180_000);
