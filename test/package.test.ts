/** The built package (npm test builds it first): both bundles load, export the same API, and the browser one imports nothing from Node. */
import { expect, test } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

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
