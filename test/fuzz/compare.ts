/**
 * Judge two outcomes of one graph, the CPU reference and WebGPU: the same
 * errors, the shapes PyTorch's rules give, the same requiresGrad, values and
 * leaf gradients within a tolerance that grows with the graph's depth and the
 * magnitudes involved; and no leaks on either device.
 */
import { fmtShape } from "./graph.js";
import type { Checked } from "./generate.js";
import { PRECISION } from "./ops-values.js";
import type { Outcome } from "./exec.js";

/** float32 rounding per op, with room for the looser transcendental functions of a GPU (Vulkan allows a few ulp). */
export const TOLERANCE = 2e-5;

/** The per-op error allowed for a value computed from `names`: the loosest op among them. */
function base(c: Checked, names: Iterable<string>): number {
  let tol = TOLERANCE;
  for (const n of names) tol = Math.max(tol, PRECISION[c.ops.get(n) ?? ""] ?? 0);
  return tol;
}

function maxAbs(xs: readonly number[]): number {
  let m = 0;
  for (const x of xs) m = Math.max(m, Math.abs(x));
  return m;
}

/** The first element outside atol + rtol·|expected|, described; null when all agree. */
function mismatch(actual: readonly number[], expected: readonly number[], atol: number, exact: boolean): string | null {
  if (actual.length !== expected.length) return `${actual.length} elements, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    if (exact || !(Math.abs(a - e) <= atol + atol * Math.abs(e)))
      return `element ${i} is ${a} on webgpu, ${e} on cpu (tolerance ${exact ? 0 : atol.toExponential(1)})`;
  }
  return null;
}

function checkValues(c: Checked, cpu: Outcome, gpu: Outcome): string | null {
  for (const name of c.live) {
    const m = c.metas.get(name)!;
    for (const o of [cpu, gpu]) {
      const v = o.values.get(name)!;
      if (v.shape.join() !== m.shape.join()) return `${name} has shape ${fmtShape(v.shape)} on ${o.device}; PyTorch's rules give ${fmtShape(m.shape)}`;
      if (v.dtype !== m.dtype) return `${name} is ${v.dtype} on ${o.device}, expected ${m.dtype}`;
      if (v.requiresGrad !== m.grad) return `${name}.requiresGrad is ${v.requiresGrad} on ${o.device}, expected ${m.grad}`;
      if (v.data.some((x) => !Number.isFinite(x))) return `${name} holds ${v.data.find((x) => !Number.isFinite(x))} on ${o.device}; every value of this graph is finite`;
    }
    // Errors grow with depth and with the magnitudes the value was computed from.
    const scale = Math.max(1, ...[...c.ancestors.get(name)!].map((n) => maxAbs(cpu.values.get(n)?.data ?? [])));
    const atol = base(c, c.ancestors.get(name)!) * (1 + c.depth.get(name)!) * scale;
    const bad = mismatch(gpu.values.get(name)!.data, cpu.values.get(name)!.data, atol, m.dtype === "int32");
    if (bad) return `${name}: ${bad}`;
  }
  return null;
}

function checkGrads(c: Checked, cpu: Outcome, gpu: Outcome): string | null {
  const depth = Math.max(0, ...c.depth.values());
  const all = [...cpu.values.values()].flatMap((v) => v.data).concat([...cpu.grads.values()].flatMap((g) => g ?? []));
  const atol = base(c, c.metas.keys()) * (1 + 2 * depth) * Math.max(1, maxAbs(all));
  for (const [name, want] of cpu.grads) {
    const got = gpu.grads.get(name) ?? null;
    if ((want === null) !== (got === null)) return `${name}.grad is ${got ? "a tensor" : "null"} on webgpu but ${want ? "a tensor" : "null"} on cpu`;
    if (want && c.sinks.length === 0) return `${name}.grad is set although no output required grad`;
    const bad = want && got && mismatch(got, want, atol, false);
    if (bad) return `${name}.grad: ${bad}`;
  }
  return null;
}

/** What is wrong, in one line; null when the devices agree. */
export function compare(c: Checked, cpu: Outcome, gpu: Outcome): string | null {
  if (cpu.leak || gpu.leak) return `leak: ${cpu.leak ?? gpu.leak}`;
  if (cpu.error !== undefined || gpu.error !== undefined) {
    // Every graph is a valid PyTorch program, so even an error both devices agree on is a failure.
    if (cpu.error === gpu.error) return `both devices threw "${cpu.error}" on a program PyTorch runs`;
    return `cpu ${cpu.error === undefined ? "ran" : `threw "${cpu.error}"`} but webgpu ${gpu.error === undefined ? "ran" : `threw "${gpu.error}"`}`;
  }
  return checkValues(c, cpu, gpu) ?? checkGrads(c, cpu, gpu);
}
