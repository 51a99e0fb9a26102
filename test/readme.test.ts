/** The README's "API at a glance" table names only what exists: its `wg.` column in the exports, its Tensor column on a tensor. */
import { expect, test } from "vitest";
import { readFileSync } from "node:fs";
import * as wg from "../src/node.js";

/** The names in one table cell: each backticked span is either a call like `init({ ... })` or a space-separated list. */
export function cellNames(cell: string): string[] {
  const spans = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const ident = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*/;
  return spans.flatMap((s) => (s.includes("(") ? [s] : s.split(/\s+/))).map((s) => s.match(ident)?.[0] ?? "").filter(Boolean);
}

function glanceRows(): { area: string; free: string[]; methods: string[] }[] {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.split("## API at a glance")[1]?.split(/\n## /)[0] ?? "";
  return section
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| area") && !l.startsWith("| ---"))
    .map((l) => l.replace(/\\\|/g, "/").split("|").map((c) => c.trim()))
    .map((c) => ({ area: c[1], free: cellNames(c[2]), methods: cellNames(c[3]) }));
}

const lookup = (root: unknown, path: string) => path.split(".").reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[k]), root);

test("cellNames reads calls and lists", () => {
  expect(cellNames('`init({ device: "webgpu" })`, `add sub` over `keepdim`')).toEqual(["init", "add", "sub", "keepdim"]);
});

test("every wg. function the README lists is exported, and every Tensor member exists", async () => {
  const rows = glanceRows();
  expect(rows.length).toBeGreaterThan(10);
  await wg.init({ device: "cpu" });
  const t = wg.tensor([[1, 2]], { requiresGrad: true });
  const keywords = new Set(["keepdim"]); // argument names the table mentions in prose
  const missing: string[] = [];
  for (const r of rows) {
    for (const name of r.free) if (!keywords.has(name) && lookup(wg, name) === undefined) missing.push(`wg.${name} (${r.area})`);
    for (const name of r.methods) if (!(name in t)) missing.push(`Tensor.${name} (${r.area})`);
  }
  expect(missing).toEqual([]);
  expect(rows.flatMap((r) => r.free)).toContain("nn.functional.crossEntropy");
});

test("the README points at the API reference that is in the repository", () => {
  const readme = readFileSync("README.md", "utf8");
  expect(readme).not.toMatch(/shared\/API\.md/);
  expect(readme).toMatch(/\(docs\/api\.md\)/);
  expect(readFileSync("docs/api.md", "utf8")).toMatch(/^# webgrad public API contract/);
});
