/** The GPT's loss curves as a standalone SVG: training and validation loss (nats per character) against the step. */
import type { GptEval } from "./gpt-trainer.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export function gptLossSvg(title: string, history: GptEval[], width = 640, height = 360): string {
  const [x0, x1, y0, y1] = [60, width - 20, height - 40, 40];
  const ys = history.flatMap((h) => [h.trainLoss, h.valLoss]);
  const lo = Math.floor(Math.min(...ys, 1)), hi = Math.ceil(Math.max(...ys, lo + 1));
  const xMax = Math.max(1, ...history.map((h) => h.step));
  const sx = (s: number) => x0 + ((x1 - x0) * s) / xMax;
  const sy = (v: number) => y0 - ((y0 - y1) * (v - lo)) / (hi - lo);
  const line = (key: "trainLoss" | "valLoss", color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${history.map((h) => `${sx(h.step).toFixed(1)},${sy(h[key]).toFixed(1)}`).join(" ")}"/>`;
  const yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)
    .map((v) => `<text x="${x0 - 8}" y="${sy(v) + 4}" text-anchor="end">${v}</text><line x1="${x0}" x2="${x1}" y1="${sy(v)}" y2="${sy(v)}" stroke="#ddd"/>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${width / 2}" y="20" text-anchor="middle">${esc(title)}</text>`,
    ...yTicks,
    `<text x="${(x0 + x1) / 2}" y="${height - 8}" text-anchor="middle">step (0 to ${xMax}); loss in nats per character</text>`,
    line("trainLoss", "#1f77b4"), line("valLoss", "#d62728"),
    `<text x="${x1}" y="${y1 + 12}" text-anchor="end" fill="#1f77b4">train</text><text x="${x1}" y="${y1 + 28}" text-anchor="end" fill="#d62728">validation</text>`,
    "</svg>",
  ].join("\n");
}
