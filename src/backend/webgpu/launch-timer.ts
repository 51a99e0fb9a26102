/**
 * Times each kernel launch while wg.profile runs: every launch gets a compute
 * pass of its own with timestamps written at its start and end (a query set
 * per 2,048 launches), resolved once at the end. Without timestamp-query, the
 * host time to encode each launch is all that can honestly be reported.
 */
import type { ProfileRecords } from "../backend.js";

const QUERIES_PER_SET = 2048;
const QUERY_RESOLVE = 0x200;
const COPY_SRC = 0x04;
const MAP_READ = 0x01;
const COPY_DST = 0x08;

export class LaunchTimer {
  private names: string[] = [];
  private host: number[] = [];
  private sets: GPUQuerySet[] = [];

  constructor(private gpu: GPUDevice, private timestamps: boolean) {}

  /** The descriptor of the pass that will hold launch `name`. */
  passFor(name: string): GPUComputePassDescriptor | undefined {
    const k = this.names.length;
    this.names.push(name);
    this.host.push(performance.now());
    if (!this.timestamps) return undefined;
    if (k % QUERIES_PER_SET === 0) this.sets.push(this.gpu.createQuerySet({ type: "timestamp", count: 2 * QUERIES_PER_SET }));
    const i = (k % QUERIES_PER_SET) * 2;
    return { timestampWrites: { querySet: this.sets[this.sets.length - 1], beginningOfPassWriteIndex: i, endOfPassWriteIndex: i + 1 } };
  }

  /** Encode the resolve into `enc` (submit it next); the returned function reads the records back. */
  resolve(enc: GPUCommandEncoder): () => Promise<ProfileRecords> {
    const names = this.names;
    if (!this.timestamps) {
      const end = performance.now();
      const records = names.map((name, k) => ({ name, ms: (this.host[k + 1] ?? end) - this.host[k] }));
      return async () => ({ source: "host", records });
    }
    const bytes = Math.max(this.sets.length * QUERIES_PER_SET * 16, 16);
    const resolved = this.gpu.createBuffer({ size: bytes, usage: QUERY_RESOLVE | COPY_SRC });
    const read = this.gpu.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    this.sets.forEach((set, s) => {
      const count = 2 * Math.min(QUERIES_PER_SET, names.length - s * QUERIES_PER_SET);
      enc.resolveQuerySet(set, 0, count, resolved, s * QUERIES_PER_SET * 16);
    });
    enc.copyBufferToBuffer(resolved, 0, read, 0, bytes);
    return async () => {
      await read.mapAsync(MAP_READ);
      const ns = new BigInt64Array(read.getMappedRange().slice(0));
      read.unmap();
      for (const b of [resolved, read]) b.destroy();
      for (const q of this.sets) q.destroy();
      return { source: "timestamp-query", records: names.map((name, k) => ({ name, ms: Math.max(0, Number(ns[2 * k + 1] - ns[2 * k])) / 1e6 })) };
    };
  }
}
