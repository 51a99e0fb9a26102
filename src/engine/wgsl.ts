/**
 * Two helpers for kernels built from a .wgsl template: packing a launch's
 * uniform block by the field names its WGSL struct declares, and
 * specializing a template by text replacement that fails loudly when the
 * template no longer contains the text it replaces.
 */

type Scalar = "u32" | "i32" | "f32";
interface Field { readonly name: string; readonly scalar: Scalar; readonly offset: number; readonly count: number }

export interface UniformLayout {
  /** Bytes of the whole struct, padded to 16 (WGSL's uniform layout rules). */
  readonly bytes: number;
  /** The u32 word where `name` starts (the error flag writes a launch id there). */
  word(name: string): number;
  /**
   * The uniform block with each named field set and every other field zero. A number fills a
   * scalar; an array fills a vector or array field from its start. The result is a scratch
   * buffer reused by the next pack: backends copy params as they encode.
   */
  pack(values: Readonly<Record<string, number | ArrayLike<number>>>): ArrayBuffer;
}

// WGSL uniform layout: scalars align to 4, vec2 to 8, vec4 and arrays of vec4 to 16.
const TYPE = /^(?:(u32|i32|f32)|vec([24])<(u32|i32|f32)>|array<vec4<(u32|i32|f32)>,\s*(\d+)>)$/;

/** The layout of `struct name { ... }` in `source`. Throws when the struct is missing or holds a type it does not know. */
export function uniformLayout(source: string, name = "Params"): UniformLayout {
  const body = new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`).exec(source)?.[1];
  if (body === undefined) throw new Error(`uniformLayout: the WGSL has no struct ${name}.`);
  const fields: Field[] = [];
  let offset = 0;
  // Fields end at a comma, except the one inside an array type's <element, count>.
  for (const line of body.replace(/\/\/[^\n]*/g, "").replace(/,(\s*\d+\s*>)/g, ";$1").split(",")) {
    const m = /^\s*(\w+)\s*:\s*(.+?)\s*$/.exec(line);
    if (!m) continue;
    const t = TYPE.exec(m[2].replace(/\s+/g, "").replace(";", ","));
    if (!t) throw new Error(`uniformLayout: struct ${name}'s field ${m[1]} has type ${m[2]}, which this helper does not lay out.`);
    const count = t[1] ? 1 : t[2] ? Number(t[2]) : 4 * Number(t[5]);
    const align = count === 1 ? 4 : count === 2 ? 8 : 16;
    offset = Math.ceil(offset / align) * align;
    fields.push({ name: m[1], scalar: (t[1] ?? t[3] ?? t[4]) as Scalar, offset, count });
    offset += 4 * count;
  }
  const bytes = Math.ceil(offset / 16) * 16;
  const byName = new Map(fields.map((f) => [f.name, f]));
  const scratch = new ArrayBuffer(bytes);
  // Typed views, not a DataView: this runs once per launch. WebGPU hosts are little-endian like its buffers.
  const words = { u32: new Uint32Array(scratch), i32: new Int32Array(scratch), f32: new Float32Array(scratch) };
  const field = (key: string) => {
    const f = byName.get(key);
    if (!f) throw new Error(`uniformLayout: struct ${name} has no field ${key} (fields: ${fields.map((x) => x.name).join(", ")}).`);
    return f;
  };
  const put = (f: Field, at: number, x: number) => {
    const ok = f.scalar === "f32" || (f.scalar === "u32" ? x >>> 0 === x : (x | 0) === x);
    if (!ok) throw new Error(`uniformLayout: field ${f.name} is ${f.scalar}, got ${x}.`);
    words[f.scalar][at] = x;
  };
  return {
    bytes,
    word: (key) => field(key).offset / 4,
    pack(values) {
      words.u32.fill(0);
      for (const key in values) {
        const f = field(key);
        const v = values[key];
        const at = f.offset / 4;
        if (typeof v === "number") {
          put(f, at, v);
          continue;
        }
        if (v.length > f.count) throw new Error(`uniformLayout: ${name}.${key} holds ${f.count} values, got ${v.length}.`);
        for (let k = 0; k < v.length; k++) put(f, at + k, v[k]);
      }
      return scratch;
    },
  };
}

/**
 * `source` with each anchor replaced by its text. An anchor the template does not contain
 * throws, so editing a shader cannot silently leave a kernel unspecialized.
 */
export function specialize(what: string, source: string, replacements: readonly (readonly [anchor: string, text: string])[]): string {
  let out = source;
  for (const [anchor, text] of replacements) {
    const at = out.indexOf(anchor);
    if (at < 0) throw new Error(`${what}: internal error: the WGSL template has no "${anchor}" to specialize.`);
    out = out.slice(0, at) + text + out.slice(at + anchor.length);
  }
  return out;
}
