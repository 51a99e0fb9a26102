/**
 * Value checks that must not read data back: every element finite (anomaly mode), every element in
 * [lo, hi] (binaryCrossEntropy's probabilities). The CPU backend throws at once; WebGPU runs a
 * checking kernel that reports to the device's error flag, and the Error comes at the next sync point.
 */
import template from "../../shaders/check.wgsl";
import type { Kernel } from "../backend/backend.js";
import { numel, stridedOffsets } from "../shape.js";
import { launch } from "../engine/scheduler.js";
import { uniformLayout } from "../engine/wgsl.js";
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

const checkParams = uniformLayout(template);

const checkKernel: Kernel<Attrs> = {
  name: "check",
  cpu(_outs, [x], a) {
    const offs = stridedOffsets(x.shape, x.strides, x.offset);
    for (let i = 0; i < offs.length; i++) if (!ok(x.data[offs[i]], a)) throw new Error(a.message(x.data[offs[i]], i));
  },
  webgpu(_outs, [x], a) {
    const n = numel(x.shape);
    const params = checkParams.pack({ n, offset: x.offset, lo: a.lo, hi: a.hi });
    const f32 = new DataView(new ArrayBuffer(4));
    return {
      key: "check",
      code: () => template,
      constants: { MODE: a.mode === "finite" ? 0 : 1 },
      params,
      workgroups: Math.ceil(n / 256),
      check: { idWord: checkParams.word("check_id"), message: (bits, i) => (f32.setUint32(0, bits, true), a.message(f32.getFloat32(0, true), i)) },
    };
  },
};

function run(x: Tensor, a: Attrs): void {
  if (x.dtype === "int32" || x.size === 0) return;
  // The kernel reads contiguous data; the CPU loop reads any strides.
  const t = x.device === "cpu" ? x : noGrad(() => dense(x));
  try {
    launch(t.device, checkKernel, [], [t], a);
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
