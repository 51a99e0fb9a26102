/**
 * The runner: set a case up, warm it up, time runs that each end with the
 * device's work awaited, and count what each timed run asked of WebGPU.
 * Cases are interleaved across libraries (case 1 on each, then case 2 ...),
 * so a compared pair runs under the same machine conditions.
 */
import { setUp, type BenchCase, type Impl, type Instance } from "./cases.js";
import { countersInstalled, peakBytes, resetPeak, since, snapshot, type Counts } from "./counters.js";

export interface Library {
  /** "webgrad" (on WebGPU), "webgrad-cpu", "tfjs". */
  name: string;
  impl: Impl;
  liveTensors(): number;
  /** The GPUDevice the library made its buffers on (for the peak-memory figure); absent off WebGPU. */
  gpuDevice?(): GPUDevice | null;
}

export interface RunOptions {
  /** Untimed runs first (compiles pipelines, fills caches and pools). */
  warmup: number;
  /**
   * Keep warming up past `warmup` runs until this much time is spent (within the budget): a fast,
   * host-bound case (a 100-op chain, 5 ms) needs hundreds of calls before V8 has compiled the
   * library's code, which 2 runs are not (webgrad's chain: 58 µs/op host after 2, ~6 after 40).
   * Every library gets the same.
   */
  warmupMs?: number;
  /** Timed runs, unless the budget cuts them short. */
  runs: number;
  /** Stop timing once this much time is spent and minRuns are done; warm-up stops after one run over it. */
  budgetMs: number;
  minRuns: number;
}

export interface Measurement {
  caseId: string;
  library: string;
  shape: string;
  runs: number;
  timesMs: number[];
  /** Per timed run: the synchronous part (JS and encoding) of timesMs. */
  hostMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  medianHostMs: number;
  gflops?: number;
  gbps?: number;
  usPerOp?: number;
  hostUsPerOp?: number;
  examplesPerSec?: number;
  /** Per timed run; null when the WebGPU counters are not installed (a CPU-only session). */
  counts: Counts | null;
  /** The counts differed between timed runs: `counts` is the last run's and `countsRange` the min and max. */
  countsRange?: { min: Counts; max: Counts };
  /** Live tensors after the timed runs minus before: non-zero means the case leaks. */
  leakedTensors: number;
  /**
   * The most bytes of GPU buffers the library's device held at once during the timed runs
   * (inputs, parameters, pooled and cached buffers included); absent off WebGPU.
   */
  peakBytes?: number;
  error?: string;
}

export const DEFAULT_OPTIONS: RunOptions = { warmup: 2, warmupMs: 500, runs: 10, budgetMs: 10_000, minRuns: 3 };
export const QUICK_OPTIONS: RunOptions = { warmup: 2, runs: 3, budgetMs: 2_000, minRuns: 2 };

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Figures from the timed runs: the rates use the medians. */
export function summarize(c: BenchCase, library: string, timesMs: number[], hostMs: number[], perRun: Counts[], leakedTensors: number): Measurement {
  const med = median(timesMs);
  const s = med / 1e3;
  const m: Measurement = {
    caseId: c.id, library, shape: c.shape, runs: timesMs.length, timesMs, hostMs,
    medianMs: med, minMs: Math.min(...timesMs), maxMs: Math.max(...timesMs), medianHostMs: median(hostMs),
    counts: perRun.length ? perRun[perRun.length - 1] : null,
    leakedTensors,
  };
  if (c.flops) m.gflops = c.flops / s / 1e9;
  if (c.bytes && !c.flops) m.gbps = c.bytes / s / 1e9;
  if (c.ops) {
    m.usPerOp = (med * 1e3) / c.ops;
    m.hostUsPerOp = (m.medianHostMs * 1e3) / c.ops;
  }
  if (c.examples) m.examplesPerSec = c.examples / s;
  if (perRun.length > 1 && perRun.some((r) => JSON.stringify(r) !== JSON.stringify(perRun[0]))) {
    const pick = (f: (...x: number[]) => number) => Object.fromEntries(Object.keys(perRun[0]).map((k) => [k, f(...perRun.map((r) => r[k as keyof Counts]))])) as unknown as Counts;
    m.countsRange = { min: pick(Math.min), max: pick(Math.max) };
  }
  return m;
}

/** Set up one case on one library, warm it up, time it. A failure becomes the measurement's error. */
export async function measure(c: BenchCase, lib: Library, o: RunOptions, onRun?: () => void): Promise<Measurement> {
  let inst: Instance;
  try {
    inst = await setUp(lib.impl, c.spec);
  } catch (e) {
    return failed(c, lib, e);
  }
  try {
    const warmStart = performance.now();
    const warming = (k: number, spent: number) => (k < o.warmup || spent < (o.warmupMs ?? 0)) && (k === 0 || spent < o.budgetMs);
    for (let k = 0; warming(k, performance.now() - warmStart); k++) {
      await inst.prepare?.();
      inst.record();
      await inst.finish();
    }
    const live = lib.liveTensors();
    const gpu = countersInstalled() ? lib.gpuDevice?.() ?? null : null;
    if (gpu) resetPeak(gpu);
    const times: number[] = [], host: number[] = [];
    const perRun: Counts[] = [];
    const start = performance.now();
    while (times.length < o.runs && (times.length < o.minRuns || performance.now() - start < o.budgetMs)) {
      await inst.prepare?.();
      const before = countersInstalled() ? snapshot() : null;
      const t0 = performance.now();
      inst.record();
      const t1 = performance.now();
      await inst.finish();
      times.push(performance.now() - t0);
      host.push(t1 - t0);
      if (before) perRun.push(since(before));
      onRun?.();
    }
    const m = summarize(c, lib.name, times, host, perRun, lib.liveTensors() - live);
    if (gpu) m.peakBytes = peakBytes(gpu);
    return m;
  } catch (e) {
    return failed(c, lib, e);
  } finally {
    inst.dispose();
  }
}

function failed(c: BenchCase, lib: Library, e: unknown): Measurement {
  const nan = Number.NaN;
  return {
    caseId: c.id, library: lib.name, shape: c.shape, runs: 0, timesMs: [], hostMs: [], medianMs: nan, minMs: nan, maxMs: nan, medianHostMs: nan,
    counts: null, leakedTensors: 0, error: (e as Error).message ?? String(e),
  };
}

export interface Progress {
  /** Called when a case starts on a library, and after each timed run. */
  (state: { caseIndex: number; cases: number; caseId: string; library: string; run: number }): void;
}

/** Every case on every library, interleaved by case. */
export async function runSuite(cases: BenchCase[], libs: Library[], o: RunOptions, progress?: Progress): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const [caseIndex, c] of cases.entries()) {
    for (const lib of libs) {
      let run = 0;
      const tell = () => progress?.({ caseIndex, cases: cases.length, caseId: c.id, library: lib.name, run });
      tell();
      out.push(await measure(c, lib, o, () => (run++, tell())));
    }
  }
  return out;
}
