/**
 * Named inputs for explained expressions (the CLI's --inputs, the explain
 * page): "x = [1, 2] const; W ~ 2x3". `=` gives values (JSON numbers or nested
 * lists), `~` a random normal shape; `const` marks an input that needs no
 * gradient. Random inputs are drawn in the order written.
 */
import * as ops from "../ops/index.js";
import type { Device } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";

export type InputSpec = { name: string; requiresGrad: boolean } & ({ shape: number[] } | { data: unknown });

const MAX_ELEMENTS = 1 << 20;

function parseOne(part: string, seen: Set<string>): InputSpec {
  const m = /^([A-Za-z_]\w*)\s*(=|~)\s*(.*?)(\s+const)?$/.exec(part);
  if (!m) throw new Error(`inputs: "${part}" is neither NAME = VALUES (e.g. x = [1, 2]) nor NAME ~ SHAPE (e.g. W ~ 2x3)`);
  const [, name, kind, body, constant] = m;
  if (seen.has(name)) throw new Error(`inputs: ${name} is given twice`);
  seen.add(name);
  const requiresGrad = !constant;
  if (kind === "~") {
    if (!/^(\d+(x\d+)*)?$/.test(body)) throw new Error(`inputs: ${name} ~ ${body}: a shape is dims joined by x (e.g. 2x3; nothing for a scalar)`);
    const shape = body ? body.split("x").map(Number) : [];
    if (shape.some((d) => d < 1) || shape.reduce((a, b) => a * b, 1) > MAX_ELEMENTS)
      throw new Error(`inputs: ${name} ~ ${body}: dims must be at least 1, at most ${MAX_ELEMENTS} elements in all`);
    return { name, requiresGrad, shape };
  }
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw new Error(`inputs: ${name} = ${body} is not a number or a [nested, list] of numbers`);
  }
  const flat = [data].flat(Infinity as 1);
  if (!flat.every((v) => typeof v === "number")) throw new Error(`inputs: ${name} = ${body} holds something other than numbers`);
  return { name, requiresGrad, data };
}

export function parseInputs(spec: string): InputSpec[] {
  const seen = new Set<string>();
  return spec.split(";").map((p) => p.trim()).filter(Boolean).map((p) => parseOne(p, seen));
}

/** The tensors of `spec`, random ones drawn after manualSeed(seed). Built in a Map, so a name like __proto__ stays a name. */
export function makeInputs(spec: string | InputSpec[], seed: number, device?: Device): Record<string, Tensor> {
  const specs = typeof spec === "string" ? parseInputs(spec) : spec;
  ops.manualSeed(seed);
  const out = new Map<string, Tensor>();
  for (const s of specs) {
    const opts = { requiresGrad: s.requiresGrad, device };
    out.set(s.name, "shape" in s ? ops.randn(s.shape, opts) : ops.tensor(s.data as number[], opts));
  }
  return Object.fromEntries(out);
}
