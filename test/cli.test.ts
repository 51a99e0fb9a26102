/**
 * The webgrad command as a user meets it (the built dist/node/cli.js; npm test builds it first):
 * --version, unknown commands, one-line usage errors, --compare tfjs without TF.js, the bench
 * tables' width, the train progress line's width and the train summary.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { suite } from "../bench/cases.js";
import { resultsTable } from "../bench/report.js";
import type { Measurement } from "../bench/runner.js";
import { formatProgress, progressBar, type Progress } from "../src/train/progress.js";

const CLI = resolve("dist/node/cli.js");
const cli = (args: string[], cli_ = CLI) => spawnSync(process.execPath, [cli_, ...args], { encoding: "utf8", timeout: 120_000 });
const lines = (s: string) => s.trimEnd().split("\n");

beforeAll(() => expect(existsSync(CLI), "run npm run build first").toBe(true));

describe("command line", () => {
  test("--version prints the package's version", () => {
    const r = cli(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`webgrad ${JSON.parse(readFileSync("package.json", "utf8")).version}\n`);
  });

  test("an unknown command: one error line naming it and the commands, a --help hint, exit 2", () => {
    const r = cli(["trian"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toEqual(['webgrad: unknown command "trian"; the commands are train, bench, demo, explain, sample.', 'Run "webgrad --help" for what each does.']);
    const help = cli(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: webgrad <command>[\s\S]*webgrad train[\s\S]*webgrad --version/);
  });

  test("a subcommand's bad option: the one relevant line and a --help hint, not the whole usage", () => {
    const bench = cli(["bench", "--runs", "x"]);
    expect(bench.status).toBe(2);
    expect(lines(bench.stderr)).toEqual(['webgrad bench: --runs expects an integer >= 1, got "x".', 'Run "webgrad bench --help" for its options.']);
    const train = cli(["train", "--no-such-flag"]);
    expect(train.status).toBe(2);
    expect(lines(train.stderr)).toHaveLength(2);
    expect(train.stderr).toMatch(/^webgrad train: .*--no-such-flag/);
  });
});

describe("Dawn's robustness pass on SwiftShader", () => {
  const header = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, [CLI, "bench", "--filter", "readback", "--runs", "1", "--warmup", "1"], { encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(0);
    return lines(r.stderr).find((l) => l.startsWith("webgrad bench on webgpu")) ?? "";
  };
  test("off by default on the emulator (the header says so), kept with WEBGRAD_ROBUSTNESS=1", () => {
    const off = header({ WEBGRAD_ROBUSTNESS: "" });
    expect(off).toMatch(/SwiftShader/);
    expect(off).toMatch(/Dawn's robustness pass off for every library \(WEBGRAD_ROBUSTNESS=1 keeps it\)/);
    expect(header({ WEBGRAD_ROBUSTNESS: "1" })).not.toMatch(/robustness/);
  });
});

describe("bench --compare tfjs from an installed package (no TF.js next to it)", () => {
  let dir = "";
  beforeAll(() => {
    // The package as npm installs it: dist and package.json, with webgpu but no @tensorflow beside it.
    dir = mkdtempSync(join(tmpdir(), "webgrad-installed-"));
    mkdirSync(join(dir, "pkg/dist/node"), { recursive: true });
    mkdirSync(join(dir, "node_modules"));
    copyFileSync(CLI, join(dir, "pkg/dist/node/cli.js"));
    copyFileSync("package.json", join(dir, "pkg/package.json"));
    symlinkSync(resolve("node_modules/webgpu"), join(dir, "node_modules/webgpu"), "dir");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("says TF.js is not installed and how to get it", () => {
    const r = cli(["bench", "--compare", "tfjs", "--filter", "readback"], join(dir, "pkg/dist/node/cli.js"));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--compare tfjs: TensorFlow\.js is not installed \(webgrad does not depend on it\)\. Fix: npm install @tensorflow\/tfjs@4 @tensorflow\/tfjs-backend-webgpu@4/);
  }, 120_000);
});

/** A measurement with the widest figures a run gives (four-digit times, count ranges) for case `id`. */
function wide(id: string, shape: string, library: string): Measurement {
  // The largest counts the suite's cases make (elementwise-chain 100, matmul 1024), varying between runs.
  const counts = { launches: 120, submits: 12, buffers: 210, bufferBytes: 48 << 20, bindGroups: 120, pipelines: 12, readbacks: 10, writes: 12 };
  return {
    caseId: id, library, shape, runs: 10, timesMs: [], hostMs: [], medianMs: 1234.5, minMs: 1200.1, maxMs: 9999.9, medianHostMs: 1111.1,
    // The widest rate each kind of case reports.
    ...(id.startsWith("elementwise-chain") ? { usPerOp: 2655.1, hostUsPerOp: 2063.2 } : id.startsWith("mlp") ? { gflops: 123.4, examplesPerSec: 123456 } : { gflops: 1234.5 }),
    counts,
    countsRange: { min: { ...counts, launches: 100, bufferBytes: 1 << 20 }, max: counts }, leakedTensors: 0, peakBytes: 999 << 20,
  };
}

