/**
 * Pacing Dawn's polling in Node. While any of its async calls is pending (mapAsync,
 * onSubmittedWorkDone, popErrorScope), Dawn's Node binding calls the global setImmediate again
 * and again with a native tick that processes the device's events: one core stays busy for the
 * whole wait. On a CPU emulator (SwiftShader) the "GPU" is those same cores, so the spinning slows
 * every kernel. While webgrad waits for its device (WaitPacer.begin/end from the backend), the
 * ticks run at once for the first SPIN_MS, the wait of a short readback, and after that the
 * thread sleeps SLEEP_MS before each one (Atomics.wait: no CPU). Every other setImmediate call is
 * left as it is, and so are Dawn's ticks outside webgrad's waits (another library waiting on its
 * own: a tick does not say whose device it polls, so within a webgrad wait all are paced).
 *
 * SwiftShader, 2 cores, `webgrad bench` medians with WEBGRAD_DAWN_POLL=spin and without, alternated
 * twice: matmul 1024 467-551 ms spinning against 385-444 paced, mlp-step sgd 35-46 against 24-29,
 * cnn-step 457-557 against 298-337, gpt-step 311-435 against 190-210; a 100-op chain (0.2 ms) and
 * most 1M-element readbacks finish within the spin window, unchanged. A shorter window (0.2 ms)
 * put every readback's tail into the sleeps (readback 1M: 1.0-1.2 ms spinning, 2.2-2.4 paced).
 * WEBGRAD_DAWN_POLL=spin keeps Dawn's own polling; =pace paces on GPUs too.
 */
import type { WaitPacer } from "../backend/backend.js";

const SPIN_MS = 1;
const SLEEP_MS = 0.05;

let depth = 0;
let since = 0;
let installed = false;
/** Ticks that slept first (tests read it). */
let pacedTicks = 0;

const pacer: WaitPacer = {
  begin() {
    if (depth++ === 0) since = performance.now();
  },
  end() {
    depth = Math.max(0, depth - 1);
  },
};

const source = Function.prototype.toString;

/** Dawn's tick: a native function, constructible, with no name and no parameters (a promise's resolve has one, and no prototype). */
export function isDawnTick(fn: unknown): boolean {
  return typeof fn === "function" && fn.length === 0 && fn.name === "" && fn.prototype !== undefined && source.call(fn) === "function () { [native code] }";
}

function install(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.setImmediate;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const paced = function (this: unknown, callback: (...args: unknown[]) => void, ...args: unknown[]) {
    if (depth > 0 && performance.now() - since > SPIN_MS && isDawnTick(callback)) {
      pacedTicks++;
      Atomics.wait(sleeper, 0, 0, SLEEP_MS);
    }
    return original(callback, ...args);
  } as typeof setImmediate;
  // util.promisify(setImmediate) and the like read properties of the original.
  for (const key of Reflect.ownKeys(original)) {
    const d = Object.getOwnPropertyDescriptor(original, key);
    if (d && !(key in paced)) Object.defineProperty(paced, key, d);
  }
  globalThis.setImmediate = paced;
}

/**
 * The pacer for a device on an emulator (or on any adapter with WEBGRAD_DAWN_POLL=pace), installing
 * the paced setImmediate the first time; null where Dawn keeps its own polling.
 */
export function dawnPacer(emulated: boolean): WaitPacer | null {
  const mode = process.env.WEBGRAD_DAWN_POLL;
  if (mode === "spin" || (!emulated && mode !== "pace")) return null;
  install();
  return pacer;
}

/** @internal Whether the paced setImmediate is installed, and how many of Dawn's ticks it made sleep. */
export function dawnPacingStats(): { installed: boolean; pacedTicks: number } {
  return { installed, pacedTicks };
}
