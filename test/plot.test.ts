/** training.svg's axes: the loss curve stays within its labelled y range, and a one-epoch run's accuracy dot is drawn whole. */
import { describe, expect, test } from "vitest";
import { trainingSvg, type Point } from "../src/train/plot-svg.js";

interface Frame { x0: number; x1: number; y0: number; y1: number }

/** Each panel's frame and the y positions and values of its tick labels, read back from the SVG. */
function panels(svg: string): { frame: Frame; ticks: { y: number; value: number }[] }[] {
  const frames = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/g)].map((m) => {
    const [x, y, w, h] = m.slice(1).map(Number);
    return { x0: x, x1: x + w, y0: y, y1: y + h };
  });
  const labels = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" text-anchor="end">([^<]+)<\/text>/g)].map((m) => ({ x: +m[1], y: +m[2] - 4, value: +m[3] }));
  return frames.map((frame) => ({ frame, ticks: labels.filter((l) => l.x === frame.x0 - 6 && l.y >= frame.y0 - 1 && l.y <= frame.y1 + 1) }));
}

const points = (svg: string, cls: string) =>
  svg.match(new RegExp(`<polyline class="${cls}" points="([^"]*)"`))![1].split(" ").map((p) => p.split(",").map(Number));

describe("training.svg", () => {
  const losses: Point[][] = [
    Array.from({ length: 40 }, (_, i) => ({ x: (i + 1) / 4, y: 0.3 + 2 / (1 + i) })), // a usual run: steep, then flat
    [{ x: 0.5, y: 0.6931 }, { x: 1, y: 0.6929 }], // almost flat
    [{ x: 1, y: 2.3 }], // one point
  ];

  test.each(losses.map((l, i) => [i, l] as const))("the loss curve stays between its lowest and highest labels, with at least 4 of them (case %i)", (_, loss) => {
    const svg = trainingSvg({ title: "t", loss, accuracy: [{ x: 1, y: 0.8 }] });
    const { frame, ticks } = panels(svg)[0];
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    const ys = ticks.map((t) => t.y);
    for (const [x, y] of points(svg, "loss")) {
      expect(y).toBeGreaterThanOrEqual(Math.min(...ys) - 0.01);
      expect(y).toBeLessThanOrEqual(Math.max(...ys) + 0.01);
      expect(x).toBeGreaterThan(frame.x0);
      expect(x).toBeLessThan(frame.x1);
    }
  });

  test("a one-epoch run: the accuracy dot is inside the frame, whole, with its value written beside it", () => {
    for (const acc of [0.58, 1]) {
      const svg = trainingSvg({ title: "t", loss: [{ x: 0.5, y: 1 }, { x: 1, y: 0.8 }], accuracy: [{ x: 1, y: acc }] });
      const { frame } = panels(svg)[1];
      const [, cx, cy, r] = svg.match(/<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"/)!.map(Number);
      expect(cx + r).toBeLessThan(frame.x1);
      expect(cy - r).toBeGreaterThan(frame.y0);
      expect(cy + r).toBeLessThan(frame.y1);
      expect(svg).toContain(`<text class="accuracy-value"`);
      expect(svg).toContain(`>${acc}</text>`);
    }
    const two = trainingSvg({ title: "t", loss: [{ x: 1, y: 1 }], accuracy: [{ x: 1, y: 0.5 }, { x: 2, y: 0.6 }] });
    expect(two).not.toContain("accuracy-value");
  });
});
