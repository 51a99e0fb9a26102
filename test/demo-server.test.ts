/** The demo server under hostile requests: it answers, never exits, never leaves its folders, never echoes the path. */
import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { serveDemo, type DemoServer } from "../src/cli/demo-server.js";

let dir: string;
let server: DemoServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "webgrad-demo-"));
  const root = join(dir, "root");
  const data = join(dir, "data");
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(data);
  writeFileSync(join(dir, "secret.txt"), "SECRET");
  writeFileSync(join(root, "index.html"), "<p>index</p>");
  writeFileSync(join(root, "sub", "page.js"), "export {};");
  symlinkSync(join(dir, "secret.txt"), join(root, "leak.txt"));
  symlinkSync(dir, join(root, "up"));
  symlinkSync(join(root, "index.html"), join(root, "alias.html")); // a link that stays inside is fine
  writeFileSync(join(data, "train-labels-idx1-ubyte"), Buffer.from([0, 0, 8, 1, 0, 0, 0, 0]));
  symlinkSync(join(dir, "secret.txt"), join(data, "t10k-labels-idx1-ubyte"));
  server = await serveDemo({ root, dataDir: data });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function request(path: string, method = "GET"): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(server.url);
  return new Promise((ok, fail) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

test("a malformed escape is a 400, and the server keeps serving", async () => {
  for (const path of ["/%", "/%E0%A4%A", "/data/%zz", "/a%00b"]) {
    const r = await request(path);
    expect([path, r.status]).toEqual([path, 400]);
    expect(r.body).not.toContain(path);
  }
  expect(await request("/")).toMatchObject({ status: 200, body: "<p>index</p>" });
});

test("only GET and HEAD: other methods are a 405 with Allow; HEAD sends headers and no body", async () => {
  for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
    const r = await request("/", method);
    expect([method, r.status, r.headers.allow]).toEqual([method, 405, "GET, HEAD"]);
  }
  const h = await request("/sub/page.js", "HEAD");
  expect([h.status, h.headers["content-type"], h.headers["content-length"], h.body]).toEqual([200, "text/javascript; charset=utf-8", "10", ""]);
  expect((await request("/sub/page.js")).body).toBe("export {};");
});

test("symlinks out of the served folders are not followed; links inside are", async () => {
  for (const path of ["/leak.txt", "/up/secret.txt", "/data/t10k-labels-idx1-ubyte", "/%2e%2e/secret.txt", "/..%2fsecret.txt"]) {
    const r = await request(path);
    expect([path, r.status, r.body]).toEqual([path, 404, "not found\n"]);
  }
  expect((await request("/alias.html")).body).toBe("<p>index</p>");
  const labels = await request("/data/train-labels-idx1-ubyte");
  expect([labels.status, labels.headers["content-length"]]).toEqual([200, "8"]);
  const status = JSON.parse((await request("/data/status.json")).body);
  expect(status.missing).toEqual(["train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]);
});

test("a 404 never echoes the request path", async () => {
  const r = await request("/%3Cscript%3Ealert(1)%3C/script%3E.html");
  expect(r.status).toBe(404);
  expect(r.body).toBe("not found\n");
  expect(r.headers["content-type"]).toBe("text/plain; charset=utf-8");
});
