/**
 * Which backends exist, which device is the default, and start-up. Platform
 * entry points (node.ts, browser.ts) register how to reach a GPU.
 */
import type { AdapterInfo, Backend, Device, Storage, WaitPacer } from "../backend/backend.js";
import { CpuBackend } from "../backend/cpu/cpu-backend.js";
import { createWebGpuBackend } from "../backend/webgpu/adapter.js";
import { liveStats } from "./scope.js";

/**
 * @internal How this platform reaches WebGPU: the GPU object, or a reason there is none; `fix`
 * replaces the generic advice when the platform knows the one step that is missing.
 */
/** Finds the platform's GPU; `pacer` (Node on an emulator) is told about the backend's waits for the device. */
export type GpuProvider = () => Promise<{ gpu: GPU; notice?: string; pacer?: WaitPacer } | { gpu: null; reason: string; fix?: string }>;

const cpu = new CpuBackend();
type GpuBackend = Backend & { lost: string | null; destroy(): void; emptyCache(): void; setPoolLimit(bytes: number): void };
let gpuBackend: GpuBackend | null = null;
/** The pool cap asked for by init({ poolLimitBytes }); applied to every WebGPU backend started later too. */
let poolLimit: number | null = null;
/** The init() in progress: a second call waits for it, so concurrent first calls make one device (two Dawn instances abort the process). */
let starting: Promise<unknown> = Promise.resolve();
let defaultDev: Device = "cpu";
let provider: GpuProvider = async () =>
  typeof navigator !== "undefined" && navigator.gpu
    ? { gpu: navigator.gpu }
    : { gpu: null, reason: "this JavaScript runtime has no navigator.gpu" };

/** @internal */
export function setGpuProvider(p: GpuProvider): void {
  provider = p;
}

/** @internal */
export function backendFor(device: Device): Backend {
  if (device === "cpu") return cpu;
  if (device !== "webgpu") throw new Error(`unknown device "${String(device)}"; expected "cpu" or "webgpu".`);
  if (!gpuBackend)
    throw new Error(`webgpu: the WebGPU backend is not started. Fix: await wg.init({ device: "webgpu" }) first.`);
  if (gpuBackend.lost)
    throw new Error(
      `webgpu: the GPU device was lost (${gpuBackend.lost}); tensors on it are gone. ` +
        `Fix: await wg.init() for a new device and recreate the tensors.`,
    );
  return gpuBackend;
}

// Ops are synchronous and finding an adapter is not, so an op before init() cannot start
// WebGPU: it runs on the CPU and says so once, naming the fix.
let initCalled = false;
let warnedNoInit = false;

/** Why a storage cannot be used now (its device was lost or replaced by a later init), or null when it can. */
export function storageProblem(storage: Storage): string | null {
  if (storage.backend.device === "cpu") return null;
  const b = storage.backend as Partial<GpuBackend>;
  if (b.lost) return `its WebGPU device was lost (${b.lost})`;
  if (b !== gpuBackend) return "it belongs to an earlier WebGPU device, replaced by a later wg.init()";
  return null;
}

/**
 * The device new tensors go to when no `{ device }` is given: what the last `init()` chose (`"cpu"` before any init,
 * with a one-time console warning that names the fix).
 *
 * PyTorch: none (webgrad only; the closest is `torch.get_default_device`).
 * @example wg.defaultDevice() // "cpu" after await wg.init({ device: "cpu" })
 */
export const defaultDevice = (): Device => {
  if (!initCalled && !warnedNoInit) {
    warnedNoInit = true;
    console.warn(
      `webgrad: a tensor was made before wg.init(), so it is on the CPU backend. Fix: await wg.init() first ` +
        `(WebGPU when there is an adapter), or await wg.init({ device: "cpu" }) to choose the CPU and silence this.`,
    );
  }
  return defaultDev;
};

