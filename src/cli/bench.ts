/**
 * `webgrad bench`: the benchmark suite in bench/, with per-run WebGPU counts,
 * optionally side by side with TensorFlow.js's WebGPU backend (same adapter,
 * same process) or webgrad's own CPU backend. Progress goes to stderr, the
 * tables to stdout.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
// node.js, not index.js: it registers how Node reaches WebGPU (Dawn).
import * as wg from "../node.js";
import { dawnGpu, dawnRobustness } from "../platform/node.js";
import { dawnPacingStats } from "../platform/dawn-pacing.js";
import { webgpuBackend } from "../engine/device.js";
import { setUp, suite, type BenchCase } from "../../bench/cases.js";
import { installCounters } from "../../bench/counters.js";
import { leakWarnings, ratioTable, ratios, resultsTable } from "../../bench/report.js";
import { DEFAULT_OPTIONS, QUICK_OPTIONS, runSuite, type Library, type Measurement, type RunOptions } from "../../bench/runner.js";
import { webgradImpl, webgradLiveTensors } from "../../bench/webgrad-impl.js";
import { command, parseOptions, UsageError, withArgs } from "./registry.js";
import { SOAK_MODEL, soakTable, soakTraining, soakWithoutTidy, type Peak } from "../../bench/soak.js";

const USAGE = `usage: webgrad bench [options]

Time the benchmark cases (matmul, backward, elementwise, reductions, softmax,
an MLP training step, readback): warm-up runs, then timed runs that each end
with the GPU work awaited. Prints median/min/max, a rate, and what each timed
run asked of WebGPU (kernel launches, submits, buffers, bind groups,
pipelines, readbacks, writeBuffer calls), counted by wrapping the WebGPU
objects, the same way for every library.

  --filter REGEX     only the cases whose name matches (e.g. "matmul 512|mlp")
  --device D         webgpu (default) or cpu
  --compare LIST     also run the cases on tfjs (TensorFlow.js's webgpu backend, same
                     adapter), jax (jax-js's webgpu device, each case jit-compiled, same
                     adapter) and/or cpu (webgrad's CPU backend); comma-separated
                     (tfjs: from an installed webgrad, npm install @tensorflow/tfjs@4
                     @tensorflow/tfjs-backend-webgpu@4 first; jax: npm install
                     @jax-js/jax@0.1; a checkout has them)
  --quick            the small suite, fewer runs (${QUICK_OPTIONS.warmup} warm-up, ${QUICK_OPTIONS.runs} timed)
  --runs N           timed runs per case (default ${DEFAULT_OPTIONS.runs}; a slow case stops after
                     --budget seconds once ${DEFAULT_OPTIONS.minRuns} runs are done)
  --warmup N         untimed runs first (default ${DEFAULT_OPTIONS.warmup}, and at least
                     ${DEFAULT_OPTIONS.warmupMs} ms of them, so the JavaScript of fast cases is compiled)
  --budget S         seconds of timed runs per case (default ${DEFAULT_OPTIONS.budgetMs / 1e3})
  --force K=V,...    kernel variants, to time every path on one adapter (e.g. matmul=tiled,
                     reduce=threads; default: the adapter's choice)
  --profile CASE     instead of the suite: per-kernel GPU times (wg.profile) of one run
                     of the first case matching CASE, after one warm-up run
  --json FILE        also write every figure, the run options and the adapter to FILE
  --soak             instead of the suite: train the 784-256-128-10 MLP (Adam) for --steps
                     steps; print tensors, bytes in use and bytes pooled at steps 10, 100,
                     1,000 ... (exit 1 if they change after warm-up), then run --loop
                     forward/backward steps without tidy (exit 1 if memory keeps growing)
  --steps N          training steps of --soak (default 10000)
  --loop N           steps of the loop without tidy (default: --steps, at least 1000, so
                     that V8 collects a few times; under node --expose-gc it collects at
                     every check)
  --help             this text

SwiftShader (a CPU emulation of a GPU) measures host-side costs honestly; its
kernel times do not rank kernels the way a real GPU would.`;

const OPTIONS = {
  filter: { type: "string" },
  device: { type: "string", default: "webgpu" },
  compare: { type: "string" },
  quick: { type: "boolean", default: false },
  runs: { type: "string" },
  warmup: { type: "string" },
  budget: { type: "string" },
  profile: { type: "string" },
  force: { type: "string" },
  json: { type: "string" },
  soak: { type: "boolean", default: false },
  steps: { type: "string" },
  loop: { type: "string" },
  help: { type: "boolean", default: false },
} as const;


function number(name: string, v: string | undefined, min: number, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || x < min || (integer && !Number.isInteger(x)))
    throw new UsageError(`--${name} expects ${integer ? "an integer" : "a number"} >= ${min}, got "${v}".`);
  return x;
}

function regex(name: string, v: string): RegExp {
  try {
    return new RegExp(v, "i");
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
}

function variants(v: string): Record<string, string> {
  const pairs = v.split(",").map((kv) => kv.split("=").map((s) => s.trim()));
  if (pairs.some((p) => p.length !== 2 || !p[0] || !p[1])) throw new UsageError(`--force expects KERNEL=VARIANT pairs separated by commas, got "${v}".`);
  return Object.fromEntries(pairs);
}

function parse(argv: string[]) {
  const values = parseOptions(argv, OPTIONS);
  if (values.device !== "webgpu" && values.device !== "cpu") throw new UsageError(`--device must be webgpu or cpu, got "${values.device}".`);
  const compare = values.compare ? values.compare.split(",").map((s) => s.trim()) : [];
  for (const c of compare) if (c !== "tfjs" && c !== "jax" && c !== "cpu") throw new UsageError(`--compare takes tfjs, jax and/or cpu, got "${c}".`);
  if (values.device === "cpu" && compare.length) throw new UsageError("--compare needs --device webgpu (the comparisons are against webgrad on WebGPU).");
  const base = values.quick ? QUICK_OPTIONS : DEFAULT_OPTIONS;
  const runs = number("runs", values.runs, 1) ?? base.runs;
  const options: RunOptions = {
    warmup: number("warmup", values.warmup, 0) ?? base.warmup,
    // An explicit --warmup N means exactly N runs.
    warmupMs: values.warmup === undefined ? base.warmupMs : 0,
    runs,
    minRuns: Math.min(base.minRuns, runs),
    budgetMs: (number("budget", values.budget, 0, false) ?? base.budgetMs / 1e3) * 1e3,
  };
  return {
    help: values.help,
    device: values.device as "webgpu" | "cpu",
    compare: compare as ("tfjs" | "jax" | "cpu")[],
    quick: values.quick,
    filter: values.filter === undefined ? null : regex("filter", values.filter),
    profile: values.profile === undefined ? null : regex("profile", values.profile),
    force: values.force === undefined ? undefined : variants(values.force),
    json: values.json ?? null,
    soak: values.soak ? soakSteps(values.steps, values.loop) : null,
    options,
  };
}

function soakSteps(steps: string | undefined, loop: string | undefined) {
  const train = number("steps", steps, 1) ?? 10_000;
  return { train, loop: number("loop", loop, 1) ?? Math.max(train, 1000) };
}

/** One line per case on a pipe or log; redrawn in place on a terminal. */
function progressBar(cases: number) {
  const out = process.stderr;
  let last = "";
  return {
    update(s: { caseIndex: number; caseId: string; library: string; run: number }) {
      const filled = Math.round((24 * s.caseIndex) / cases);
      const line = `[${"#".repeat(filled)}${"-".repeat(24 - filled)}] ${s.caseIndex + 1}/${cases} ${s.caseId} (${s.library})`;
      // Cut to the terminal's width: a wrapped line cannot be redrawn with \r.
      if (out.isTTY) out.write(`\r${`${line}${s.run ? ` run ${s.run}` : ""}`.slice(0, (out.columns ?? 80) - 1)}\x1b[K`);
      else if (line !== last) out.write(`${line}\n`);
      last = line;
    },
    done: () => out.isTTY && out.write("\r\x1b[K"),
  };
}

