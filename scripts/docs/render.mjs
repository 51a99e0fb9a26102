// Markdown for docs/reference/: one page per area, an index with every top-level name and the
// coverage figure. Everything is sorted, so the same declarations always give the same bytes.
import { parseDoc, firstSentence } from "./parse.mjs";
import { declDoc } from "./surface.mjs";

/** The pages, in index order: file, title, and what the page is for. */
export const PAGES = [
  ["functions.md", "Functions", "start-up, devices and memory, creation, and the ops as free functions (`wg.add`, `wg.sum`, ...)"],
  ["tensor.md", "Tensor", "the tensor handle: properties, readback, ops as methods, autograd, in-place ops"],
  ["autograd.md", "Autograd and transforms", "`wg.autograd`, gradient modes, `grad`/`vjp`/`jvp`/`jacobian`/`hessian`, `gradcheck`, `explain`"],
  ["nn.md", "nn", "`wg.nn`: Module and the layers"],
  ["nn-functional.md", "nn.functional", "`wg.nn.functional`: losses, activations, convolution, pooling, normalization, attention"],
  ["nn-utils.md", "nn.utils", "`wg.nn.utils`: training helpers"],
  ["optim.md", "optim", "`wg.optim`: optimizers, their state dicts, and `wg.optim.lrScheduler`"],
  ["data.md", "data", "`wg.data`: datasets and batching"],
  ["io.md", "io", "`save`, `load`, `loadMetadata`: the safetensors format"],
  ["types.md", "Types", "the exported types of the package root"],
];

const isType = (d) => d.kind === "interface" || d.kind === "type";
const isCallableConst = (d) => d.kind === "const" && /^[^:]*:\s*(<[^>]*>\s*)?\(/.test(d.codes[0].replace(/^export\s+declare\s+/, ""));

/** What the check asks of an entry: "callable" (doc, example, PyTorch line), "value" or "type" (a doc). */
export function entryRole(e) {
  const d = e.decl;
  if (isType(d)) return "type";
  if (d.kind === "function" || d.kind === "class" || isCallableConst(d)) return "callable";
  return "value";
}
export const memberRole = (m) => (m.kind === "method" ? "callable" : "value");

/** The page an entry belongs on. */
export function pageOf(e) {
  const ns = e.namespace;
  if (ns === "nn") return "nn.md";
  if (ns === "nn.functional") return "nn-functional.md";
  if (ns === "nn.utils") return "nn-utils.md";
  if (ns.startsWith("optim")) return "optim.md";
  if (ns.startsWith("data")) return "data.md";
  if (ns.startsWith("autograd")) return "autograd.md";
  if (ns) throw new Error(`docs: no reference page for namespace ${ns} (add it to PAGES and pageOf)`);
  if (e.name === "Tensor") return "tensor.md";
  if (e.decl.file.startsWith("io/")) return "io.md";
  if (e.decl.file.startsWith("autograd/")) return "autograd.md";
  if (isType(e.decl)) return "types.md";
  return "functions.md";
}

// Sections within a page, in order; entries of one section keep the surface's sorted order.
function sectionOf(e) {
  if (isType(e.decl)) return "Types";
  if (e.namespace === "optim.lrScheduler") return "optim.lrScheduler";
  if (e.namespace === "autograd") return "wg.autograd";
  if (pageOf(e) !== "functions.md") return "";
  if (e.decl.file.startsWith("engine/")) return "Start-up, devices and memory";
  if (e.decl.file === "ops/creation.d.ts") return "Creation";
  return "Ops as functions";
}
const SECTION_ORDER = ["", "Start-up, devices and memory", "Creation", "Ops as functions", "wg.autograd", "optim.lrScheduler", "Types"];

/** The signature text of a declaration: its overloads as tsc wrote them, without `export declare`. */
function signature(d) {
  if (d.kind !== "class") return d.codes.map(strip).join("\n");
  const head = strip(d.codes[0]).split("{")[0].trim();
  const ctors = d.members.filter((m) => m.kind === "constructor" && !m.hidden).map((m) => "    " + dedent(m.code));
  return ctors.length ? `${head} {\n${ctors.join("\n")}\n}` : `${head} {}`;
}
const strip = (code) => code.replace(/^export\s+/, "").replace(/^declare\s+/, "");
const dedent = (code) => code.replace(/\n {4}/g, "\n");

function docBlock(doc, inherited) {
  if (!doc) return ["*Not documented yet.*", ""];
  const out = [];
  if (doc.description) out.push(doc.description, "");
  if (inherited) out.push(`*(Documented on \`${inherited}\`.)*`, "");
  for (const p of doc.params) {
    const m = /^(\S+)\s*-?\s*([\s\S]*)$/.exec(p.text);
    out.push(`- \`${m ? m[1] : p.text}\`: ${m ? m[2].replace(/\n/g, " ") : ""}`);
  }
  if (doc.params.length) out.push("");
  if (doc.returns) out.push(`Returns: ${doc.returns.replace(/\n/g, " ")}`, "");
  if (doc.torch) out.push(doc.torch, "");
  for (const ex of doc.examples) out.push("```ts", ex.text, "```", "");
  return out;
}

function renderEntry(e) {
  const doc = declDoc(e.decl);
  const out = [`<a id="${e.qname}"></a>`, "", `### \`${e.qname}\``, "", "```ts", signature(e.decl), "```", "", ...docBlock(doc, null)];
  if (e.decl.kind === "class" && e.members.length) {
    out.push(`Members: ${e.members.map((m) => `[\`${m.name}\`](#${e.qname}.${m.name})`).join(" ")}`, "");
    for (const m of e.members) {
      const q = `${e.qname}.${m.name}`;
      out.push(`<a id="${q}"></a>`, "", `#### ${m.static ? "static " : ""}\`${q}\``, "");
      out.push("```ts", m.codes.map(dedent).join("\n"), "```", "", ...docBlock(parseDoc(m.doc), m.inherited));
    }
  }
  return out;
}

