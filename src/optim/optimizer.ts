/**
 * The optimizer skeleton: check the parameters, keep per-parameter state and
 * step counts, and run one fused update kernel per parameter that has a
 * gradient. Subclasses say how much state a parameter needs and which
 * numbers the kernel gets this step.
 */
import { launch } from "../engine/scheduler.js";
import { keep } from "../engine/scope.js";
import { noGrad } from "../autograd/mode.js";
import { dense } from "../ops/layout.js";
import { zeros } from "../ops/creation.js";
import { fmt } from "../shape.js";
import { Tensor } from "../tensor.js";
import { clearGrad } from "../nn/module.js";
import { updateKernel, type UpdateAttrs } from "./kernel.js";

interface ParamState {
  /** Steps taken with a gradient (torch keeps one count per parameter). */
  step: number;
  /** SGD: the momentum buffer; Adam: [m; v] stacked as [2, ...shape]; null before it is needed. */
  state: Tensor | null;
}

export abstract class Optimizer {
  readonly params: Tensor[];
  private readonly perParam = new Map<Tensor, ParamState>();
  /** Bound in the state slot when a rule keeps no state (plain SGD); never read. */

  constructor(readonly name: string, params: Iterable<Tensor>) {
    if (params instanceof Tensor || params === null || typeof (params as Iterable<Tensor>)?.[Symbol.iterator] !== "function")
      throw new Error(`${name}: params must be an array of tensors, got ${params instanceof Tensor ? "a single Tensor" : String(params)}. Fix: new optim.${name}(model.parameters(), ...) or new optim.${name}([t], ...).`);
    this.params = Array.from(params);
    if (this.params.length === 0) throw new Error(`${name}: got an empty parameter list. Fix: pass model.parameters() of a model that has parameters.`);
    this.params.forEach((p, i) => {
      const bad = (why: string, fix: string) => new Error(`${name}: parameter ${i}${p instanceof Tensor ? ` (shape ${fmt(p.shape)})` : ""} ${why}. Fix: ${fix}.`);
      if (!(p instanceof Tensor)) throw bad(`is ${typeof p}, not a Tensor`, "pass tensors, e.g. model.parameters()");
      if (p.isDisposed) throw bad("was disposed", "pass live tensors");
      if (!p.isLeaf) throw bad(`is not a leaf (it comes from ${p.gradFn!.name}), so it cannot be optimized`, "optimize the leaf tensors it was computed from");
      if (p.dtype === "int32") throw bad("is int32, which has no gradients", "use a float tensor");
      if (!p.isContiguous() || p.offset !== 0) throw bad("is a strided view; updates are written element by element from its start", "pass p.clone() made a leaf, or the tensor it views");
      if (this.params.indexOf(p) !== i) throw bad(`appears twice (also as parameter ${this.params.indexOf(p)})`, "pass each tensor once");
    });
  }

  /** How many elements of state per parameter element this step needs (0: none). */
  protected abstract stateFactor(): number;
  /** The numbers the update kernel gets for a parameter's step number `step` (1-based). */
  protected abstract attrs(step: number, first: boolean): UpdateAttrs;

  /** Update every parameter that has a gradient: one kernel each, in place, no readback. */
  step(): void {
    for (const p of this.params) {
      const g = p.grad;
      if (!g) continue;
      if (g.dtype !== p.dtype)
        throw new Error(`${this.name}.step: the gradient of parameter ${fmt(p.shape)} is ${g.dtype} but the parameter is ${p.dtype}. Fix: assign a ${p.dtype} gradient.`);
      const s = this.perParam.get(p) ?? { step: 0, state: null };
      this.perParam.set(p, s);
      const factor = this.stateFactor();
      const first = factor > 0 && s.state === null;
      if (first) s.state = keep(noGrad(() => this.initialState(p, factor)));
      s.step++;
      // The kernel reads the gradient densely, and from a buffer it does not also write.
      const grad = noGrad(() => (g.storage === p.storage ? g.clone() : dense(g)));
      const written = s.state ? [p, s.state] : [p]; // plain SGD keeps no state
      launch(p.device, updateKernel, written, [grad], this.attrs(s.step, first));
      if (grad !== g) grad.dispose();
      for (const t of written) bump(t, `${this.name}.step`);
    }
  }

  /** Drop the gradients (disposing them, so memory stays flat), or zero them in place. */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const p of this.params) clearGrad(p, setToNone);
  }

  /** The state tensor of `p` (SGD's momentum buffer, Adam's [m; v]), or null before its first step. */
  stateOf(p: Tensor): Tensor | null {
    return this.perParam.get(p)?.state ?? null;
  }

  /** Zeros; subclasses whose first step overwrites the state may skip the fill. */
  protected initialState(p: Tensor, factor: number): Tensor {
    return zeros(factor === 1 ? p.shape : [factor, ...p.shape], { dtype: p.dtype, device: p.device });
  }
}

function bump(t: Tensor, op: string): void {
  t.storage.version++;
  t.storage.lastInplaceOp = op;
}

/** Throw naming the optimizer, the option and the fix when a hyperparameter is out of range. */
export function checkOption(opt: string, key: string, value: unknown, ok: (v: number) => boolean, range: string): void {
  if (typeof value !== "number" || !ok(value))
    throw new Error(`${opt}: ${key} must be ${range}, got ${String(value)}. Fix: e.g. new optim.${opt}(model.parameters(), { ${key}: ... }) with a value ${range}.`);
}
