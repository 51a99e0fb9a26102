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
 * Makes `t` a parameter: a leaf that requires grad (a non-leaf is detached first), stays a
 * parameter when later frozen (`requiresGrad = false`), and outlives any enclosing `tidy()`.
 * Modules find parameters among their own properties, so assigning one registers it.
 *
 * PyTorch: `torch.nn.Parameter`.
 * @example const w = wg.nn.parameter(wg.randn([3, 4])); w.requiresGrad // true
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

/**
 * Options of `Module.loadStateDict`.
 *
 * PyTorch: the `strict` argument of `torch.nn.Module.load_state_dict`.
 * @example model.loadStateDict(dict, { strict: false })
 */
export interface LoadOptions {
  /** Require the dict's keys to match the model's parameter names exactly (default true). */
  strict?: boolean;
}

/**
 * The base of every layer and model: a tree of parameters and submodules found from its own
 * properties in assignment order (as PyTorch's `__setattr__` registers them). A Module property
 * is a child; a tensor made by `wg.nn.parameter`, or any leaf tensor that requires grad, is a
 * parameter; arrays of either are numbered (`layers.0.weight`). Subclass it and write `forward`;
 * call `model.forward(x)` (a Module is not callable as in Python).
 *
 * PyTorch: `torch.nn.Module`.
 * @example class Net extends wg.nn.Module { fc = new wg.nn.Linear(4, 2); forward(x) { return this.fc.forward(x).relu(); } }
 */
export abstract class Module {
  /**
   * True in training mode (the default), false after `eval()`: Dropout and BatchNorm act
   * differently in the two. Set it for the whole tree with `train()` / `eval()`.
   *
   * PyTorch: `torch.nn.Module.training`.
   * @example new wg.nn.Dropout(0.1).eval().training // false
   */
  training = true;

  /**
   * The module's computation. Subclasses take what it needs (a mask, a second input) and return
   * what it makes (a tensor, or a pair as MultiheadAttention does), as in PyTorch.
   *
   * PyTorch: `torch.nn.Module.forward`.
   * @example new wg.nn.Linear(4, 2).forward(wg.ones([3, 4])).shape // [3, 2]
   */
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

  /**
   * The direct submodules with their local names, in registration order (not the grandchildren).
   *
   * PyTorch: `torch.nn.Module.named_children` (an array here, not a generator).
   * @example new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU()).namedChildren().map(([n]) => n) // ["0", "1"]
   */
  namedChildren(): [string, Module][] {
    return this.members().filter((m): m is [string, Module] => m[1] instanceof Module);
  }

  /**
   * This module (named "") and every submodule under its dotted path, depth first; each module
   * once, so a shared submodule keeps its first name and a cycle cannot loop.
   *
   * PyTorch: `torch.nn.Module.named_modules` (an array here, not a generator).
   * @example new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU()).namedModules().map(([n]) => n) // ["", "0", "1"]
   */
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
   * Every parameter with its dotted path ("0.weight"), in PyTorch's order: a module's own
   * parameters, then its children's. Each tensor once (tied weights keep their first name).
   *
   * PyTorch: `torch.nn.Module.named_parameters` (an array here, not a generator).
   * @example new wg.nn.Sequential(new wg.nn.Linear(4, 8)).namedParameters().map(([n]) => n) // ["0.weight", "0.bias"]
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

  /**
   * Every parameter of the tree, in `namedParameters()` order: what an optimizer takes.
   *
   * PyTorch: `torch.nn.Module.parameters` (an array here, not a generator).
   * @example new wg.nn.Linear(4, 2).parameters().map((p) => p.shape) // [[2, 4], [2]]
   */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Buffers by local name (running statistics): in stateDict(), not in parameters(). */
  protected readonly bufferMap = new Map<string, Tensor>();