describe("bench tables", () => {
  test("fit in 120 columns for every case and three libraries, with units in the headers", () => {
    const ms = suite(false).flatMap((c) => ["webgrad", "webgrad-cpu", "tfjs"].map((lib) => wide(c.id, c.shape, lib)));
    const text = resultsTable(ms);
    const widest = Math.max(...lines(text).map((l) => l.length));
    expect(widest, lines(text).find((l) => l.length === widest)).toBeLessThanOrEqual(120);
    expect(text).toMatch(/case\s+library\s+runs\s+median ms\s+min ms\s+max ms\s+host ms\s+rate/);
    expect(text).toMatch(/µs\/op \(host [\d.]+ µs\)/);
    for (const c of suite(false)) expect(text).toContain(c.shape);
  });
});

describe("train progress line", () => {
  const p: Progress = { epoch: 3, epochs: 10, batch: 200, batches: 469, examplesPerSecond: 12345, loss: 0.4321 };

  test("fits the width it is given: the bar shrinks, then the line is cut", () => {
    expect(formatProgress(p)).toMatch(/^epoch  3\/10 \[#{10}-{14}\] 200\/469   12345 ex\/s  loss 0\.4321$/);
    for (let width = 10; width <= 120; width++) expect(formatProgress(p, width).length, `width ${width}`).toBeLessThanOrEqual(width);
    expect(formatProgress(p, 60)).toMatch(/\[#+-+\] 200\/469/);
    expect(formatProgress(p, 45)).not.toContain("[");
  });

  test("on a terminal it is redrawn within the terminal's width; on a pipe, plain full lines", () => {
    const tty: string[] = [];
    const bar = progressBar({ isTTY: true, columns: 50, write: (s) => tty.push(s) });
    bar.update(p);
    bar.done();
    expect(tty[0].startsWith("\r") && tty[0].endsWith("\x1b[K")).toBe(true);
    expect(tty[0].length - "\r\x1b[K".length).toBeLessThanOrEqual(49);
    const pipe: string[] = [];
    progressBar({ isTTY: false, columns: 20, write: (s) => pipe.push(s) }).update(p);
    expect(pipe).toEqual([`${formatProgress(p)}\n`]);
  });
});

describe("train summary", () => {
  test("printed once, '1 epoch' singular, with the figures the epoch line shows", () => {
    const out = mkdtempSync(join(tmpdir(), "webgrad-cli-train-"));
    try {
      const r = cli(["train", "--device", "cpu", "--hidden", "16", "--limit", "200", "--test-limit", "100", "--epochs", "1", "--batch-size", "100", "--out", out]);
      expect(r.status, r.stderr).toBe(0);
      const done = lines(r.stdout).filter((l) => l.startsWith("done:"));
      expect(done).toHaveLength(1);
      expect(done[0]).toMatch(/^done: 1 epoch \(2 steps\) in [\d.]+ s; train loss [\d.]+, test accuracy [\d.]+, \d+ training examples\/s$/);
      const epoch = lines(r.stdout).find((l) => l.startsWith("epoch 1:"))!;
      const figures = (l: string) => l.match(/train loss [\d.]+, test accuracy [\d.]+/)![0];
      expect(figures(done[0])).toBe(figures(epoch));
      expect(r.stdout.match(/test accuracy/g)).toHaveLength(2); // the epoch line and the summary, nothing else
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
