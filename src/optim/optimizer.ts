/**
 * The optimizer skeleton: parameter groups (torch.optim's param_groups, each
 * with its own hyperparameters, read afresh by every step), per-parameter
 * state and step counts, and one fused update kernel per parameter that has a
 * gradient. The numbers a step needs go to the kernel as uniforms, so changing
 * a group's lr between steps (a scheduler) compiles and allocates nothing.
 */
import { launch, multiTensorMode, storageBindingLimit } from "../engine/scheduler.js";
import { keep } from "../engine/scope.js";
import { noGrad } from "../autograd/mode.js";
import { dense } from "../ops/layout.js";
import { zeros } from "../ops/creation.js";
import { fmt } from "../shape.js";
import { Tensor } from "../tensor.js";
import { clearGrad } from "../nn/module.js";
import { bindingsPerParam, MAX_SLOTS, sharedKey, updateKernel, workgroupsFor, type UpdateAttrs } from "./kernel.js";
import { exportState, importState, type OptimizerStateDict } from "./state-dict.js";

/**
 * A parameter group as an optimizer holds it in `paramGroups`: its tensors and the
 * hyperparameters every optimizer has; SGDGroup and AdamGroup add their own. Every step reads
 * them afresh, so assigning `group.lr` (as a scheduler does) takes effect at the next step.
 *
 * PyTorch: an entry of `torch.optim.Optimizer.param_groups`.
 * @example opt.paramGroups[0].lr = 1e-4
 */
export interface ParamGroup {
  /** The tensors this group updates. */
  params: Tensor[];
  /** The learning rate. */
  lr: number;
  /** The weight decay factor (L2 added to the gradient; decoupled in AdamW). */
  weightDecay: number;
  /** Set by the first lr scheduler attached (torch's initial_lr): the schedule's base lr. */
  initialLr?: number;
}

/**
 * One group as the caller passes it to an optimizer: its params, and any hyperparameters that
 * differ from the optimizer's options (the rest take those).
 *
 * PyTorch: a dict in the `params` list of `torch.optim.Optimizer`.
 * @example new wg.optim.SGD([{ params: model.fc1.parameters() }, { params: model.fc2.parameters(), lr: 0.001 }], { lr: 0.01 })
 */
export type GroupSpec<G extends ParamGroup> = { params: Iterable<Tensor> } & Partial<Omit<G, "params">>;

/** @internal */
export interface ParamState {
  /** Steps taken with a gradient (torch keeps one count per parameter). */
  step: number;
  /** SGD: the momentum buffer; Adam: [m; v] stacked as [2, ...shape]; null before it is needed. */
  state: Tensor | null;
}

/**
 * The base of SGD, Adam and AdamW: parameter groups with their own hyperparameters, per-parameter
 * state, and fused update kernels that write the parameters and their state in place with no
 * readback. `params` is an array of leaf float tensors or of GroupSpec groups. `name` (the class
 * name) and `defaults` (the options as resolved, every group's fallback) are read-only properties.
 *
 * PyTorch: `torch.optim.Optimizer`.
 * @example const opt = new wg.optim.Adam(model.parameters(), { lr: 1e-3 }); loss.backward(); opt.step(); opt.zeroGrad();
 */
export abstract class Optimizer<G extends ParamGroup = ParamGroup> {
  /**
   * The groups with their hyperparameters, in order; change a field (`lr`) to change the next step.
   *
   * PyTorch: `torch.optim.Optimizer.param_groups`.
   * @example opt.paramGroups.map((g) => g.lr) // [0.001]
   */
  readonly paramGroups: G[];
  /** @internal Per-parameter state, shared with state-dict.ts. */
  readonly slots = new Map<Tensor, ParamState>();
  /** The caller passed groups: errors then name the group. */
  private grouped = false;

  constructor(
    /** The optimizer's class name, used in its error messages (e.g. `"Adam"`). */
    readonly name: string,
    params: Iterable<Tensor> | Iterable<GroupSpec<G>>,
    /** The hyperparameters a parameter group takes when it does not set its own (PyTorch: `optimizer.defaults`). */
    readonly defaults: Omit<G, "params">,
  ) {
    if (params instanceof Tensor || params === null || typeof (params as Iterable<Tensor>)?.[Symbol.iterator] !== "function")
      throw new Error(`${name}: params must be an array of tensors, got ${params instanceof Tensor ? "a single Tensor" : String(params)}. Fix: new optim.${name}(model.parameters(), ...), new optim.${name}([t], ...) or new optim.${name}([{ params: [...], lr: ... }, ...]) for parameter groups.`);
    const items = Array.from(params as Iterable<unknown>);
    const isGroup = (x: unknown) => x !== null && typeof x === "object" && !(x instanceof Tensor) && "params" in x;
    if (items.length > 0 && items.some(isGroup) && !items.every(isGroup))
      throw new Error(`${name}: params mixes tensors and parameter groups. Fix: pass either tensors, or groups like [{ params: [...] }, { params: [...], lr: 0.01 }].`);
    this.grouped = items.length > 0 && isGroup(items[0]);
    const specs = this.grouped ? (items as GroupSpec<G>[]) : [{ params: items as Tensor[] } as unknown as GroupSpec<G>];
    this.paramGroups = [];
    for (const spec of specs) this.addParamGroup(spec);
    if (this.params.length === 0) throw new Error(`${name}: got an empty parameter list. Fix: pass model.parameters() of a model that has parameters.`);
  }

