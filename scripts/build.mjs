// Bundles webgrad with esbuild: the Node build (Dawn's `webgpu` stays external), the CLI,
// and a browser ESM bundle with no Node imports; WGSL is embedded as text. Then declarations.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const demoOnly = process.argv.includes("--demo");
const common = { bundle: true, format: "esm", loader: { ".wgsl": "text" }, sourcemap: true, target: "es2022", logLevel: "warning" };

/** The browser demo pages: their scripts bundled against the browser build, their HTML copied. */
async function buildDemo(outdir = "dist/demo") {
  rmSync(outdir, { recursive: true, force: true });
  const pages = readdirSync("examples/browser").filter((f) => f.endsWith("-page.ts"));
  await build({
    ...common,
    entryPoints: Object.fromEntries(pages.map((f) => [f.replace(/\.ts$/, ""), `examples/browser/${f}`])),
    outdir,
    platform: "browser",
    // The pages are apps the demo server serves, not code a user reads or imports: minified, they keep the
    // package small now that every export carries its documentation.
    minify: true,
  });
  for (const f of readdirSync("examples/browser").filter((f) => /\.(html|css)$/.test(f))) cpSync(`examples/browser/${f}`, `${outdir}/${f}`);
}

if (demoOnly) {
  await buildDemo();
  console.log("built dist/demo");
  process.exit(0);
}

rmSync("dist", { recursive: true, force: true });
await build({ ...common, entryPoints: { index: "src/node.ts" }, outdir: "dist/node", platform: "node", external: ["webgpu"] });
await build({
  ...common,
  entryPoints: { cli: "src/cli.ts" },
  outdir: "dist/node",
  platform: "node",
  external: ["webgpu", "@tensorflow/*", "@jax-js/*"],
  banner: { js: "#!/usr/bin/env node" },
  // The CLI repeats the library's code: its map keeps file and line names for stack traces, not the
  // sources themselves (index.js.map has those), so the package stays small.
  sourcesContent: false,
});
await build({ ...common, entryPoints: { webgrad: "src/browser.ts" }, outdir: "dist/browser", platform: "browser", minify: false });

const browser = readFileSync("dist/browser/webgrad.js", "utf8");
const nodeImport = browser.match(/from\s+["'](node:[^"']+|fs|path|os|zlib|url)["']|require\(["']node:/);
if (nodeImport) throw new Error(`browser bundle imports a Node module: ${nodeImport[0]}`);

await buildDemo();
execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });

// stripInternal drops Tensor's @internal constructor, which would leave an implicit public
// `new Tensor()` in the types: declare it private (tensors come from wg.tensor and from ops).
const tensorTypes = "dist/types/tensor.d.ts";
const classLine = "export declare class Tensor<D extends DType = DType> implements View {\n";
const declared = readFileSync(tensorTypes, "utf8");
if (!declared.includes(classLine)) throw new Error(`${tensorTypes}: no "${classLine.trim()}" line to add the private constructor to`);
writeFileSync(tensorTypes, declared.replace(classLine, `${classLine}    private constructor();\n`));
console.log("built dist/node (index.js, cli.js), dist/browser/webgrad.js, dist/demo, dist/types");
