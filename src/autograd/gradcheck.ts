/**
 * gradcheck: analytic gradients (one vjp per output element) against central
 * finite differences, in float64 on the CPU whatever device the inputs are on.
 */
import { grad as autogradGrad } from "./engine.js";
import { tidy } from "../engine/scope.js";
import { fmt } from "../shape.js";
import type { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";

/**
 * Options of `wg.gradcheck`. An element passes when |analytic - numeric| ≤ atol + rtol·|numeric|; the defaults are
 * PyTorch's.
 *
 * PyTorch: the `eps`, `atol` and `rtol` arguments of `torch.autograd.gradcheck`.
 * @example await wg.gradcheck((x) => x.exp().sum(), wg.randn([3]), { eps: 1e-6, atol: 1e-5, rtol: 1e-3 })
 */
export interface GradcheckOptions {
  /** The finite-difference step (default 1e-6). */
  eps?: number;
  /** The absolute tolerance (default 1e-5). */
  atol?: number;
  /** The relative tolerance, a fraction of |numeric| (default 1e-3). */
  rtol?: number;
}

/**
 * What `wg.gradcheck` found: whether every element passed, the largest errors, and the worst element.
 *
 * PyTorch: none (`torch.autograd.gradcheck` returns a bool or raises).
 * @example const r = await wg.gradcheck((x) => x.sin().sum(), wg.randn([4])); r.ok // true
 */
export interface GradcheckResult {
  /** Whether every element of every gradient passed the tolerance test (a NaN fails). */
  ok: boolean;
  /** The largest |analytic - numeric| (Infinity when one is NaN). */
  maxAbsError: number;
  /** The largest |analytic - numeric| / |numeric| (Infinity when one is NaN). */
  maxRelError: number;
  /**
   * The worst element (the one closest to failing when all pass): which input and flat index, which output element, and
   * both values; null when there was nothing to compare.
   */
  details: { input: number; index: number; output: number; analytic: number; numeric: number } | null;
}

/**
 * Compares the gradients autograd computes for `f` (one backward pass per output element) to central finite differences
 * (f(x + eps) - f(x - eps)) / 2eps, in float64 on the CPU whatever device the inputs are on. `f` is called on float64 CPU
 * copies of `inputs` (int32 inputs pass through, undifferentiated) and must compute on them; checking second-order
 * gradients works, since the copies require grad. Resolves to a result (`ok` false) rather than throwing.
 *
 * PyTorch: `torch.autograd.gradcheck`.
 * @example (await wg.gradcheck((x) => x.tanh().sum(), wg.randn([3]))).ok // true
 */
export async function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor | Tensor[],
  opts: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3 } = opts;
  const given = Array.isArray(inputs) ? inputs : [inputs];
  const values = await Promise.all(given.map(async (t) => Float64Array.from(await t.data())));
  const isDiff = given.map((t) => t.dtype !== "int32");
  const make = (i: number, data: Float64Array, requiresGrad: boolean) =>
    isDiff[i]
      ? ops.tensor(data, { shape: given[i].shape, dtype: "float64", device: "cpu", requiresGrad })
      : ops.tensor(Int32Array.from(data), { shape: given[i].shape, dtype: "int32", device: "cpu" });

  const xs = values.map((v, i) => make(i, v, true));
  const out = f(...xs);
  if (out.device !== "cpu" || out.dtype !== "float64")
    throw new Error(`gradcheck: f must compute on its float64 CPU inputs; it returned ${out.dtype} on ${out.device} (shape ${fmt(out.shape)}).`);
  const m = out.size;
  const diffInputs = xs.filter((_, i) => isDiff[i]);
  const diffIndex = given.map((_, i) => i).filter((i) => isDiff[i]);
  // analytic[k][j * n + e]: d out_j / d input_k[e]
  const analytic: Float64Array[] = diffInputs.map((t) => new Float64Array(m * t.size));
  for (let j = 0; j < m; j++) {
    const basis = new Float64Array(m);
    basis[j] = 1;
    const seed = ops.tensor(basis, { shape: out.shape, dtype: "float64", device: "cpu" });
    const gs = out.requiresGrad
      ? autogradGrad(out, diffInputs, { gradOutputs: seed, retainGraph: true, allowUnused: true })
      : diffInputs.map(() => null);
    for (let k = 0; k < gs.length; k++) if (gs[k]) analytic[k].set(await gs[k]!.data(), j * diffInputs[k].size);
  }

  let maxAbs = 0, maxRel = 0, worst = -Infinity;
  let details: GradcheckResult["details"] = null;
  let ok = true;
  // Inputs keep requiresGrad, so f may itself take gradients (second-order checks).
  const evaluate = async (i: number, data: Float64Array) => {
    const y = tidy(() => f(...values.map((v, k) => make(k, k === i ? data : v, true))).detach());
    const d = await y.data();
    y.dispose();
    return d;
  };
  for (let k = 0; k < diffIndex.length; k++) {
    const i = diffIndex[k];
    const base = values[i];
    for (let e = 0; e < base.length; e++) {
      const plus = Float64Array.from(base);
      const minus = Float64Array.from(base);
      plus[e] += eps;
      minus[e] -= eps;
      const [yp, ym] = [await evaluate(i, plus), await evaluate(i, minus)];
      for (let j = 0; j < m; j++) {
        const numeric = (yp[j] - ym[j]) / (2 * eps);
        const a = analytic[k][j * base.length + e];
        const abs = Math.abs(a - numeric);
        const rel = abs / Math.max(Math.abs(numeric), 1e-12);
        const bad = !(abs <= atol + rtol * Math.abs(numeric));
        if (bad) ok = false;
        maxAbs = Math.max(maxAbs, Number.isNaN(abs) ? Infinity : abs);
        maxRel = Math.max(maxRel, Number.isNaN(rel) ? Infinity : rel);
        const score = Number.isNaN(abs) ? Infinity : abs - (atol + rtol * Math.abs(numeric));
        if (score > worst) {
          worst = score;
          details = { input: i, index: e, output: j, analytic: a, numeric };
        }
      }
    }
  }
  return { ok, maxAbsError: maxAbs, maxRelError: maxRel, details };
}
