/** A small line chart on a canvas: axes with tick labels, a title, one series. */

export interface Series {
  title: string;
  color: string;
  points: { x: number; y: number }[];
  yMin?: number;
  yMax?: number;
  format?: (y: number) => string;
}

function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(v);
  return out;
}

export function drawChart(canvas: HTMLCanvasElement, s: Series, xLabel = "step"): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 480;
  const h = canvas.clientHeight || 240;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  const g = canvas.getContext("2d")!;
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const pad = { l: 52, r: 14, t: 28, b: 34 };
  const xs = s.points.map((p) => p.x);
  const ys = s.points.map((p) => p.y);
  const x0 = 0;
  const x1 = Math.max(1, ...xs);
  const y0 = s.yMin ?? Math.min(0, ...ys);
  const y1 = s.yMax ?? Math.max(1e-6, ...ys) * 1.05;
  const px = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (w - pad.l - pad.r);
  const py = (y: number) => h - pad.b - ((y - y0) / (y1 - y0 || 1)) * (h - pad.t - pad.b);
  const fmt = s.format ?? ((y: number) => y.toFixed(2));
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#1d2330";
  g.fillText(s.title, pad.l, 18);
  g.strokeStyle = "#ddd";
  g.fillStyle = "#666";
  g.lineWidth = 1;
  for (const v of ticks(y0, y1, 4)) {
    g.beginPath();
    g.moveTo(pad.l, py(v));
    g.lineTo(w - pad.r, py(v));
    g.stroke();
    g.fillText(fmt(v), 6, py(v) + 4);
  }
  for (const v of ticks(x0, x1, 5)) {
    g.fillText(String(Math.round(v)), px(v) - 8, h - pad.b + 16);
  }
  g.fillText(xLabel, w - pad.r - 30, h - 4);
  g.strokeStyle = "#999";
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, h - pad.b);
  g.lineTo(w - pad.r, h - pad.b);
  g.stroke();
  if (s.points.length === 0) return;
  g.strokeStyle = s.color;
  g.lineWidth = 2;
  g.beginPath();
  s.points.forEach((p, i) => (i ? g.lineTo(px(p.x), py(p.y)) : g.moveTo(px(p.x), py(p.y))));
  g.stroke();
  g.fillStyle = s.color;
  for (const p of s.points.length < 40 ? s.points : []) g.fillRect(px(p.x) - 2, py(p.y) - 2, 4, 4);
}
