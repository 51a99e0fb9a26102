// `npm run fuzz -- --graphs N --seed S`: bundle the fuzzer (test/fuzz/main.ts, against the
// sources, WGSL embedded as in scripts/build.mjs) into dist/fuzz and run it with the same args.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";

await build({
  bundle: true, format: "esm", loader: { ".wgsl": "text" }, sourcemap: true, target: "es2022", logLevel: "warning",
  entryPoints: { fuzz: "test/fuzz/main.ts" }, outdir: "dist/fuzz", platform: "node", external: ["webgpu"],
});
const run = spawnSync(process.execPath, ["--enable-source-maps", "dist/fuzz/fuzz.js", ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(run.status ?? 1);
