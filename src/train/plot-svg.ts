/**
 * training.svg, drawn by hand (no plotting dependency): two panels over a
 * shared epoch axis — training loss on top, test accuracy below — each with
 * tick labels, a title and a legend.
 */

export interface Point {
  x: number;
  y: number;
}

export interface PlotData {
  title: string;
  /** Running training loss, x in (fractional) epochs. */
  loss: Point[];
  /** Test accuracy after each epoch, x = epoch. */
  accuracy: Point[];
}

const W = 760;
const PANEL_H = 250;
const M = { left: 70, right: 24, top: 56, bottom: 44 };
/** Points keep this far from the frame, so a dot at the last epoch or at 100% is drawn whole. */
const INSET = 8;

/** About `count` round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (v: number) => +v.toFixed(2);
const label = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : String(+v.toPrecision(4)));

interface Panel {
  top: number;
  title: string;
  yLabel: string;
  /** id: the polyline's class, so tools and tests can find each curve. */
  series: { id: string; name: string; color: string; points: Point[]; dots: boolean }[];
  yRange?: [number, number];
}

function extent(values: number[], pad: number): [number, number] {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi === lo) {
    const d = 0.5 * (Math.abs(lo) || 1);
    lo -= d;
    hi += d;
  }
  const m = (hi - lo) * pad;
  return [lo - m, hi + m];
}

/**
 * Ticks for [lo, hi], widened to the nice values around it so the curve never runs past the lowest
 * or highest label; labels carry as many decimals as the step needs (0.69285 is not 0.6929).
 */
function roundOut([lo, hi]: [number, number]): { lo: number; hi: number; ticks: number[]; text: (v: number) => string } {
  const first = niceTicks(lo, hi, 6);
  const step = first.length > 1 ? first[1] - first[0] : 1;
  const a = Math.floor(lo / step + 1e-9), b = Math.ceil(hi / step - 1e-9);
  const ticks = Array.from({ length: b - a + 1 }, (_, i) => +((a + i) * step).toPrecision(12));
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  const text = (v: number) => (Math.abs(v) >= 1000 ? v.toExponential(1) : String(+v.toFixed(decimals)));
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks, text };
}

function panel(p: Panel, xMax: number): string {
  const x0 = M.left, x1 = W - M.right, y0 = p.top + PANEL_H - M.bottom, y1 = p.top + M.top;
  const ys = p.series.flatMap((s) => s.points.map((q) => q.y));
  const { lo, hi, ticks: yTicks, text } = roundOut(p.yRange ?? extent(ys, 0.04));
  const xTicks = niceTicks(0, xMax, Math.min(10, Math.max(1, xMax))).filter((v) => v <= xMax);
  const sx = (x: number) => x0 + INSET + (x / xMax) * (x1 - x0 - 2 * INSET);
  const sy = (y: number) => y0 - INSET - ((y - lo) / (hi - lo)) * (y0 - y1 - 2 * INSET);
  const out: string[] = [
    `<text x="${W / 2}" y="${p.top + 34}" text-anchor="middle" font-size="16" font-weight="bold">${esc(p.title)}</text>`,
    `<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#333"/>`,
  ];
  for (const v of yTicks)
    out.push(
      `<line x1="${x0}" x2="${x1}" y1="${num(sy(v))}" y2="${num(sy(v))}" stroke="#ddd"/>`,
      `<text x="${x0 - 6}" y="${num(sy(v) + 4)}" text-anchor="end">${text(v)}</text>`,
    );
  for (const v of xTicks)
    out.push(
      `<line x1="${num(sx(v))}" x2="${num(sx(v))}" y1="${y0}" y2="${y0 + 5}" stroke="#333"/>`,
      `<text x="${num(sx(v))}" y="${y0 + 18}" text-anchor="middle">${label(v)}</text>`,
    );
  out.push(
    `<text x="${(x0 + x1) / 2}" y="${y0 + 36}" text-anchor="middle">epoch</text>`,
    `<text transform="translate(${x0 - 52} ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`,
  );
  p.series.forEach((s, i) => {
    const pts = s.points.filter((q) => Number.isFinite(q.y)).map((q) => [num(sx(q.x)), num(sy(q.y))]);
    if (pts.length) out.push(`<polyline class="${s.id}" points="${pts.join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    if (s.dots) for (const [cx, cy] of pts) out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`);
    // A lone point is not a curve: write its value beside it.
    const only = s.points.filter((q) => Number.isFinite(q.y));
    if (only.length === 1) out.push(`<text class="${s.id}-value" x="${pts[0][0] - 8}" y="${pts[0][1] - 8}" text-anchor="end">${label(only[0].y)}</text>`);
    const ly = y1 + 16 + 18 * i;
    out.push(
      `<line x1="${x1 - 150}" x2="${x1 - 126}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${x1 - 120}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  return out.join("\n");
}

/** A complete standalone SVG document. */
export function trainingSvg(d: PlotData): string {
  const xMax = Math.max(1, ...d.loss.map((p) => p.x), ...d.accuracy.map((p) => p.x));
  const accs = d.accuracy.map((p) => p.y);
  const accLo = accs.length ? Math.max(0, Math.floor(Math.min(...accs) * 20) / 20 - 0.05) : 0;
  const body = [
    panel({ top: 24, title: "Training loss", yLabel: "loss", series: [{ id: "loss", name: "training loss", color: "#1f77b4", points: d.loss, dots: false }] }, xMax),
    panel(
      {
        top: 24 + PANEL_H,
        title: "Test accuracy",
        yLabel: "accuracy",
        series: [{ id: "accuracy", name: "test accuracy", color: "#d62728", points: d.accuracy, dots: true }],
        yRange: [accLo, 1],
      },
      xMax,
    ),
  ];
  const h = 24 + 2 * PANEL_H;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(d.title)}</text>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}
