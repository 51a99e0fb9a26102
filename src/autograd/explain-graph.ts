/**
 * wg.explain drawn: Graphviz DOT, and a self-contained SVG laid out here
 * (no Graphviz needed). Layers are the longest gradient path from the output,
 * so every edge points down; within a layer, boxes sit under the mean of
 * their senders (one barycenter pass), which keeps chains straight.
 */
import { fmt } from "../shape.js";
import type { ExplainData, ExplainStep } from "./explain.js";
import { forwardText, leafLabel } from "./explain-table.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const dotStr = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

/** The rule lines of a step, as the SVG's tooltips and DOT's labels show them. */
function ruleLines(s: ExplainStep): string[] {
  if (s.kind === "leaf") return [`accumulates into ${leafLabel(s)}.grad`];
  return s.inputs.map((e) => `${e.name}: ${e.rule ?? "no gradient"}`);
}

export function toDot(d: ExplainData): string {
  const lines = ["digraph backward {", "  rankdir=TB;", '  node [shape=box, fontname="monospace", fontsize=10];', '  edge [fontname="monospace", fontsize=9];'];
  for (const s of d.steps) {
    const label = [`${s.step} ${s.node}`, forwardText(s), ...ruleLines(s)].join("\n");
    const style = s.kind === "leaf" ? ', style=filled, fillcolor="#e3f4e3"' : s.step === 1 ? ', penwidth=2' : "";
    lines.push(`  s${s.step} [label=${dotStr(label)}${style}];`);
  }
  for (const s of d.steps)
    for (const e of s.inputs)
      if (e.to !== null) lines.push(`  s${s.step} -> s${e.to} [label=${dotStr(`${e.name}: ${fmt(e.shape)}${e.summedFrom ? " Σ" : ""}`)}];`);
  lines.push("}");
  return lines.join("\n");
}

interface Box {
  s: ExplainStep;
  lines: string[];
  x: number;
  y: number;
  w: number;
}

const CHAR = 7.3; // px per character of 12px monospace
const BOX_H = 38;
const LAYER_H = 84;
const GAP = 22;
const PAD = 20;

function place(steps: ExplainStep[]): { boxes: Map<number, Box>; width: number; height: number } {
  const layerOf = new Map<number, number>();
  const layers: ExplainStep[][] = [];
  for (const s of steps) {
    const l = Math.max(0, ...s.from.filter((f) => layerOf.has(f)).map((f) => layerOf.get(f)! + 1));
    layerOf.set(s.step, l);
    (layers[l] ??= []).push(s);
  }
  const boxes = new Map<number, Box>();
  const rows: Box[][] = [];
  for (const [l, layer] of layers.entries()) {
    const center = (s: ExplainStep) => {
      const xs = s.from.map((f) => boxes.get(f)).filter((b): b is Box => !!b).map((b) => b.x + b.w / 2);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : s.step;
    };
    const row = [...layer].sort((a, b) => center(a) - center(b) || a.step - b.step).map((s) => {
      const lines = [`${s.step} ${s.node}`, forwardText(s)];
      return { s, lines, x: 0, y: PAD + 24 + l * LAYER_H, w: Math.ceil(Math.max(...lines.map((t) => [...t].length)) * CHAR + 20) };
    });
    let x = 0;
    for (const b of row) (b.x = x), (x += b.w + GAP), boxes.set(b.s.step, b);
    rows.push(row);
  }
  const rowWidth = (r: Box[]) => r.reduce((n, b) => n + b.w + GAP, -GAP);
  const width = Math.max(320, ...rows.map(rowWidth)) + 2 * PAD;
  for (const r of rows) {
    const shift = (width - rowWidth(r)) / 2;
    for (const b of r) b.x += shift;
  }
  return { boxes, width, height: PAD * 2 + 24 + Math.max(1, rows.length) * LAYER_H - (LAYER_H - BOX_H) };
}

function edgeSvg(from: Box, to: Box, label: string): string {
  const [x1, y1, x2, y2] = [from.x + from.w / 2, from.y + BOX_H, to.x + to.w / 2, to.y];
  const my = (y1 + y2) / 2;
  const long = y2 - y1 > LAYER_H; // skips layers: dashed, so it reads apart from the edges it crosses
  return (
    `<path class="edge${long ? " long" : ""}" d="M${x1.toFixed(1)},${y1} C${x1.toFixed(1)},${my} ${x2.toFixed(1)},${my} ${x2.toFixed(1)},${y2 - 2}" marker-end="url(#arrow)"/>` +
    `<text class="edge-label" x="${((x1 + x2) / 2 + 4).toFixed(1)}" y="${my + 4}">${esc(label)}</text>`
  );
}

function boxSvg(b: Box): string {
  const cls = `node ${b.s.kind}${b.s.step === 1 ? " root" : ""}`;
  const tip = [...b.lines, ...ruleLines(b.s)].join("\n");
  const text = b.lines.map((t, i) => `<text x="${(b.x + 10).toFixed(1)}" y="${b.y + 15 + i * 15}"${i ? ' class="sub"' : ""}>${esc(t)}</text>`).join("");
  return `<g class="${cls}" id="step-${b.s.step}" data-step="${b.s.step}"><title>${esc(tip)}</title><rect x="${b.x.toFixed(1)}" y="${b.y}" width="${b.w}" height="${BOX_H}" rx="5"/>${text}</g>`;
}

const STYLE = `text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;fill:#1d2330}
.node rect{fill:#eef2fb;stroke:#4a5a80}.node.leaf rect{fill:#e3f4e3;stroke:#3d7a3d}.node.root rect{stroke-width:2.5}
.node{cursor:pointer}.node .sub{fill:#4b5568;font-size:11px}.node.selected rect{fill:#fff3c4;stroke:#b8860b}
.edge{fill:none;stroke:#8a93a6;stroke-width:1.2}.edge.long{stroke-dasharray:5 3;stroke:#a9b0bf}.edge-label{font-size:10px;fill:#5b6475}.note{font-size:12px;fill:#8a4b00}`;

/** A standalone SVG of the graph: steps from the output (top) to the leaves, edges labelled with the gradient shapes. */
export function toSvg(d: ExplainData, maxNodes: number): string {
  const shown = d.steps.slice(0, Math.max(1, maxNodes));
  const { boxes, width, height } = place(shown);
  const left = d.steps.length - shown.length;
  const title = `backward of ${d.root.name ?? "the output"} ${fmt(d.root.shape)}: ${d.steps.length} steps`;
  const note = left ? ` — showing steps 1–${shown.length}; ${left} more elided (see toString() or toJSON())` : "";
  const edges: string[] = [];
  for (const s of shown)
    for (const e of s.inputs) {
      const to = e.to === null ? undefined : boxes.get(e.to);
      if (to) edges.push(edgeSvg(boxes.get(s.step)!, to, `${fmt(e.shape)}${e.summedFrom ? " Σ" : ""}`));
    }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}">`,
    `<style>${STYLE}</style>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a93a6"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${PAD}" y="${PAD + 4}"${left ? ' class="note"' : ""}>${esc(title + note)}</text>`,
    ...edges,
    ...[...boxes.values()].map(boxSvg),
    "</svg>",
  ].join("\n");
}
