/**
 * `npm run fuzz -- --graphs N --seed S [--max-steps K] [--max-numel E] [--max-failures F]`:
 * the fuzzer outside the test suite (scripts/fuzz.mjs bundles and runs this file).
 * Exit code 1 when some graph fails; each failure prints its seed and a program.
 */
import { parseArgs } from "node:util";
import * as wg from "../../src/node.js";
import { formatFailure, fuzz } from "./fuzz.js";

function int(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0) throw new Error(`fuzz: --${name} expects a non-negative integer, got "${v}".`);
  return x;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      graphs: { type: "string" }, seed: { type: "string" }, "max-steps": { type: "string" },
      "max-numel": { type: "string" }, "max-failures": { type: "string" },
    },
  });
  const opts = {
    graphs: int("graphs", values.graphs, 1000),
    seed: int("seed", values.seed, 1),
    maxSteps: int("max-steps", values["max-steps"], 8),
    maxNumel: int("max-numel", values["max-numel"], 64),
    maxFailures: int("max-failures", values["max-failures"], 10),
  };
  const { adapterInfo } = await wg.init({ device: "webgpu", quiet: true });
  console.error(`fuzzing ${opts.graphs} graphs from seed ${opts.seed} (≤ ${opts.maxSteps} steps, ≤ ${opts.maxNumel} elements): cpu against webgpu on ${adapterInfo.description} (${adapterInfo.vendor}, ${adapterInfo.architecture})`);
  const t0 = performance.now();
  const res = await fuzz({
    ...opts,
    onProgress: (done, failed) => done % 100 === 0 && console.error(`${done} graphs, ${failed} failing, ${((performance.now() - t0) / 1e3).toFixed(0)} s`),
  });
  for (const f of res.failures) console.log(`\n${formatFailure(f)}`);
  const ops = [...res.ops.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => `${k} ${n}`).join(", ");
  console.log(`\n${res.graphs} graphs in ${((performance.now() - t0) / 1e3).toFixed(1)} s, ${res.failures.length} failing${res.failures.length >= opts.maxFailures ? ` (stopped at --max-failures ${opts.maxFailures})` : ""}.\nops drawn: ${ops}`);
  return res.failures.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error((e as Error).message);
    process.exit(2);
  },
);