/** The options of `wg.init()`; every field is optional. */
export interface InitOptions {
  /** `"auto"` (default): WebGPU when an adapter exists, else the CPU with one warning; `"webgpu"` throws when there is none; `"cpu"`. */
  device?: Device | "auto";
  /** Which adapter to ask the platform for when it has several (WebGPU's requestAdapter option). */
  powerPreference?: "low-power" | "high-performance";
  /** @internal Kernel variants (e.g. { matmul: "tiled" }), so tests and the bench time every path on one adapter. */
  force?: Record<string, string>;
  /** Print the one-line adapter notice (default true). */
  quiet?: boolean;
  /** The most bytes the WebGPU buffer pool keeps beyond what live tensors use (default 256 MiB; 0 pools nothing). */
  poolLimitBytes?: number;
  /** The largest tensor the CPU backend allocates (default 2 GiB): past the machine's memory the OS kills the process. */
  cpuTensorLimitBytes?: number;
  /**
   * Fuse chains of elementwise ops into generated kernels on WebGPU (default on; false, or the
   * environment's WEBGRAD_FUSION=0, launches one kernel per op, as the CPU backend always runs).
   */
  fusion?: boolean;
}

/**
 * Chooses and starts the default device and resolves to `{ device, adapterInfo }`. `"auto"` (the default) takes WebGPU
 * when an adapter exists (in Node: Dawn's `webgpu` package, with SwiftShader found by itself on Linux without a GPU
 * driver), else the CPU with one warning; `"webgpu"` throws an Error saying why there is none and how to get one.
 * Calls run one after another: a second call while one is starting waits for it and then finds its device.
 * Call it before making tensors; calling it again changes the default device or the limits.
 *
 * PyTorch: none (webgrad only; the closest is `torch.set_default_device`).
 * @example const { device, adapterInfo } = await wg.init({ device: "auto" }) // device: "webgpu" | "cpu"
 */
export function init(opts: InitOptions = {}): Promise<{ device: Device; adapterInfo: AdapterInfo }> {
  const run = starting.then(() => initNow(opts));
  starting = run.catch(() => {});
  return run;
}

function byteOption(opts: InitOptions, name: "poolLimitBytes" | "cpuTensorLimitBytes"): number | undefined {
  const v = opts[name];
  if (v !== undefined && !(typeof v === "number" && v >= 0 && (Number.isSafeInteger(v) || v === Infinity)))
    throw new Error(`init: ${name} is ${String(v)}; expected a whole number of bytes >= 0 (or Infinity for no limit).`);
  return v;
}

async function initNow(opts: InitOptions): Promise<{ device: Device; adapterInfo: AdapterInfo }> {
  const want = opts.device ?? "auto";
  initCalled = true;
  if (want !== "cpu" && want !== "webgpu" && want !== "auto")
    throw new Error(`init: unknown device "${String(want)}"; expected "webgpu", "cpu" or "auto".`);
  const [pool, cpuLimit] = [byteOption(opts, "poolLimitBytes"), byteOption(opts, "cpuTensorLimitBytes")];
  if (opts.fusion !== undefined && typeof opts.fusion !== "boolean") throw new Error(`init: fusion is ${String(opts.fusion)}; expected true or false.`);
  if (opts.fusion !== undefined) {
    if (gpuBackend && !gpuBackend.lost) beforeSync("webgpu");
    fusion = opts.fusion;
  }
  poolLimit = pool ?? poolLimit;
  cpu.limitBytes = cpuLimit ?? cpu.limitBytes;
  if (gpuBackend && !gpuBackend.lost && poolLimit !== null) gpuBackend.setPoolLimit(poolLimit);
  if (want === "cpu") {
    defaultDev = "cpu";
    return { device: "cpu", adapterInfo: cpu.info };
  }
  if (gpuBackend && !gpuBackend.lost) {
    defaultDev = "webgpu";
    return { device: "webgpu", adapterInfo: gpuBackend.info };
  }
  const found = await provider();
  let failure = found.gpu ? "" : (found as { reason: string }).reason;
  if (found.gpu) {
    try {
      const backend = await createWebGpuBackend(found.gpu, opts);
      backend.pacer = ("pacer" in found && found.pacer) || null;
      gpuBackend = backend;
      if (poolLimit !== null) gpuBackend.setPoolLimit(poolLimit);
      if ("notice" in found && found.notice && !opts.quiet) console.warn(found.notice);
      defaultDev = "webgpu";
      return { device: "webgpu", adapterInfo: gpuBackend.info };
    } catch (e) {
      failure = (e as Error).message;
    }
  }
  const fix = found.gpu ? undefined : (found as { fix?: string }).fix;
  if (want === "webgpu" && fix) throw new Error(`init: no WebGPU adapter: ${failure}. Fix: ${fix}.`);
  if (want === "webgpu")
    throw new Error(
      `init: no WebGPU adapter: ${failure}. Fix: in a browser, use one with WebGPU enabled (Chrome/Edge 113+, ` +
        `served over https or http://localhost); in Node on Linux without a GPU, install SwiftShader with ` +
        `"apt-get install -y chromium-common libvulkan1" (webgrad finds it), or run with { device: "cpu" }.`,
    );
  if (!opts.quiet) console.warn(`webgrad: no WebGPU adapter (${failure}); using the CPU backend.${fix ? ` Fix: ${fix}.` : ""}`);
  defaultDev = "cpu";
  return { device: "cpu", adapterInfo: cpu.info };
}

