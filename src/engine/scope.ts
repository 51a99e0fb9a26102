/**
 * Tensor lifetimes: tidy() scopes, explicit dispose, storage reference counts,
 * and a FinalizationRegistry as the safety net for handles nobody disposed.
 */
import type { Device, Storage } from "../backend/backend.js";

/** What a tensor handle owns; kept apart from the Tensor so the finalizer can release it. */
export interface Handle {
  storage: Storage;
  readonly device: Device;
  disposed: boolean;
  /** Engine-owned (see pin): not counted among the user's live tensors. */
  pinned?: boolean;
  /** Registered with the finalizer: once it outlives every tidy() (see track). */
  watched?: boolean;
}

interface Tracked {
  readonly handle: Handle;
  dispose(): void;
}

const live: Record<Device, { tensors: number; bytes: number }> = {
  cpu: { tensors: 0, bytes: 0 },
  webgpu: { tensors: 0, bytes: 0 },
};

const scopes: Set<Tracked>[] = [];

const finalizer = new FinalizationRegistry<Handle>((h) => releaseHandle(h));

export function retainStorage(s: Storage): void {
  if (s.refs === 0 && !s.freed) live[s.backend.device].bytes += s.bytes;
  s.refs++;
}

/** Told before a storage's memory goes back to its backend; true: the hook frees it later (a pending launch reads it). */
let beforeFree: (s: Storage) => boolean = () => false;
export function onFree(hook: (s: Storage) => boolean): void {
  beforeFree = hook;
}

export function releaseStorage(s: Storage): void {
  if (--s.refs > 0) return;
  live[s.backend.device].bytes -= s.bytes;
  s.freed = true;
  if (!beforeFree(s)) s.backend.free(s);
}

/**
 * Called once per new tensor handle. One made inside a tidy() is disposed when the outermost
 * scope holding it ends, unless returned or kept: only then does the finalizer need to watch it
 * (registering costs about a microsecond, a tenth of recording an op).
 */
export function track(t: Tracked): void {
  const h = t.handle;
  retainStorage(h.storage);
  live[h.device].tensors++;
  const scope = scopes[scopes.length - 1];
  if (scope) scope.add(t);
  else watch(t);
}

/** Hand a handle that outlives every scope to the finalizer, the safety net for handles nobody disposes. */
function watch(t: Tracked): void {
  const h = t.handle;
  if (h.watched || h.disposed || h.pinned) return;
  h.watched = true;
  finalizer.register(t, h, h);
}

function releaseHandle(h: Handle): void {
  if (h.disposed) return;
  h.disposed = true;
  if (!h.pinned) live[h.device].tensors--;
  releaseStorage(h.storage);
}

export function disposeTracked(t: Tracked): void {
  if (t.handle.disposed) return;
  if (t.handle.watched) finalizer.unregister(t.handle);
  releaseHandle(t.handle);
  for (const s of scopes) s.delete(t);
}

/**
 * Takes a tensor out of every enclosing `tidy()`, so it outlives them (state you keep across steps); returns it.
 * You dispose it yourself when done.
 *
 * PyTorch: none (webgrad only; GPU memory is not garbage-collected). TensorFlow.js: `tf.keep`.
 * @example wg.tidy(() => { kept = wg.keep(wg.ones([2])); }) // kept survives the tidy
 */
export function keep<T extends Tracked>(t: T): T {
  for (const s of scopes) s.delete(t);
  watch(t);
  return t;
}

function collect(x: unknown, into: Set<unknown>, seen = new Set<unknown>()): void {
  if (x === null || typeof x !== "object" || seen.has(x)) return;
  seen.add(x);
  if ((x as Tracked).handle !== undefined && typeof (x as Tracked).dispose === "function") {
    into.add(x);
    return;
  }
  if (Array.isArray(x)) for (const v of x) collect(v, into, seen);
  else if (x instanceof Map) for (const v of x.values()) collect(v, into, seen);
  else if (Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) collect(v, into, seen);
}

/**
 * Runs `fn`, then disposes every tensor created inside it except those it returns (also inside arrays, Maps and
 * plain objects) and those taken out with `keep()`; returns what `fn` returned. Scopes nest; an async `fn` is an Error (await outside the tidy).
 *
 * PyTorch: none (webgrad only; GPU memory is not garbage-collected). TensorFlow.js: `tf.tidy`.
 * @example const y = wg.tidy(() => x.mul(2).add(1)) // the x.mul(2) temporary is disposed; y is kept
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new Error("tidy: expected a function, e.g. wg.tidy(() => model.forward(x)).");
  const scope = new Set<Tracked>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (isThenable(result)) refuseAsync(result, scope);
  const kept = new Set<unknown>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (!kept.has(t)) t.dispose();
    else if (parent) parent.add(t);
    else watch(t);
  }
  return result;
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  x !== null && (typeof x === "object" || typeof x === "function") && typeof (x as PromiseLike<unknown>).then === "function";

/**
 * An async fn: what it made before its first await is disposed (the caller gets an Error, never the
 * result); its rejection is taken here, since nobody else can await it and an unhandled rejection
 * exits Node. Tensors it makes after the await are outside every scope (the finalizer's).
 */
function refuseAsync(result: PromiseLike<unknown>, scope: Set<Tracked>): never {
  for (const t of scope) t.dispose();
  Promise.resolve(result).catch(() => {});
  throw new Error(
    "tidy: fn returned a Promise; tidy tracks synchronous work only (the tensors it made before its first await were disposed). " +
      "Fix: await outside tidy and tidy the synchronous parts, e.g. const loss = wg.tidy(() => step()); await loss.item().",
  );
}

/** Live tensors and bytes on one device (bytesPooled is added by the caller from the backend). */
export function liveStats(device: Device): { tensors: number; bytesInUse: number } {
  return { tensors: live[device].tensors, bytesInUse: live[device].bytes };
}

/**
 * True when every reference to `storage` is a live handle made in the innermost open scope:
 * nothing outside (no user handle, no saved value) can see it, so backward may keep it as a gradient.
 */
export function ownedByInnermostScope(storage: Storage): boolean {
  const scope = scopes[scopes.length - 1];
  if (!scope) return false;
  let n = 0;
  for (const t of scope) if (!t.handle.disposed && t.handle.storage === storage) n++;
  return n === storage.refs;
}

/** Whether `t` was made in the innermost open tidy() (so that disposing it there frees nothing the caller holds). */
export function inInnermostScope(t: Tracked): boolean {
  return scopes[scopes.length - 1]?.has(t) ?? false;
}

/** Engine-owned tensors (cached constants): outside every scope and not counted as the user's live tensors. */
export function pin<T extends Tracked>(t: T): T {
  t.handle.pinned = true; // before keep(), so that the finalizer is not handed it
  keep(t);
  live[t.handle.device].tensors--;
  if (t.handle.watched) finalizer.unregister(t.handle);
  t.handle.watched = false;
  return t;
}
