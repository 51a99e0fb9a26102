/** The CPU backend: storages are typed arrays and kernels run their plain-TypeScript reference loops. */
import type { Backend, CpuView, Kernel, Storage, View, AdapterInfo, ProfileRecords } from "../backend.js";
import { BYTES, typedArrayFor, type DType, type TypedArray } from "../../dtype.js";
import { stridedOffsets } from "../../shape.js";

interface CpuStorage extends Storage {
  data: TypedArray;
}

const asCpu = (v: View): CpuView => ({ ...v, data: (v.storage as CpuStorage).data });

/**
 * The largest tensor the CPU backend allocates unless wg.init({ cpuTensorLimitBytes }) says otherwise.
 * Past the machine's memory an allocation is not an Error but the OS killing the process, so refuse first.
 */
export const DEFAULT_CPU_TENSOR_LIMIT = 2 ** 31;

export class CpuBackend implements Backend {
  readonly device = "cpu" as const;
  readonly info: AdapterInfo = {
    vendor: "webgrad",
    architecture: "cpu",
    device: "reference loops",
    description: "webgrad CPU reference backend (plain TypeScript)",
    emulated: true,
  };

  /** Bytes one tensor may take (wg.init({ cpuTensorLimitBytes })). */
  limitBytes = DEFAULT_CPU_TENSOR_LIMIT;

  alloc(dtype: DType, size: number): Storage {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`cpu: cannot allocate a tensor of ${size} elements; a size is a non-negative integer.`);
    if (size * BYTES[dtype] > this.limitBytes)
      throw new Error(
        `cpu: a ${dtype} tensor of ${size} elements needs ${size * BYTES[dtype]} bytes, over the CPU backend's limit of ` +
          `${this.limitBytes} bytes per tensor. Fix: use smaller tensors (smaller batches), or, if this machine has the ` +
          `memory, raise the limit with wg.init({ cpuTensorLimitBytes }).`,
      );
    const s: CpuStorage = {
      backend: this,
      dtype,
      size,
      bytes: size * BYTES[dtype],
      refs: 0,
      version: 0,
      lastInplaceOp: null,
      freed: false,
      data: typedArrayFor(dtype, size),
    };
    return s;
  }

  free(storage: Storage): void {
    (storage as CpuStorage).data = typedArrayFor(storage.dtype, 0);
  }

  write(storage: Storage, data: TypedArray): void {
    (storage as CpuStorage).data.set(data);
  }

  async read(view: View): Promise<TypedArray> {
    const src = (view.storage as CpuStorage).data;
    const out = typedArrayFor(view.dtype, view.shape.reduce((a, b) => a * b, 1));
    let i = 0;
    for (const off of stridedOffsets(view.shape, view.strides, view.offset)) out[i++] = src[off];
    return out;
  }

  private profile: { name: string; ms: number }[] | null = null;

  run<A>(kernel: Kernel<A>, outs: readonly View[], ins: readonly View[], attrs: A): void {
    const t0 = this.profile ? performance.now() : 0;
    kernel.cpu(outs.map(asCpu), ins.map(asCpu), attrs);
    this.profile?.push({ name: kernel.name, ms: performance.now() - t0 });
  }

  beginProfile(): void {
    this.profile = [];
  }

  async endProfile(): Promise<ProfileRecords> {
    const records = this.profile ?? [];
    this.profile = null;
    return { source: "host", records };
  }

  async flush(): Promise<void> {}

  /** Nothing is pooled: a freed storage drops its array at once, for the garbage collector. */
  bytesPooled(): number {
    return 0;
  }

  emptyCache(): void {}
}
