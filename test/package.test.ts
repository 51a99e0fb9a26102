/** The built package (npm test builds it first): both bundles load, export the same API, and the browser one imports nothing from Node; what the tarball holds; a browser user's install. */
import { expect, test } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { join, resolve } from "node:path";

const load = (path: string) => import(pathToFileURL(resolve(path)).href) as Promise<Record<string, unknown>>;

test("the Node and browser bundles export the same names, and the Node one computes", async () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  const entry = pkg.exports["."];
  for (const file of [entry.node, entry.browser, entry.types, pkg.bin.webgrad]) expect(existsSync(file), `${file} (run npm run build)`).toBe(true);
  const node = await load(entry.node);
  const browser = await load(entry.browser);
  expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
  for (const name of ["init", "tensor", "grad", "jacobian", "nn", "optim", "save", "load", "profile", "noGrad", "tidy", "memory"]) expect(node[name], name).toBeDefined();
  const wg = node as unknown as typeof import("../src/node.js");
  await wg.init({ device: "cpu" });
  const x = wg.tensor([1, 2, 3], { requiresGrad: true });
  x.pow(2).sum().backward();
  expect(await x.grad!.tolist()).toEqual([2, 4, 6]);
});

test("the browser bundle has no Node imports and embeds its WGSL", () => {
  const src = readFileSync("dist/browser/webgrad.js", "utf8");
  expect(src).not.toMatch(/from\s+["']node:|require\(["']node:|from\s+["'](fs|path|os|zlib)["']/);
  expect(src).toMatch(/@compute @workgroup_size/);
  expect(src).not.toMatch(/readFileSync|\.wgsl["']/);
});

// `npm pack --dry-run`'s file list, without the prepack build (npm test has just built; a second
// build would race the other test files reading dist).
function packList(): { files: string[]; size: number; unpackedSize: number } {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" });
  const [info] = JSON.parse(out) as { files: { path: string }[]; size: number; unpackedSize: number }[];
  return { files: info.files.map((f) => f.path), size: info.size, unpackedSize: info.unpackedSize };
}

test("the tarball: bundles, types, CLI, license, changelog and API reference; no sources, tests or shaders", () => {
  const { files, size } = packList();
  for (const f of ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "docs/api.md", "dist/node/index.js", "dist/node/cli.js", "dist/browser/webgrad.js", "dist/types/node.d.ts", "dist/types/tensor.d.ts"])
    expect(files, f).toContain(f);
  for (const prefix of ["src/", "test/", "shaders/", "bench/", "examples/", "scripts/", "node_modules/"])
    expect(files.filter((f) => f.startsWith(prefix)), prefix).toEqual([]);
  expect(size).toBeLessThan(2 * 2 ** 20);
});

test("package.json: webgpu an optional peer, metadata for npm, package.json exported, MIT with its license text", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8"));
  expect(pkg.dependencies?.webgpu).toBeUndefined();
  expect(pkg.peerDependencies.webgpu).toBe(pkg.devDependencies.webgpu);
  expect(pkg.peerDependenciesMeta.webgpu).toEqual({ optional: true });
  expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
  expect(pkg.exports["./package.json"]).toBe("./package.json");
  expect(pkg.repository.url).toMatch(/^git\+https:\/\//);
  expect(pkg.homepage).toMatch(/^https:\/\//);
  expect(pkg.bugs.url).toMatch(/^https:\/\//);
  expect(pkg.keywords).toEqual(expect.arrayContaining(["webgpu", "autograd"]));
  expect(pkg.files).not.toContain("shaders");
  expect(pkg.license).toBe("MIT");
  expect(readFileSync("LICENSE", "utf8")).toMatch(/^MIT License/);
  expect(readFileSync("CHANGELOG.md", "utf8")).toMatch(/## Unreleased/);
});

test("a browser user's install (the packed tarball, offline) stays under 20 MB and works without webgpu", () => {
  const dir = mkdtempSync(join(tmpdir(), "webgrad-install-"));
  try {
    execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir, "--silent"], { encoding: "utf8" });
    const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), '{ "name": "app", "private": true, "type": "module" }');
    execFileSync("npm", ["install", join(dir, tgz), "--omit=optional", "--omit=peer", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: app, encoding: "utf8" });
    expect(readdirSync(join(app, "node_modules")).filter((f) => !f.startsWith("."))).toEqual(["webgrad"]);
    const bytes = Number(execFileSync("du", ["-sb", join(app, "node_modules")], { encoding: "utf8" }).split("\t")[0]);
    console.log(`browser install: node_modules is ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    expect(bytes).toBeLessThan(20 * 2 ** 20);
    const run = `import * as wg from "webgrad"; const { device } = await wg.init(); console.log(device, await wg.tensor([1, 2]).mul(3).tolist());`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", run], { cwd: app, encoding: "utf8" });
    expect(r.stdout.trim()).toBe("cpu [ 3, 6 ]");
    expect(r.stderr).toMatch(/npm install webgpu/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
