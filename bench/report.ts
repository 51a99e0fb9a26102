/** The end-of-run table, the webgrad/other ratios, and the --json document. */
import type { Counts } from "./counters.js";
import type { Measurement } from "./runner.js";

function ms(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

const sig = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function rate(m: Measurement): string {
  const parts: string[] = [];
  if (m.gflops !== undefined) parts.push(`${sig(m.gflops)} GFLOP/s`);
  if (m.gbps !== undefined) parts.push(`${sig(m.gbps)} GB/s`);
  if (m.usPerOp !== undefined) parts.push(`${sig(m.usPerOp)} µs/op (host ${sig(m.hostUsPerOp!)} µs)`);
  if (m.examplesPerSec !== undefined) parts.push(`${Math.round(m.examplesPerSec)} ex/s`);
  return parts.join(", ");
}

function count(m: Measurement, k: keyof Counts): string {
  if (!m.counts) return "-";
  const show = (c: Counts) => (k === "bufferBytes" ? bytes(c[k]) : String(c[k]));
  // Bytes vary with the others; their maximum keeps the column narrow.
  if (m.countsRange && m.countsRange.min[k] !== m.countsRange.max[k])
    return k === "bufferBytes" ? `≤${show(m.countsRange.max)}` : `${show(m.countsRange.min)}..${show(m.countsRange.max)}`;
  return show(m.counts);
}

function bytes(b: number): string {
  if (b === 0) return "0";
  if (b < 1 << 10) return `${b}B`;
  if (b < 1 << 20) return `${(b / 1024).toFixed(0)}K`;
  return `${(b / (1 << 20)).toFixed(1)}M`;
}

/** Text table; the first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(width[i]) : c.padStart(width[i]))).join("  ").trimEnd();
  return [line(header), width.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * The cases' shapes, then one row per case and library with the times and rate, then the
 * per-run WebGPU counts: three tables, so that each fits in 120 columns.
 */
export function resultsTable(ms_: Measurement[]): string {
  const cases = [...new Map(ms_.map((m) => [m.caseId, m.shape])).entries()].map(([id, shape]) => [id, shape]);
  const times = ms_.map((m) =>
    m.error
      ? [m.caseId, m.library, "0", "error", "", "", "", m.error.slice(0, 40)]
      : [m.caseId, m.library, String(m.runs), ms(m.medianMs), ms(m.minMs), ms(m.maxMs), ms(m.medianHostMs), rate(m)],
  );
  const kinds: (keyof Counts)[] = ["launches", "submits", "buffers", "bufferBytes", "bindGroups", "pipelines", "readbacks", "writes"];
  const calls = ms_.filter((m) => !m.error).map((m) => [m.caseId, m.library, ...kinds.map((k) => count(m, k))]);
  return [
    table(["case", "shape"], cases),
    table(["case", "library", "runs", "median ms", "min ms", "max ms", "host ms", "rate"], times),
    `WebGPU calls per timed run ("-": not on WebGPU)\n${table(["case", "library", "launches", "submits", "buffers", "bytes", "bindgroups", "pipelines", "readbacks", "writes"], calls)}`,
    ...peakTable(ms_),
  ].join("\n\n");
}

/** Peak GPU memory, one column per library: empty when no measurement has it (a CPU-only run). */
function peakTable(ms_: Measurement[]): string[] {
  if (!ms_.some((m) => m.peakBytes !== undefined)) return [];
  const libs = [...new Set(ms_.map((m) => m.library))];
  const ids = [...new Set(ms_.map((m) => m.caseId))];
  const cell = (id: string, lib: string) => {
    const b = ms_.find((m) => m.caseId === id && m.library === lib)?.peakBytes;
    return b === undefined ? "-" : bytes(b);
  };
  // The empty second column: table() left-aligns its first two, and the byte columns read better right-aligned.
  const rows = ids.map((id) => [id, "", ...libs.map((lib) => cell(id, lib))]);
  const title =
    "Peak GPU memory: the most bytes of GPU buffers each library's own device held at once during\nthe timed runs (inputs, parameters, its pools and caches included, so buffers pooled by earlier\ncases count too: --filter one case for its own figure; \"-\": not on WebGPU)";
  return [`${title}\n${table(["case", "", ...libs], rows)}`];
}

export interface Ratio {
  caseId: string;
  other: string;
  webgradMs: number;
  otherMs: number;
  /** webgrad median / other median: below 1, webgrad is faster. */
  ratio: number;
}

export function ratios(ms_: Measurement[], base: string, others: string[]): Ratio[] {
  const out: Ratio[] = [];
  for (const m of ms_) {
    if (m.library !== base || m.error) continue;
    for (const other of others) {
      const o = ms_.find((x) => x.caseId === m.caseId && x.library === other && !x.error);
      if (o) out.push({ caseId: m.caseId, other, webgradMs: m.medianMs, otherMs: o.medianMs, ratio: m.medianMs / o.medianMs });
    }
  }
  return out;
}

export function ratioTable(rs: Ratio[], base: string): string {
  const rows = rs.map((r) => [
    r.caseId, r.other, ms(r.webgradMs), ms(r.otherMs), r.ratio.toFixed(2),
    r.ratio <= 1 ? `${base} ${(1 / r.ratio).toFixed(2)}x faster` : `${base} ${r.ratio.toFixed(2)}x slower`,
  ]);
  return table(["case", "vs", `${base} ms`, "other ms", `${base}/other`, ""], rows);
}

export function leakWarnings(ms_: Measurement[]): string[] {
  return ms_.filter((m) => m.leakedTensors > 0).map((m) => `warning: ${m.caseId} on ${m.library} left ${m.leakedTensors} more live tensors after its timed runs than before`);
}
