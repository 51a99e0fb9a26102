/**
 * A small expression language for `webgrad explain` and the demo's explain
 * page: named inputs, numbers, `+ - * / @ **`, parentheses and Tensor method
 * calls from an allow-list, parsed by recursive descent (never eval). Python's
 * precedence: `**` binds tightest (right to left), then unary minus, then
 * `* / @`, then `+ -`.
 */
import type { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";

export type Expr =
  | { kind: "num"; value: number; at: number }
  | { kind: "name"; name: string; at: number }
  | { kind: "neg"; x: Expr; at: number }
  | { kind: "bin"; op: string; a: Expr; b: Expr; at: number }
  | { kind: "call"; target: Expr; method: string; args: Arg[]; at: number };
type Arg = Expr | { kind: "list"; items: number[]; at: number } | { kind: "bool"; value: boolean; at: number };

/** What a method accepts: t a tensor or number, T a tensor, i an integer, n a number, b a boolean, l a list of integers; `?` optional, `*` any count. */
const METHODS: Record<string, string> = {
  exp: "", log: "", sqrt: "", abs: "", neg: "", tanh: "", sigmoid: "", relu: "", gelu: "", erf: "", sin: "", cos: "", square: "", sign: "",
  add: "t", sub: "t", mul: "t", div: "t", pow: "t", maximum: "t", minimum: "t", matmul: "T",
  sum: "l? b?", mean: "l? b?", max: "l? b?", min: "l? b?", softmax: "i?", logSoftmax: "i?", clamp: "n n?",
  reshape: "i*", view: "i*", expand: "i*", permute: "i*", transpose: "i i", flatten: "i? i?", unsqueeze: "i", squeeze: "i?", slice: "i i? i?", T: "",
};
const PROPERTIES = new Set(["T"]);
export const EXPLAIN_METHODS = Object.keys(METHODS);

const BINARY: Record<string, "add" | "sub" | "mul" | "div" | "matmul" | "pow"> = { "+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "**": "pow" };

interface Token {
  text: string;
  at: number; // 0-based offset
  kind: "num" | "name" | "op" | "end";
}

/** An error pointing at a column of the expression, with a caret line under it. */
export class ExpressionError extends Error {
  constructor(source: string, at: number, why: string) {
    super(`${why} (at column ${at + 1})\n  ${source}\n  ${" ".repeat(at)}^`);
  }
}

function tokenize(src: string): Token[] {
  const re = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/@().,[\]]))/y;
  const out: Token[] = [];
  let at = 0;
  while (at < src.length) {
    if (/^\s*$/.test(src.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) {
      const bad = at + (src.slice(at).length - src.slice(at).trimStart().length);
      throw new ExpressionError(src, bad, `unexpected character "${src[bad]}": expressions are method chains over the named inputs, numbers and + - * / @ ** ( )`);
    }
    const text = m[1] ?? m[2] ?? m[3];
    out.push({ text, at: m.index + m[0].length - text.length, kind: m[1] ? "num" : m[2] ? "name" : "op" });
    at = re.lastIndex;
  }
  out.push({ text: "end of input", at: src.length, kind: "end" });
  return out;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly src: string, private readonly toks: Token[], private readonly names: ReadonlySet<string>) {}

  private get t(): Token {
    return this.toks[this.i];
  }
  private fail(tok: Token, why: string): never {
    throw new ExpressionError(this.src, tok.at, why);
  }
  private eat(text: string): boolean {
    if (this.t.kind === "op" && this.t.text === text) return ++this.i > 0;
    return false;
  }
  private expect(text: string): void {
    if (!this.eat(text)) this.fail(this.t, `expected "${text}" but found "${this.t.text}"`);
  }

  parse(): Expr {
    const e = this.sum();
    if (this.t.kind !== "end") this.fail(this.t, `unexpected "${this.t.text}" after a complete expression`);
    return e;
  }
  private binary(next: () => Expr, ops: string[]): Expr {
    let a = next();
    for (let op = this.t.text; this.t.kind === "op" && ops.includes(op); op = this.t.text) {
      const at = this.t.at;
      this.i++;
      a = { kind: "bin", op, a, b: next(), at };
    }
    return a;
  }
  private sum = (): Expr => this.binary(this.product, ["+", "-"]);
  private product = (): Expr => this.binary(this.unary, ["*", "/", "@"]);
  private unary = (): Expr => {
    const at = this.t.at;
    if (this.eat("-")) return { kind: "neg", x: this.unary(), at };
    return this.power();
  };
  private power(): Expr {
    const base = this.postfix();
    const at = this.t.at;
    return this.eat("**") ? { kind: "bin", op: "**", a: base, b: this.unary(), at } : base;
  }
  private postfix(): Expr {
    let e = this.primary();
    while (this.t.kind === "op" && this.t.text === ".") {
      this.i++;
      const tok = this.t;
      if (tok.kind !== "name") this.fail(tok, `expected a method name after "." but found "${tok.text}"`);
      if (!Object.hasOwn(METHODS, tok.text)) this.fail(tok, `"${tok.text}" is not an allowed method; allowed: ${EXPLAIN_METHODS.join(", ")}`);
      this.i++;
      const args = PROPERTIES.has(tok.text) ? [] : this.args(tok);
      e = { kind: "call", target: e, method: tok.text, args, at: tok.at };
    }
    return e;
  }
  private args(method: Token): Arg[] {
    if (!this.eat("(")) this.fail(this.t, `expected "(" after .${method.text}`);
    const args: Arg[] = [];
    if (this.eat(")")) return args;
    do args.push(this.arg());
    while (this.eat(","));
    this.expect(")");
    return args;
  }
  private arg(): Arg {
    const tok = this.t;
    if (tok.kind === "name" && (tok.text === "true" || tok.text === "false")) return this.i++, { kind: "bool", value: tok.text === "true", at: tok.at };
    if (!this.eat("[")) return this.sum();
    const items: number[] = [];
    if (!this.eat("]")) {
      do items.push(this.integer());
      while (this.eat(","));
      this.expect("]");
    }
    return { kind: "list", items, at: tok.at };
  }
  private integer(): number {
    const neg = this.eat("-");
    const tok = this.t;
    if (tok.kind !== "num" || !Number.isInteger(Number(tok.text))) this.fail(tok, `expected an integer but found "${tok.text}"`);
    this.i++;
    return neg ? -Number(tok.text) : Number(tok.text);
  }
  private primary(): Expr {
    const tok = this.t;
    if (++this.depth > 64) this.fail(tok, "the expression nests too deeply (more than 64 levels)");
    try {
      if (tok.kind === "num") return this.i++, { kind: "num", value: Number(tok.text), at: tok.at };
      if (tok.kind === "name") {
        if (!this.names.has(tok.text))
          this.fail(tok, `unknown name "${tok.text}"; the inputs are ${[...this.names].join(", ") || "(none)"}${Object.hasOwn(METHODS, tok.text) ? ` (did you mean .${tok.text}(...)?)` : ""}`);
        return this.i++, { kind: "name", name: tok.text, at: tok.at };
      }
      if (this.eat("(")) {
        const e = this.sum();
        this.expect(")");
        return e;
      }
      return this.fail(tok, `expected an input name, a number or "(" but found "${tok.text}"`);
    } finally {
      this.depth--;
    }
  }
}