type Args = ReturnType<typeof parse>;

async function profileCase(c: BenchCase, lib: Library, device: "webgpu" | "cpu"): Promise<void> {
  const inst = await setUp(lib.impl, c.spec);
  try {
    await inst.prepare?.();
    inst.record();
    await inst.finish();
    await inst.prepare?.();
    const report = await wg.profile(() => (inst.record(), inst.finish()), device);
    console.log(`profile of one run of "${c.id}" (${c.shape}) on webgrad ${device}:\n${wg.formatProfile(report)}`);
  } finally {
    inst.dispose();
  }
}

/** webgrad on the chosen device first (the base of the ratios), then what --compare asks for. */
async function libraries(args: Args): Promise<{ libs: Library[]; tfjsVersion: string | null; jaxVersion: string | null }> {
  const webgrad = (device: "webgpu" | "cpu"): Library => ({
    name: device === "webgpu" ? "webgrad" : "webgrad-cpu",
    impl: webgradImpl(device),
    liveTensors: () => webgradLiveTensors(device),
    gpuDevice: () => (device === "webgpu" ? (webgpuBackend() as { gpu?: GPUDevice } | null)?.gpu ?? null : null),
  });
  const libs = [webgrad(args.device)];
  if (args.compare.includes("cpu")) libs.push(webgrad("cpu"));
  const jaxVersion = args.compare.includes("jax") ? await addJax(libs) : null;
  if (!args.compare.includes("tfjs")) return { libs, tfjsVersion: null, jaxVersion };
  const gpu = dawnGpu();
  if (!gpu) throw new Error("--compare tfjs: webgrad is not on a Dawn WebGPU adapter, so there is none to share with TF.js.");
  const { loadTfjs } = await import("../../bench/tfjs-impl.js");
  const tfjs = await loadTfjs(gpu);
  libs.push({ name: "tfjs", impl: tfjs.impl, liveTensors: tfjs.liveTensors, gpuDevice: tfjs.gpuDevice });
  console.error(`compared with TensorFlow.js ${tfjs.version} (webgpu backend, same adapter, same process)`);
  return { libs, tfjsVersion: tfjs.version, jaxVersion };
}

