// The layering DESIGN.md promises, read from the import lines: ops and autograd never import a
// backend, nn/optim speak Tensor and ops, only the engine holds a backend; and every module loads
// first in a fresh module registry (no import cycle that breaks on load order).
import { describe, expect, it, vi } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = join(__dirname, "..");
const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(`${dir}/${e.name}`) : /\.ts$/.test(e.name) && !e.name.endsWith(".d.ts") ? [`${dir}/${e.name}`] : [],
  );

interface Import { from: string; to: string; typeOnly: boolean; names: string[] }

/** Every static `import ... from` and `export ... from` of a file, resolved to a repository path. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const found: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s*from\s+"([^"]+)";/gms)) {
    if (!m[3].startsWith(".")) continue;
    const to = normalize(join(dirname(file), m[3])).replace(/\.js$/, ".ts");
    const names = [...(m[2].match(/\{([^}]*)\}/)?.[1] ?? "").matchAll(/(?:^|,)\s*(type\s+)?(\w+)/g)];
    const valueNames = names.filter((n) => !n[1]).map((n) => n[2]);
    const typeOnly = !!m[1] || (names.length > 0 && valueNames.length === 0 && !/^\w|\*/.test(m[2].replace(/^\{[^}]*\}/, "").trim()));
    found.push({ from: file, to, typeOnly, names: valueNames });
  }
  return found;
}

const all = sources("src").flatMap(importsOf);
const under = (path: string, dir: string) => path.startsWith(`${dir}/`);
const show = (list: Import[]) => list.map((i) => `${i.from} -> ${i.to}`);

// What nn and optim may use besides Tensor and ops: pure helpers, grad mode, tensor lifetimes.
const NN_OPTIM_MAY_USE = ["src/tensor.ts", "src/shape.ts", "src/dtype.ts", "src/autograd/mode.ts", "src/engine/scope.ts", "src/backend/backend.ts", "src/engine/wgsl.ts"];
// Known exceptions, each with its reason; the test fails when one disappears, so the list stays true.
const KNOWN: Record<string, string> = {
  "src/optim/optimizer.ts -> src/engine/scheduler.ts": "step() hands its multi-tensor update kernel to the scheduler itself, and asks it how many storage buffers one launch may bind",
  "src/optim/grad-norm.ts -> src/engine/scheduler.ts": "clipGradNorm launches its multi-tensor norm kernels itself (wip/optim); moves behind ops with the multi-tensor step",
  "src/nn/utils.ts -> src/engine/device.ts": "defaultDevice: where clipGradNorm puts a norm when there are no gradients (wip/optim)",
  "src/nn/module.ts -> src/engine/device.ts": "storageProblem: whether a loaded tensor's device is still the current one (a query, no backend)",
};

describe("layering", () => {
  it("reads the imports it checks", () => {
    expect(all.length).toBeGreaterThan(200);
    const tensor = all.filter((i) => i.from === "src/tensor.ts").map((i) => i.to);
    expect(tensor).toContain("src/engine/scheduler.ts");
    expect(all.find((i) => i.from === "src/ops/primitive.ts" && i.to === "src/backend/backend.ts")?.typeOnly).toBe(true);
  });

  it("ops and autograd never import a backend (the interface's types only)", () => {
    const bad = all.filter((i) => (under(i.from, "src/ops") || under(i.from, "src/autograd")) && under(i.to, "src/backend") && !(i.to === "src/backend/backend.ts" && i.typeOnly));
    expect(show(bad)).toEqual([]);
  });

  it("only the engine reaches a backend: no other file imports backendFor or a concrete backend", () => {
    const concrete = all.filter((i) => (under(i.to, "src/backend/cpu") || under(i.to, "src/backend/webgpu")) && !under(i.from, "src/engine") && !under(i.from, "src/backend"));
    expect(show(concrete)).toEqual([]);
    const holders = all.filter((i) => i.names.includes("backendFor") && !under(i.from, "src/engine")).map((i) => `${i.from} -> ${i.to}`);
    expect(holders.filter((h) => !KNOWN[h])).toEqual([]);
  });

  it("nn and optim speak Tensor and ops (and the listed helpers) only", () => {
    const bad = all
      .filter((i) => under(i.from, "src/nn") || under(i.from, "src/optim"))
      .filter((i) => !["src/nn", "src/optim", "src/ops"].some((d) => under(i.to, d)) && !NN_OPTIM_MAY_USE.includes(i.to) && !i.to.endsWith(".wgsl"))
      .filter((i) => !(i.to === "src/backend/backend.ts" && i.typeOnly));
    expect(show(bad).sort()).toEqual(Object.keys(KNOWN).sort());
  });

  it("backends import no layer above them", () => {
    const bad = all.filter((i) => under(i.from, "src/backend") && !under(i.to, "src/backend") && !["src/dtype.ts", "src/shape.ts", "src/stack.ts"].includes(i.to) && !i.to.endsWith(".wgsl"));
    expect(show(bad)).toEqual([]);
  });
});

describe("import order", () => {
  // Entry points that run a program when loaded (the CLI) or install a platform are loaded by the CLI tests.
  const skip = new Set(["src/cli.ts", "src/node.ts", "src/browser.ts"]);
  const modules = sources("src").filter((f) => !skip.has(f));

  it("every module loads first in a fresh module registry", async () => {
    expect(modules.length).toBeGreaterThan(50);
    const failures: string[] = [];
    for (const file of modules) {
      vi.resetModules();
      try {
        await import(/* @vite-ignore */ join(ROOT, file));
      } catch (e) {
        failures.push(`${relative(ROOT, join(ROOT, file))}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
