/**
 * The GPU objects a launch needs besides its buffers, made once and reused:
 * bind-group layouts per binding count, pipelines per shader key, and bind
 * groups per combination of buffers (uniforms use a dynamic offset, so a
 * bind group depends only on the storage buffers and training steps reuse them).
 */
import type { GpuLaunch } from "../backend.js";
import type { GpuBuf } from "./pool.js";

export const UNIFORM_STRIDE = 256;
const BIND_GROUP_CACHE = 8192;

/** How many objects were created, for the backend's stats. */
export interface Created {
  bindGroupsCreated: number;
  pipelinesCreated: number;
}

export class Pipelines {
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, { group: GPUBindGroupLayout; flagged: GPUPipelineLayout | null; unflagged: GPUPipelineLayout | null }>();
  private bindGroups = new Map<string, GPUBindGroup>();

  /** The cached pipelines' keys (tests check which kernel variant ran). */
  keys(): string[] {
    return [...this.pipelines.keys()];
  }

  /**
   * `flagLayout`: group 1 of every pipeline (the error flag); `uniforms`: the ring every launch's
   * params live in; `report` receives a pipeline's build error as a promise of its message.
   */
  constructor(
    private gpu: GPUDevice,
    private flagLayout: GPUBindGroupLayout,
    private uniforms: GPUBuffer,
    private stats: Created,
    private report: (error: Promise<string | null>) => void,
  ) {}

  private layout(nIn: number, nOut: number) {
    const key = `${nIn}:${nOut}`;
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let k = 0; k < nIn; k++) entries.push({ binding: k, visibility: 4, buffer: { type: "read-only-storage" } });
      for (let k = 0; k < nOut; k++) entries.push({ binding: nIn + k, visibility: 4, buffer: { type: "storage" } });
      entries.push({ binding: nIn + nOut, visibility: 4, buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: UNIFORM_STRIDE } });
      const group = this.gpu.createBindGroupLayout({ entries, label: `webgrad ${key}` });
      // Pipeline layouts are made when a pipeline needs one: a bind group layout using all of the
      // adapter's storage buffers is valid only in the layout without the flag.
      l = { group, flagged: null, unflagged: null };
      this.layouts.set(key, l);
    }
    return l;
  }

  /** Group 0, then the error flag as group 1; without it (noErrorFlag), the pass's group 1 goes unused. */
  private pipelineLayout(nIn: number, nOut: number, flag: boolean): GPUPipelineLayout {
    const l = this.layout(nIn, nOut);
    if (!flag) return (l.unflagged ??= this.gpu.createPipelineLayout({ bindGroupLayouts: [l.group] }));
    return (l.flagged ??= this.gpu.createPipelineLayout({ bindGroupLayouts: [l.group, this.flagLayout] }));
  }

  /** The pipeline for `launch` with nIn read-only and nOut writable bindings; `op` names it in errors. */
  pipeline(launch: GpuLaunch, op: string, nIn: number, nOut: number): GPUComputePipeline {
    const key = `${launch.key}|${launch.entryPoint ?? "main"}|${nIn}:${nOut}${launch.noErrorFlag ? "|noflag" : ""}`;
    let p = this.pipelines.get(key);
    if (!p) {
      this.gpu.pushErrorScope("validation");
      const module = this.gpu.createShaderModule({ code: launch.code(), label: launch.key });
      p = this.gpu.createComputePipeline({
        label: `${op} (${launch.key})`,
        layout: this.pipelineLayout(nIn, nOut, !launch.noErrorFlag),
        compute: { module, entryPoint: launch.entryPoint ?? "main", constants: launch.constants as Record<string, number> },
      });
      this.report(this.gpu.popErrorScope().then((e) => (e ? `${op}: building its WGSL pipeline failed: ${e.message}` : null)));
      this.pipelines.set(key, p);
      this.stats.pipelinesCreated++;
    }
    return p;
  }

  /** The bind group of these read-only and writable buffers, then the uniform ring. */
  bindGroup(read: readonly GpuBuf[], outs: readonly GpuBuf[]): GPUBindGroup {
    const key = `${read.length}:${outs.length}|${read.map((b) => b.id).join(",")}|${outs.map((b) => b.id).join(",")}`;
    let g = this.bindGroups.get(key);
    if (!g) {
      const buffers = [...read, ...outs].map((b) => b.buffer);
      const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
      entries.push({ binding: buffers.length, resource: { buffer: this.uniforms, size: UNIFORM_STRIDE } });
      g = this.gpu.createBindGroup({ layout: this.layout(read.length, outs.length).group, entries });
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.delete(this.bindGroups.keys().next().value!);
      this.bindGroups.set(key, g);
      this.stats.bindGroupsCreated++;
    }
    return g;
  }
}
