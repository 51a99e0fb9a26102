/**
 * The interface every backend implements. Ops describe kernels (CPU loops and
 * a WGSL launch); the engine hands them to a backend. Autograd and ops never
 * import a backend.
 */
import type { DType, TypedArray } from "../dtype.js";

/** Where a tensor lives: `"webgpu"` (a GPU buffer) or `"cpu"` (the reference backend's typed arrays). */
export type Device = "cpu" | "webgpu";

/** A block of device memory. `refs` counts live tensor handles and saved-for-backward references. */
export interface Storage {
  readonly backend: Backend;
  readonly dtype: DType;
  readonly size: number; // elements
  readonly bytes: number;
  refs: number;
  /** Bumped by every in-place write; autograd compares it with the version it saved. */
  version: number;
  lastInplaceOp: string | null;
  freed: boolean;
}

/** A strided window onto a storage; what kernels read and write. */
export interface View {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

/** A view whose storage's data is a typed array (CPU backend). */
export interface CpuView extends View {
  readonly data: TypedArray;
}

/**
 * Told when the backend starts and stops waiting for the device (a readback's map, a flush), so a
 * platform can change how it polls meanwhile (platform/dawn-pacing.ts paces Dawn's polling on emulators).
 */
export interface WaitPacer {
  begin(): void;
  end(): void;
}

/** What the adapter can do; kernels pick variants and sizes from it. */
export interface GpuCaps {
  readonly maxWorkgroupSize: number;
  readonly maxWorkgroupStorage: number;
  readonly maxWorkgroupsPerDim: number;
  readonly maxStorageBinding: number;
  /** Storage buffers one pipeline may bind, all groups together (the adapter's maxStorageBuffersPerShaderStage; WebGPU guarantees 8). */
  readonly maxStorageBuffers?: number;
  readonly subgroups: boolean;
  /** SwiftShader and other CPU emulators: workgroup memory and barriers cost more than they save. */
  readonly emulated: boolean;
  /** Tests force a variant to verify both paths on one adapter. */
  readonly force?: Readonly<Record<string, string>>;
  /** The launch's input is computed by a fused prologue, one element per load: no vector-load variant. */
  readonly scalarLoads?: boolean;
}

/** One compute dispatch. `code` is called only when `key` is not yet a cached pipeline. */
export interface GpuLaunch {
  /** Names the pipeline: its WGSL and its override constants (the backend adds the entry point and binding counts). */
  readonly key: string;
  readonly code: () => string;
  readonly entryPoint?: string;
  readonly constants?: Readonly<Record<string, number>>;
  /** The uniform block (at most 256 bytes); copied during run(), so kernels may reuse one scratch buffer. */
  readonly params: ArrayBuffer;
  /** Workgroup count; a count over the adapter's per-dimension limit is split over x and y. */
  readonly workgroups: number;
  /**
   * Dispatched as exactly this [x, y, z] grid when set (its product equals `workgroups`), for
   * kernels that read their tile from workgroup_id instead of dividing a flat index.
   */
  readonly grid?: readonly [number, number, number];
  /**
   * Which input fills each read-only binding the shader declares, in order (null: a binding
   * this launch does not read). Default: the inputs in order.
   */
  readonly bindings?: readonly (number | null)[];
  /** The same for the read_write bindings: which output fills each (null: declared, never written). */
  readonly outputBindings?: readonly (number | null)[];
  /**
   * The kernel reads an input that is also one of its outputs through the output binding
   * (WebGPU forbids binding one buffer as both); the backend binds an unused buffer in its input slot.
   */
  readonly readsOutputs?: boolean;
  /**
   * The WGSL declares no @group(1) error flag: its pipeline layout leaves it out, so all of
   * maxStorageBuffers is left for group 0 (multi-tensor kernels bind many buffers).
   */
  readonly noErrorFlag?: boolean;
  /**
   * The kernel checks its data (indices in range, values finite) and reports the first failure
   * to the backend's error flag (WGSL @group(1) @binding(0)); the backend writes this launch's id
   * into word `idWord` of the params and turns a reported failure into an Error at the next sync point.
   */
  readonly check?: LaunchCheck;
}

/** What a checking launch tells the backend: where its id goes and how to word a failure. */
export interface LaunchCheck {
  /** The u32 word of `params` that receives the launch id (0 is never an id: 0 means "no failure"). */
  readonly idWord: number;
  /** The Error message for a failure whose kernel reported `bits` (the raw 32 bits of the bad value) at position `at` (kernel-defined: a row, an element). */
  readonly message: (bits: number, at: number) => string;
}

export interface Kernel<A> {
  readonly name: string;
  /**
   * An elementwise table op the scheduler may fuse with its neighbours: its WGSL expression over
   * a, b, c (typed A, B, C) returning O, the same text its own kernel specializes.
   */
  readonly fusable?: { readonly expr: string };
  /**
   * A kernel (matmul) whose single dense float32 output the scheduler may extend with an epilogue
   * of elementwise consumers, by replacing these texts of its WGSL: `store`, the function through
   * which it writes output element i; `bindings`, the output's and the params' declarations (its
   * inputs take the bindings before them); `paramsEnd`, the end of its Params struct.
   */
  readonly epilogue?: { readonly store: string; readonly bindings: string; readonly paramsEnd: string };
  /**
   * A kernel (a reduction) whose single input the scheduler may compute in place from pending
   * elementwise producers (a prologue), by replacing these texts of its WGSL: `load`, the function
   * through which it reads input element i; `bindings`, the input's, output's and params'
   * declarations; `paramsEnd`, the end of its Params struct.
   */
  readonly prologue?: { readonly load: string; readonly bindings: string; readonly paramsEnd: string };
  /**
   * A kernel (a sum) that says whether this launch computes out[j] = Σ_i x[i, j] of its one dense
   * input read as [numel(x) / numel(out), numel(out)], a sum over leading dims (a bias gradient):
   * the scheduler may fold it into a kernel with `rowSums` reading x transposed.
   */
  columnSums?(outs: readonly View[], ins: readonly View[], attrs: A): boolean;
  /**
   * A kernel (matmul) that can write, as a second output, the row sums of its first input,
   * R[m] = Σ_k A[m, k], when this says so for these inputs (webgpu() then gets outs [C, R]; the CPU
   * backend, which fuses nothing, never asks).
   */
  rowSums?(ins: readonly View[]): boolean;
  cpu(outs: readonly CpuView[], ins: readonly CpuView[], attrs: A): void;
  webgpu(outs: readonly View[], ins: readonly View[], attrs: A, caps: GpuCaps): GpuLaunch;
}

export interface Backend {
  readonly device: Device;
  alloc(dtype: DType, size: number): Storage;
  free(storage: Storage): void;
  /** Replace a whole storage's contents with host data. */
  write(storage: Storage, data: TypedArray): void;
  /** Copy a (possibly strided) view to the host, contiguous. The only way data leaves the device. */
  read(view: View): Promise<TypedArray>;
  /** Run one kernel; `outs` are written (and may be read, for in-place kernels), `ins` are only read. */
  run<A>(kernel: Kernel<A>, outs: readonly View[], ins: readonly View[], attrs: A): void;
  /**
   * Throw now the Error that run() would throw for these inputs (a lost device, a buffer whose
   * allocation ran out of memory): the fusion queue defers a head's launch, not its errors.
   */
  claim?(views: readonly View[], op: string): void;
  /** Submit pending work and wait until the device has finished it. */
  flush(): Promise<void>;
  bytesPooled(): number;
  /** Start timing every kernel launch (wg.profile). */
  beginProfile(): void;
  /** Stop timing; one record per launch since beginProfile, in order. */
  endProfile(): Promise<ProfileRecords>;
  /** Adapter description for logs and benchmarks. */
  readonly info: AdapterInfo;
}

/** The adapter `init()` started, as WebGPU's `GPUAdapterInfo` reports it (for the CPU backend, webgrad's own description). */
export interface AdapterInfo {
  /** e.g. "google" for SwiftShader, "webgrad" for the CPU backend. */
  readonly vendor: string;
  /** e.g. "swiftshader", or "cpu" for the CPU backend. */
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** True when the adapter is a CPU emulation (SwiftShader) or the CPU backend itself. */
  readonly emulated: boolean;
}

export interface ProfileRecords {
  /** "timestamp-query": GPU time per kernel; "host": time on the CPU (the CPU backend runs kernels there). */
  readonly source: "timestamp-query" | "host";
  readonly records: readonly { readonly name: string; readonly ms: number }[];
}
