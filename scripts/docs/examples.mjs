// npm run docs -- --examples: runs every @example that needs nothing but `wg` on the CPU backend and compares
// it with its trailing comment where that is a value (numbers, a shape, a tensor). Examples that use other
// names (`x`, `model`) cannot run alone and are counted as skipped. A report for whoever writes docs, not a
// CI gate: an example may be right and still need a GPU or a file.
import { pathToFileURL } from "node:url";
import { transformSync } from "esbuild";
import { join } from "node:path";
import { parseDoc } from "./parse.mjs";
import { declDoc } from "./surface.mjs";

/** Every example of the surface: { where, code, comment }. */
export function examplesOf(entries) {
  const out = [];
  const add = (where, doc) => {
    for (const ex of doc?.examples ?? []) {
      const cut = splitComment(ex.text);
      out.push({ where, ...cut });
    }
  };
  for (const e of entries) {
    add(e.qname, declDoc(e.decl));
    for (const m of e.members) add(`${e.qname}.${m.name}`, parseDoc(m.doc));
  }
  return out;
}

/** The code and its trailing `// comment`, where the `//` is outside strings. */
function splitComment(text) {
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "/" && text[i + 1] === "/") return { code: text.slice(0, i).trim(), comment: text.slice(i + 2).trim() };
  }
  return { code: text.trim(), comment: "" };
}

const numbersIn = (s) => [...s.matchAll(/-?(?:\d+\.?\d*(?:e[-+]?\d+)?|\.\d+)|-?Infinity|NaN|\binf\b|\bnan\b/gi)].map((m) => Number(m[0].replace(/^(-?)inf$/i, "$1Infinity").replace(/^nan$/i, "NaN")));
const close = (a, b) => (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b)) + 5e-5;

/** The value at the start of a comment (`tensor([1, 2]) (= ...)` gives `tensor([1, 2])`), or null when it is prose. */
export function leadingValue(comment) {
  if (/^"/.test(comment)) return /^"(?:[^"\\]|\\.)*"/.exec(comment)?.[0] ?? null;
  if (/^(-?\d|-?Inf|NaN|true|false)/.test(comment)) return comment.split(/[\s,;]/)[0];
  if (!/^(tensor\(|\[|\{)/.test(comment)) return null;
  let depth = 0;
  for (let i = 0; i < comment.length; i++) {
    if ("([{".includes(comment[i])) depth++;
    else if (")]}".includes(comment[i]) && --depth === 0) return comment.slice(0, i + 1);
  }
  return null;
}

const nested = (x) => (Array.isArray(x) ? `[${x.map(nested).join(", ")}]` : String(x));

/** The value an example evaluates to, as text with its numbers (tensors read back; -Infinity and NaN kept). */
async function shown(wg, v) {
  if (v instanceof wg.Tensor) return nested(await v.tolist());
  if (Array.isArray(v)) return `[${(await Promise.all(v.map((x) => shown(wg, x)))).join(", ")}]`;
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
    return `{${(await Promise.all(Object.entries(v).map(async ([k, x]) => `${k}: ${await shown(wg, x)}`))).join(", ")}}`;
  return v === undefined ? "" : String(v);
}

/** Whether a comment's value matches: the same string, or the same numbers (for a tensor, its values or its shape). */
function agrees(lead, text, shape) {
  if (lead.startsWith('"')) return JSON.parse(lead) === text;
  if (lead === "true" || lead === "false") return lead === text;
  const want = numbersIn(lead.replace(/dtype=\w+|device=\w+|(int|float)(32|64)/g, ""));
  const same = (got) => want.length === got.length && want.every((w, i) => close(got[i], w));
  return same(numbersIn(text)) || (shape !== null && same(shape));
}

/**
 * The example as a function of (wg, console) whose result is its value: an expression, else statements whose last
 * one is an expression (`a; b` shows b), else statements with no value.
 */
function compile(code) {
  const body = code.replace(/;\s*$/, "");
  const cut = body.lastIndexOf("; ");
  const tries = [`return (${body});`, ...(cut > 0 ? [`${body.slice(0, cut)}; return (${body.slice(cut + 2)});`] : []), `${body};`];
  for (const [i, t] of tries.entries()) {
    try {
      // Examples are TypeScript (`as number[][]`): esbuild strips the types first.
      const js = transformSync(`(async () => { ${t} })`, { loader: "ts", logLevel: "silent" }).code;
      return new Function("wg", "console", `return ${js.trim().replace(/;$/, "")}();`);
    } catch (e) {
      if (i === tries.length - 1) throw e instanceof SyntaxError ? e : new SyntaxError(String(e.message).replace(/\s+/g, " "));
    }
  }
}

/** One example: "ran" (and agreed), "skipped" (it needs other names or a GPU), or a problem's text. */
async function runOne(wg, onCpu, ex) {
  const throws = /^(throws|an? \w*Error)/i.test(ex.comment); // an example of an Error
  let value;
  try {
    value = await compile(ex.code)(onCpu, { ...console, log() {}, warn() {} });
  } catch (e) {
    if (throws) return "ran";
    const needsGpu = /WebGPU backend is not started/.test(String(e.message));
    if (e instanceof ReferenceError || needsGpu || (e instanceof SyntaxError && /await|import|declar/.test(e.message))) return "skipped";
    return `example \`${ex.code}\` throws: ${String(e.message).split("\n")[0]}`;
  } finally {
    wg.autograd.setDetectAnomaly(false); // an example may turn it on (setDetectAnomaly's own does)
  }
  if (throws) return `example \`${ex.code}\` does not throw, though its comment says ${ex.comment}`;
  const lead = leadingValue(ex.comment);
  if (lead === null || lead.includes("...")) return "ran";
  const text = await shown(wg, value);
  return agrees(lead, text, value instanceof wg.Tensor ? value.shape : null) ? "ran" : `example \`${ex.code}\` gives ${text}, its comment says ${ex.comment}`;
}

/** Run the examples; returns { ran, skipped, problems }. */
export async function runExamples(root, entries) {
  const wg = await import(pathToFileURL(join(root, "dist/node/index.js")).href);
  await wg.init({ device: "cpu", quiet: true });
  const onCpu = { ...wg, init: (opts = {}) => wg.init({ ...opts, device: "cpu", quiet: true }) };
  const counts = { ran: 0, skipped: 0 };
  const problems = [];
  for (const ex of examplesOf(entries)) {
    const r = await runOne(wg, onCpu, ex);
    if (r === "ran" || r === "skipped") counts[r]++;
    else problems.push(`${ex.where}: ${r}`);
  }
  return { ...counts, problems };
}
