/**
 * Host-side counts taken by wrapping the WebGPU prototypes, so webgrad and
 * every compared library are counted the same way, without trusting either
 * one's own bookkeeping. Dawn's `webgpu` package installs GPUDevice, GPUQueue,
 * GPUComputePassEncoder and GPUBuffer on globalThis (webgrad's init does it);
 * every object any library gets from that Dawn instance has these prototypes.
 */

export interface Counts {
  /** GPUComputePassEncoder.dispatchWorkgroups (and ...Indirect). */
  launches: number;
  /** GPUQueue.submit calls. */
  submits: number;
  /** GPUDevice.createBuffer calls, and the bytes they asked for. */
  buffers: number;
  bufferBytes: number;
  bindGroups: number;
  /** createComputePipeline and createComputePipelineAsync. */
  pipelines: number;
  /** GPUBuffer.mapAsync with GPUMapMode.READ. */
  readbacks: number;
  /** GPUQueue.writeBuffer: host-to-GPU copies (uniforms, uploads). */
  writes: number;
}

export const COUNT_NAMES = ["launches", "submits", "buffers", "bufferBytes", "bindGroups", "pipelines", "readbacks", "writes"] as const satisfies readonly (keyof Counts)[];

const totals: Counts = zeroCounts();
let installed = false;

/**
 * GPU memory per GPUDevice: bytes of its buffers not yet destroyed (what the device holds:
 * tensors, a library's pool and caches), and the most seen since resetPeak. A buffer is
 * attributed to the device that made it, so each library is measured on its own device.
 */
const held = new WeakMap<object, { live: number; peak: number }>();
const sizes = new WeakMap<object, { device: object; bytes: number }>();

function account(device: object) {
  let a = held.get(device);
  if (!a) held.set(device, (a = { live: 0, peak: 0 }));
  return a;
}

export function zeroCounts(): Counts {
  return { launches: 0, submits: 0, buffers: 0, bufferBytes: 0, bindGroups: 0, pipelines: 0, readbacks: 0, writes: 0 };
}

type Proto = Record<string, unknown>;

function proto(name: string): Proto {
  const ctor = (globalThis as Record<string, unknown>)[name] as { prototype: Proto } | undefined;
  if (!ctor?.prototype) throw new Error(`bench counters: globalThis.${name} is missing; call wg.init({ device: "webgpu" }) first (it installs Dawn's WebGPU globals).`);
  return ctor.prototype;
}

/** Replace proto[method] with a wrapper that calls count(args) and then the original. */
function wrap(p: Proto, method: string, count: (args: unknown[], self: object, result: unknown) => void, after = false): void {
  const original = p[method];
  if (typeof original !== "function") throw new Error(`bench counters: ${method} is not a WebGPU method here; cannot count it.`);
  p[method] = function (this: object, ...args: unknown[]) {
    if (!after) count(args, this, undefined);
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (after) count(args, this, result);
    return result;
  };
}

/** After createBuffer: the buffer's bytes count against its device until destroy(). */
function created(device: object, buffer: unknown, bytes: number) {
  if (!buffer || typeof buffer !== "object") return;
  sizes.set(buffer, { device, bytes });
  const a = account(device);
  a.live += bytes;
  a.peak = Math.max(a.peak, a.live);
}

function destroyed(buffer: object) {
  const s = sizes.get(buffer);
  if (!s) return;
  sizes.delete(buffer);
  account(s.device).live -= s.bytes;
}

/** Start a new peak for `device`: from the bytes it holds now. */
export function resetPeak(device: object): void {
  const a = account(device);
  a.peak = a.live;
}

/** The most bytes of GPU buffers `device` held at once since resetPeak. */
export const peakBytes = (device: object): number => account(device).peak;

/** Patch the prototypes once (after wg.init on WebGPU). Safe to call again. */
export function installCounters(): void {
  if (installed) return;
  const pass = proto("GPUComputePassEncoder");
  const device = proto("GPUDevice");
  const queue = proto("GPUQueue");
  const buffer = proto("GPUBuffer");
  wrap(pass, "dispatchWorkgroups", () => totals.launches++);
  if (typeof pass.dispatchWorkgroupsIndirect === "function") wrap(pass, "dispatchWorkgroupsIndirect", () => totals.launches++);
  wrap(queue, "submit", () => totals.submits++);
  wrap(queue, "writeBuffer", () => totals.writes++);
  wrap(device, "createBuffer", ([desc], self, buffer) => {
    const bytes = Number((desc as GPUBufferDescriptor | undefined)?.size ?? 0);
    totals.buffers++;
    totals.bufferBytes += bytes;
    created(self, buffer, bytes);
  }, true);
  wrap(buffer, "destroy", (_args, self) => destroyed(self));
  wrap(device, "createBindGroup", () => totals.bindGroups++);
  wrap(device, "createComputePipeline", () => totals.pipelines++);
  wrap(device, "createComputePipelineAsync", () => totals.pipelines++);
  wrap(buffer, "mapAsync", ([mode]) => {
    if ((Number(mode) & 1) /* GPUMapMode.READ */) totals.readbacks++;
  });
  installed = true;
}

export const countersInstalled = (): boolean => installed;

/** The running totals since install. */
export function snapshot(): Counts {
  return { ...totals };
}

export function since(before: Counts): Counts {
  const now = snapshot();
  const d = zeroCounts();
  for (const k of COUNT_NAMES) d[k] = now[k] - before[k];
  return d;
}
