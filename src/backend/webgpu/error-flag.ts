/**
 * The device-side error flag: one small storage buffer, bound at @group(1) @binding(0) to every
 * pipeline, where a checking kernel (gather's index range, cross-entropy's labels, anomaly mode's
 * NaN scan) records the first failure: word 0 = the failing launch's id, word 1 = the raw bits of
 * the bad value, word 2 = where it was (a row, an element; the kernel says). The host keeps a table launch id → op, message and call site. At a sync point
 * (flush, readback) the flag is copied out in the same submit as the work and cleared, so checks
 * cost no round trip per op, and the Error names the op that launched the bad work.
 */
import type { LaunchCheck } from "../backend.js";
import { captureSite, userFrames } from "../../stack.js";

const FLAG_BYTES = 16;
const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
/** Checked launches remembered between two sync points; older ones keep their id but lose their details. */
const MAX_PENDING = 1 << 16;

interface Entry {
  readonly op: string;
  readonly check: LaunchCheck;
  /** Where the launch was made; captured now, formatted only on failure. */
  readonly site: Error;
}

/** The checks one sync point answers for. */
export type FlagWindow = Map<number, Entry>;

export class ErrorFlag {
  readonly layout: GPUBindGroupLayout;
  readonly group: GPUBindGroup;
  private buffer: GPUBuffer;
  private table: FlagWindow = new Map();
  private nextId = 1;

  constructor(gpu: GPUDevice) {
    this.buffer = gpu.createBuffer({ size: FLAG_BYTES, usage: STORAGE_USAGE, label: "webgrad error flag" });
    this.layout = gpu.createBindGroupLayout({
      entries: [{ binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: "storage" } }],
      label: "webgrad error flag",
    });
    this.group = gpu.createBindGroup({ layout: this.layout, entries: [{ binding: 0, resource: { buffer: this.buffer } }] });
  }

  static readonly BYTES = FLAG_BYTES;

  /** Checked launches since the last sync point. */
  get pending(): boolean {
    return this.table.size > 0;
  }

  /** A fresh id for a checking launch (never 0, which means "no failure"). */
  register(op: string, check: LaunchCheck): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    if (this.table.size >= MAX_PENDING) this.table.delete(this.table.keys().next().value!);
    this.table.set(id, { op, check, site: captureSite(`${op} launched`) });
    return id;
  }

  /** Encode: copy the flag to dst[offset..offset+16) and clear it. Returns the checks that copy answers for. */
  drainInto(encoder: GPUCommandEncoder, dst: GPUBuffer, offset: number): FlagWindow {
    encoder.copyBufferToBuffer(this.buffer, 0, dst, offset, FLAG_BYTES);
    encoder.clearBuffer(this.buffer, 0, FLAG_BYTES);
    const window = this.table;
    this.table = new Map();
    return window;
  }

  /** The Error message for a copied flag, or null when no launch reported a failure. */
  static verdict(window: FlagWindow, words: Uint32Array): string | null {
    const id = words[0];
    if (id === 0) return null;
    const e = window.get(id);
    if (!e)
      return `an index or value check failed in a WebGPU launch whose details were dropped (more than ${MAX_PENDING} checked launches since the last sync point). Fix: call await wg.flush() more often to locate it.`;
    return `${e.check.message(words[1], words[2])}\n(WebGPU checks on the device and reports at the next sync point; the launch was made at:\n${userFrames(e.site)})`;
  }
}
