/**
 * wg.explain's terminal table: one row per (step, input), aligned columns, the
 * values of small tensors on a line under their step. Huge graphs: repeated
 * blocks of steps (same nodes, same shapes) print once, then the middle is cut.
 */
import { fmt } from "../shape.js";
import type { ExplainData, ExplainStep, GradEdge, Values } from "./explain.js";

const HEAD = ["step", "backward node", "forward", "saved", "gets", "input", "rule", "sends"];

/** A number as the table prints it: 4 significant digits, integers whole. */
export function num(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** Row-major values nested by shape: 6, [1, 2], [[1, 2], [3, 4]]; "(n values)" when not read. */
export function formatValues(v: Values): string {
  const n = v.shape.reduce((a, b) => a * b, 1);
  if (!v.values) return `(${n} values)`;
  const vals = v.values;
  if (v.shape.length === 0) return num(vals[0]);
  const nest = (dim: number, at: number): string => {
    if (dim === v.shape.length - 1) return `[${vals.slice(at, at + v.shape[dim]).map(num).join(", ")}]`;
    const inner = v.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return `[${Array.from({ length: v.shape[dim] }, (_, i) => nest(dim + 1, at + i * inner)).join(", ")}]`;
  };
  return nest(0, 0);
}

export const leafLabel = (s: ExplainStep) => s.name ?? `leaf ${fmt(s.outShape)}`;

export function forwardText(s: ExplainStep): string {
  if (s.kind === "leaf") return `${s.name ? `${s.name} ` : ""}leaf ${fmt(s.outShape)}`;
  return `${s.op}(${s.inputShapes.map(fmt).join(", ")}) → ${fmt(s.outShape)}`;
}

export function sendsText(e: GradEdge): string {
  if (e.to === null) return `none: ${e.why}`;
  return `${fmt(e.shape)}${e.summedFrom ? ` (summed from ${fmt(e.summedFrom)})` : ""} → ${e.to}`;
}

function getsText(s: ExplainStep, seed: string): string {
  return `${fmt(s.upstream)} ← ${s.from.length ? s.from.join(", ") : `seed ${seed}`}`;
}

function rows(s: ExplainStep, seed: string): string[][] {
  const first = [String(s.step), s.node, forwardText(s), s.saved.join(", ") || "—", getsText(s, seed)];
  const blank = first.map(() => "");
  if (s.kind === "leaf") return [[...first, "", "accumulates the gradients it gets", `${leafLabel(s)}.grad`]];
  if (!s.inputs.length) return [[...first, "", "", ""]];
  return s.inputs.map((e, i) => [...(i ? blank : first), `${e.name} ${fmt(e.shape)}`, e.rule ?? "—", sendsText(e)]);
}

/** The numbers of one step, when explain ran with { values: true }. */
function valuesLine(s: ExplainStep): string | null {
  const parts: string[] = [];
  if (s.value) parts.push(`${s.kind === "leaf" ? leafLabel(s) : "out"} = ${formatValues(s.value)}`);
  if (s.upstreamValue) parts.push(`g = ${formatValues(s.upstreamValue)}${s.kind === "leaf" ? ` (added to ${leafLabel(s)}.grad)` : ""}`);
  for (const e of s.inputs) {
    const bits = [e.local && `local ${formatValues(e.local)}`, e.sent && `sends ${formatValues(e.sent)}`].filter(Boolean);
    if (bits.length) parts.push(`${e.name}: ${bits.join(", ")}`);
  }
  return parts.length ? `values: ${parts.join(" · ")}` : null;
}

type Block = ExplainStep | string;
const signature = (s: ExplainStep) => `${s.node}|${s.inputShapes.map(fmt).join()}|${fmt(s.outShape)}`;

/** Runs of a block of steps repeated three times or more keep their first copy and a note. */
function elideRepeats(steps: ExplainStep[]): Block[] {
  const sig = steps.map(signature);
  const same = (a: number, b: number, len: number) => sig.slice(a, a + len).every((x, k) => x === sig[b + k]);
  const out: Block[] = [];
  for (let i = 0; i < steps.length; ) {
    let best = { len: 0, times: 1 };
    for (let len = 1; len <= 16 && i + 3 * len <= steps.length; len++) {
      let times = 1;
      while (i + (times + 1) * len <= steps.length && same(i, i + times * len, len)) times++;
      if (times >= 3 && times * len > best.times * best.len) best = { len, times };
    }
    if (!best.len) {
      out.push(steps[i++]);
      continue;
    }
    out.push(...steps.slice(i, i + best.len));
    const [a, b] = [i + best.len + 1, i + best.times * best.len];
    out.push(`… steps ${a}–${b} elided: the ${best.len === 1 ? "step" : `${best.len} steps`} above, repeated ${best.times - 1} more times with the same shapes`);
    i += best.times * best.len;
  }
  return out;
}

/** At most `max` steps: repeats first, then the middle. */
function elide(steps: ExplainStep[], max: number): Block[] {
  if (steps.length <= max) return steps;
  const blocks = elideRepeats(steps);
  const shown = blocks.filter((b) => typeof b !== "string").length;
  if (shown <= max) return blocks;
  const head = Math.ceil(max / 2);
  let seen = 0;
  const cutAt = blocks.findIndex((b) => typeof b !== "string" && ++seen > head);
  seen = 0;
  const tailFrom = blocks.length - 1 - [...blocks].reverse().findIndex((b) => typeof b !== "string" && ++seen >= max - head);
  const cut = blocks.slice(cutAt, tailFrom).filter((b): b is ExplainStep => typeof b !== "string");
  const note = `… ${cut.length} more steps elided (${cut[0].step}–${cut[cut.length - 1].step}); explain(t, { maxRows: Infinity }) prints them all`;
  return [...blocks.slice(0, cutAt), note, ...blocks.slice(tailFrom)];
}

function align(table: string[][]): string[] {
  const width = HEAD.map((_, c) => Math.max(...table.map((r) => [...r[c]].length)));
  return table.map((r) => r.map((cell, c) => (c === 0 ? cell.padStart(width[c]) : c === r.length - 1 ? cell : cell.padEnd(width[c]))).join("  ").trimEnd());
}

export function formatTable(d: ExplainData, maxRows: number): string {
  const ops = d.steps.filter((s) => s.kind === "op").length;
  const leaves = d.steps.length - ops;
  const who = d.root.name ? `${d.root.name} ` : "a tensor of shape ";
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
  const head = `backward of ${who}${fmt(d.root.shape)}: ${n(d.steps.length, "step")} (${n(ops, "op")}, ${n(leaves, "leaf").replace(/leafs$/, "leaves")}) in the order backward runs them, from the seed ${d.seed}`;
  const blocks = elide(d.steps, maxRows);
  const table: string[][] = [HEAD];
  const notes = new Map<number, string[]>(); // extra lines after table row k
  const after = (line: string) => notes.set(table.length - 1, [...(notes.get(table.length - 1) ?? []), line]);
  for (const b of blocks) {
    if (typeof b === "string") after(b);
    else {
      table.push(...rows(b, d.seed));
      const v = d.values ? valuesLine(b) : null;
      if (v) after(`${" ".repeat(6)}${v}`);
    }
  }
  const lines = align(table);
  const out = [head, ""];
  lines.forEach((l, k) => out.push(l, ...(notes.get(k) ?? [])));
  return out.join("\n");
}
