/**
 * The trainer on real Fashion-MNIST (a slice, so it stays under a minute on
 * SwiftShader), the plot, and the `webgrad train` command run as a process:
 * exit codes, messages, and the files it writes (or does not).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { niceTicks, trainingSvg } from "../src/train/plot-svg.js";
import { scheduledLr, train } from "../src/train/trainer.js";
import { settle, startWebgpu } from "./helpers.js";

// Loaded once on the CPU; train() copies the slice it uses to the default device.
let data: wg.data.FashionMnist;
beforeAll(async () => {
  data = await wg.data.fashionMnist({ device: "cpu" });
});
afterAll(() => data.dispose());

describe("train on a slice of Fashion-MNIST", () => {
  test("MLP on WebGPU: the loss falls, accuracy is far above chance, nothing leaks between epochs", async () => {
    await startWebgpu();
    const live: number[] = [];
    // A narrower hidden layer than the default keeps a few hundred steps under a minute on SwiftShader.
    const r = await train(data, {
      model: "mlp", hidden: [64], limit: 2000, testLimit: 1000, epochs: 3, batchSize: 32, lr: 2e-3, seed: 1,
      onEpoch: () => live.push(wg.memory("webgpu").tensors),
    });
    expect(r.model.parameters()[0].device).toBe("webgpu");
    expect(r.model.parameters().map((p) => p.shape)).toEqual([[64, 784], [64], [10, 64], [10]]);
    expect(r.config).toMatchObject({ trainExamples: 2000, testExamples: 1000, epochs: 3, schedule: "cosine" });
    expect(r.steps).toBe(3 * 63);
    const losses = r.history.map((h) => h.trainLoss);
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(losses[2]).toBeLessThan(0.7 * losses[0]);
    expect(r.lossCurve.at(-1)!.y).toBeLessThan(0.5 * r.lossCurve[0].y);
    expect(r.testAccuracy).toBeGreaterThan(0.65);
    expect(r.history.every((h) => h.examplesPerSecond > 0 && h.testAccuracy > 0.3)).toBe(true);
    // Optimizer state exists from step 1 on, so the count after epoch 2 must hold for every later epoch.
    expect(live[2]).toBe(live[1]);
  }, 120_000);

  test("CNN on WebGPU: a few hundred steps on 2,000 images, the loss falls, accuracy is far above chance", async () => {
    await startWebgpu();
    // Narrow widths (conv 4, 8 and 8 channels, linear 32) keep it near a minute on SwiftShader; the default's three blocks.
    const r = await train(data, { model: "cnn", hidden: [4, 8, 8, 32], limit: 2000, testLimit: 500, epochs: 1, batchSize: 10, lr: 3e-3, seed: 1 });
    expect(r.steps).toBe(200);
    expect(r.model.parameters().map((p) => p.shape)).toEqual([[4, 1, 3, 3], [4], [4], [8, 4, 3, 3], [8], [8], [8, 8, 3, 3], [8], [8], [32, 392], [32], [10, 32], [10]]);
    expect(Object.keys(r.model.stateDict())).toContain("2.running_mean");
    expect(r.lossCurve.at(-1)!.y).toBeLessThan(0.6 * r.lossCurve[0].y);
    expect(r.testAccuracy).toBeGreaterThan(0.55);
  }, 400_000); // about a minute on a quiet 2-core machine; generous for a loaded one

  test("the seed's softmax regression (squared loss, SGD) learns on the CPU", async () => {
    await wg.init({ device: "cpu" });
    const r = await train(data, { model: "softmax-regression", limit: 2000, testLimit: 1000, epochs: 3, batchSize: 32, seed: 2 });
    expect(r.model.parameters()[0].device).toBe("cpu");
    expect(r.finalLoss).toBeLessThan(r.history[0].trainLoss);
    expect(r.testAccuracy).toBeGreaterThan(0.65);
  }, 60_000);

  test("the same seed trains to the same numbers", async () => {
    await wg.init({ device: "cpu" });
    const opts = { model: "softmax-regression", limit: 300, testLimit: 200, epochs: 1, batchSize: 50, seed: 5 } as const;
    const [a, b] = [await train(data, opts), await train(data, opts)];
    expect(b.lossCurve).toEqual(a.lossCurve);
    expect(b.testAccuracy).toBe(a.testAccuracy);
    const c = await train(data, { ...opts, seed: 6 });
    expect(c.lossCurve).not.toEqual(a.lossCurve);
  }, 60_000);

  test("train copies the slice it needs to the device and releases it: only the model's parameters stay", async () => {
    await startWebgpu();
    await settle();
    const [gpu, cpu] = [wg.memory("webgpu").tensors, wg.memory("cpu").tensors];
    const r = await train(data, { model: "softmax-regression", limit: 200, testLimit: 100, epochs: 2, batchSize: 50, seed: 3 });
    expect(r.model.parameters()[0].device).toBe("webgpu");
    await settle();
    const params = r.model.parameters();
    expect(params.every((p) => p.grad !== null)).toBe(true);
    expect(wg.memory("webgpu").tensors - gpu).toBe(2 * params.length); // weights and their last gradients; SGD without momentum keeps no state
    expect(wg.memory("cpu").tensors).toBe(cpu);
    expect([data.train.images.isDisposed, data.train.images.shape]).toEqual([false, [60000, 784]]);
    params.forEach((p) => (p.grad?.dispose(), p.dispose()));
  }, 60_000);

  test("bad options are errors that name the option", async () => {
    await expect(train(data, { epochs: 0 })).rejects.toThrow("epochs must be a positive integer");
    await expect(train(data, { batchSize: 2.5 })).rejects.toThrow("batchSize must be a positive integer");
    await expect(train(data, { hidden: [0] })).rejects.toThrow("hidden width must be a positive integer");
    await expect(train(data, { model: "cnn", hidden: [8, 16] })).rejects.toThrow("the cnn takes three or four widths (conv1, conv2[, conv3], linear), got 8,16");
  });
});

test("the cosine schedule runs from lr down to 0; constant stays", () => {
  expect([0, 50, 100].map((t) => scheduledLr("cosine", 0.1, t, 100))).toEqual([0.1, expect.closeTo(0.05, 12), expect.closeTo(0, 12)]);
  expect(scheduledLr("constant", 0.1, 70, 100)).toBe(0.1);
});

describe("training.svg", () => {
  const svg = trainingSvg({
    title: "mlp on Fashion-MNIST",
    loss: [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2].map((x, i) => ({ x, y: 1.2 / (1 + i) })),
    accuracy: [{ x: 1, y: 0.81 }, { x: 2, y: 0.85 }],
  });

  test("has both curves with one vertex per point, titles, axis labels and a legend", () => {
    const curve = (cls: string) => svg.match(new RegExp(`<polyline class="${cls}" points="([^"]*)"`))?.[1].split(" ") ?? [];
    expect(curve("loss")).toHaveLength(8);
    expect(curve("accuracy")).toHaveLength(2);
    for (const text of ["Training loss", "Test accuracy", ">epoch<", ">loss<", ">accuracy<", ">training loss<", ">test accuracy<", "mlp on Fashion-MNIST"])
      expect(svg).toContain(text);
    expect(svg).toMatch(/^<\?xml[^]*<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^]*<\/svg>\n$/);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  test("higher accuracy is drawn higher (SVG y grows downward)", () => {
    const pts = svg.match(/<polyline class="accuracy" points="([^"]*)"/)![1].split(" ").map((p) => p.split(",").map(Number));
    expect(pts[1][1]).toBeLessThan(pts[0][1]);
    expect(pts[1][0]).toBeGreaterThan(pts[0][0]);
  });

  test("tick values are round and cover the range", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.3, 1, 5)).toEqual([0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.27, 2.3, 5)).toEqual([0.5, 1, 1.5, 2]);
  });
});

describe("webgrad train (the CLI as a process)", () => {
  // Bundled inside the checkout so the external "webgpu" package resolves from node_modules.
  const work = join(process.cwd(), "node_modules", ".cache", `webgrad-train-test-${process.pid}`);
  const cli = join(work, "cli.mjs");
  beforeAll(async () => {
    mkdirSync(work, { recursive: true });
    await build({
      entryPoints: ["src/cli.ts"], outfile: cli, bundle: true, format: "esm", platform: "node",
      external: ["webgpu"], loader: { ".wgsl": "text" }, logLevel: "silent",
    });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, "train", ...args], { encoding: "utf8", timeout: 60_000 });

  test("missing data: exits non-zero, says how to get it, writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "webgrad-cli-"));
    const r = run("--data", join(dir, "no-such-dir"), "--out", join(dir, "out"));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("apt-get install -y dataset-fashion-mnist");
    expect(r.stderr).toContain("--data DIR");
    expect(r.stdout).toBe("");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a bad flag exits 2 with the one relevant line and a --help hint", () => {
    const r = run("--model", "resnet");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--model must be one of mlp, softmax-regression, cnn, got "resnet"');
    expect(r.stderr).toContain('Run "webgrad train --help" for its options.');
    expect(r.stderr).not.toContain("usage: webgrad train");
  });

  test("a short run writes the model and the plot, and --json prints one line", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "webgrad-cli-")), "out");
    const r = run("--device", "cpu", "--hidden", "32", "--limit", "600", "--test-limit", "300", "--epochs", "2", "--batch-size", "100", "--out", out, "--json");
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(result).toMatchObject({ epochs: 2, device: "cpu", model: "mlp", hidden: [32], trainExamples: 600, testExamples: 300, steps: 12 });
    expect(result.testAccuracy).toBeGreaterThan(0.3);
    expect(r.stderr).toMatch(/epoch 2\/2 \[#+\] 6\/6/);
    expect(readdirSync(out).sort()).toEqual(["model.safetensors", "training.svg"]); // no temp files left
    const svg = readFileSync(join(out, "training.svg"), "utf8");
    expect(svg).toContain('<polyline class="loss"');
    expect(svg).toContain('<polyline class="accuracy"');
    const state = wg.load(new Uint8Array(readFileSync(join(out, "model.safetensors"))));
    const shapes = Object.fromEntries(Object.entries(state).map(([k, t]) => [k, t.shape]));
    expect(shapes).toEqual({ "0.weight": [32, 784], "0.bias": [32], "2.weight": [10, 32], "2.bias": [10] });
  }, 60_000);
});

describe("the demo page and the trainer use the public package for data", () => {
  const imports = (file: string) => [...readFileSync(file, "utf8").matchAll(/^import[^;]*?from\s+"([^"]+)";/gms)].map((m) => m[1]);

  test("the training page imports only the browser entry and its own page helpers (so a user can copy it)", () => {
    const from = imports("examples/browser/train-page.ts");
    expect(from).toContain("../../src/browser.js");
    expect(from.filter((f) => f !== "../../src/browser.js" && !/^\.\/[\w-]+\.js$/.test(f))).toEqual([]);
  });

  test("the trainer and webgrad train import nothing from src/data but the default folder's name", () => {
    const fromData = [...imports("src/train/trainer.ts"), ...imports("src/cli/train.ts")].filter((f) => f.includes("/data/"));
    expect(fromData).toEqual(["../data/node-files.js"]);
    expect(readFileSync("src/cli/train.ts", "utf8")).toMatch(/^import \{ DEFAULT_DATA_DIR \} from "\.\.\/data\/node-files\.js";$/m);
  });
});
