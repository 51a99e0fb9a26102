import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    {
      name: "wgsl-as-text",
      load(id) {
        if (id.endsWith(".wgsl")) return `export default ${JSON.stringify(readFileSync(id, "utf8"))};`;
        return null;
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Memory tests call gc() so tensors from earlier tests are finalized before they measure.
    execArgv: ["--expose-gc"],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
