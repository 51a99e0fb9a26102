/**
 * Start-up as a user meets it, each case in a fresh Node process on the built bundle (npm test
 * builds it first): Node without the webgpu package, VK_ICD_FILENAMES pointing nowhere or at
 * SwiftShader, an op before init(), the fixed default seed; and manualSeed's integer rules.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as wg from "../src/node.js";

const bundle = resolve("dist/node/index.js");
let lonely = "";

/** Run an ES module body that imports webgrad as `wg` from `from`; returns its output streams. */
function node(body: string, from = bundle, env: Record<string, string> = {}) {
  const src = `import * as wg from ${JSON.stringify(pathToFileURL(from).href)};\n${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", src], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

beforeAll(() => {
  expect(existsSync(bundle), "run npm run build first").toBe(true);
  // A copy of the bundle where no node_modules is above it: import("webgpu") fails as in a browser-only install.
  lonely = mkdtempSync(join(tmpdir(), "webgrad-no-webgpu-"));
  writeFileSync(join(lonely, "package.json"), '{"type":"module"}');
  copyFileSync(bundle, join(lonely, "index.js"));
});

afterAll(() => {
  if (lonely) rmSync(lonely, { recursive: true, force: true });
});

test("Node without the webgpu package: webgpu says npm install webgpu, auto falls back to the CPU with that hint", () => {
  const r = node(
    `try { await wg.init({ device: "webgpu" }); } catch (e) { console.log("threw: " + e.message); }
     const { device } = await wg.init();
     console.log("device: " + device);`,
    join(lonely, "index.js"),
    { VK_ICD_FILENAMES: "" },
  );
  expect(r.stdout).toMatch(/threw: init: no WebGPU adapter: the "webgpu" package .* is not installed .*Fix: npm install webgpu\./);
  expect(r.stdout).not.toMatch(/chromium-common/);
  expect(r.stdout).toMatch(/device: cpu/);
  expect(r.stderr).toMatch(/webgrad: no WebGPU adapter \(the "webgpu" package .*\); using the CPU backend\. Fix: npm install webgpu\./);
});

test("VK_ICD_FILENAMES naming a missing file: the error names the variable and its value, not libvulkan1", () => {
  const r = node(`try { await wg.init({ device: "webgpu" }); } catch (e) { console.log(e.message); }`, bundle, { VK_ICD_FILENAMES: "/no/such/icd.json" });
  expect(r.stdout).toMatch(/VK_ICD_FILENAMES=\/no\/such\/icd\.json names a file that does not exist \(\/no\/such\/icd\.json\)\. Fix: point VK_ICD_FILENAMES at/);
  expect(r.stdout).not.toMatch(/libvulkan1/);
});

test("VK_ICD_FILENAMES naming a driver that does not load: the error names the variable and says to unset it", () => {
  const icd = join(lonely, "broken-icd.json");
  writeFileSync(icd, JSON.stringify({ file_format_version: "1.0.0", ICD: { library_path: "/no/such/libvulkan_driver.so", api_version: "1.1.0" } }));
  const r = node(`try { await wg.init({ device: "webgpu" }); } catch (e) { console.log(e.message); }`, bundle, { VK_ICD_FILENAMES: icd });
  expect(r.stdout).toContain(`Dawn found no adapter with the Vulkan driver that VK_ICD_FILENAMES=${icd} names. Fix: check that driver`);
  expect(r.stdout).toMatch(/or unset VK_ICD_FILENAMES/);
});

test.skipIf(!existsSync("/usr/lib/chromium/vk_swiftshader_icd.json"))("SwiftShader chosen through VK_ICD_FILENAMES still gets the emulator notice", () => {
  const r = node(`const { adapterInfo } = await wg.init({ device: "webgpu" }); console.log(adapterInfo.description);`, bundle, {
    VK_ICD_FILENAMES: "/usr/lib/chromium/vk_swiftshader_icd.json",
  });
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/webgrad: VK_ICD_FILENAMES selects SwiftShader; using SwiftShader, a CPU emulation of a GPU/);
});

test("a tensor made before init() says once that it is on the CPU and how to fix it; after init, nothing", () => {
  const before = node(`const a = wg.zeros([2]); wg.ones([3]).add(a.sum()); console.log(a.device);`);
  expect(before.stdout.trim()).toBe("cpu");
  expect(before.stderr.match(/before wg\.init\(\)/g)).toHaveLength(1);
  expect(before.stderr).toMatch(/Fix: await wg\.init\(\) first/);
  const after = node(`await wg.init({ device: "cpu" }); wg.zeros([2]); console.log("ok");`);
  expect(after.stderr).toBe("");
});

test("the default seed is fixed: two fresh processes draw the same numbers", () => {
  const draw = () => node(`await wg.init({ device: "cpu" }); console.log(JSON.stringify(await wg.rand([4]).tolist()));`).stdout;
  const a = draw();
  expect(JSON.parse(a)).toHaveLength(4);
  expect(draw()).toBe(a);
});

test("manualSeed: 64-bit integers as in PyTorch (negative seeds are two's complement), non-integers throw", async () => {
  await wg.init({ device: "cpu" });
  const first = async (seed: number) => (wg.manualSeed(seed), await wg.rand([3]).tolist());
  expect(await first(-1)).not.toEqual(await first(1));
  expect(await first(-(2 ** 63))).toEqual(await first(2 ** 63)); // PyTorch: both are seed 9223372036854775808
  expect(await first(7)).toEqual(await first(7));
  for (const bad of [1.5, NaN, Infinity, 2 ** 64, -(2 ** 63) - 4096])
    expect(() => wg.manualSeed(bad), String(bad)).toThrow(/manualSeed: seed must be an integer in \[-2\^63, 2\^64\), got .*Fix/);
});
