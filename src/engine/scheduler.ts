/**
 * The launch queue between ops and backends. Ops describe work (a kernel, the
 * views it writes and reads, its attributes) and hand it here; only this
 * module and device.ts hold a backend. On WebGPU, elementwise launches wait
 * in a fusion queue (fusion.ts) and everything else that touches device
 * memory realizes it first, so the backend sees the launches in program order.
 */
import type { Backend, Device, GpuCaps, Kernel, Storage, View } from "../backend/backend.js";
import type { DType, TypedArray } from "../dtype.js";
import { backendFor, fusionEnabled, setBeforeSync } from "./device.js";
import { FusionQueue } from "./fusion.js";
import { onFree } from "./scope.js";

const queues = new WeakMap<Backend, FusionQueue>();

function queueOf(backend: Backend): FusionQueue | null {
  if (backend.device !== "webgpu") return null;
  let q = queues.get(backend);
  if (!q) queues.set(backend, (q = new FusionQueue(backend)));
  return q;
}

/** Encode every pending launch on `device` (before a readback, a flush, a non-fusable kernel). */
export function realize(device: Device): void {
  if (device === "webgpu") queueOf(backendFor(device))?.realize();
}

setBeforeSync(realize);
onFree((s) => s.backend.device === "webgpu" && (queues.get(s.backend)?.released(s) ?? false));

/** Device memory for `size` elements of `dtype`; its contents are undefined until a launch or upload writes them. */
export function allocate(device: Device, dtype: DType, size: number): Storage {
  return backendFor(device).alloc(dtype, size);
}

/** Replace a whole storage's contents with host data. */
export function upload(storage: Storage, data: TypedArray): void {
  const backend = backendFor(storage.backend.device);
  const q = queueOf(backend);
  // A fresh storage (most uploads) is not in the chain: the chain may stay pending.
  if (q?.touches(storage)) q.realize();
  backend.write(storage, data);
}

/**
 * Run `kernel` writing `outs` (one or several views, possibly read too by in-place kernels)
 * from `ins`. All views must live on `device`.
 */
export function launch<A>(device: Device, kernel: Kernel<A>, outs: readonly View[], ins: readonly View[], attrs: A): void {
  const backend = backendFor(device);
  const q = queueOf(backend);
  if (q && fusionEnabled() && FusionQueue.fusable(kernel as Kernel<unknown>, outs, ins)) return q.add(kernel as Kernel<unknown>, outs[0], ins, attrs);
  // A reduction of a pending chain's value takes the chain as its prologue; otherwise it may head an epilogue.
  if (q && fusionEnabled() && q.prologue(kernel as Kernel<unknown>, outs, ins, attrs)) return;
  if (q && fusionEnabled() && FusionQueue.headable(kernel as Kernel<unknown>, outs)) return q.head(kernel as Kernel<unknown>, outs[0], ins, attrs);
  q?.realize();
  backend.run(kernel, outs, ins, attrs);
}

/** A contiguous view's values on the host, once every launch writing it has run. */
export function readback(device: Device, view: View): Promise<TypedArray> {
  const backend = backendFor(device);
  queueOf(backend)?.realize();
  return backend.read(view);
}

/** Throw the device's own Error (not started, lost) when `device` cannot take work now. */
export function checkDevice(device: Device): void {
  backendFor(device);
}

/** Whether `storage` belongs to `device`'s current backend (not to one lost or replaced by a later init). */
export function isCurrent(storage: Storage, device: Device): boolean {
  return storage.backend === backendFor(device);
}

/**
 * For ops that choose between a kernel and a composite per adapter: whether `device` runs on an
 * emulator (SwiftShader, or the CPU backend), and the variant forced for `op` (tests, bench --force).
 */
export function adapterChoice(device: Device, op: string): { emulated: boolean; forced: string | undefined } {
  const backend = backendFor(device) as Backend & { caps?: { force?: Readonly<Record<string, string>> } };
  return { emulated: backend.info.emulated, forced: backend.caps?.force?.[op] };
}

/**
 * Storage buffers one launch on `device` may bind when its kernel declares no error flag
 * (GpuLaunch.noErrorFlag): the adapter's limit on WebGPU (at least 8), unbounded on the CPU.
 */
export function storageBindingLimit(device: Device): number {
  if (device === "cpu") return Infinity;
  return (backendFor(device) as Backend & { caps?: GpuCaps }).caps?.maxStorageBuffers ?? 8;
}

/**
 * How the optimizer packs parameters into its launches on `device`. "multi" (real GPUs, and the
 * CPU): as many per launch as the bindings allow (a workgroup's slot branch is uniform and the
 * others are skipped). "small" (CPU emulators, which run every slot's branch masked, so a launch of
 * K parameters costs K times its workgroups): only parameters whose masked cost stays small share
 * a launch (optim/optimizer.ts, MASKED_BUDGET); a large one runs alone. "single": one per launch.
 * SwiftShader, the 784-256-10 MLP's SGD update: 4 launches 33-40 ms, one launch of 4 slots 116-134 ms.
 * force.optim picks any of them.
 */
export type MultiTensorMode = "multi" | "small" | "single";
export function multiTensorMode(device: Device): MultiTensorMode {
  if (device === "cpu") return "multi";
  const caps = (backendFor(device) as Backend & { caps?: GpuCaps }).caps;
  const forced = caps?.force?.optim;
  if (forced !== undefined && forced !== "multi" && forced !== "small" && forced !== "single")
    throw new Error(`optimizer: unknown forced variant "${forced}"; expected "multi", "small" or "single".`);
  return forced ?? (caps?.emulated ? "small" : "multi");
}
