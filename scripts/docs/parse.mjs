// A small parser for the declaration files tsc emits into dist/types: it splits a file into
// top-level statements (each with the JSDoc block right above it) and a class or interface body
// into members. It knows only what our .d.ts files contain; anything else is kept as raw text.

/**
 * Split `text` into statements at depth 0 of (), [], {}; strings and comments are skipped over.
 * A statement ends at `;`, or at the `}` closing a class/interface/enum/namespace body.
 * Each statement carries the last `/** ... *\/` block that precedes it with only space between.
 */
export function splitStatements(text) {
  const out = [];
  let depth = 0;
  let start = 0;
  let begun = false;
  let doc = null;
  let pendingDoc = null;
  const flush = (end) => {
    const code = text.slice(start, end).trim();
    if (code) out.push({ code, doc });
    start = end;
    begun = false;
    doc = null;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) break;
      if (depth === 0 && !begun) {
        const block = text.slice(i, end + 2);
        pendingDoc = block.startsWith("/**") ? block : null;
        start = end + 2;
      }
      i = end + 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
      if (depth === 0 && !begun) start = i;
      continue;
    }
    if (depth === 0 && !begun && !/\s/.test(c)) {
      begun = true;
      doc = pendingDoc;
      pendingDoc = null;
    }
    if (c === '"' || c === "'" || c === "`") i = skipString(text, i);
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0 && c === "}" && CLOSED_BY_BRACE.test(text.slice(start, i).trim())) flush(i + 1);
    } else if (c === ";" && depth === 0) flush(i + 1);
  }
  flush(text.length);
  return out;
}

const CLOSED_BY_BRACE = /^(export\s+)?(declare\s+)?(abstract\s+)?(class|interface|enum|namespace|module)\b/;

const endOf = (text, at) => (at <= 0 ? text.length : at);

function skipString(text, i) {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === q) return j;
  }
  return text.length;
}

/** The text between the first `{` at depth 0 of `code` and its matching `}`. */
export function bodyOf(code) {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    // comments may hold quotes and braces (PyTorch's, { dtype }): skip them
    if (c === "/" && code[i + 1] === "*") i = endOf(code, code.indexOf("*/", i + 2) + 1);
    else if (c === "/" && code[i + 1] === "/") i = endOf(code, code.indexOf("\n", i));
    else if (c === '"' || c === "'" || c === "`") i = skipString(code, i);
    else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "{") {
      if (depth === 0 && open < 0) open = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0 && open >= 0) return { head: code.slice(0, open).trim(), body: code.slice(open + 1, i) };
    }
  }
  return { head: code, body: "" };
}

const MODIFIERS = new Set(["public", "private", "protected", "static", "readonly", "abstract", "declare", "override", "accessor"]);

/**
 * One class or interface member: its name, kind (method, property, getter, setter, constructor,
 * index), whether it is static, and whether it is hidden (private/protected/#private).
 */
export function parseMember({ code, doc }) {
  let rest = code.replace(/;$/, "").trim();
  const mods = new Set();
  for (;;) {
    const m = /^([a-z]+)\s+(?=[\w#$[("'])/.exec(rest);
    if (!m || !MODIFIERS.has(m[1])) break;
    mods.add(m[1]);
    rest = rest.slice(m[0].length);
  }
  let kind = "property";
  const acc = /^(get|set)\s+(?=[\w$])/.exec(rest);
  if (acc) {
    kind = acc[1] === "get" ? "getter" : "setter";
    rest = rest.slice(acc[0].length);
  }
  if (rest.startsWith("#")) return { name: rest, kind, hidden: true, static: false, code, doc };
  if (rest.startsWith("[")) return { name: rest, kind: "index", hidden: true, static: false, code, doc };
  const nm = /^([\w$]+)(\?)?/.exec(rest);
  if (!nm) return { name: rest, kind: "unknown", hidden: true, static: false, code, doc };
  const after = rest.slice(nm[0].length).trimStart();
  if (kind === "property" && (after.startsWith("(") || after.startsWith("<"))) kind = nm[1] === "constructor" ? "constructor" : "method";
  const hidden = mods.has("private") || mods.has("protected");
  return { name: nm[1], kind, hidden, static: mods.has("static"), code: code.replace(/;$/, "").trim() + ";", doc };
}

/** The members of a class or interface declaration's body. */
export function parseMembers(code) {
  const { body } = bodyOf(code);
  return splitMembers(body).map(parseMember);
}

// Members end at `;` at depth 0 of the body (tsc writes one per member).
function splitMembers(body) {
  return splitStatements(body.replace(/}\s*$/, "")).filter((s) => s.code !== "");
}

/** Parse a `/** ... *\/` block into its description, PyTorch/JAX line and tags. */
export function parseDoc(block) {
  if (!block) return null;
  const lines = block
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, "").replace(/\s+$/, ""));
  const desc = [];
  const tags = [];
  for (const line of lines) {
    const t = /^@(\w+)\s*(.*)$/.exec(line.trim());
    if (t) tags.push({ tag: t[1], text: t[2], lines: 1 });
    else if (tags.length && line.trim() !== "") {
      const last = tags[tags.length - 1];
      last.text += "\n" + line.trim();
      last.lines++;
    } else if (!tags.length) desc.push(line);
  }
  const torch = [];
  const text = [];
  let inTorch = false; // a PyTorch line runs on until a blank line
  for (const line of desc) {
    inTorch = /^\s*(PyTorch|JAX):/.test(line) || (inTorch && line.trim() !== "");
    (inTorch ? torch : text).push(inTorch ? line.trim() : line);
  }
  const description = text.join("\n").replace(/\n{3,}/g, "\n\n").trim();
  return {
    description,
    torch: torch.join(" "),
    examples: tags.filter((t) => t.tag === "example"),
    params: tags.filter((t) => t.tag === "param"),
    returns: tags.find((t) => t.tag === "returns" || t.tag === "return")?.text ?? null,
    internal: tags.some((t) => t.tag === "internal"),
  };
}

/** The first sentence of a description (for the index): up to the first `. ` outside backticks. */
export function firstSentence(description) {
  const para = description.split(/\n\s*\n/)[0].replace(/\s*\n\s*/g, " ").trim();
  let ticks = 0;
  for (let i = 0; i < para.length; i++) {
    if (para[i] === "`") ticks++;
    else if (ticks % 2 === 0 && /[.!?]/.test(para[i]) && (i === para.length - 1 || /\s/.test(para[i + 1])) && !/\b(e\.g|i\.e|etc|vs)$/.test(para.slice(0, i)))
      return para.slice(0, i + 1);
  }
  return para;
}
