/**
 * Runs a representative part of the op suite inside the page: each case's
 * forward and the backward of sum(op(x) * r) on the browser's WebGPU adapter
 * and on the CPU backend, compared. The result lands in window.selftest.
 */
import * as wg from "../../src/browser.js";
import type { Tensor } from "../../src/browser.js";
import { showError, showNoWebgpu, webgpuStatus } from "./gpu-check.js";

interface Case {
  name: string;
  shapes: number[][];
  f: (...xs: Tensor[]) => Tensor;
  grad?: boolean;
  int?: number; // inputs at this index and after are int32 class indices in [0, int)
}

const cases: Case[] = [
  { name: "matmul 33x17 · 17x9", shapes: [[33, 17], [17, 9]], f: (a, b) => a.matmul(b) },
  { name: "matmul 65x65 · 65x65", shapes: [[65, 65], [65, 65]], f: (a, b) => a.matmul(b) },
  { name: "matmul, transposed operands", shapes: [[8, 5], [12, 8]], f: (a, b) => a.T.matmul(b.T) },
  { name: "batched matmul, broadcast batch", shapes: [[2, 1, 5, 4], [3, 4, 6]], f: (a, b) => a.matmul(b) },
  { name: "softmax", shapes: [[6, 40]], f: (a) => a.mul(3).softmax(-1) },
  { name: "logSoftmax along dim 0", shapes: [[7, 5]], f: (a) => a.logSoftmax(0) },
  { name: "cross-entropy (fused)", shapes: [[9, 10], [9]], f: (l, t) => wg.nn.functional.crossEntropy(l, t), int: 1 },
  { name: "elementwise chain with broadcasting", shapes: [[5, 7], [7]], f: (a, b) => a.mul(b).add(a.exp()).tanh().pow(2).div(b.abs().add(1)) },
  { name: "sigmoid, relu, gelu, where", shapes: [[4, 6]], f: (a) => wg.where(a.gt(0), a.sigmoid(), a.relu().add(a.gelu())) },
  { name: "sum over dims 0 and 2", shapes: [[3, 4, 5]], f: (a) => a.sum([0, 2]) },
  { name: "max along dim 1", shapes: [[6, 9]], f: (a) => a.max(1) },
  { name: "mean with keepdim", shapes: [[4, 8]], f: (a) => a.mean(-1, true) },
  { name: "argmax", shapes: [[5, 11]], f: (a) => a.argmax(1), grad: false },
];

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

async function runCase(c: Case, device: "cpu" | "webgpu"): Promise<{ y: Float32Array | Int32Array; grads: Float32Array[] }> {
  const xs = c.shapes.map((shape, k) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (c.int !== undefined && k >= c.int) return wg.tensor(Int32Array.from(seeded(n, 7 + k), (v) => Math.floor((v + 1) * 5) % 10), { shape, dtype: "int32", device });
    return wg.tensor(seeded(n, 3 + k), { shape, device, requiresGrad: c.grad !== false });
  });
  const y = c.f(...xs);
  const out = { y: (await y.data()) as Float32Array | Int32Array, grads: [] as Float32Array[] };
  if (c.grad !== false) {
    y.mul(wg.tensor(seeded(y.size, 99), { shape: y.shape, device })).sum().backward();
    for (const x of xs) if (x.grad) out.grads.push((await x.grad.data()) as Float32Array);
  }
  return out;
}

const maxErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return a.length === b.length ? e : Infinity;
};

async function main() {
  const status = document.getElementById("status")!;
  const notice = document.getElementById("notice")!;
  const gpu = await webgpuStatus();
  if (!gpu.ok) {
    showNoWebgpu(notice, gpu.reason, () => {});
    status.textContent = "not run: no WebGPU";
    (window as unknown as { selftest: unknown }).selftest = { ok: false, reason: gpu.reason, cases: [] };
    return;
  }
  const { adapterInfo } = await wg.init({ device: "webgpu" });
  document.getElementById("adapter")!.textContent = `adapter: ${[adapterInfo.vendor, adapterInfo.architecture].filter(Boolean).join(" ")}`;
  const rows = [];
  const body = document.querySelector("#results tbody")!;
  for (const c of cases) {
    const [ref, got] = [await runCase(c, "cpu"), await runCase(c, "webgpu")];
    const fwd = maxErr(got.y, ref.y);
    const bwd = ref.grads.reduce((m, g, i) => Math.max(m, maxErr(got.grads[i] ?? [], g)), 0);
    const ok = fwd < 1e-4 && bwd < 1e-4 && got.grads.length === ref.grads.length;
    rows.push({ name: c.name, forwardError: fwd, backwardError: bwd, grads: ref.grads.length, ok });
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${c.name}</td><td>${fwd.toExponential(2)}</td><td>${c.grad === false ? "—" : bwd.toExponential(2)}</td><td class="${ok ? "ok" : "bad"}">${ok ? "ok" : "MISMATCH"}</td>`;
    body.append(tr);
  }
  const ok = rows.every((r) => r.ok);
  status.textContent = ok ? `all ${rows.length} cases match the CPU backend` : "some cases do not match";
  (window as unknown as { selftest: unknown }).selftest = { ok, adapter: adapterInfo, cases: rows };
}

main().catch((e) => {
  showError(document.getElementById("notice")!, `Self-test failed: ${(e as Error).message}`);
  (window as unknown as { selftest: unknown }).selftest = { ok: false, error: (e as Error).message, cases: [] };
});
