import { test } from "vitest";
import * as wg from "../src/node.js";
test("time", async () => {
  await wg.init({ device: "webgpu", quiet: true });
  const device = "webgpu";
  const x = wg.randn([64, 16, 28, 28], { device });
  await wg.flush();
  const cases: [string, () => unknown][] = [
    ["sum2 sum0", () => x.reshape([64, 16, 784]).sum(2).sum(0)],
    ["sum0 sum1", () => x.reshape([64, 16, 784]).sum(0).sum(1)],
    ["sum0 only", () => x.reshape([64, 16 * 784]).sum(0)],
    ["rows 1024x784", () => x.reshape([1024, 784]).sum(1)],
    ["relu", () => x.relu()],
  ];
  for (const [name, f] of cases) {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      f();
      await wg.flush();
      if (i) console.log(name, (performance.now() - t0).toFixed(0), "ms");
    }
  }
}, 300000);
