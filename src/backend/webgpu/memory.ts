/**
 * A WebGPU device's buffer memory: the tensor and readback pools under one cap,
 * new buffers made inside an out-of-memory error scope (Dawn reports a failed
 * allocation only asynchronously), and buffers destroyed only once no
 * unsubmitted command binds them.
 */
import { BufferPool, type Budget, type GpuBuf } from "./pool.js";

export const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
export const READ_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
/** Pooled bytes kept beyond what live tensors use, unless wg.init({ poolLimitBytes }) says otherwise. */
export const DEFAULT_POOL_LIMIT = 256 * 2 ** 20;

export class GpuMemory {
  readonly tensors: BufferPool;
  readonly staging: BufferPool;
  private budget: Budget = { limit: DEFAULT_POOL_LIMIT, pooled: 0 };
  /** Buffers leaving the pool while the open batch binds them: destroyed right after it is submitted. */
  private retiring: GpuBuf[] = [];

  /** `inOpenBatch(b)`: an unsubmitted command binds b. */
  constructor(private gpu: GPUDevice, private inOpenBatch: (b: GpuBuf) => boolean) {
    const max = gpu.limits.maxBufferSize;
    this.tensors = new BufferPool(gpu, STORAGE_USAGE, "webgrad tensor", this.budget, this.retire, max);
    this.staging = new BufferPool(gpu, READ_USAGE, "webgrad readback", this.budget, this.retire, max);
  }

  /**
   * A tensor buffer of at least `bytes`; `what` describes the tensor for errors. `failed` (only for a
   * new buffer) resolves to the out-of-memory message when Dawn could not allocate it, else null.
   */
  take(bytes: number, what: string): { buf: GpuBuf; created: boolean; failed: Promise<string | null> | null } {
    const before = this.tensors.created;
    let scope: Promise<GPUError | null> | null = null;
    const buf = this.tensors.take(bytes, (size) => {
      this.gpu.pushErrorScope("out-of-memory");
      const buffer = this.gpu.createBuffer({ size, usage: STORAGE_USAGE, label: "webgrad tensor" });
      scope = this.gpu.popErrorScope();
      return buffer;
    });
    const failed = (scope as Promise<GPUError | null> | null)?.then((e) => (e ? this.outOfMemory(buf, what, e) : null)) ?? null;
    return { buf, created: this.tensors.created !== before, failed };
  }

  get pooled(): number {
    return this.budget.pooled;
  }

  /** Release every pooled buffer (no tensor uses them): wg.emptyCache(). */
  emptyCache(): void {
    this.tensors.trim(0);
    this.staging.trim(0);
  }

  /** At most `bytes` stay pooled, tensor and readback buffers together. */
  setLimit(bytes: number): void {
    this.budget.limit = bytes;
    this.tensors.trim(bytes);
    this.staging.trim(bytes);
  }

  /** The open batch was submitted: what it bound may be destroyed now (WebGPU frees it once that work is done). */
  submitted(): void {
    for (const b of this.retiring) b.buffer.destroy();
    this.retiring = [];
  }

  private retire = (b: GpuBuf): void => {
    if (this.inOpenBatch(b)) this.retiring.push(b);
    else b.buffer.destroy();
  };

  /**
   * A failed allocation: its buffer is invalid, so it must never be pooled (every later tensor given
   * it would fail too). The cached buffers are released as well, so a retry has the memory.
   */
  private outOfMemory(buf: GpuBuf, what: string, e: GPUError): string {
    buf.invalid = true;
    this.tensors.remove(buf);
    this.retire(buf);
    this.emptyCache();
    return (
      `out of memory: ${what} asked for ${buf.bytes} bytes and the device could not allocate them ` +
      `(${e.message.split("\n")[0]}). Cached buffers were released. Fix: dispose tensors you no longer need ` +
      `(t.dispose(), wg.tidy), or use smaller batches or shapes.`
    );
  }
}
