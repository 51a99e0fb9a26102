/** `webgrad demo`: serve the browser demo (training page and benchmark page) on loopback. */
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { command, UsageError, withArgs } from "./registry.js";
import { serveDemo } from "./demo-server.js";
import { DEFAULT_DATA_DIR } from "../data/node-files.js";

const HELP = `usage: webgrad demo [--port N] [--host ADDR] [--data DIR]

Serves the browser demo: / trains an MLP on Fashion-MNIST with WebGPU in the page,
/bench.html runs the benchmark cases in the browser. Data comes from DIR
(default ${DEFAULT_DATA_DIR}, Debian's dataset-fashion-mnist).`;

function parse(argv: string[]) {
  const args = { help: false, port: 8080, host: "127.0.0.1", dataDir: DEFAULT_DATA_DIR };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} expects a value.`);
      return argv[++i];
    };
    if (a === "--help" || a === "-h") args.help = true;
    else if (a === "--port") {
      args.port = Number(value());
      if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new UsageError(`--port expects 0..65535.`);
    } else if (a === "--host") args.host = value();
    else if (a === "--data") args.dataDir = value();
    else throw new UsageError(`unknown option ${a}`);
  }
  return args;
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