/** jax-js on webgrad's Dawn GPU object (it makes its own device on the same adapter). */
async function addJax(libs: Library[]): Promise<string> {
  const gpu = dawnGpu();
  if (!gpu) throw new Error("--compare jax: webgrad is not on a Dawn WebGPU adapter, so there is none to share with jax-js.");
  const { loadJax } = await import("../../bench/jax-impl.js");
  const jax = await loadJax(gpu);
  libs.push({ name: "jax", impl: jax.impl, liveTensors: jax.liveTensors, gpuDevice: jax.gpuDevice });
  console.error(`compared with jax-js ${jax.version} (webgpu device, every case jit-compiled, same adapter, same process; it reports no live-array count, so its leak check reads 0)`);
  return jax.version;
}

function noMatch(option: string, re: RegExp, all: BenchCase[]): number {
  console.error(`webgrad bench: no case matches --${option} ${re}; the cases are:\n  ${all.map((c) => c.id).join("\n  ")}`);
  return 2;
}

export function runBench(argv: string[]): Promise<number> {
  return withArgs("bench", USAGE, argv, parse, (args) => runBenchWith(args, argv));
}

async function runBenchWith(args: ReturnType<typeof parse>, argv: string[]): Promise<number> {
  const all = suite(args.quick);
  const cases = args.filter ? all.filter((c) => args.filter!.test(c.id)) : all;
  if (!cases.length) return noMatch("filter", args.filter!, all);
  const profiled = args.profile && all.find((c) => args.profile!.test(c.id));
  if (args.profile && !profiled) return noMatch("profile", args.profile, all);

  const { adapterInfo } = await wg.init({ device: args.device, quiet: true, force: args.force });
  if (args.soak !== null) return runSoak(args.soak, args.device, adapterInfo);
  const emulated = adapterInfo.emulated ? ", emulated: kernel times do not rank kernels as a real GPU would" : "";
  const forced = args.force ? `; kernel variants forced: ${JSON.stringify(args.force)}` : "";
  // Every library in the run shares the Dawn instance, so the robustness setting holds for all of them.
  const robustness = args.device === "webgpu" && !dawnRobustness() ? "; Dawn's robustness pass off for every library (WEBGRAD_ROBUSTNESS=1 keeps it)" : "";
  // Pacing applies to webgrad's own waits: the other libraries' waits spin as Dawn polls.
  const pacing = args.device === "webgpu" && dawnPacingStats().installed ? "; Dawn's polling paced during webgrad's waits only (WEBGRAD_DAWN_POLL=spin: as the others)" : "";
  console.error(`webgrad bench on ${args.device}: ${adapterInfo.description} (vendor ${adapterInfo.vendor}, architecture ${adapterInfo.architecture}${emulated}${forced}${robustness}${pacing})`);
  if (args.device === "webgpu") installCounters();
  const { libs, tfjsVersion, jaxVersion } = await libraries(profiled ? { ...args, compare: [] } : args);
  if (profiled) {
    await profileCase(profiled, libs[0], args.device);
    return 0;
  }

  const bar = progressBar(cases.length);
  const loadBefore = loadavg();
  const t0 = performance.now();
  const results = await runSuite(cases, libs, args.options, bar.update);
  bar.done();
  // The machine may be shared: other processes slow an emulated GPU down, so say how busy it was.
  const run = { argv, seconds: (performance.now() - t0) / 1e3, load: { before: loadBefore, after: loadavg() }, adapterInfo, tfjsVersion, jaxVersion };
  return report(results, libs, cases.length, args, run);
}