  /**
   * Every parameter, group by group: the indices that `stateDict()` uses.
   *
   * PyTorch: none (webgrad only).
   * @example opt.params.length // model.parameters().length
   */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * The first group's lr; setting it sets every group's (the lr of a single-group optimizer).
   *
   * PyTorch: none (webgrad only; torch sets `param_groups[i]["lr"]`).
   * @example opt.lr = 0.01
   */
  get lr(): number {
    return this.paramGroups[0].lr;
  }
  set lr(v: number) {
    for (const g of this.paramGroups) g.lr = v;
  }

  /**
   * Adds a group of parameters (keys not given take the optimizer's defaults); throws for unknown
   * keys, out-of-range hyperparameters, or a tensor already in a group. Make schedulers after it.
   *
   * PyTorch: `torch.optim.Optimizer.add_param_group`.
   * @example opt.addParamGroup({ params: head.parameters(), lr: 1e-2 })
   */
  addParamGroup(spec: GroupSpec<G>): void {
    const i = this.paramGroups.length;
    if (spec === null || typeof spec !== "object" || !("params" in spec))
      throw new Error(`${this.name}: parameter group ${i} must be an object with params, got ${String(spec)}. Fix: { params: model.parameters(), lr: 0.01 }.`);
    checkGroupKeys(this.name, `parameter group ${i}`, Object.keys(spec), Object.keys(this.defaults));
    const ps = spec.params instanceof Tensor ? [spec.params] : Array.from(spec.params ?? []);
    const fields: Record<string, unknown> = { ...this.defaults, ...spec, params: ps };
    // Pairs (betas) are copied, so a group never shares an array with the caller or another group.
    for (const [k, v] of Object.entries(fields)) if (k !== "params" && Array.isArray(v)) fields[k] = [...v];
    const group = fields as unknown as G;
    this.checkGroup(group, this.grouped || i > 0 ? i : null);
    const before = this.params;
    ps.forEach((p, k) => this.checkParam(p, before.length + k, [...before, ...ps]));
    this.paramGroups.push(group);
  }

  /** @internal Throw naming the hyperparameter (and its group, when there are groups) that is out of range. */
  abstract checkGroup(group: G, index: number | null): void;
  /** How many elements of state per parameter element a step of this group needs (0: none). */
  protected abstract stateFactor(group: G): number;
  /**
   * The names of each parameter's state entries in `stateDict()` (SGD: momentumBuffer; Adam and AdamW: expAvg, expAvgSq).
   *
   * PyTorch: the keys of `torch.optim.Optimizer.state[p]`, camelCase.
   * @example new wg.optim.Adam(model.parameters()).stateNames // ["expAvg", "expAvgSq"]
   */
  abstract readonly stateNames: readonly string[];
  /**
   * True when `stateDict()` records each parameter's step count (Adam, AdamW; torch's SGD keeps none).
   *
   * PyTorch: whether `state[p]` has a `step` entry.
   * @example new wg.optim.SGD(model.parameters(), { lr: 0.1 }).keepsStep // false
   */
  abstract readonly keepsStep: boolean;
  /** The numbers the update kernel gets for a parameter's step number `step` (1-based). */
  protected abstract attrs(group: G, step: number, first: boolean): UpdateAttrs;