  /**
   * Registers `t` as a buffer: state that is saved and loaded with `stateDict()` but is not a
   * parameter and is never trained (BatchNorm's running statistics). Registering a name again
   * replaces the tensor. Returns `t`. Throws for a dotted or empty name, or a tensor that
   * requires grad (pass `t.detach()`).
   *
   * PyTorch: `torch.nn.Module.register_buffer`.
   * @example const m = new wg.nn.ReLU(); m.registerBuffer("scale", wg.ones([1])); Object.keys(m.stateDict()) // ["scale"]
   */
  registerBuffer(name: string, t: Tensor): Tensor {
    if (typeof name !== "string" || name === "" || name.includes("."))
      throw new Error(`registerBuffer: name must be a non-empty string without dots, got ${JSON.stringify(name)}. Fix: e.g. registerBuffer("running_mean", t).`);
    if (!(t instanceof Tensor)) throw new Error(`registerBuffer: "${name}" must be a Tensor, got ${t === null ? "null" : typeof t}.`);
    if (t.requiresGrad) throw new Error(`registerBuffer: "${name}" ${fmt(t.shape)} requires grad; a buffer is never trained. Fix: pass t.detach(), or make it a parameter.`);
    this.bufferMap.set(name, keep(t));
    return t;
  }

  /**
   * Every buffer of the tree with its dotted path, module by module in `namedModules()` order.
   *
   * PyTorch: `torch.nn.Module.named_buffers` (an array here, not a generator).
   * @example new wg.nn.BatchNorm1d(4).namedBuffers().map(([n]) => n) // ["running_mean", "running_var", "num_batches_tracked"]
   */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules())
      for (const [name, b] of m.bufferMap) out.push([path ? `${path}.${name}` : name, b]);
    return out;
  }

  /**
   * Every buffer of the tree, in `namedBuffers()` order.
   *
   * PyTorch: `torch.nn.Module.buffers` (an array here, not a generator).
   * @example new wg.nn.BatchNorm1d(4).buffers().length // 3
   */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * Sets training mode (`mode`, default true) here and in every submodule; returns this module.
   *
   * PyTorch: `torch.nn.Module.train`.
   * @example new wg.nn.Sequential(new wg.nn.Dropout(0.5)).train(false).training // false
   */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /**
   * Sets evaluation mode here and in every submodule (`train(false)`): Dropout becomes the
   * identity and BatchNorm uses its running statistics. Returns this module.
   *
   * PyTorch: `torch.nn.Module.eval`.
   * @example new wg.nn.Dropout(0.5).eval().training // false
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Drops every parameter's gradient (`grad = null`, disposing it so memory stays flat), or
   * with `{ setToNone: false }` zeroes it in place. The default is PyTorch 2's (`set_to_none=True`).
   *
   * PyTorch: `torch.nn.Module.zero_grad`.
   * @example model.zeroGrad(); model.parameters()[0].grad // null
   */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) clearGrad(p, setToNone);
  }

  /**
   * Every parameter, then every buffer, by dotted name (the keys are torch's; torch orders each
   * module's buffers right after its parameters): detached views that share the model's storage
   * (a later step changes them; clone to snapshot). Save it with `wg.save`.
   *
   * PyTorch: `torch.nn.Module.state_dict`.
   * @example Object.keys(new wg.nn.Linear(4, 2).stateDict()) // ["weight", "bias"]
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.detach();
    for (const [name, b] of this.namedBuffers()) out[name] = b.detach();
    return out;
  }

  /**
   * Copies `dict` into the existing parameters and buffers, in place. Every key, shape, dtype
   * and device is checked first; on any problem it throws listing them all and loads nothing.
   * With `{ strict: false }` missing and unexpected keys are skipped. Returns nothing (PyTorch
   * returns the missing and unexpected keys).
   *
   * PyTorch: `torch.nn.Module.load_state_dict`.
   * @example model.loadStateDict(wg.load(bytes)) // bytes: the contents of a .safetensors file
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