interface RunInfo {
  argv: string[];
  seconds: number;
  load: { before: number[]; after: number[] };
  adapterInfo: wg.AdapterInfo;
  tfjsVersion: string | null;
  jaxVersion: string | null;
}

/** The tables on stdout and, with --json, every figure in a file; exit code 1 when a case failed. */
function report(results: Measurement[], libs: Library[], cases: number, args: Args, run: RunInfo): number {
  const base = libs[0].name;
  const rs = ratios(results, base, libs.slice(1).map((l) => l.name));
  const load = { before: run.load.before.map((x) => +x.toFixed(2)), after: run.load.after.map((x) => +x.toFixed(2)) };
  console.log(resultsTable(results));
  if (rs.length) console.log(`\nmedian time ratios (below 1: ${base} is faster)\n${ratioTable(rs, base)}`);
  for (const w of leakWarnings(results)) console.log(w);
  const errors = results.filter((m) => m.error);
  for (const m of errors) console.log(`error: ${m.caseId} on ${m.library}: ${m.error}`);
  console.log(`\n${cases} cases x ${libs.length} libraries in ${run.seconds.toFixed(0)} s; counts are per timed run, after ${args.options.warmup} warm-up run(s)${args.options.warmupMs ? ` and at least ${args.options.warmupMs} ms of them` : ""}.`);
  console.log(`load average (1, 5, 15 min) before ${load.before.join(", ")}, after ${load.after.join(", ")} on ${cpus().length} CPUs.`);
  if (args.json) {
    const doc = {
      tool: "webgrad bench", date: new Date().toISOString(), argv: run.argv, seconds: run.seconds,
      node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model, load,
      device: args.device, adapter: run.adapterInfo, force: args.force ?? null, tfjs: run.tfjsVersion, jax: run.jaxVersion, options: args.options, quick: args.quick,
      results, ratios: rs,
    };
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }
  return errors.length ? 1 : 0;
}

/** --soak: memory at checkpoints of a long training run, then a loop without tidy; exit 1 on drift or growth. */
async function runSoak(steps: { train: number; loop: number }, device: "webgpu" | "cpu", adapter: wg.AdapterInfo): Promise<number> {
  console.error(`webgrad bench --soak on ${device}: ${adapter.description} (vendor ${adapter.vendor}, architecture ${adapter.architecture}); ${steps.train} training steps`);
  const train = await soakTraining(steps.train, device, (r) => console.error(`step ${r.step}: ${r.tensors} tensors, ${r.bytesInUse} bytes in use, ${r.bytesPooled} pooled, ${r.seconds.toFixed(1)} s`));
  console.log(`soak: ${SOAK_MODEL.sizes.join("-")} MLP, Adam, batch ${SOAK_MODEL.batch}, each step in wg.tidy, on ${device} (${adapter.description})\n${soakTable(train.rows)}`);
  for (const d of train.drift) console.log(`drift: ${d}`);
  console.log(train.drift.length ? "memory changed after warm-up" : `memory identical at every checkpoint from step ${train.rows[0].step}`);
  const t0 = performance.now();
  const gc = (globalThis as { gc?: () => void }).gc;
  const loop = await soakWithoutTidy(steps.loop, device, gc);
  const peaks = (p: Peak) => `${p.tensors} tensors, ${p.bytesInUse} bytes in use, ${p.bytesPooled} pooled`;
  console.log(`\nwithout tidy: ${loop.iterations} forward/backward steps whose tensors are only dropped (${gc ? "gc() at every check" : "V8 collects on its own schedule"}), ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  console.log(`peak over the first half: ${peaks(loop.early)}\npeak over the second half: ${peaks(loop.late)}\n${loop.bounded ? "bounded" : "GROWING: the second half's peak is over 1.5 times the first half's"}`);
  return train.drift.length || !loop.bounded ? 1 : 0;
}

command("bench", "time the benchmark cases, with WebGPU launch counts; --compare tfjs / jax for TensorFlow.js / jax-js side by side", runBench);
