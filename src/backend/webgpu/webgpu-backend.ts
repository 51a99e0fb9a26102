/**
 * The WebGPU backend. Kernels are recorded into one open compute pass and
 * submitted in batches (at a readback, a flush, or every SUBMIT_EVERY
 * launches). Each launch's uniforms go to a ring buffer bound with a dynamic
 * offset; pipelines and bind groups come from the cache in pipelines.ts.
 * Data leaves the GPU only in read().
 */
import type { AdapterInfo, Backend, GpuCaps, GpuLaunch, Kernel, ProfileRecords, Storage, View, WaitPacer } from "../backend.js";
import { BYTES, typedArrayFor, type DType, type TypedArray } from "../../dtype.js";
import { isContiguous, numel } from "../../shape.js";
import { BufferPool, type GpuBuf } from "./pool.js";
import { GpuMemory, STORAGE_USAGE } from "./memory.js";
import { LaunchTimer } from "./launch-timer.js";
import { ErrorFlag } from "./error-flag.js";
import { Pipelines, UNIFORM_STRIDE } from "./pipelines.js";

interface GpuStorage extends Storage {
  /** Taken from the pool at first use (own()): a fused intermediate nobody keeps never gets one. */
  buf: GpuBuf | null;
}

const SUBMIT_EVERY = 512;
const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST

/** Host-side counts, for residency tests and the benchmark runner. */
export interface GpuStats {
  launches: number;
  submits: number;
  buffersCreated: number;
  bytesCreated: number;
  bindGroupsCreated: number;
  pipelinesCreated: number;
  readbacks: number;
  uploads: number;
  /** Error-flag reads at flush() (a readback carries the flag in its own copy). */
  flagReads: number;
}

export class WebGpuBackend implements Backend {
  readonly device = "webgpu" as const;
  readonly stats: GpuStats = { launches: 0, submits: 0, buffersCreated: 0, bytesCreated: 0, bindGroupsCreated: 0, pipelinesCreated: 0, readbacks: 0, uploads: 0, flagReads: 0 };
  lost: string | null = null;

  private mem: GpuMemory;
  private staging: BufferPool;
  private cache: Pipelines;
  /** Keys of the pipelines built so far (tests check which kernel variant ran). */
  pipelineKeys(): string[] {
    return this.cache.keys();
  }
  private uniforms: GPUBuffer;
  private uniformHost = new Uint8Array(SUBMIT_EVERY * UNIFORM_STRIDE);
  /** Bound where a shader declares an input the launch does not read, and in place of an input that is also the output. */
  private dummy: GpuBuf;
  /** Bound where a shader declares a writable binding the launch never writes (kept apart from `dummy`: one buffer may not be bound read-only and writable in one dispatch). */
  private dummyOut: GpuBuf;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private launchesInBatch = 0;
  private lastPass: GPUComputePassEncoder | null = null;
  /** The pass whose group 1 holds the error flag. */
  private flaggedPass: GPUComputePassEncoder | null = null;
  private lastPipeline: GPUComputePipeline | null = null;
  private batch = 0;
  private opsInBatch = new Set<string>();
  private errors: Promise<string | null>[] = [];
  private deferredError: string | null = null;
  private flag: ErrorFlag;

  constructor(readonly gpu: GPUDevice, readonly info: AdapterInfo, private timestamps: boolean, public caps: GpuCaps) {
    this.mem = new GpuMemory(gpu, (b) => this.encoder !== null && b.lastBatch === this.batch);
    this.staging = this.mem.staging;
    this.flag = new ErrorFlag(gpu);
    this.uniforms = gpu.createBuffer({ size: this.uniformHost.byteLength, usage: UNIFORM_USAGE, label: "webgrad uniforms" });
    this.cache = new Pipelines(gpu, this.flag.layout, this.uniforms, this.stats, (e) => this.errors.push(e));
    this.dummy = { id: 0, bytes: 256, lastBatch: -1, buffer: gpu.createBuffer({ size: 256, usage: STORAGE_USAGE, label: "webgrad unused binding" }) };
    this.dummyOut = { id: -1, bytes: 256, lastBatch: -1, buffer: gpu.createBuffer({ size: 256, usage: STORAGE_USAGE, label: "webgrad unused writable binding" }) };
    gpu.lost.then((e) => {
      this.lost = `${e.reason}${e.message ? `: ${e.message}` : ""}`;
    });
    gpu.onuncapturederror = (ev) => {
      this.deferredError ??= (ev as GPUUncapturedErrorEvent).error.message;
    };
  }

