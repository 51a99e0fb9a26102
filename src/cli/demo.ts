/** `webgrad demo`: serve the browser demo (training page and benchmark page) on loopback. */
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { command, parseOptions, UsageError, withArgs } from "./registry.js";
import { serveDemo } from "./demo-server.js";
import { DEFAULT_DATA_DIR } from "../data/node-files.js";

const HELP = `usage: webgrad demo [--port N] [--host ADDR] [--data DIR]

Serves the browser demo: / trains an MLP on Fashion-MNIST with WebGPU in the page,
/bench.html runs the benchmark cases in the browser. Data comes from DIR
(default ${DEFAULT_DATA_DIR}, Debian's dataset-fashion-mnist).`;

const OPTIONS = {
  help: { type: "boolean", short: "h", default: false },
  port: { type: "string", default: "8080" },
  host: { type: "string", default: "127.0.0.1" },
  data: { type: "string", default: DEFAULT_DATA_DIR },
} as const;

function parse(argv: string[]) {
  const values = parseOptions(argv, OPTIONS);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects 0..65535, got "${values.port}".`);
  return { help: values.help, port, host: values.host, dataDir: values.data };
}

command("demo", "serve the browser training demo and benchmark page", (argv) =>
  withArgs("demo", HELP, argv, parse, async ({ port, host, dataDir }) => {
    const root = fileURLToPath(new URL("../demo/", import.meta.url));
    if (!existsSync(root)) {
      console.error(`webgrad demo: ${root} is missing; run npm run build first (npm run demo does).`);
      return 1;
    }
    const server = await serveDemo({ root, dataDir, port, host });
    console.log(`webgrad demo: ${server.url} (training), ${server.url}bench.html (benchmarks). Ctrl-C stops.`);
    await new Promise(() => {}); // serve until killed
    return 0;
  }),
);