  /**
   * Updates every parameter that has a gradient, in place, with fused kernels and no readback
   * (parameters without a gradient are skipped). Parameters whose hyperparameters agree (groups may differ
   * in lr) share a launch on GPUs, as many as its bindings allow. The hyperparameters are checked first,
   * since a scheduler or the caller may have changed them. Takes no closure, unlike PyTorch's.
   *
   * PyTorch: `torch.optim.Optimizer.step`.
   * @example loss.backward(); opt.step(); opt.zeroGrad();
   */
  step(): void {
    const todo: [G, Tensor][] = [];
    this.paramGroups.forEach((group, gi) => {
      this.checkGroup(group, this.grouped || gi > 0 ? gi : null); // a scheduler or the caller may have changed it
      for (const p of group.params) if (p.grad) todo.push([group, p]);
    });
    // Every gradient is checked before any state changes, so a refused step changes nothing.
    for (const [, p] of todo)
      if (p.grad!.dtype !== p.dtype)
        throw new Error(`${this.name}.step: the gradient of parameter ${fmt(p.shape)} is ${p.grad!.dtype} but the parameter is ${p.dtype}. Fix: assign a ${p.dtype} gradient.`);
    const items = todo.map(([group, p]) => this.prepare(group, p));
    for (const pack of packs(items)) {
      const [params, states] = [pack.map((it) => it.p), pack.flatMap((it) => (it.state ? [it.state] : []))];
      launch(params[0].device, updateKernel, [...params, ...states], pack.map((it) => it.grad), { steps: pack.map((it) => it.attrs), state: states.length > 0 });
      for (const t of [...params, ...states]) bump(t, `${this.name}.step`);
    }
    for (const it of items) if (it.grad !== it.p.grad) it.grad.dispose();
  }

  /** Make p's state on its first step and count the step: what its update needs. */
  private prepare(group: G, p: Tensor): StepItem {
    const g = p.grad!;
    const s = this.slots.get(p) ?? { step: 0, state: null };
    this.slots.set(p, s);
    const factor = this.stateFactor(group);
    const first = factor > 0 && s.state === null;
    if (first) s.state = keep(noGrad(() => this.initialState(p, factor)));
    s.step++;
    // The kernel reads the gradient densely, and from a buffer it does not also write.
    const grad = noGrad(() => (g.storage === p.storage ? g.clone() : dense(g)));
    return { p, grad, state: s.state, attrs: this.attrs(group, s.step, first) }; // plain SGD keeps no state
  }

  /**
   * Drops the parameters' gradients (`grad = null`, disposing them so memory stays flat), or with
   * `{ setToNone: false }` zeroes them in place. The default is PyTorch 2's (`set_to_none=True`).
   *
   * PyTorch: `torch.optim.Optimizer.zero_grad`.
   * @example opt.zeroGrad(); model.parameters()[0].grad // null
   */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const p of this.params) clearGrad(p, setToNone);
  }

  /**
   * The hyperparameters and per-parameter state as `{ state, paramGroups }` in torch's structure,
   * camelCase (parameters by index); its tensors are copies the caller owns (dispose them, or make
   * it inside `tidy`). Save it with `wg.optim.packStateDict` and `wg.save`.
   *
   * PyTorch: `torch.optim.Optimizer.state_dict`.
   * @example Object.keys(opt.stateDict()) // ["state", "paramGroups"]
   */
  stateDict(): OptimizerStateDict {
    return exportState(this);
  }

  /**
   * Restores hyperparameters, step counts and state (from `stateDict()`, or `unpackStateDict` of a
   * saved file), so a run resumes exactly. Everything is checked first (group count and sizes,
   * keys, shapes, dtypes, devices); on a problem it throws and changes nothing.
   *
   * PyTorch: `torch.optim.Optimizer.load_state_dict`.
   * @example opt.loadStateDict(saved) // saved = an earlier opt.stateDict()
   */
  loadStateDict(sd: OptimizerStateDict): void {
    importState(this, sd);
  }

  /**
   * The state tensor of `p` (SGD's momentum buffer of p's shape, Adam's [m; v] stacked as
   * [2, ...shape]), or null before its first step (and for SGD without momentum). It is the live
   * state, not a copy.
   *
   * PyTorch: `torch.optim.Optimizer.state[p]`.
   * @example opt.stateOf(model.parameters()[0])?.shape // [2, 128, 784] for Adam
   */
  stateOf(p: Tensor): Tensor | null {
    return this.slots.get(p)?.state ?? null;
  }

  /** Zeros; subclasses whose first step overwrites the state may skip the fill. */
  protected initialState(p: Tensor, factor: number): Tensor {
    return zeros(factor === 1 ? p.shape : [factor, ...p.shape], { dtype: p.dtype, device: p.device });
  }

  private checkParam(p: Tensor, i: number, all: Tensor[]): void {
    const bad = (why: string, fix: string) => new Error(`${this.name}: parameter ${i}${p instanceof Tensor ? ` (shape ${fmt(p.shape)})` : ""} ${why}. Fix: ${fix}.`);
    if (!(p instanceof Tensor)) throw bad(`is ${typeof p}, not a Tensor`, "pass tensors, e.g. model.parameters()");
    if (p.isDisposed) throw bad("was disposed", "pass live tensors");
    if (!p.isLeaf) throw bad(`is not a leaf (it comes from ${p.gradFn!.name}), so it cannot be optimized`, "optimize the leaf tensors it was computed from");
    if (p.dtype === "int32") throw bad("is int32, which has no gradients", "use a float tensor");
    if (!p.isContiguous() || p.offset !== 0) throw bad("is a strided view; updates are written element by element from its start", "pass p.clone() made a leaf, or the tensor it views");
    if (all.indexOf(p) !== i) throw bad(`appears twice (also as parameter ${all.indexOf(p)})`, "pass each tensor once, in one group");
  }
}

