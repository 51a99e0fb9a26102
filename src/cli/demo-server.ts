/**
 * The demo server: the built pages from `root`, and the four Fashion-MNIST
 * IDX files from `dataDir` under /data/. Loopback only by default: WebGPU
 * needs a secure context, and http://127.0.0.1 is one.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import type { AddressInfo } from "node:net";
import { DEFAULT_FORTUNES_DIR, loadFortunes } from "../data/fortunes.js";

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
  /** Folder of the fortune files whose corpus /data/fortunes.txt serves (default /usr/share/games/fortunes). */
  fortunesDir?: string;
}

/** /data/fortunes.txt: the GPT's corpus, built once per folder (about 2.5 MB) and kept. */
const corpora = new Map<string, Promise<string>>();
function sendCorpus(dir: string, res: ServerResponse, head: boolean): void {
  if (!corpora.has(dir)) corpora.set(dir, loadFortunes(dir));
  corpora.get(dir)!.then(
    (text) => send(res, 200, text, { "content-length": String(Buffer.byteLength(text)) }, head),
    (e: Error) => (corpora.delete(dir), send(res, 404, `${e.message}\n`, {}, head)),
  );
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

/** `file` with every symlink resolved, if that is a regular file inside the real `dir`; else null (no way out by a link). */
function inside(dir: string, file: string | null): string | null {
  if (!file) return null;
  try {
    const real = realpathSync(file);
    const top = realpathSync(dir);
    return (real === top || real.startsWith(top + sep)) && statSync(real).isFile() ? real : null;
  } catch {
    return null; // missing, or a dangling link
  }
}

/** The request's path, percent-decoded; null when it is not valid (a malformed escape, a NUL byte). */
function requestPath(url: string | undefined): string | null {
  try {
    const path = decodeURIComponent(new URL(url ?? "/", "http://x").pathname);
    return path.includes("\0") ? null : path;
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, head = false): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(head ? undefined : body);
}

/**
 * GET and HEAD only. Error bodies never repeat the request path (no reflected content), and a
 * file is served only if its real path lies inside the folder it was asked from.
 */
function handle(opts: DemoServerOptions, root: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed: use GET or HEAD\n", { allow: "GET, HEAD" });
  const head = req.method === "HEAD";
  const path = requestPath(req.url);
  if (path === null) return send(res, 400, "bad request: the path is not valid percent-encoding\n", {}, head);
  if (path === "/data/status.json") {
    const missing = DATA_FILES.filter((f) => !inside(opts.dataDir, dataFile(opts.dataDir, f)));
    return send(res, 200, JSON.stringify({ dir: opts.dataDir, missing }), { "content-type": TYPES[".json"] }, head);
  }
  if (path === "/data/fortunes.txt") return sendCorpus(opts.fortunesDir ?? DEFAULT_FORTUNES_DIR, res, head);
  const file = path.startsWith("/data/")
    ? inside(opts.dataDir, dataFile(opts.dataDir, path.slice("/data/".length)))
    : inside(root, join(root, path === "/" ? "index.html" : path));
  if (!file) return send(res, 404, "not found\n", {}, head);
  // .gz data goes out as bytes (no Content-Encoding): the page gunzips it with DecompressionStream.
  const type = TYPES[extname(file)] ?? "application/octet-stream";
  res.writeHead(200, { "content-type": type, "content-length": String(statSync(file).size), "cache-control": "no-store" });
  if (head) return void res.end();
  createReadStream(file)
    .on("error", () => res.destroy())
    .pipe(res);
}

export async function serveDemo(opts: DemoServerOptions): Promise<DemoServer> {
  const root = resolve(opts.root);
  const server = http.createServer((req, res) => {
    try {
      handle(opts, root, req, res);
    } catch {
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
    }
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