/** Whether elementwise chains are fused (init({ fusion }), else off when the environment has WEBGRAD_FUSION=0, else on). */
let fusion: boolean = !(typeof process !== "undefined" && process.env?.WEBGRAD_FUSION === "0");
export const fusionEnabled = (): boolean => fusion;

/** The scheduler's realize step, run before anything waits on the device (set by scheduler.ts). */
let beforeSync: (device: Device) => void = () => {};
/** @internal */
export function setBeforeSync(hook: (device: Device) => void): void {
  beforeSync = hook;
}

/**
 * Submits all pending kernel launches and resolves when the device (default: the default device) has finished them.
 * A sync point without a readback, for benchmarks; a device-side error (an index out of range) surfaces here.
 *
 * PyTorch: `torch.cuda.synchronize`.
 * @example await wg.flush()
 */
export async function flush(device: Device = defaultDev): Promise<void> {
  const backend = backendFor(device);
  beforeSync(device);
  await backend.flush();
}

/**
 * What a device (default: the default device) holds now: `tensors` (live tensor handles the user made), `bytesInUse`
 * (their storage) and `bytesPooled` (freed buffers kept for reuse; see `emptyCache` and `init({ poolLimitBytes })`).
 *
 * PyTorch: `torch.cuda.memory_allocated` / `torch.cuda.memory_reserved`.
 * @example wg.memory() // e.g. { tensors: 3, bytesInUse: 48, bytesPooled: 0 }
 */
export function memory(device: Device = defaultDev): { tensors: number; bytesInUse: number; bytesPooled: number } {
  const pooled = device === "webgpu" ? (gpuBackend?.bytesPooled() ?? 0) : cpu.bytesPooled();
  return { ...liveStats(device), bytesPooled: pooled };
}

/**
 * Releases pooled buffers that no tensor uses, on `device` or, by default, on every device;
 * `memory().bytesPooled` drops to what is left. Live tensors are untouched.
 *
 * PyTorch: `torch.cuda.empty_cache`.
 * @example wg.emptyCache(); wg.memory().bytesPooled // 0
 */
export function emptyCache(device?: Device): void {
  if (device !== undefined && device !== "cpu" && device !== "webgpu")
    throw new Error(`emptyCache: unknown device "${String(device)}"; expected "cpu" or "webgpu".`);
  if (device !== "webgpu") cpu.emptyCache();
  if (device !== "cpu" && gpuBackend && !gpuBackend.lost) gpuBackend.emptyCache();
}

/** @internal The current WebGPU backend, for tests and the benchmark runner. */
export function webgpuBackend(): Backend | null {
  return gpuBackend;
}