interface StepItem {
  readonly p: Tensor;
  /** p.grad, or a dense copy of it (disposed after the step). */
  readonly grad: Tensor;
  readonly state: Tensor | null;
  readonly attrs: UpdateAttrs;
}

/**
 * On emulators (scheduler's multiTensorMode "small"), parameters share a launch only while its
 * slots times its workgroups, the workgroups it runs masked or not, stays at most this: the
 * MLP's b1, W2 and b2 (1, 10 and 1 workgroups) share one; a 785-workgroup weight runs alone.
 */
const MASKED_BUDGET = 64;

/**
 * Consecutive items that can share one launch (as the device runs multi-tensor launches:
 * scheduler's multiTensorMode): same device and shared hyperparameters, with
 * state or without, within the adapter's storage bindings and the uniform's slots, and no buffer
 * both written and bound again (WebGPU forbids a writable binding aliasing another).
 */
function packs(items: StepItem[]): StepItem[][] {
  const out: StepItem[][] = [];
  let cur: StepItem[] = [];
  let bound = new Set<unknown>();
  const fits = (it: StepItem) => {
    const first = cur[0];
    if (!first || first.p.device !== it.p.device || sharedKey(first.attrs) !== sharedKey(it.attrs) || (first.state === null) !== (it.state === null)) return false;
    const mode = multiTensorMode(it.p.device);
    const limit = mode === "single" ? 1 : Math.min(MAX_SLOTS, Math.floor(storageBindingLimit(it.p.device) / bindingsPerParam(it.state !== null)));
    if (mode === "small" && (cur.length + 1) * [...cur, it].reduce((n, x) => n + workgroupsFor(x.p.size), 0) > MASKED_BUDGET) return false;
    const written = [it.p.storage, it.state?.storage];
    return cur.length < limit && !written.some((s) => bound.has(s)) && !bound.has(it.grad.storage);
  };
  for (const it of items) {
    if (!fits(it)) {
      if (cur.length > 0) out.push(cur);
      [cur, bound] = [[], new Set()];
    }
    cur.push(it);
    for (const s of [it.p.storage, it.state?.storage, it.grad.storage]) if (s) bound.add(s);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function bump(t: Tensor, op: string): void {
  t.storage.version++;
  t.storage.lastInplaceOp = op;
}

/** A group may name params, initialLr and the optimizer's own hyperparameters, nothing else. */
export function checkGroupKeys(opt: string, where: string, keys: string[], known: string[]): void {
  const allowed = new Set(["params", "initialLr", ...known]);
  const unknown = keys.filter((k) => !allowed.has(k));
  if (unknown.length > 0)
    throw new Error(`${opt}: ${where} has unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; ${opt} groups take ${[...allowed].join(", ")}. Fix: remove or rename ${unknown.length > 1 ? "them" : "it"} (keys are camelCase, e.g. weightDecay).`);
}

/** Options are named (torch passes lr positionally): anything but an object is an Error with the named form. */
export function checkOptions(opt: string, opts: unknown, example: string): void {
  if (opts !== undefined && (opts === null || typeof opts !== "object" || Array.isArray(opts)))
    throw new Error(`${opt}: expected its options as an object, got ${Array.isArray(opts) ? "an array" : String(opts)}. Fix: new optim.${opt}(model.parameters(), ${example}).`);
}

/**
 * Throw naming the optimizer, the option (and its parameter group when there are
 * several) and the fix when a hyperparameter is out of range.
 */
export function checkOption(opt: string, key: string, value: unknown, ok: (v: number) => boolean, range: string, group: number | null = null): void {
  if (typeof value === "number" && ok(value)) return;
  const where = group === null ? key : `${key} of parameter group ${group}`;
  const fix = group === null ? `new optim.${opt}(model.parameters(), { ${key}: ... })` : `optimizer.paramGroups[${group}].${key} = ...`;
  throw new Error(`${opt}: ${where} must be ${range}, got ${String(value)}. Fix: e.g. ${fix}, where ${key} is ${range}.`);
}
