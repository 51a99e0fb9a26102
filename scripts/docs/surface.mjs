// The public surface: every name reachable from an entry declaration file (dist/types/node.d.ts),
// following `export ... from`, `export * as ns from` and local `export { a as b }` to the file
// that declares each name, with its JSDoc and signatures.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseDoc, parseMembers, splitStatements } from "./parse.mjs";

const DECL = /^export\s+(?:declare\s+)?(?:(abstract)\s+)?(function|const|let|class|interface|type|enum)\s+([\w$]+)/;
const LOCAL = /^(?:declare\s+)?(?:(abstract)\s+)?(function|const|let|class|interface|type|enum)\s+([\w$]+)/;

/** Parse `{ a, b as c, type D }` into [[local, exported], ...]. */
function specifiers(list) {
  return list
    .split(",")
    .map((s) => s.trim().replace(/^type\s+/, ""))
    .filter(Boolean)
    .map((s) => {
      const [local, exported] = s.split(/\s+as\s+/);
      return [local.trim(), (exported ?? local).trim()];
    });
}

/** One declaration file: its declarations (by name, overloads together), imports and export statements. */
function loadFile(root, path, cache) {
  if (cache.has(path)) return cache.get(path);
  const text = readFileSync(join(root, path), "utf8");
  const file = { path, decls: new Map(), imports: new Map(), exports: [], resolved: null };
  cache.set(path, file);
  for (const st of splitStatements(text)) {
    const code = st.code;
    let m;
    if ((m = /^import\s+(?:type\s+)?\*\s+as\s+([\w$]+)\s+from\s+"([^"]+)"/.exec(code))) file.imports.set(m[1], { ns: true, from: m[2] });
    else if ((m = /^import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)"/.exec(code)))
      for (const [local, exported] of specifiers(m[1])) file.imports.set(exported, { name: local, from: m[2] });
    else if ((m = /^export\s+\*\s+as\s+([\w$]+)\s+from\s+"([^"]+)"/.exec(code))) file.exports.push({ kind: "ns", name: m[1], from: m[2] });
    else if ((m = /^export\s+\*\s+from\s+"([^"]+)"/.exec(code))) file.exports.push({ kind: "star", from: m[1] });
    else if ((m = /^export\s+(?:type\s+)?\{([^}]*)\}(?:\s+from\s+"([^"]+)")?/.exec(code)))
      for (const [local, exported] of specifiers(m[1])) file.exports.push({ kind: "named", local, name: exported, from: m[2] ?? null });
    else if ((m = DECL.exec(code)) || (m = LOCAL.exec(code))) addDecl(file, m, st, code.startsWith("export"));
  }
  return file;
}

function addDecl(file, m, st, exported) {
  const [, abstract, keyword, name] = m;
  const kind = keyword === "let" ? "const" : keyword;
  let d = file.decls.get(name);
  if (!d) {
    d = { name, kind, abstract: !!abstract, file: file.path, codes: [], docs: [], members: null, exported };
    file.decls.set(name, d);
  }
  d.codes.push(st.code);
  d.docs.push(st.doc);
  if (kind === "class" || kind === "interface") d.members = parseMembers(st.code);
}

const target = (from, spec) => join(dirname(from), spec.replace(/\.js$/, ".d.ts"));

/** The names a file exports: name -> { decl } or { ns: file }. */
function exportsOf(root, path, cache) {
  const file = loadFile(root, path, cache);
  if (file.resolved) return file.resolved;
  const out = new Map();
  file.resolved = out;
  for (const d of file.decls.values()) if (d.exported) out.set(d.name, { decl: d });
  for (const e of file.exports) {
    if (e.kind === "ns") out.set(e.name, { ns: target(path, e.from) });
    else if (e.kind === "star") for (const [k, v] of exportsOf(root, target(path, e.from), cache)) out.set(k, v);
    else if (e.from) out.set(e.name, lookup(root, target(path, e.from), e.local, cache));
    else out.set(e.name, localBinding(root, file, e.local, cache));
  }
  return out;
}

function lookup(root, path, name, cache) {
  const hit = exportsOf(root, path, cache).get(name);
  if (!hit) throw new Error(`docs: ${path} does not export ${name}`);
  return hit;
}

/** A name as the file sees it: its own declaration, or an import followed to its declaration. */
function localBinding(root, file, name, cache) {
  const d = file.decls.get(name);
  if (d) return { decl: d };
  const imp = file.imports.get(name);
  if (!imp) throw new Error(`docs: ${file.path}: cannot find ${name}`);
  if (imp.ns) return { ns: target(file.path, imp.from) };
  return lookup(root, target(file.path, imp.from), imp.name, cache);
}

/**
 * The public surface from `entry` (relative to `root`): a sorted list of entries
 * { qname, namespace, decl, members } where members are the public members of a class, and the
 * members of a namespace object (`export const autograd = { grad: typeof g }`) become entries.
 */
export function publicSurface(root, entry = "node.d.ts") {
  const cache = new Map();
  const entries = [];
  const walk = (path, prefix) => {
    for (const [name, v] of [...exportsOf(root, path, cache)].sort(([a], [b]) => byName(a, b))) {
      const qname = prefix ? `${prefix}.${name}` : name;
      if (v.ns) walk(v.ns, qname);
      else if (isNamespaceObject(v.decl)) entries.push(...namespaceObject(root, v.decl, qname, cache));
      else entries.push(entry_(qname, prefix, v.decl, root, cache));
    }
  };
  walk(entry, "");
  return entries;
}

export function exportedNames(root, entry) {
  return [...exportsOf(root, entry, new Map()).keys()].sort();
}

function entry_(qname, namespace, decl, root, cache) {
  const e = { qname, namespace, name: decl.name, decl, members: [] };
  if (decl.kind === "class") e.members = classMembers(root, decl, cache);
  return e;
}

const isNamespaceObject = (d) => d.kind === "const" && /:\s*\{\s*([\w$]+\s*:\s*typeof\s+[\w$.]+;\s*)+\}\s*;?$/.test(d.codes[0]);

/** `const autograd: { grad: typeof autogradGrad; ... }`: each member resolved through the file's imports. */
function namespaceObject(root, decl, qname, cache) {
  const file = loadFile(root, decl.file, cache);
  const out = [];
  for (const m of decl.codes[0].matchAll(/([\w$]+)\s*:\s*typeof\s+([\w$]+);/g)) {
    const v = localBinding(root, file, m[2], cache);
    out.push({ ...entry_(`${qname}.${m[1]}`, qname, v.decl, root, cache), name: m[1] });
  }
  return out.sort((a, b) => byName(a.qname, b.qname));
}

/** Public members (getter and setter merged), each with its doc, or the base class's doc for an override. */
function classMembers(root, decl, cache) {
  const byName = new Map();
  for (const m of decl.members) {
    if (m.hidden || m.kind === "constructor" || m.kind === "index") continue;
    const key = (m.static ? "static " : "") + m.name;
    const have = byName.get(key);
    if (have) {
      have.codes.push(m.code);
      have.doc ??= m.doc;
    } else byName.set(key, { name: m.name, kind: m.kind === "setter" ? "getter" : m.kind, static: m.static, codes: [m.code], doc: m.doc, inherited: null });
  }
  const base = baseClass(root, decl, cache);
  for (const m of byName.values()) {
    if (m.doc || !base) continue;
    const from = findMember(root, base, m.name, cache);
    if (from) [m.doc, m.inherited] = [from.doc, from.owner];
  }
  return [...byName.values()];
}

function baseClass(root, decl, cache) {
  const m = /\bextends\s+([\w$]+)/.exec(decl.codes[0].split("{")[0]);
  if (!m) return null;
  const v = localBinding(root, loadFile(root, decl.file, cache), m[1], cache);
  return v.decl?.kind === "class" ? v.decl : null;
}

function findMember(root, cls, name, cache) {
  for (let c = cls; c; c = baseClass(root, c, cache)) {
    const m = c.members.find((x) => x.name === name && !x.hidden && x.doc);
    if (m) return { doc: m.doc, owner: `${c.name}.${name}` };
  }
  return null;
}

/** Case-insensitive order, ties broken by code unit, so the output never depends on the locale. */
export const byName = (a, b) => {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
};

/** The parsed doc of a declaration: the first of its overloads that has one. */
export const declDoc = (decl) => parseDoc(decl.docs.find(Boolean) ?? null);
