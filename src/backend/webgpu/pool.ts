/**
 * Size-bucketed GPUBuffer pool. Buckets are powers of two split in quarters
 * (256, 320, 384, 448, 512, 640, ...), so a reused buffer wastes under 25%.
 * A bucket hands out its lowest-id free buffer: allocation then depends on
 * which buffers are free, not on the order they were freed in, so a training
 * step that repeats gets the same buffers each time and its bind groups come
 * from the cache.
 */

export interface GpuBuf {
  readonly id: number;
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  /** The batch that last bound it; equal to the open batch means unsubmitted commands use it. */
  lastBatch: number;
}

export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) if (p * f >= bytes) return p * f;
  return 2 * p;
}

export class BufferPool {
  private free = new Map<number, GpuBuf[]>();
  private nextId = 1;
  pooledBytes = 0;
  created = 0;
  createdBytes = 0;

  constructor(private device: GPUDevice, private usage: GPUBufferUsageFlags, private label: string) {}

  take(bytes: number): GpuBuf {
    const size = bucketBytes(bytes);
    const list = this.free.get(size);
    const hit = list?.pop();
    if (hit) {
      this.pooledBytes -= size;
      return hit;
    }
    this.created++;
    this.createdBytes += size;
    const buffer = this.device.createBuffer({ size, usage: this.usage, label: this.label });
    return { id: this.nextId++, buffer, bytes: size, lastBatch: -1 };
  }

  give(b: GpuBuf): void {
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
    this.pooledBytes += b.bytes;
  }

  /** Destroy every pooled buffer (they are not referenced by any tensor); returns their ids. */
  drain(): number[] {
    const ids: number[] = [];
    for (const list of this.free.values()) for (const b of list) {
      ids.push(b.id);
      b.buffer.destroy();
    }
    this.free.clear();
    this.pooledBytes = 0;
    return ids;
  }
}
