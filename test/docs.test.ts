/**
 * The docs (issue 13): the generator's parser and checker on a small fixture, then the real check against the
 * freshly built dist/types (npm test builds first): every public name documented, every link resolving,
 * docs/reference up to date; and every runnable block of the guides run on the CPU backend.
 */
import { describe, expect, test } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { transform } from "esbuild";
import * as wg from "../src/node.js";

type Entry = { qname: string; decl: { kind: string; file: string }; members: { name: string; inherited: string | null }[] };
type Examples = { leadingValue(comment: string): string | null; runExamples(root: string, entries: Entry[]): Promise<{ ran: number; skipped: number; problems: string[] }> };
type Check = {
  checkDocs(root: string): { files: Record<string, string>; stats: { documented: number; total: number }; problems: string[] };
  surfaceReport(typesDir: string): { entries: Entry[]; problems: string[] };
};
const check = (await import(pathToFileURL(resolve("scripts/docs/check.mjs")).href)) as Check;
const examples = (await import(pathToFileURL(resolve("scripts/docs/examples.mjs")).href)) as Examples;

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

// A package in miniature: re-exports under another name, a namespace, a namespace object, overloads, a class with a private
// member, a getter/setter pair and an override that takes its base's doc, a type; and a Markdown file with
// one good and two broken links.
const FIXTURE: Record<string, string> = {
  "dist/types/node.d.ts": 'export * from "./index.js";\n',
  "dist/types/browser.d.ts": 'export * from "./index.js";\n',
  "dist/types/index.d.ts": [
    'import { helper as h } from "./ops.js";',
    'export { twice as double, Box } from "./ops.js";',
    "export declare const autograd: {\n    helper: typeof h;\n};",
    'export * as nn from "./nn.js";',
    "/**\n * Adds one.\n *\n * PyTorch: `torch.add`.\n * @example wg.inc(1) // 2\n */",
    "export declare const inc: (x: number) => number;",
  ].join("\n"),
  "dist/types/ops.d.ts": [
    "/**\n * Doubles.\n *\n * PyTorch: none (webgrad only).\n * @example wg.double(2) // 4\n */",
    "export declare function twice(x: number): number;",
    "export declare function twice(x: string): string;",
    "/** Helps. */",
    "export declare function helper(): void;",
    "/**\n * A box.\n * PyTorch: none (webgrad only).\n * @example new wg.Box()\n */",
    "export declare class Box {\n    private secret;\n    /** The box's size { in cm. */\n    get size(): number;\n    set size(n: number);\n    open(): void;\n}",
  ].join("\n"),
  "dist/types/nn.d.ts": [
    "/**\n * A base.\n *\n * PyTorch: `torch.nn.Module`.\n * @example x\n */",
    "export declare abstract class Base {\n    /**\n     * Runs it.\n     *\n     * PyTorch: `forward`.\n     * @example m.forward(x)\n     */\n    abstract forward(x: number): number;\n}",
    "/**\n * A layer.\n *\n * PyTorch: `torch.nn.Linear`.\n * @example new wg.nn.Layer()\n */",
    "export declare class Layer extends Base {\n    forward(x: number): number;\n    protected hidden(): void;\n}",
    "export interface Opts {\n    a?: number;\n}",
  ].join("\n"),
  "README.md": "# Top\n\n## A heading\n\n[ok](#a-heading) [gone](docs/none.md) [bad anchor](#nowhere) `[code](not/a/link.md)`\n",
};

describe("the generator on a fixture", () => {
  const root = mkdtempSync(join(tmpdir(), "webgrad-docs-"));
  writeTree(root, FIXTURE);
  const { entries } = check.surfaceReport(join(root, "dist/types"));

  test("follows re-exports and namespaces to each declaration; hides private and protected members", () => {
    expect(entries.map((e) => e.qname)).toEqual(["autograd.helper", "Box", "double", "inc", "nn.Base", "nn.Layer", "nn.Opts"]);
    expect(entries.find((e) => e.qname === "Box")!.members.map((m) => m.name)).toEqual(["size", "open"]);
    expect(entries.find((e) => e.qname === "nn.Layer")!.members).toEqual([expect.objectContaining({ name: "forward", inherited: "Base.forward" })]);
  });

  test("reports each missing doc, example and PyTorch line, each broken link and the missing reference, naming file and declaration", () => {
    const { problems, stats } = check.checkDocs(root);
    expect(problems).toEqual([
      "src/ops.ts: autograd.helper: no @example",
      'src/ops.ts: autograd.helper: no "PyTorch:" line (write "PyTorch: none (webgrad only)." when there is no equivalent)',
      "src/ops.ts: Box.open: no doc comment",
      "src/nn.ts: nn.Opts: no doc comment",
      ...Object.keys(check.checkDocs(root).files).map((f) => `docs/reference/${f}: missing (run npm run docs)`),
      "README.md: broken link docs/none.md (docs/none.md does not exist)",
      'README.md: broken anchor #nowhere (no heading or id "nowhere" in README.md)',
    ]);
    expect(stats).toEqual({ documented: 9, total: 11 });
  });

  test("once the reference is written, its pages' links and anchors resolve and it is not stale", () => {
    const { files } = check.checkDocs(root);
    writeTree(root, Object.fromEntries(Object.entries(files).map(([f, t]) => [`docs/reference/${f}`, t])));
    writeTree(root, { "docs/guides/from-pytorch.md": "#\n", "docs/guides/memory.md": "#\n", "docs/guides/no-gpu.md": "#\n", "docs/api.md": "#\n" });
    const problems = check.checkDocs(root).problems.filter((p) => p.startsWith("docs/"));
    expect(problems).toEqual([]);
    expect(files["nn.md"]).toContain('<a id="nn.Layer.forward"></a>');
    expect(files["README.md"]).toMatch(/documented 9 of 11 public names/);
    writeFileSync(join(root, "docs/reference/nn.md"), "edited by hand\n");
    expect(check.checkDocs(root).problems).toContain("docs/reference/nn.md: out of date (run npm run docs and commit it)");
    rmSync(root, { recursive: true, force: true });
  });
});

