// Bundles webgrad with esbuild: the Node build (Dawn's `webgpu` stays external), the CLI,
// and a browser ESM bundle with no Node imports; WGSL is embedded as text. Then declarations.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const common = { bundle: true, format: "esm", loader: { ".wgsl": "text" }, sourcemap: true, target: "es2022", logLevel: "warning" };

await build({ ...common, entryPoints: { index: "src/node.ts" }, outdir: "dist/node", platform: "node", external: ["webgpu"] });
await build({
  ...common,
  entryPoints: { cli: "src/cli.ts" },
  outdir: "dist/node",
  platform: "node",
  external: ["webgpu", "@tensorflow/*"],
  banner: { js: "#!/usr/bin/env node" },
});
await build({ ...common, entryPoints: { webgrad: "src/browser.ts" }, outdir: "dist/browser", platform: "browser", minify: false });

const browser = readFileSync("dist/browser/webgrad.js", "utf8");
const nodeImport = browser.match(/from\s+["'](node:[^"']+|fs|path|os|zlib|url)["']|require\(["']node:/);
if (nodeImport) throw new Error(`browser bundle imports a Node module: ${nodeImport[0]}`);

execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
console.log("built dist/node (index.js, cli.js), dist/browser/webgrad.js, dist/types");