  /** Force kernel variants ({ matmul: "tiled" | "blocked", reduce / softmax: "rows" | "threads", gradNorm: "wide" }); {} restores the adapter's choice. */
  setForce(force: Record<string, string>): void {
    this.caps = { ...this.caps, force };
  }

  // ---- memory ----

  alloc(dtype: DType, size: number): Storage {
    if (dtype === "float64")
      throw new Error(`float64 exists on the CPU backend only (for gradcheck). Fix: use float32 on webgpu, or { device: "cpu" }.`);
    const bytes = Math.max(size * BYTES[dtype], 4);
    if (bytes > this.caps.maxStorageBinding)
      throw new Error(
        `a ${dtype} tensor of ${size} elements needs ${bytes} bytes, over this adapter's maxStorageBufferBindingSize ` +
          `(${this.caps.maxStorageBinding} bytes). Fix: split the work into smaller tensors.`,
      );
    const s: GpuStorage = { backend: this, dtype, size, bytes: size * BYTES[dtype], refs: 0, version: 0, lastInplaceOp: null, freed: false, buf: null };
    return s;
  }

  /** The storage's buffer, taken from the pool the first time a launch, upload or readback uses it. */
  private bufferOf(s: GpuStorage): GpuBuf {
    if (s.buf) return s.buf;
    const { buf, created, failed } = this.mem.take(Math.max(s.bytes, 4), `a ${s.dtype} tensor of ${s.size} elements`);
    if (created) {
      this.stats.buffersCreated++;
      this.stats.bytesCreated += buf.bytes;
    }
    if (failed) this.errors.push(failed);
    return (s.buf = buf);
  }

  free(storage: Storage): void {
    const buf = (storage as GpuStorage).buf;
    if (this.lost || !buf) return;
    this.mem.tensors.give(buf);
  }

  bytesPooled(): number {
    return this.mem.pooled;
  }

  /** wg.emptyCache() and wg.init({ poolLimitBytes }). */
  emptyCache(): void {
    this.mem.emptyCache();
  }

  setPoolLimit(bytes: number): void {
    this.mem.setLimit(bytes);
  }