test("an example's comment is compared by the value it starts with; prose is not compared", () => {
  expect(examples.leadingValue("tensor([1, 2]) (= ln 2)")).toBe("tensor([1, 2])");
  expect(examples.leadingValue('"int32" always')).toBe('"int32"');
  expect(examples.leadingValue("[2, 3]")).toBe("[2, 3]");
  expect(examples.leadingValue("0.5, about")).toBe("0.5");
  expect(examples.leadingValue("the x.mul(2) temporary is disposed")).toBeNull();
});

describe("the docs of the built package (npm test builds dist/types first)", () => {
  const result = check.checkDocs(process.cwd());
  const { entries } = check.surfaceReport("dist/types");

  test("the surface holds the namespaces and the Tensor's methods", () => {
    const names = new Set(entries.flatMap((e) => [e.qname, ...e.members.map((m) => `${e.qname}.${m.name}`)]));
    for (const n of ["init", "tidy", "Tensor.sum", "nn.Linear", "nn.functional.crossEntropy", "nn.utils.clipGradNorm", "optim.Adam", "optim.lrScheduler.StepLR", "autograd.grad", "save", "DType"])
      expect(names, n).toContain(n);
  });

  test("links and anchors in README.md and docs/ resolve, and docs/reference is what npm run docs writes", () => {
    expect(result.problems.filter((p) => !p.startsWith("src/"))).toEqual([]);
  });

  test("the package root's functions, the engine, io and the public types are documented", () => {
    const mine = /^src\/(index|node|browser|dtype|engine\/[\w-]+|io\/[\w-]+|backend\/backend)\.ts:/;
    expect(result.problems.filter((p) => mine.test(p))).toEqual([]);
  });

  test("the examples of the package root's functions, the engine and io run on the CPU and give what their comments say", async () => {
    const mine = entries.filter((e) => /^(index|engine\/|io\/)/.test(e.decl.file));
    const { ran, problems } = await examples.runExamples(process.cwd(), mine);
    expect(problems).toEqual([]);
    expect(ran).toBeGreaterThan(50);
  });

  test("every public name has its doc comment, example and PyTorch line", () => {
    expect(result.problems, `documented ${result.stats.documented} of ${result.stats.total}`).toEqual([]);
  });
});

/** The `ts run` blocks of a guide, each with the lines its `// prints:` comments expect. */
function runnableBlocks(text: string): { code: string; expected: string[] }[] {
  return [...text.matchAll(/^```ts run\n([\s\S]*?)^```$/gm)].map((m) => ({
    code: m[1],
    expected: [...m[1].matchAll(/\/\/ prints: (.*)$/gm)].map((p) => p[1]),
  }));
}

// The blocks run against the source on the CPU backend: init() is redirected there, and console.log captured.
const onCpu = { ...wg, init: (opts: wg.InitOptions = {}) => wg.init({ ...opts, device: "cpu", quiet: true }) };
const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;

describe.each(readdirSync("docs/guides").filter((f) => f.endsWith(".md")))("guide %s", (file) => {
  const blocks = runnableBlocks(readFileSync(`docs/guides/${file}`, "utf8"));
  test("has runnable blocks", () => expect(blocks.length).toBeGreaterThan(0));
  test.each(blocks.map((b, i) => [i + 1, b] as const))("block %i runs and prints what its comments say", async (_, block) => {
    const js = (await transform(block.code.replace(/^import \* as wg from "webgrad";$/m, ""), { loader: "ts", format: "esm", target: "es2022" })).code;
    const printed: string[] = [];
    const quiet = { ...console, log: (...a: unknown[]) => printed.push(format(...a)), warn: () => {} };
    await new AsyncFunction("wg", "console", js)(onCpu, quiet);
    expect(printed).toEqual(block.expected);
  });
});

test("the package ships docs/ (the reference and the guides), and npm run docs builds before it generates", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  expect(pkg.files).toContain("docs");
  expect(pkg.scripts.docs).toBe("node scripts/build.mjs && node scripts/docs.mjs");
});
