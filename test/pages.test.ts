/** The demo pages' static text: an icon of their own (no request for a missing /favicon.ico; headless Chromium does not ask for one, so the browser test cannot see it), and titles that do not promise a GPU. */
import { expect, test } from "vitest";
import { readdirSync, readFileSync } from "node:fs";

const pages = readdirSync("examples/browser").filter((f) => f.endsWith(".html"));

test.each(pages)("%s declares an inline icon and its title and heading do not say GPU", (page) => {
  const html = readFileSync(`examples/browser/${page}`, "utf8");
  expect(html).toMatch(/<link rel="icon" href="data:[^"]*">/);
  const h1 = html.match(/<h1>([^<]*)<\/h1>/)?.[1] ?? "";
  const title = html.match(/<title>([^<]*)<\/title>/)?.[1] ?? "";
  expect(h1.length).toBeGreaterThan(0);
  // The pages fall back to the CPU backend; only the self-test compares WebGPU with the CPU by design.
  if (page !== "selftest.html") expect(`${title} ${h1}`).not.toMatch(/GPU/);
});

test("the no-adapter notice does not contradict itself", () => {
  const src = readFileSync("examples/browser/gpu-check.ts", "utf8");
  expect(src).not.toMatch(/WebGPU is there, but/);
  expect(src).toMatch(/supports WebGPU, but it found no GPU adapter/);
});
