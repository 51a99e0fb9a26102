// The docs check: every public name documented (with its example and PyTorch line where it is
// callable), every relative link and #anchor in the Markdown resolving, and docs/reference
// matching what the generator writes now.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseDoc } from "./parse.mjs";
import { declDoc, exportedNames, publicSurface } from "./surface.mjs";
import { entryRole, memberRole, renderReference } from "./render.mjs";

const srcOf = (decl) => `src/${decl.file.replace(/\.d\.ts$/, ".ts")}`;

/** Problems with one doc comment for a name of the given role; [] when it meets the convention. */
function docProblems(doc, role) {
  if (!doc || (!doc.description && !doc.examples.length)) return ["no doc comment"];
  const out = [];
  if (!doc.description) out.push("the doc comment has no description (what it does)");
  if (role !== "callable") return out;
  if (!doc.examples.length) out.push("no @example");
  for (const ex of doc.examples) if (ex.lines > 1 || ex.text.includes("\n")) out.push("the @example spans more than one line");
  if (!doc.torch) out.push('no "PyTorch:" line (write "PyTorch: none (webgrad only)." when there is no equivalent)');
  return out;
}

/** The surface, the coverage figures and the problems with its docs. */
export function surfaceReport(typesDir) {
  const entries = publicSurface(typesDir, "node.d.ts");
  const problems = [];
  let total = 0;
  let documented = 0;
  const note = (decl, qname, list) => {
    total++;
    if (!list.includes("no doc comment")) documented++;
    for (const p of list) problems.push(`${srcOf(decl)}: ${qname}: ${p}`);
  };
  for (const e of entries) {
    note(e.decl, e.qname, docProblems(declDoc(e.decl), entryRole(e)));
    for (const m of e.members) note(e.decl, `${e.qname}.${m.name}`, docProblems(parseDoc(m.doc), memberRole(m)));
  }
  const [node, browser] = ["node.d.ts", "browser.d.ts"].map((f) => exportedNames(typesDir, f));
  for (const n of node.filter((x) => !browser.includes(x))) problems.push(`src/browser.ts: does not export ${n} (src/node.ts does)`);
  for (const n of browser.filter((x) => !node.includes(x))) problems.push(`src/node.ts: does not export ${n} (src/browser.ts does)`);
  return { entries, problems, stats: { documented, total } };
}

/** The Markdown files the link check covers: README.md and docs/**\/*.md. */
export function markdownFiles(root) {
  const out = existsSync(join(root, "README.md")) ? ["README.md"] : [];
  const walk = (dir) => {
    for (const f of readdirSync(join(root, dir)).sort()) {
      const p = `${dir}/${f}`;
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (f.endsWith(".md")) out.push(p);
    }
  };
  if (existsSync(join(root, "docs"))) walk("docs");
  return out;
}

// Code is not prose: links inside fences and inline code spans are not links.
const prose = (text) => text.replace(/^(```|~~~)[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");

/** GitHub's heading anchors (lowercased, punctuation dropped, spaces to -, repeats numbered) and explicit ids. */
export function anchorsOf(text) {
  const seen = new Map();
  const out = new Set();
  for (const m of text.replace(/^(```|~~~)[\s\S]*?^\1[^\n]*$/gm, "").matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const plain = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "").replace(/[`*_~]/g, (c) => (c === "_" ? "_" : ""));
    const base = plain.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  for (const m of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/** Broken relative links and anchors in the Markdown files under root, as "file: problem". */
export function linkProblems(root, files = markdownFiles(root)) {
  const problems = [];
  const anchors = new Map();
  const anchorsFor = (p) => {
    if (!anchors.has(p)) anchors.set(p, anchorsOf(readFileSync(p, "utf8")));
    return anchors.get(p);
  };
  for (const file of files) {
    const text = prose(readFileSync(join(root, file), "utf8"));
    const targets = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?\s*$/gm)].map((m) => m[1]);
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [path, anchor] = target.split("#");
      const abs = path ? resolve(root, dirname(file), decodeURI(path)) : resolve(root, file);
      if (!existsSync(abs)) {
        problems.push(`${file}: broken link ${target} (${relative(root, abs)} does not exist)`);
        continue;
      }
      if (anchor === undefined || anchor === "") continue;
      if (!abs.endsWith(".md")) problems.push(`${file}: link ${target} has an anchor into a file that is not Markdown`);
      else if (!anchorsFor(abs).has(decodeURIComponent(anchor))) problems.push(`${file}: broken anchor ${target} (no heading or id "${anchor}" in ${relative(root, abs)})`);
    }
  }
  return problems;
}

/** The generated pages that differ from what is on disk in refDir, and files there the generator no longer writes. */
export function staleProblems(refDir, files, label) {
  const problems = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(refDir, name);
    if (!existsSync(p)) problems.push(`${label}/${name}: missing (run npm run docs)`);
    else if (readFileSync(p, "utf8") !== text) problems.push(`${label}/${name}: out of date (run npm run docs and commit it)`);
  }
  if (existsSync(refDir))
    for (const f of readdirSync(refDir).sort()) if (!(f in files)) problems.push(`${label}/${f}: not generated any more (delete it, or run npm run docs)`);
  return problems;
}

/** Everything: the reference as it should be, and every problem the check reports. */
export function checkDocs(root) {
  const typesDir = join(root, "dist/types");
  if (!existsSync(join(typesDir, "node.d.ts"))) throw new Error(`docs: ${typesDir}/node.d.ts is missing. Fix: node scripts/build.mjs first.`);
  const { entries, problems, stats } = surfaceReport(typesDir);
  const files = renderReference(entries, stats);
  const stale = staleProblems(join(root, "docs/reference"), files, "docs/reference");
  return { files, stats, problems: [...problems, ...stale, ...linkProblems(root)] };
}
