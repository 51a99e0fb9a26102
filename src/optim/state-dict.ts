/**
 * Optimizer state dicts in torch.optim's structure, camelCase:
 * { state: { [index]: { step?, expAvg, expAvgSq } | { momentumBuffer } },
 *   paramGroups: [{ lr, ..., params: [indices] }] }, indices running over the
 * parameters group by group. The tensors are copies the caller owns (a
 * snapshot, unaffected by later steps). packStateDict / unpackStateDict turn
 * one into safetensors entries plus string metadata for wg.save / wg.load.
 */
import { keep, tidy } from "../engine/scope.js";
import { noGrad } from "../autograd/mode.js";
import { stack } from "../ops/layout.js";
import { fmt, sameShape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { checkGroupKeys, type Optimizer, type ParamGroup } from "./optimizer.js";

/**
 * One parameter's entry in an optimizer state dict: its step count (Adam, AdamW) and its state
 * tensors by name (`momentumBuffer`; `expAvg`, `expAvgSq`), each of the parameter's shape.
 *
 * PyTorch: an entry of `torch.optim.Optimizer.state_dict()["state"]`, camelCase.
 * @example opt.stateDict().state[0].expAvg.shape // the first parameter's shape
 */
export type StateEntry = { step?: number } & { [name: string]: Tensor | number | undefined };
/**
 * An optimizer's state as `stateDict()` returns it: per-parameter state by index (parameters
 * counted group by group; absent before a parameter's first step) and each group's
 * hyperparameters with the indices of its params.
 *
 * PyTorch: the dict `torch.optim.Optimizer.state_dict()` returns, camelCase.
 * @example opt.stateDict().paramGroups[0].params // [0, 1, 2, 3]
 */
export interface OptimizerStateDict {
  /** Per-parameter state by parameter index. */
  state: Record<number, StateEntry>;
  /** Each group's hyperparameters, with `params` the indices of its parameters. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

/** The optimizer's state now, as a snapshot. */
export function exportState<G extends ParamGroup>(opt: Optimizer<G>): OptimizerStateDict {
  const state: Record<number, StateEntry> = {};
  let index = 0;
  const paramGroups = opt.paramGroups.map(({ params, ...hyper }) => {
    const ids = params.map(() => index++);
    return { ...structuredClone(hyper), params: ids };
  });
  opt.params.forEach((p, i) => {
    const s = opt.slots.get(p);
    if (!s?.state) return;
    const entry: StateEntry = opt.keepsStep ? { step: s.step } : {};
    const full = s.state;
    noGrad(() => {
      if (opt.stateNames.length === 1) entry[opt.stateNames[0]] = full.clone();
      else
        opt.stateNames.forEach((name, k) => {
          const row = full.slice(0, k, k + 1);
          const view = row.reshape(p.shape);
          entry[name] = view.clone();
          view.dispose();
          row.dispose();
        });
    });
    state[i] = entry;
  });
  return { state, paramGroups };
}

const fail = (opt: string, why: string, fix: string) => new Error(`${opt}.loadStateDict: ${why}. Fix: ${fix}.`);

/** Replace the optimizer's hyperparameters and state with a state dict's; checks everything before it changes anything. */
export function importState<G extends ParamGroup>(opt: Optimizer<G>, sd: OptimizerStateDict): void {
  const name = opt.name;
  if (sd === null || typeof sd !== "object" || !Array.isArray(sd.paramGroups) || sd.state === null || typeof sd.state !== "object")
    throw fail(name, `expected { state, paramGroups }, got ${sd === null ? "null" : typeof sd === "object" ? `an object with keys ${Object.keys(sd).join(", ")}` : typeof sd}`, "pass what optimizer.stateDict() returned, or wg.optim.unpackStateDict(...) of a saved file");
  checkGroups(opt, sd);
  const params = opt.params;
  const entries = checkState(opt, sd, params);
  // Checked: now apply.
  sd.paramGroups.forEach(({ params: _ids, ...hyper }, gi) => {
    const group = opt.paramGroups[gi] as unknown as Record<string, unknown>;
    if (!("initialLr" in hyper)) delete group.initialLr;
    Object.assign(group, structuredClone(hyper));
  });
  for (const s of opt.slots.values()) s.state?.dispose();
  opt.slots.clear();
  for (const [i, entry] of entries) {
    const p = params[i];
    const parts = opt.stateNames.map((n) => entry[n] as Tensor);
    // tidy: stack's intermediate views are released now, not left to the garbage collector.
    const state = keep(tidy(() => noGrad(() => (parts.length === 1 ? parts[0].clone() : stack(parts)))));
    opt.slots.set(p, { step: opt.keepsStep ? (entry.step as number) : 0, state });
  }
}

function checkGroups<G extends ParamGroup>(opt: Optimizer<G>, sd: OptimizerStateDict): void {
  const name = opt.name;
  const mine = opt.paramGroups;
  if (sd.paramGroups.length !== mine.length)
    throw fail(name, `the state dict has ${sd.paramGroups.length} parameter groups but the optimizer has ${mine.length}`, "build the optimizer with the same groups as the one that saved it");
  sd.paramGroups.forEach((g, gi) => {
    if (g === null || typeof g !== "object" || !Array.isArray(g.params))
      throw fail(name, `parameter group ${gi} is not { params: [indices], ... }`, "pass what optimizer.stateDict() returned");
    if (g.params.length !== mine[gi].params.length)
      throw fail(name, `parameter group ${gi} holds ${g.params.length} parameters in the state dict but ${mine[gi].params.length} in the optimizer`, "build the optimizer over the same parameters, in the same order");
    const known = Object.keys(opt.defaults);
    try {
      checkGroupKeys(name, `parameter group ${gi} of the state dict`, Object.keys(g), known);
    } catch (e) {
      throw fail(name, `${(e as Error).message.replace(/ Fix:.*$/, "")} (a state dict from another optimizer?)`, `load it into the optimizer type that saved it`);
    }
    const missing = known.filter((k) => !(k in g));
    if (missing.length > 0)
      throw fail(name, `parameter group ${gi} lacks ${missing.join(", ")} (a state dict from another optimizer?)`, `load it into the optimizer type that saved it`);
  });
  // Range-check the hyperparameters on copies, so a bad value leaves the optimizer untouched.
  sd.paramGroups.forEach(({ params: _ids, ...hyper }, gi) => {
    const probe = { ...structuredClone(hyper), params: [] } as unknown as G;
    opt.checkGroup(probe, gi);
  });
}

function checkState<G extends ParamGroup>(opt: Optimizer<G>, sd: OptimizerStateDict, params: Tensor[]): [number, StateEntry][] {
  const name = opt.name;
  const want = [...(opt.keepsStep ? ["step"] : []), ...opt.stateNames];
  const out: [number, StateEntry][] = [];
  for (const [key, entry] of Object.entries(sd.state)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= params.length)
      throw fail(name, `the state dict has state for parameter ${key} but the optimizer has parameters 0-${params.length - 1}`, "build the optimizer over the same parameters");
    const keys = Object.keys(entry ?? {});
    if (keys.length !== want.length || want.some((k) => !keys.includes(k)))
      throw fail(name, `the state of parameter ${i} has ${keys.join(", ") || "no entries"} but ${name} keeps ${want.join(", ")} (a state dict from another optimizer?)`, `load it into the optimizer type that saved it`);
    if (opt.keepsStep && !(Number.isInteger(entry.step) && (entry.step as number) >= 1))
      throw fail(name, `the step count of parameter ${i} is ${String(entry.step)}, not a positive integer`, "pass what optimizer.stateDict() returned");
    const p = params[i];
    for (const n of opt.stateNames) checkTensor(name, `${n} of parameter ${i}`, entry[n], p);
    out.push([i, entry]);
  }
  return out;
}

function checkTensor(opt: string, what: string, t: unknown, p: Tensor): void {
  if (!(t instanceof Tensor)) throw fail(opt, `${what} is ${typeof t}, not a Tensor`, "pass what optimizer.stateDict() returned");
  if (t.isDisposed) throw fail(opt, `${what} was disposed`, "take a fresh optimizer.stateDict()");
  if (!sameShape(t.shape, p.shape))
    throw fail(opt, `${what} has shape ${fmt(t.shape)} but the parameter has shape ${fmt(p.shape)}`, "build the optimizer over parameters of the shapes that were saved");
  if (t.dtype !== p.dtype) throw fail(opt, `${what} is ${t.dtype} but the parameter is ${p.dtype}`, `cast it, e.g. t.cast("${p.dtype}")`);
  if (t.device !== p.device)
    throw fail(opt, `${what} is on ${t.device} but the parameter is on ${p.device}`, `load the file onto the parameters' device, e.g. wg.load(bytes, { device: "${p.device}" })`);
}

/** The metadata key that holds the non-tensor part. */
const META = "optimizer";

/**
 * Splits an optimizer state dict into safetensors entries ("<prefix>state.<index>.<name>") and
 * string metadata (the rest, as JSON under "<prefix>optimizer") for `wg.save(tensors, metadata)`.
 * A prefix lets one file also hold the model's tensors. The tensors are the dict's own (no copy).
 *
 * PyTorch: none (webgrad only; torch pickles the dict with `torch.save`).
 * @example const { tensors, metadata } = wg.optim.packStateDict(opt.stateDict()); const bytes = await wg.save(tensors, metadata);
 */
export function packStateDict(sd: OptimizerStateDict, { prefix = "" }: { prefix?: string } = {}): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const tensors: Record<string, Tensor> = {};
  const state: Record<string, Record<string, number>> = {};
  for (const [i, entry] of Object.entries(sd.state)) {
    state[i] = {};
    for (const [k, v] of Object.entries(entry)) {
      if (v instanceof Tensor) tensors[`${prefix}state.${i}.${k}`] = v;
      else if (typeof v === "number") state[i][k] = v;
    }
  }
  return { tensors, metadata: { [prefix + META]: JSON.stringify({ state, paramGroups: sd.paramGroups }) } };
}

