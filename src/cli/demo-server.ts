/**
 * The demo server: the built pages from `root`, and the four Fashion-MNIST
 * IDX files from `dataDir` under /data/. Loopback only by default: WebGPU
 * needs a secure context, and http://127.0.0.1 is one.
 */
import http from "node:http";
import { createReadStream, existsSync, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { AddressInfo } from "node:net";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".gz": "application/gzip",
};

export const DATA_FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];

export interface DemoServerOptions {
  /** Folder of built pages (dist/demo). */
  root: string;
  /** Folder holding the four IDX files, .gz or not. */
  dataDir: string;
  port?: number;
  host?: string;
}

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

/** The file for a /data/ request: NAME.gz, else NAME uncompressed; only the four known names. */
function dataFile(dir: string, name: string): string | null {
  const base = name.replace(/\.gz$/, "");
  if (!DATA_FILES.includes(base)) return null;
  for (const f of [`${base}.gz`, base]) if (existsSync(join(dir, f))) return join(dir, f);
  return null;
}

export async function serveDemo(opts: DemoServerOptions): Promise<DemoServer> {
  const root = resolve(opts.root);
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const send = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (path === "/data/status.json") {
      const missing = DATA_FILES.filter((f) => !dataFile(opts.dataDir, f));
      return send(200, JSON.stringify({ dir: opts.dataDir, missing }), TYPES[".json"]);
    }
    let file: string | null;
    if (path.startsWith("/data/")) file = dataFile(opts.dataDir, path.slice("/data/".length));
    else {
      file = normalize(join(root, path === "/" ? "index.html" : path));
      if (file !== root && !file.startsWith(root + sep)) file = null; // no way out of root
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) return send(404, `not found: ${path}`);
    // .gz data goes out as bytes (no Content-Encoding): the page gunzips it with DecompressionStream.
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => ok());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