  write(storage: Storage, data: TypedArray): void {
    const buf = this.own(storage, "write").buf;
    // queue.writeBuffer lands before any unsubmitted command; submit those first if they use this buffer.
    if (buf.lastBatch === this.batch) this.submit();
    this.stats.uploads++;
    this.gpu.queue.writeBuffer(buf.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  // ---- kernels ----

  run<A>(kernel: Kernel<A>, outs: readonly View[], ins: readonly View[], attrs: A): void {
    const launch = kernel.webgpu(outs, ins, attrs, this.caps);
    if (launch.workgroups === 0) return;
    const slots = launch.bindings ?? ins.map((_, k) => k);
    const nIn = slots.length;
    const outSlots = launch.outputBindings ?? outs.map((_, k) => k);
    const outBufs = outSlots.map((k) => (k === null ? this.dummyOut : this.own(outs[k].storage, kernel.name).buf));
    const inBufs = slots.map((k) => (k === null ? this.dummy : this.own(ins[k].storage, kernel.name).buf));
    if (!launch.readsOutputs && inBufs.some((b) => b !== this.dummy && outBufs.includes(b)))
      throw new Error(`${kernel.name}: an input shares its buffer with an output, and this kernel cannot run in place. Fix: clone() the input first.`);
    const pipeline = this.cache.pipeline(launch, kernel.name, nIn, outBufs.length);
    const maxDim = this.caps.maxWorkgroupsPerDim;
    const flatX = Math.min(launch.workgroups, maxDim);
    const [x, y, z] = launch.grid ?? [flatX, Math.ceil(launch.workgroups / flatX), 1];
    if (x > maxDim || y > maxDim || z > maxDim) throw new Error(`${kernel.name}: ${launch.workgroups} workgroups exceed this adapter's dispatch limit (${maxDim}²). Fix: split the tensor.`);
    if (this.launchesInBatch >= SUBMIT_EVERY) this.submit();
    const pass = this.timer ? this.profiledPass(kernel.name) : this.openPass();
    for (const b of inBufs) b.lastBatch = this.batch;
    for (const b of outBufs) b.lastBatch = this.batch;
    const offset = this.launchesInBatch * UNIFORM_STRIDE;
    this.uniformHost.set(new Uint8Array(launch.params, 0, Math.min(launch.params.byteLength, UNIFORM_STRIDE)), offset);
    if (launch.check) new DataView(this.uniformHost.buffer).setUint32(offset + 4 * launch.check.idWord, this.flag.register(kernel.name, launch.check), true);
    if (pass !== this.lastPass || pipeline !== this.lastPipeline) pass.setPipeline(pipeline);
    // Group 1 (the error flag) once per pass, for the first launch whose layout has it.
    if (!launch.noErrorFlag && pass !== this.flaggedPass) {
      pass.setBindGroup(1, this.flag.group);
      this.flaggedPass = pass;
    }
    this.lastPass = pass;
    this.lastPipeline = pipeline;
    // A buffer the kernel also writes is read through its output binding (in-place kernels).
    const read = inBufs.map((b) => (outBufs.includes(b) ? this.dummy : b));
    pass.setBindGroup(0, this.cache.bindGroup(read, outBufs), [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.timer) {
      pass.end();
      this.pass = null;
    }
    this.launchesInBatch++;
    this.stats.launches++;
    this.opsInBatch.add(kernel.name);
  }

  claim(views: readonly View[], op: string): void {
    for (const v of views) this.own(v.storage, op);
  }

  private own(storage: Storage, op: string): GpuStorage & { buf: GpuBuf } {
    if (storage.backend !== this)
      throw new Error(`${op}: this tensor belongs to an earlier WebGPU device (lost or replaced); recreate it on the current one.`);
    if (this.bufferOf(storage as GpuStorage).invalid)
      throw new Error(`${op}: this ${storage.dtype} tensor of ${storage.size} elements holds no data: allocating it ran out of GPU memory. Fix: dispose it and make a smaller one.`);
    return storage as GpuStorage & { buf: GpuBuf };
  }

  private openEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.gpu.pushErrorScope("out-of-memory");
      this.gpu.pushErrorScope("validation");
      this.encoder = this.gpu.createCommandEncoder({ label: "webgrad batch" });
    }
    return this.encoder;
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.openEncoder().beginComputePass();
    return this.pass;
  }

  // ---- profiling (wg.profile) ----

  private timer: LaunchTimer | null = null;

  beginProfile(): void {
    this.submit();
    this.timer = new LaunchTimer(this.gpu, this.timestamps);
  }

  /** A compute pass of its own for one timed launch. */
  private profiledPass(name: string): GPUComputePassEncoder {
    this.pass?.end();
    return (this.pass = this.openEncoder().beginComputePass(this.timer!.passFor(name)));
  }

  async endProfile(): Promise<ProfileRecords> {
    const timer = this.timer;
    this.timer = null;
    if (!timer) return { source: "host", records: [] };
    this.pass?.end();
    this.pass = null;
    const readRecords = timer.resolve(this.openEncoder());
    this.submit();
    const records = await readRecords();
    await this.check();
    return records;
  }

  // ---- submission and readback ----

  private submit(): void {
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    const cb = this.encoder.finish();
    this.encoder = null;
    this.gpu.queue.writeBuffer(this.uniforms, 0, this.uniformHost.buffer, 0, this.launchesInBatch * UNIFORM_STRIDE);
    this.gpu.queue.submit([cb]);
    this.stats.submits++;
    this.mem.submitted();
    const ops = [...this.opsInBatch].join(", ");
    const validation = this.gpu.popErrorScope();
    const oom = this.gpu.popErrorScope();
    this.errors.push(
      Promise.all([validation, oom]).then(([v, o]) =>
        o ? `out of GPU memory while running ${ops}: ${o.message}` : v ? `WebGPU validation error while running ${ops}: ${v.message}` : null,
      ),
    );
    this.launchesInBatch = 0;
    this.opsInBatch.clear();
    this.batch++;
  }

  /** Throw the first error any finished batch reported, as an Error naming its ops. */
  private async check(): Promise<void> {
    const pending = this.errors;
    this.errors = [];
    const found = (await Promise.all(pending)).find((m) => m !== null) ?? this.deferredError;
    this.deferredError = null;
    if (found) throw new Error(`webgpu: ${found}`);
    if (this.lost) throw new Error(`webgpu: the GPU device was lost (${this.lost}). Fix: await wg.init() for a new device and recreate the tensors.`);
  }

  /** Set by the platform (engine/device.ts, from the GPU provider): told about every wait for the device. */
  pacer: WaitPacer | null = null;

  private async waitFor<T>(done: Promise<T>): Promise<T> {
    this.pacer?.begin();
    try {
      return await done;
    } finally {
      this.pacer?.end();
    }
  }

  async read(view: View): Promise<TypedArray> {
    const n = numel(view.shape);
    const src = this.own(view.storage, "read");
    if (n === 0) return typedArrayFor(view.dtype, 0);
    if (!isContiguous(view.shape, view.strides)) throw new Error("read: internal error: strided views are made contiguous before readback.");
    const bytes = n * BYTES[view.dtype];
    // The error flag rides in the same staging buffer, after the data: one copy, one map.
    const span = bytes + (this.flag.pending ? ErrorFlag.BYTES : 0);
    const stage = this.staging.take(span);
    this.pass?.end();
    this.pass = null;
    this.openEncoder().copyBufferToBuffer(src.buf.buffer, view.offset * BYTES[view.dtype], stage.buffer, 0, bytes);
    const window = span > bytes ? this.flag.drainInto(this.openEncoder(), stage.buffer, bytes) : null;
    this.opsInBatch.add("readback");
    src.buf.lastBatch = this.batch;
    this.submit();
    this.stats.readbacks++;
    try {
      await this.waitFor(stage.buffer.mapAsync(1 /* GPUMapMode.READ */, 0, span));
    } catch (e) {
      stage.buffer.destroy(); // never pooled: a failed mapping may leave it unusable
      await this.check();
      throw new Error(`webgpu: reading back ${n} elements failed: ${(e as Error).message}`);
    }
    const out = typedArrayFor(view.dtype, n);
    const mapped = stage.buffer.getMappedRange(0, span);
    new Uint8Array(out.buffer).set(new Uint8Array(mapped, 0, bytes));
    const verdict = window ? ErrorFlag.verdict(window, new Uint32Array(mapped.slice(bytes, span))) : null;
    stage.buffer.unmap();
    this.staging.give(stage);
    await this.check();
    if (verdict) throw new Error(verdict);
    return out;
  }

  async flush(): Promise<void> {
    if (!this.flag.pending) {
      this.submit();
      await this.waitFor(this.gpu.queue.onSubmittedWorkDone());
      return this.check();
    }
    // Mapping the copied flag waits for the work before it, so it replaces onSubmittedWorkDone.
    const stage = this.staging.take(ErrorFlag.BYTES);
    this.pass?.end();
    this.pass = null;
    const window = this.flag.drainInto(this.openEncoder(), stage.buffer, 0);
    this.submit();
    this.stats.flagReads++;
    try {
      await this.waitFor(stage.buffer.mapAsync(1 /* GPUMapMode.READ */, 0, ErrorFlag.BYTES));
    } catch (e) {
      await this.check();
      throw new Error(`webgpu: flush failed reading the error flag: ${(e as Error).message}`);
    }
    const verdict = ErrorFlag.verdict(window, new Uint32Array(stage.buffer.getMappedRange(0, ErrorFlag.BYTES).slice(0)));
    stage.buffer.unmap();
    this.staging.give(stage);
    await this.check();
    if (verdict) throw new Error(verdict);
  }

  destroy(): void {
    this.gpu.destroy();
  }
}
