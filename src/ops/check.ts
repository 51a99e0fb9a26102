/**
 * Value checks that must not read data back: every element finite (anomaly mode), every element in
 * [lo, hi] (binaryCrossEntropy's probabilities). The CPU backend throws at once; WebGPU runs a
 * checking kernel that reports to the device's error flag, and the Error comes at the next sync point.
 */
import template from "../../shaders/check.wgsl";
import type { Kernel } from "../backend/backend.js";
import { numel } from "../shape.js";
import { stridedOffsets } from "../backend/cpu/loops.js";
import { backendFor } from "../engine/device.js";
import { dense } from "./layout.js";
import { noGrad } from "../autograd/mode.js";
import type { Tensor } from "../tensor.js";

interface Attrs {
  mode: "finite" | "range";
  lo: number;
  hi: number;
  /** The Error message for the bad value v at flat element i. */
  message: (v: number, i: number) => string;
}

const ok = (v: number, a: Attrs) => Number.isFinite(v) && (a.mode === "finite" || (v >= a.lo && v <= a.hi));

const checkKernel: Kernel<Attrs> = {
  name: "check",
  cpu(_outs, [x], a) {
    const offs = stridedOffsets(x.shape, x.strides, x.offset);
    for (let i = 0; i < offs.length; i++) if (!ok(x.data[offs[i]], a)) throw new Error(a.message(x.data[offs[i]], i));
  },
  webgpu(_outs, [x], a) {
    const n = numel(x.shape);
    const P = new DataView(new ArrayBuffer(32));
    P.setUint32(0, n, true);
    P.setUint32(4, x.offset, true);
    P.setFloat32(16, a.lo, true);
    P.setFloat32(20, a.hi, true);
    const f32 = new DataView(new ArrayBuffer(4));
    return {
      key: "check",
      code: () => template,
      constants: { MODE: a.mode === "finite" ? 0 : 1 },
      params: P.buffer,
      workgroups: Math.ceil(n / 256),
      check: { idWord: 2, message: (bits, i) => (f32.setUint32(0, bits, true), a.message(f32.getFloat32(0, true), i)) },
    };
  },
};

function run(x: Tensor, a: Attrs): void {
  if (x.dtype === "int32" || x.size === 0) return;
  // The kernel reads contiguous data; the CPU loop reads any strides.
  const t = x.device === "cpu" ? x : noGrad(() => dense(x));
  try {
    backendFor(t.device).run(checkKernel, [], [t], a);
  } finally {
    if (t !== x) t.dispose();
  }
}

/** Throw (CPU) or report at the next sync point (WebGPU) when an element of x is outside [lo, hi] or NaN. */
export function checkRange(x: Tensor, lo: number, hi: number, message: (v: number, i: number) => string): void {
  run(x, { mode: "range", lo, hi, message });
}

/** The same for a NaN or ±Inf anywhere in x. */
export function checkFinite(x: Tensor, message: (v: number, i: number) => string): void {
  run(x, { mode: "finite", lo: 0, hi: 0, message });
}