/**
 * The inverse of `packStateDict`: `wg.load(bytes)` and `wg.loadMetadata(bytes)` back into a state
 * dict for `optimizer.loadStateDict`. With a prefix, tensors without it are left alone (they are
 * the model's); without one, every tensor must be optimizer state. Throws when the metadata holds
 * no optimizer state or a tensor name is not a state entry.
 *
 * PyTorch: none (webgrad only; torch unpickles the dict with `torch.load`).
 * @example opt.loadStateDict(wg.optim.unpackStateDict(wg.load(bytes), wg.loadMetadata(bytes)))
 */
export function unpackStateDict(tensors: Record<string, Tensor>, metadata: Record<string, string>, { prefix = "" }: { prefix?: string } = {}): OptimizerStateDict {
  const json = metadata?.[prefix + META];
  if (typeof json !== "string")
    throw new Error(`unpackStateDict: the metadata has no "${prefix + META}" entry, so the file holds no optimizer state. Fix: save with const { tensors, metadata } = wg.optim.packStateDict(opt.stateDict()); await wg.save(tensors, metadata) (and unpack with the same prefix).`);
  let parsed: { state: Record<string, Record<string, number>>; paramGroups: OptimizerStateDict["paramGroups"] };
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new Error(`unpackStateDict: the "${META}" metadata is not JSON (${(e as Error).message}). Fix: pass the metadata of a file written from packStateDict.`);
  }
  const state: Record<number, StateEntry> = {};
  for (const [i, nums] of Object.entries(parsed.state ?? {})) state[Number(i)] = { ...nums };
  for (const [name, t] of Object.entries(tensors)) {
    if (prefix && !name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    const m = /^state\.(\d+)\.([A-Za-z]\w*)$/.exec(key); // a letter first: no "__proto__"
    if (!m) throw new Error(`unpackStateDict: tensor "${name}" is not an optimizer state entry ("${prefix}state.<index>.<name>"). Fix: unpack only the tensors packStateDict made.`);
    (state[Number(m[1])] ??= {})[m[2]] = t;
  }
  return { state, paramGroups: parsed.paramGroups };
}