/** Every reference page and the index, as { "README.md": text, ... }. */
export function renderReference(entries, stats) {
  const files = {};
  const byPage = new Map(PAGES.map(([f]) => [f, []]));
  for (const e of entries) byPage.get(pageOf(e)).push(e);
  for (const [file, title, what] of PAGES) {
    const list = byPage.get(file);
    const out = [`# ${title}`, "", `Generated by \`npm run docs\` from the declarations' JSDoc; do not edit. ${capital(what)}.`, "", "[Index](README.md)", ""];
    for (const section of SECTION_ORDER) {
      const part = list.filter((e) => sectionOf(e) === section);
      if (!part.length) continue;
      if (section) out.push(`## ${section}`, "");
      for (const e of part) out.push(...renderEntry(e));
    }
    if (!list.length) out.push("Nothing here yet.", "");
    files[file] = out.join("\n").replace(/\n+$/, "\n");
  }
  files["README.md"] = renderIndex(byPage, stats);
  return files;
}

const capital = (s) => s[0].toUpperCase() + s.slice(1);

function renderIndex(byPage, stats) {
  const out = [
    "# webgrad API reference",
    "",
    "Generated by `npm run docs` from the JSDoc of the declarations `npm run build` writes to `dist/types`; do not edit.",
    "`npm run docs -- --check` (run by `test/docs.test.ts`) fails when a public name lacks its doc, example or PyTorch line,",
    "when a link in the docs is broken, or when these pages differ from what the generator writes.",
    "",
    `Coverage: documented ${stats.documented} of ${stats.total} public names (top-level names and public class members).`,
    "",
    "Guides: [From PyTorch to webgrad](../guides/from-pytorch.md), [Memory management](../guides/memory.md),",
    "[Running without a GPU](../guides/no-gpu.md). The contract: [docs/api.md](../api.md).",
    "",
  ];
  const namespaces = new Map();
  for (const [file, list] of byPage) for (const e of list) if (e.namespace && !namespaces.has(e.namespace)) namespaces.set(e.namespace, file);
  const nsLinks = [...namespaces].sort(([a], [b]) => (a < b ? -1 : 1)).map(([ns, file]) => `[\`wg.${ns}\`](${file})`);
  out.push(`Namespaces: \`wg\` (the package root: [functions](functions.md), [Tensor](tensor.md), [io](io.md), [types](types.md)), ${nsLinks.join(", ")}.`, "");
  for (const [file, title, what] of PAGES) {
    out.push(`## [${title}](${file})`, "", `${capital(what)}.`, "");
    for (const e of byPage.get(file)) {
      const doc = declDoc(e.decl);
      const summary = doc?.description ? firstSentence(doc.description) : "*(not documented yet)*";
      out.push(`- [\`${e.qname}\`](${file}#${e.qname}): ${summary}`);
    }
    out.push("");
  }
  return out.join("\n").replace(/\n+$/, "\n");
}
