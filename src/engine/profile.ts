/** wg.profile: per-kernel times of everything fn launches, grouped by op name. */
import type { Device } from "../backend/backend.js";
import { backendFor, defaultDevice, flush } from "./device.js";
import { realize } from "./scheduler.js";

/** What `wg.profile` measured: per-op kernel times, the launch count and `fn`'s result. */
export interface ProfileReport<T> {
  /** "timestamp-query": GPU time per kernel; "host": CPU-side time (the CPU backend, or an adapter without timestamps). */
  source: "timestamp-query" | "host";
  /** One row per op name, slowest first. */
  kernels: { name: string; count: number; totalMs: number; share: number }[];
  /** The sum of every kernel's time, in milliseconds. */
  totalMs: number;
  /** How many kernel launches `fn` made. */
  launches: number;
  /** What `fn` returned (awaited). */
  result: T;
}

/**
 * Runs `fn` (sync or async), waits for the device, and reports every kernel it launched, grouped by op name and
 * slowest first: GPU times from timestamp queries where the adapter has them, else host times (the CPU backend).
 * On an emulator (SwiftShader) the times rank kernels for that emulator only.
 *
 * PyTorch: `torch.profiler.profile`.
 * @example const report = await wg.profile(() => x.matmul(x.T).sum()); console.log(wg.formatProfile(report))
 */
export async function profile<T>(fn: () => T | Promise<T>, device: Device = defaultDevice()): Promise<ProfileReport<T>> {
  const backend = backendFor(device);
  realize(device); // what ran before belongs to no profile
  backend.beginProfile();
  let result: T;
  try {
    result = await fn();
    await flush(device);
  } catch (e) {
    await backend.endProfile();
    throw e;
  }
  const recorded = await backend.endProfile();
  const byName = new Map<string, { count: number; totalMs: number }>();
  for (const r of recorded.records) {
    const row = byName.get(r.name) ?? { count: 0, totalMs: 0 };
    row.count++;
    row.totalMs += r.ms;
    byName.set(r.name, row);
  }
  const totalMs = recorded.records.reduce((s, r) => s + r.ms, 0);
  const kernels = [...byName].map(([name, r]) => ({ name, ...r, share: totalMs > 0 ? r.totalMs / totalMs : 0 })).sort((a, b) => b.totalMs - a.totalMs);
  return { source: recorded.source, kernels, totalMs, launches: recorded.records.length, result };
}

/**
 * The report of `wg.profile` as a text table: a summary line, then one row per op with its count, total ms and share.
 * The bench runner's `--profile` prints the same table.
 *
 * PyTorch: `torch.profiler.profile().key_averages().table()`.
 * @example console.log(wg.formatProfile(await wg.profile(() => wg.ones([4]).add(1)))) // "2 launches, ... ms total (host)" ...
 */
export function formatProfile(report: ProfileReport<unknown>): string {
  const lines = [`${report.launches} launches, ${report.totalMs.toFixed(3)} ms total (${report.source})`, "op                     count   total ms   share"];
  for (const k of report.kernels)
    lines.push(`${k.name.padEnd(20)} ${String(k.count).padStart(7)} ${k.totalMs.toFixed(3).padStart(10)} ${(100 * k.share).toFixed(1).padStart(6)}%`);
  return lines.join("\n");
}
