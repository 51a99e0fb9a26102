/** `webgrad demo`: serve the browser demo (training page and benchmark page) on loopback. */
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { command } from "./registry.js";
import { serveDemo } from "./demo-server.js";
import { DEFAULT_DATA_DIR } from "../data/node-files.js";

const HELP = `usage: webgrad demo [--port N] [--host ADDR] [--data DIR]

Serves the browser demo: / trains an MLP on Fashion-MNIST with WebGPU in the page,
/bench.html runs the benchmark cases in the browser. Data comes from DIR
(default ${DEFAULT_DATA_DIR}, Debian's dataset-fashion-mnist).`;

command("demo", "serve the browser training demo and benchmark page", async (argv) => {
  let port = 8080;
  let host = "127.0.0.1";
  let dataDir = DEFAULT_DATA_DIR;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(HELP);
      return 0;
    } else if (a === "--port") port = Number(argv[++i]);
    else if (a === "--host") host = argv[++i];
    else if (a === "--data") dataDir = argv[++i];
    else {
      console.error(`webgrad demo: unknown option ${a}\n\n${HELP}`);
      return 2;
    }
  }
  const root = fileURLToPath(new URL("../demo/", import.meta.url));
  if (!existsSync(root)) {
    console.error(`webgrad demo: ${root} is missing; run npm run build first (npm run demo does).`);
    return 1;
  }
  const server = await serveDemo({ root, dataDir, port, host });
  console.log(`webgrad demo: ${server.url} (training), ${server.url}bench.html (benchmarks). Ctrl-C stops.`);
  await new Promise(() => {}); // serve until killed
  return 0;
});