/** Parse `src` over the input names; throws an ExpressionError naming the column. */
export function parseExpression(src: string, names: Iterable<string>): Expr {
  if (src.length > 2000) throw new ExpressionError(src.slice(0, 40) + "…", 40, `the expression is ${src.length} characters long; at most 2000`);
  return new Parser(src, tokenize(src), new Set(names)).parse();
}

type Value = Tensor | number;

/** One argument checked against its kind letter (see METHODS). */
function argValue(src: string, method: string, kind: string, a: Arg, inputs: Record<string, Tensor>): unknown {
  const bad = (want: string): never => {
    throw new ExpressionError(src, a.at, `.${method}() expects ${want} here`);
  };
  if (a.kind === "bool") return kind === "b" ? a.value : bad(kind === "l" ? "a dim or a list of dims" : "a number or a tensor");
  if (a.kind === "list") return kind === "l" ? a.items : bad("a single value, not a list");
  const v = evalExpr(src, a, inputs);
  if (kind === "b") return bad("true or false");
  if (kind === "T") return typeof v === "number" ? bad("a tensor") : v;
  if (kind === "t") return v;
  if (typeof v !== "number") return bad("a number");
  if ((kind === "i" || kind === "l") && !Number.isInteger(v)) return bad("an integer");
  return v;
}

