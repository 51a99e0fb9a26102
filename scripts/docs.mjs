// npm run docs: writes the API reference (docs/reference/) from the JSDoc in dist/types.
// npm run docs -- --check: writes nothing; lists every missing doc, broken link and stale page, and fails if any.
// npm run docs -- --examples: runs the examples that need only `wg` on the CPU and lists those that throw or disagree with their comment.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkDocs } from "./docs/check.mjs";

const root = process.cwd();
const { files, stats, problems } = checkDocs(root);
const coverage = `documented ${stats.documented} of ${stats.total} public names`;
if (process.argv.includes("--examples")) {
  const { runExamples } = await import("./docs/examples.mjs");
  const { publicSurface } = await import("./docs/surface.mjs");
  const { ran, skipped, problems: bad } = await runExamples(root, publicSurface(join(root, "dist/types")));
  for (const p of bad) console.error(p);
  console.log(`docs examples: ran ${ran} on the CPU backend (${bad.length} wrong), skipped ${skipped} that need names besides wg (or a GPU)`);
  process.exit(bad.length ? 1 : 0);
}
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
