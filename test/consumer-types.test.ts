/**
 * The built package as a user's project sees it (npm test builds it first): a strict TypeScript
 * consumer with skipLibCheck false type-checks under moduleResolution node16 (Node, no DOM lib)
 * and bundler (browser, DOM lib), with no @webgpu/types installed; internals are not in the
 * types; CommonJS can require the package.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(".");
let dir = "";

const CONSUMER = `import * as wg from "webgrad";

await wg.init({ device: "cpu", quiet: true });
const x = wg.tensor([1, 2, 3], { requiresGrad: true });
const g: wg.TypedArray = await wg.grad((t: wg.Tensor) => t.pow(2).sum())(x).data();
const [value, grads] = wg.valueAndGrad((a: wg.Tensor, b: wg.Tensor) => a.mul(b).sum(), { argnums: [0, 1] })(x, x);
const n: number = grads.length + (await value.item());
const jac: number[] = wg.jacobian((t: wg.Tensor) => t.exp(), x).shape;
const shape: readonly number[] = [2, 3];
const r = wg.randn(shape).add(wg.rand(shape));

class Gate extends wg.nn.Module {
  forward(a: wg.Tensor, b: wg.Tensor): wg.Tensor {
    return a.sigmoid().mul(b);
  }
}
const y: wg.Tensor = new Gate().forward(r, r);
const opt = new wg.optim.Adam(new wg.nn.Linear(3, 2).parameters(), { lr: 1e-3 });
opt.zeroGrad();
await y.print();
const s: string = String(y);

// data() and tolist() are typed by dtype when the dtype is known statically.
const ints: Int32Array = await wg.tensor([1, 2], { dtype: "int32" }).data();
const floats: Float32Array = await wg.ones([2]).float().mul(2).exp().data();
const idx: Int32Array = await wg.tensor([3, 1]).argmax().data();
const any: wg.TypedArray = await wg.ones([2]).data();
const sorted: Int32Array = await wg.randint(0, 9, [4]).add(1).sort().values.data();
const rows: wg.NestedList = await wg.ones([2, 2]).tolist();
// @ts-expect-error a float32 tensor's data is not an Int32Array
const wrong: Int32Array = await wg.zeros([2], { dtype: "float32" }).data();
// @ts-expect-error the comparison's mask is float32
const mask: Int32Array = await wg.tensor([1], { dtype: "int32" }).gt(0).data();
let h = wg.zeros([2], { dtype: "float32" });
h = h.add(1).relu().reshape(2);
console.log(ints, floats, idx, any, sorted, rows, wrong, mask, h);

// Internals are not part of the types.
// @ts-expect-error tensors come from wg.tensor and ops, not the constructor
new wg.Tensor();
// @ts-expect-error the storage handle is internal
x.handle;
// @ts-expect-error autograd plumbing is internal
x.aliasForBackward();
// @ts-expect-error kernel variants are for tests and the bench
await wg.init({ force: { matmul: "tiled" } });
console.log(g, n, jac, s);
`;

const CONFIGS = {
  node16: { module: "node16", moduleResolution: "node16", lib: ["es2022"] },
  bundler: { module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom"] },
};

beforeAll(() => {
  expect(existsSync("dist/types/node.d.ts"), "run npm run build first").toBe(true);
  dir = mkdtempSync(join(tmpdir(), "webgrad-consumer-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "webgrad"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  // console.log exists in Node and browsers; a Node project without @types/node must still compile.
  writeFileSync(join(dir, "globals.d.ts"), "declare const console: { log(...a: unknown[]): void };\n");
  writeFileSync(join(dir, "index.ts"), CONSUMER);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.each(Object.keys(CONFIGS))("a strict consumer with skipLibCheck false type-checks (moduleResolution %s)", (name) => {
  const c = CONFIGS[name as keyof typeof CONFIGS];
  const tsconfig = {
    compilerOptions: { ...c, target: "es2022", strict: true, skipLibCheck: false, noEmit: true, types: [] },
    files: name === "node16" ? ["index.ts", "globals.d.ts"] : ["index.ts"],
  };
  writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify(tsconfig));
  const run = spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", `tsconfig.${name}.json`], { cwd: dir, encoding: "utf8" });
  expect(run.stdout + run.stderr).toBe("");
  expect(run.status).toBe(0);
});

test("a consumer that breaks the types is caught (the check can fail)", () => {
  writeFileSync(join(dir, "bad.ts"), `import * as wg from "webgrad";\nconst n: number = wg.tensor([1]);\n`);
  writeFileSync(join(dir, "tsconfig.bad.json"), JSON.stringify({ compilerOptions: { ...CONFIGS.bundler, strict: true, noEmit: true, types: [] }, files: ["bad.ts"] }));
  const run = spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.bad.json"], { cwd: dir, encoding: "utf8" });
  expect(run.status).not.toBe(0);
  expect(run.stdout).toMatch(/bad\.ts\(2,7\): error TS2322/);
});

test("CommonJS code can require the ESM package (Node >= 20.19 loads ES modules synchronously)", () => {
  const out = execFileSync(process.execPath, ["-e", `const wg = require("webgrad"); console.log(typeof wg.tensor, typeof wg.init)`], { cwd: dir, encoding: "utf8" });
  expect(out.trim()).toBe("function function");
});
