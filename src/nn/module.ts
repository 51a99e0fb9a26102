/**
 * Module: a tree of parameters and submodules, found the way PyTorch's
 * __setattr__ registers them: own properties in assignment order. A Module
 * property is a child; a tensor made by parameter(), or any leaf tensor that
 * requires grad, is a parameter; arrays of either are numbered ("layers.0").
 * Names and order follow PyTorch's named_parameters() and state_dict().
 */
import { noGrad } from "../autograd/mode.js";
import { storageProblem } from "../engine/device.js";
import { keep } from "../engine/scope.js";
import { fmt, sameShape } from "../shape.js";
import { Tensor } from "../tensor.js";

const marked = new WeakSet<Tensor>();

/**
 * Make `t` a parameter (PyTorch's nn.Parameter): a leaf that requires grad,
 * stays a parameter when later frozen, and outlives any enclosing tidy().
 */
export function parameter(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`parameter: expected a Tensor, got ${typeof t}.`);
  const p = t.isLeaf ? t : t.detach();
  p.requiresGrad = true;
  marked.add(p);
  return keep(p);
}

const isParameter = (v: unknown): v is Tensor =>
  v instanceof Tensor && (marked.has(v) || (v.isLeaf && v.requiresGrad && !v.isDisposed));

export interface LoadOptions {
  /** Require the dict's keys to match the model's parameter names exactly (default true). */
  strict?: boolean;
}

export abstract class Module {
  /** Dropout and similar layers act differently in training and evaluation. */
  training = true;

  // Subclasses take what their computation needs (a mask, a second input) and return what it
  // makes (a tensor, or a pair as attention does), as in PyTorch.
  abstract forward(...args: any[]): any;

  /** Direct parameters and children with their local names, in registration order. */
  protected members(): [string, Tensor | Module][] {
    const out: [string, Tensor | Module][] = [];
    const take = (name: string, v: unknown) => {
      if (v instanceof Module || isParameter(v)) out.push([name, v]);
    };
    for (const [k, v] of Object.entries(this)) {
      if (Array.isArray(v)) v.forEach((x, i) => take(`${k}.${i}`, x));
      else take(k, v);
    }
    return out;
  }

  namedChildren(): [string, Module][] {
    return this.members().filter((m): m is [string, Module] => m[1] instanceof Module);
  }

  /** This module ("") and every submodule under its dotted path, depth first; each once, so a cycle cannot loop. */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, path: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([path, m]);
      for (const [name, child] of m.namedChildren()) walk(child, path ? `${path}.${name}` : name);
    };
    walk(this, "");
    return out;
  }

  /**
   * Every parameter with its dotted path ("0.weight"), in PyTorch's order: a
   * module's own parameters, then its children's. Each tensor once (tied
   * weights keep their first name).
   */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules())
      for (const [name, v] of m.members())
        if (v instanceof Tensor && !seen.has(v)) {
          seen.add(v);
          out.push([path ? `${path}.${name}` : name, v]);
        }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Buffers by local name (running statistics): in stateDict(), not in parameters(). */
  protected readonly bufferMap = new Map<string, Tensor>();

  /**
   * Register a tensor that is state but not a parameter (PyTorch's register_buffer): it is saved
   * and loaded with stateDict(), never trained. Registering a name again replaces the tensor.
   */
  registerBuffer(name: string, t: Tensor): Tensor {
    if (typeof name !== "string" || name === "" || name.includes("."))
      throw new Error(`registerBuffer: name must be a non-empty string without dots, got ${JSON.stringify(name)}. Fix: e.g. registerBuffer("running_mean", t).`);
    if (!(t instanceof Tensor)) throw new Error(`registerBuffer: "${name}" must be a Tensor, got ${t === null ? "null" : typeof t}.`);
    if (t.requiresGrad) throw new Error(`registerBuffer: "${name}" ${fmt(t.shape)} requires grad; a buffer is never trained. Fix: pass t.detach(), or make it a parameter.`);
    this.bufferMap.set(name, keep(t));
    return t;
  }

  /** Every buffer with its dotted path, after the parameters of the same module, as PyTorch. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules())
      for (const [name, b] of m.bufferMap) out.push([path ? `${path}.${name}` : name, b]);
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Set training mode here and in every submodule. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drop every parameter's gradient (disposing it, so memory stays flat), or zero it in place. */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) clearGrad(p, setToNone);
  }

  /** The parameters, then the buffers, by dotted name, detached views sharing their storage (as torch's state_dict). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.detach();
    for (const [name, b] of this.namedBuffers()) out[name] = b.detach();
    return out;
  }

  /**
   * Copy `dict` into the existing parameters, in place. Every key, shape,
   * dtype and device is checked first; on any problem nothing is loaded.
   */
  loadStateDict(dict: Record<string, Tensor>, { strict = true }: LoadOptions = {}): void {
    if (dict === null || typeof dict !== "object")
      throw new Error(`loadStateDict: expected an object of tensors by name (from stateDict() or wg.load()), got ${dict === null ? "null" : typeof dict}.`);
    const params = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const problems: string[] = [];
    const pairs: [Tensor, Tensor][] = [];
    for (const [key, v] of Object.entries(dict)) {
      const p = params.get(key);
      if (!p) {
        if (strict) problems.push(`unexpected key "${key}": the model has no parameter of that name`);
      } else if (!(v instanceof Tensor) || v.isDisposed) {
        problems.push(`"${key}" is ${v instanceof Tensor ? "a disposed tensor" : typeof v}, not a tensor`);
      } else if (!sameShape(v.shape, p.shape)) {
        problems.push(`size mismatch for "${key}": the dict has shape ${fmt(v.shape)}, the model ${fmt(p.shape)}`);
      } else if (v.dtype !== p.dtype) {
        problems.push(`dtype mismatch for "${key}" ${fmt(p.shape)}: the dict has ${v.dtype}, the model ${p.dtype}`);
      } else if (v.device !== p.device) {
        problems.push(`"${key}" ${fmt(p.shape)} is on ${v.device}, the model on ${p.device} (move it with await t.to("${p.device}"))`);
      } else if (storageProblem(v.storage) || storageProblem(p.storage)) {
        const [what, why] = storageProblem(v.storage) ? ["the dict's tensor", storageProblem(v.storage)] : ["the model's parameter", storageProblem(p.storage)];
        problems.push(`"${key}" ${fmt(p.shape)}: ${what} cannot be read, ${why} (recreate it on the current device)`);
      } else pairs.push([p, v]);
    }
    if (strict) for (const key of params.keys()) if (!(key in dict)) problems.push(`missing key "${key}" (shape ${fmt(params.get(key)!.shape)})`);
    if (problems.length)
      throw new Error(
        `loadStateDict: nothing was loaded: ${problems.join("; ")}. Fix: load a dict saved from a model of the same ` +
          `architecture, or pass { strict: false } to skip missing and unexpected keys (shapes must still match).`,
      );
    noGrad(() => {
      for (const [p, v] of pairs) p.copy_(v);
    });
  }
}

/** Remove or zero one parameter's gradient; shared by Module.zeroGrad and the optimizers. */
export function clearGrad(p: Tensor, setToNone: boolean): void {
  const g = p.grad;
  if (!g) return;
  if (setToNone) {
    p.grad = null;
    g.dispose();
  } else noGrad(() => g.zero_());
}