function callArgs(src: string, e: Extract<Expr, { kind: "call" }>, inputs: Record<string, Tensor>): unknown[] {
  const spec = METHODS[e.method].split(" ").filter(Boolean);
  const variadic = spec[0]?.endsWith("*");
  const required = spec.filter((k) => !k.endsWith("?") && !k.endsWith("*")).length;
  if (e.args.length < required || (!variadic && e.args.length > spec.length)) {
    const want = variadic ? "integers" : `${required === spec.length ? spec.length : `${required} to ${spec.length}`} argument${spec.length === 1 ? "" : "s"}`;
    throw new ExpressionError(src, e.at, `.${e.method}() takes ${want}, got ${e.args.length}`);
  }
  // A variadic integer list takes its integers one by one or as one [list], as Tensor.reshape does.
  return e.args.map((a, k) => argValue(src, e.method, variadic ? "l" : spec[k][0], a, inputs));
}

function evalExpr(src: string, e: Expr, inputs: Record<string, Tensor>): Value {
  try {
    switch (e.kind) {
      case "num": return e.value;
      case "name": return inputs[e.name];
      case "neg": {
        const x = evalExpr(src, e.x, inputs);
        return typeof x === "number" ? -x : x.neg();
      }
      case "bin": {
        const [a, b] = [evalExpr(src, e.a, inputs), evalExpr(src, e.b, inputs)];
        const op = BINARY[e.op];
        if (typeof a === "number" && typeof b === "number") {
          if (op === "matmul") throw new ExpressionError(src, e.at, "@ needs tensors on both sides, got two numbers");
          return { add: a + b, sub: a - b, mul: a * b, div: a / b, pow: a ** b }[op];
        }
        if (op !== "matmul") return ops.binary(op, a, b);
        if (typeof a === "number" || typeof b === "number") throw new ExpressionError(src, e.at, `@ needs tensors on both sides, got a number on the ${typeof a === "number" ? "left" : "right"}`);
        return ops.matmul(a, b);
      }
      case "call": {
        const target = evalExpr(src, e.target, inputs);
        if (typeof target === "number") throw new ExpressionError(src, e.at, `.${e.method} is called on a number; call it on a tensor`);
        const args = callArgs(src, e, inputs);
        if (PROPERTIES.has(e.method)) return target.T;
        return (target[e.method as keyof Tensor] as (...xs: unknown[]) => Tensor).apply(target, args);
      }
    }
  } catch (err) {
    if (err instanceof ExpressionError) throw err;
    throw new ExpressionError(src, e.at, (err as Error).message);
  }
}

/** Parse and run `src` over `inputs`: the resulting tensor, its graph recorded as usual. */
export function evaluateExpression(src: string, inputs: Record<string, Tensor>): Tensor {
  const v = evalExpr(src, parseExpression(src, Object.keys(inputs)), inputs);
  if (typeof v === "number") throw new ExpressionError(src, 0, `the expression is the number ${v}; it must use at least one of the inputs (${Object.keys(inputs).join(", ")})`);
  return v;
}
