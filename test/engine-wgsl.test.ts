// The uniform packer lays fields out by WGSL's rules, read from each shader's struct; the
// template specializer refuses a template that lost its anchor.
import { describe, expect, it } from "vitest";
import elementwise from "../shaders/elementwise.wgsl";
import fill from "../shaders/fill.wgsl";
import gather from "../shaders/gather.wgsl";
import softmax from "../shaders/softmax.wgsl";
import { specialize, uniformLayout } from "../src/engine/wgsl.js";
import { opSignature } from "../src/engine/fused-kernel.js";

describe("uniformLayout", () => {
  it("places each field where WGSL's uniform rules put it", () => {
    const p = uniformLayout(elementwise);
    // n, rank, off_a..off_o are words 0-5; vec2 _pad at 6; the arrays of vec4 start at 16-byte bounds.
    expect(["n", "off_o", "_pad", "shape", "stride_a", "stride_o", "period"].map((f) => p.word(f))).toEqual([0, 5, 6, 8, 16, 40, 48]);
    expect(p.bytes).toBe(208);
    expect(uniformLayout(gather).word("check_id")).toBe(3);
    expect(uniformLayout(softmax).word("check_id")).toBe(5);
  });

  it("packs numbers by field name and type, zeroing the rest", () => {
    const p = uniformLayout(fill);
    const words = new DataView(p.pack({ n: 7, key: 3, start: 0.5, step: -2, start_i: -4 }).slice(0));
    expect([words.getUint32(0, true), words.getUint32(4, true), words.getUint32(8, true)]).toEqual([7, 0, 3]);
    expect([words.getFloat32(16, true), words.getFloat32(20, true), words.getInt32(24, true)]).toEqual([0.5, -2, -4]);
    const again = new Uint32Array(p.pack({ n: 1 }).slice(0));
    expect([...again]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]); // the scratch block is cleared between packs
    const e = new Uint32Array(uniformLayout(elementwise).pack({ shape: [2, 3], period: [0, 4] }).slice(0));
    expect([e[8], e[9], e[10], e[48], e[49]]).toEqual([2, 3, 0, 0, 4]);
  });

  it("throws naming the struct and field on a misspelt field, an overlong array or an out-of-range value", () => {
    const p = uniformLayout(elementwise);
    expect(() => p.pack({ off_d: 1 })).toThrow(/struct Params has no field off_d \(fields: n, rank, off_a/);
    expect(() => p.pack({ shape: [1, 2, 3, 4, 5, 6, 7, 8, 9] })).toThrow(/Params\.shape holds 8 values, got 9/);
    expect(() => p.pack({ n: -1 })).toThrow(/field n is u32, got -1/);
    expect(() => p.pack({ n: 1.5 })).toThrow(/field n is u32, got 1.5/);
    expect(() => uniformLayout("struct Other { a: u32 }")).toThrow(/has no struct Params/);
    expect(() => uniformLayout("struct Params { m: mat4x4<f32> }")).toThrow(/field m has type mat4x4<f32>/);
  });
});

describe("specialize", () => {
  it("replaces each anchor once, and throws when one is missing", () => {
    expect(specialize("op", "alias T = f32; fn f() {}", [["alias T = f32;", "alias T = i32;"]])).toBe("alias T = i32; fn f() {}");
    expect(() => specialize("sum", "alias O = f32;", [["alias T = f32;", "alias T = i32;"]])).toThrow(/sum: internal error: the WGSL template has no "alias T = f32;"/);
  });

  it("finds every anchor the elementwise kernels use in their shipped template", () => {
    const code = specialize("add", elementwise, [["alias A = f32;", "alias A = i32;"], ["return O(a + b);", "return O(a * b);"]]);
    expect(code).toContain("alias A = i32;");
    expect(code).toContain("return O(a * b);");
  });
});

describe("opSignature (a fused chain's pipeline key numbers each op)", () => {
  it("gives each distinct (name, expression) its own number, and the same pair the same one", () => {
    const pairs: [string, string][] = [["mul", "a * b"], ["mul", "a * b + c"], ["add", "a * b"], ["add", "a + b"], ["sig_test_new", "a"]];
    const sigs = pairs.map(([n, e]) => opSignature(n, e));
    expect(new Set(sigs).size).toBe(pairs.length);
    expect(pairs.map(([n, e]) => opSignature(n, e))).toEqual(sigs);
    // A name met later still gets a number no earlier pair has.
    const later = opSignature("sig_test_later", "a * b");
    expect(sigs).not.toContain(later);
    expect(opSignature("mul", "a - b")).not.toBe(later);
  });
});
