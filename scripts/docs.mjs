// npm run docs: writes the API reference (docs/reference/) from the JSDoc in dist/types.
// npm run docs -- --check: writes nothing; lists every missing doc, broken link and stale page, and fails if any.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkDocs } from "./docs/check.mjs";

const root = process.cwd();
const { files, stats, problems } = checkDocs(root);
const coverage = `documented ${stats.documented} of ${stats.total} public names`;
if (process.argv.includes("--check")) {
  for (const p of problems) console.error(p);
  console.log(`docs check: ${coverage}; ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
  process.exit(problems.length ? 1 : 0);
}
const dir = join(root, "docs/reference");
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (!(f in files)) rmSync(join(dir, f));
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
console.log(`wrote docs/reference (${Object.keys(files).length} pages): ${coverage}`);
