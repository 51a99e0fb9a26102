/**
 * JAX-style transforms over the reverse-mode tape: grad, valueAndGrad, vjp,
 * jvp (two vjps: the first is linear in its cotangent u, the second takes the
 * tangent through u), jacobian (one vjp per output element) and hessian.
 * Inside another transform, or when a tensor given to it requires grad, each
 * records its own backward (createGraph, as torch.autograd.grad(create_graph=True)),
 * so the outer transform or a later .backward() can differentiate through it:
 * grad of grad composes without nesting. Otherwise results are detached.
 */
import { fmt } from "../shape.js";
import { grad as autogradGrad } from "./engine.js";
import type { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";

type Fn = (...args: Tensor[]) => Tensor;
type Argnums = number | number[];

// How many transforms are running: a transform inside another must record a differentiable result.
let depth = 0;
/** Run a transform's body; `graph`: its results must be differentiable (inside another transform, or an input requires grad). */
function traced<T>(given: readonly Tensor[], fn: (graph: boolean) => T): T {
  const graph = depth > 0 || given.some((t) => t?.requiresGrad === true);
  depth++;
  try {
    return fn(graph);
  } finally {
    depth--;
  }
}

/** A fresh leaf to differentiate with respect to, or the tensor itself when something already tracks it. */
function track(x: Tensor, op: string): Tensor {
  if (x.dtype === "int32") throw new Error(`${op}: cannot differentiate with respect to an int32 tensor of shape ${fmt(x.shape)}. Fix: x.float().`);
  return x.requiresGrad ? x : x.detach().requiresGrad_();
}

const list = (x: Tensor | Tensor[]) => (Array.isArray(x) ? x : [x]);

/** Gradients of `out` for `inputs` with `seed`; zeros for inputs it does not depend on. */
function pullback(out: Tensor, inputs: Tensor[], seed: Tensor | undefined, createGraph: boolean, retainGraph = createGraph): Tensor[] {
  const gs = out.requiresGrad
    ? autogradGrad(out, inputs, { gradOutputs: seed, createGraph, retainGraph, allowUnused: true })
    : inputs.map(() => null);
  return gs.map((g, i) => g ?? ops.zerosLike(inputs[i]));
}

/**
 * Like `grad`, but the returned function gives `[f(args), gradient]`, so the forward pass runs once for both: one
 * gradient for a number `argnums` (default 0), a list for an array.
 *
 * JAX: `jax.value_and_grad`.
 * @example const [value, g] = wg.valueAndGrad((x) => x.square().sum())(wg.tensor([1, 2])); g // tensor([2., 4.])
 */
export function valueAndGrad(f: Fn, opts?: { argnums?: number }): (...args: Tensor[]) => [Tensor, Tensor];
export function valueAndGrad(f: Fn, opts: { argnums: number[] }): (...args: Tensor[]) => [Tensor, Tensor[]];
export function valueAndGrad(f: Fn, opts?: { argnums?: Argnums }): (...args: Tensor[]) => [Tensor, Tensor | Tensor[]];
export function valueAndGrad(f: Fn, opts: { argnums?: Argnums } = {}) {
  const argnums = opts.argnums ?? 0;
  const nums = Array.isArray(argnums) ? argnums : [argnums];
  return (...args: Tensor[]): [Tensor, Tensor | Tensor[]] =>
    traced(args, (graph) => {
      for (const n of nums)
        if (!Number.isInteger(n) || n < 0 || n >= args.length)
          throw new Error(`grad: argnums ${JSON.stringify(argnums)} does not name one of the ${args.length} arguments given.`);
      const inputs = args.map((a, i) => (nums.includes(i) ? track(a, "grad") : a));
      const value = f(...inputs);
      if (value.size !== 1)
        throw new Error(`grad: f must return a scalar (one-element) tensor, got shape ${fmt(value.shape)}. Fix: reduce it (e.g. .sum()) or use vjp/jacobian.`);
      const grads = pullback(value, nums.map((n) => inputs[n]), undefined, graph);
      return [graph ? value : value.detach(), Array.isArray(argnums) ? grads : grads[0]];
    });
}

/**
 * Turns `f`, a function of tensors returning a one-element tensor, into a function returning its gradient with respect to
 * argument `argnums` (default 0; an array gives a list of gradients, and an argument `f` does not use gets zeros). No
 * `.grad` is touched. The results are detached, unless the call is inside another transform or an argument requires grad:
 * then they are differentiable, so `grad(grad(f))` works. An int32 argument to differentiate throws.
 *
 * JAX: `jax.grad`.
 * @example wg.grad((x) => x.pow(3).sum())(wg.tensor([1, 2])) // tensor([ 3., 12.])
 */
export function grad(f: Fn, opts?: { argnums?: number }): (...args: Tensor[]) => Tensor;
export function grad(f: Fn, opts: { argnums: number[] }): (...args: Tensor[]) => Tensor[];
export function grad(f: Fn, opts?: { argnums?: Argnums }): (...args: Tensor[]) => Tensor | Tensor[];
export function grad(f: Fn, opts: { argnums?: Argnums } = {}) {
  const vg = valueAndGrad(f, opts);
  return (...args: Tensor[]): Tensor | Tensor[] => vg(...args)[1];
}

/**
 * `[f(primals), cotangents · ∂f/∂primals]`: f's output and the vector-Jacobian product (reverse mode, one backward pass).
 * `f` takes the primals as its arguments (one tensor or a list, giving one product or a list); `cotangents` has the
 * output's shape. Inputs `f` does not use get zeros.
 *
 * PyTorch: `torch.autograd.functional.vjp`.
 * @example wg.vjp((x) => x.mul(x), wg.tensor([1, 2]), wg.tensor([1, 1]))[1] // tensor([2., 4.])
 */
export function vjp(f: Fn, primals: Tensor, cotangents: Tensor): [Tensor, Tensor];
export function vjp(f: Fn, primals: Tensor[], cotangents: Tensor): [Tensor, Tensor[]];
export function vjp(f: Fn, primals: Tensor | Tensor[], cotangents: Tensor): [Tensor, Tensor | Tensor[]];
export function vjp(f: Fn, primals: Tensor | Tensor[], cotangents: Tensor): [Tensor, Tensor | Tensor[]] {
  return traced([...list(primals), cotangents], (graph) => {
    const inputs = list(primals).map((x) => track(x, "vjp"));
    const out = f(...inputs);
    if (cotangents.shape.join() !== out.shape.join())
      throw new Error(`vjp: cotangents have shape ${fmt(cotangents.shape)} but f returned shape ${fmt(out.shape)}; they must match.`);
    const res = pullback(out, inputs, cotangents, graph);
    return [graph ? out : out.detach(), Array.isArray(primals) ? res : res[0]];
  });
}

/**
 * `[f(primals), ∂f/∂primals · tangents]`: f's output and the Jacobian-vector product (forward mode), computed by
 * transposing a vjp, so it costs two backward passes. One tangent per primal, each of its primal's shape.
 *
 * PyTorch: `torch.autograd.functional.jvp`.
 * @example wg.jvp((x) => x.mul(x), wg.tensor([1, 2]), wg.tensor([1, 0]))[1] // tensor([2., 0.])
 */
export function jvp(f: Fn, primals: Tensor | Tensor[], tangents: Tensor | Tensor[]): [Tensor, Tensor] {
  return traced([...list(primals), ...list(tangents)], (graph) => {
    const xs = list(primals);
    const ts = list(tangents);
    if (ts.length !== xs.length) throw new Error(`jvp: ${xs.length} primals but ${ts.length} tangents.`);
    xs.forEach((x, i) => {
      if (x.shape.join() !== ts[i].shape.join())
        throw new Error(`jvp: tangent ${i} has shape ${fmt(ts[i].shape)} but its primal has shape ${fmt(x.shape)}.`);
    });
    const inputs = xs.map((x) => track(x, "jvp"));
    const out = f(...inputs);
    const value = graph ? out : out.detach();
    if (!out.requiresGrad) return [value, ops.zerosLike(out)];
    const u = ops.zerosLike(out).requiresGrad_();
    const jtu = autogradGrad(out, inputs, { gradOutputs: u, createGraph: true, allowUnused: true }); // Jᵀu, linear in u
    const used = jtu.flatMap((g, i) => (g !== null && g.requiresGrad ? [[g, ts[i]] as const] : []));
    if (used.length === 0) return [value, ops.zerosLike(out)];
    const [jv] = autogradGrad(used.map(([g]) => g), u, { gradOutputs: used.map(([, t]) => t), createGraph: graph, allowUnused: true });
    return [value, jv ?? ops.zerosLike(out)];
  });
}

/**
 * The Jacobian ∂f/∂x, of shape [...outputShape, ...inputShape] (a list of them when `x` is a list of the arguments of
 * `f`). It takes one backward pass per output element: meant for small outputs.
 *
 * PyTorch: `torch.autograd.functional.jacobian`.
 * @example wg.jacobian((x) => x.mul(x), wg.tensor([1, 2])) // tensor([[2., 0.], [0., 4.]])
 */
export function jacobian(f: Fn, x: Tensor): Tensor;
export function jacobian(f: Fn, x: Tensor[]): Tensor[];
export function jacobian(f: Fn, x: Tensor | Tensor[]): Tensor | Tensor[];
export function jacobian(f: Fn, x: Tensor | Tensor[]): Tensor | Tensor[] {
  return traced(list(x), (graph) => {
    const inputs = list(x).map((t) => track(t, "jacobian"));
    const out = f(...inputs);
    const rows: Tensor[][] = inputs.map(() => []);
    for (let j = 0; j < out.size; j++) {
      const basis = new Float64Array(out.size);
      basis[j] = 1;
      const seed = ops.tensor(basis, { shape: out.shape, dtype: out.dtype, device: out.device });
      pullback(out, inputs, seed, graph, true).forEach((g, i) => rows[i].push(g));
    }
    const jac = inputs.map((t, i) =>
      out.size === 0
        ? ops.zeros([...out.shape, ...t.shape], { dtype: t.dtype, device: t.device })
        : ops.stack(rows[i]).reshape([...out.shape, ...t.shape]),
    );
    return Array.isArray(x) ? jac : jac[0];
  });
}

/**
 * The Hessian ∂²f/∂x² of a function returning a one-element tensor, of shape [...inputShape, ...inputShape]: the
 * Jacobian of `grad(f)`, one backward pass per input element. One tensor argument.
 *
 * PyTorch: `torch.autograd.functional.hessian`.
 * @example wg.hessian((x) => x.pow(3).sum(), wg.tensor([1, 2])) // tensor([[ 6., 0.], [ 0., 12.]])
 */
export function hessian(f: Fn, x: Tensor): Tensor {
  const df = grad(f);
  return jacobian((t) => df(t) as Tensor, x) as Tensor;
}
