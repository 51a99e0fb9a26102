/**
 * Size-bucketed GPUBuffer pool. Buckets are powers of two split in quarters
 * (256, 320, 384, 448, 512, 640, ...), so a reused buffer wastes under 25%.
 * A bucket hands out its lowest-id free buffer: allocation then depends on
 * which buffers are free, not on the order they were freed in, so a training
 * step that repeats gets the same buffers each time and its bind groups come
 * from the cache.
 *
 * Pools that share a Budget hold at most `limit` bytes together: past it, a
 * pool retires its buffers given back longest ago (a steady training step reuses the same buffers,
 * so it keeps them; shapes seen once age out). A buffer whose allocation
 * failed (out of memory) is never pooled.
 */

export interface GpuBuf {
  readonly id: number;
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  /** The batch that last bound it; equal to the open batch means unsubmitted commands use it. */
  lastBatch: number;
  /** Its allocation failed (out of memory): the GPUBuffer is invalid and must never be reused. */
  invalid?: boolean;
}

export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) if (p * f >= bytes) return p * f;
  return 2 * p;
}

/** The cap shared by the pools of one device, and what they hold together. */
export interface Budget {
  limit: number;
  pooled: number;
}

export class BufferPool {
  private free = new Map<number, GpuBuf[]>();
  /** Every pooled buffer, oldest given back first: the eviction order. */
  private age = new Set<GpuBuf>();
  private nextId = 1;
  pooledBytes = 0;
  created = 0;
  createdBytes = 0;

  /**
   * `retire` destroys a buffer leaving the pool (the backend defers it while unsubmitted commands use it);
   * `maxSize` caps a bucket at the device's maxBufferSize.
   */
  constructor(
    private device: GPUDevice,
    private usage: GPUBufferUsageFlags,
    private label: string,
    private budget: Budget,
    private retire: (b: GpuBuf) => void,
    private maxSize = Infinity,
  ) {}

  /** A buffer of at least `bytes`; a new one is made by `create`, so the caller can watch its allocation. */
  take(bytes: number, create: (size: number) => GPUBuffer = (size) => this.device.createBuffer({ size, usage: this.usage, label: this.label })): GpuBuf {
    const size = Math.max(bytes, Math.min(bucketBytes(bytes), Math.floor(this.maxSize / 4) * 4));
    const hit = this.free.get(size)?.pop();
    if (hit) {
      this.age.delete(hit);
      this.pooledBytes -= size;
      this.budget.pooled -= size;
      return hit;
    }
    this.created++;
    this.createdBytes += size;
    return { id: this.nextId++, buffer: create(size), bytes: size, lastBatch: -1 };
  }

  give(b: GpuBuf): void {
    if (b.invalid) return this.retire(b);
    const list = this.free.get(b.bytes) ?? [];
    // Kept in descending id order, so pop() takes the lowest id.
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].id > b.id) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, b);
    this.free.set(b.bytes, list);
    this.age.add(b);
    this.pooledBytes += b.bytes;
    this.budget.pooled += b.bytes;
    this.trim(this.budget.limit);
  }

  /** Retire this pool's oldest buffers until the pools sharing its budget hold at most `bytes` (or it is empty). */
  trim(bytes: number): void {
    for (const b of this.age) {
      if (this.budget.pooled <= bytes) return;
      this.remove(b);
      this.retire(b);
    }
  }

  /** Take `b` out of the pool if it is there (a buffer found invalid after it was given back). */
  remove(b: GpuBuf): void {
    if (!this.age.delete(b)) return;
    const list = this.free.get(b.bytes)!;
    list.splice(list.indexOf(b), 1);
    if (list.length === 0) this.free.delete(b.bytes);
    this.pooledBytes -= b.bytes;
    this.budget.pooled -= b.bytes;
  }
}
