/**
 * safetensors: bit-exact round trips on every device, the byte layout read
 * back by hand, a hand-built file, a model round trip, and every malformed
 * file rejected with a clear error before any tensor is made.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { DEVICES, randomData, startWebgpu, values } from "./helpers.js";

beforeAll(startWebgpu);

/** A file from a header (object or raw text) and `dataBytes` bytes of data (0, 1, 2, ...); `claim` overrides the length field. */
function file(header: object | string | Uint8Array, dataBytes: number, claim?: bigint): Uint8Array {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, claim ?? BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + json.length + i] = i;
  return out;
}

const f32 = (shape: number[], begin: number) => ({ dtype: "F32", shape, data_offsets: [begin, begin + 4 * shape.reduce((a, b) => a * b, 1)] });
const bits = (t: Float32Array | Int32Array | Float64Array) => Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length));

describe.each(DEVICES)("safetensors on %s", (device) => {
  test("round trip: names in order, shapes, dtypes and every bit (NaN, ±0, ±∞, subnormals, int32 extremes)", async () => {
    const special = new Float32Array([NaN, -0, 0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, -1.5]);
    const dict: Record<string, Tensor> = {
      "layer.weight": wg.tensor(special, { shape: [2, 4], device }),
      labels: wg.tensor(new Int32Array([-2147483648, 2147483647, 0, -1]), { device }),
      scalar: wg.tensor(0.1, { device }),
      empty: wg.zeros([0, 3], { device }),
      "0.bias": wg.tensor(randomData(5, -1, 1, 4), { device }),
    };
    const back = wg.load(await wg.save(dict), { device });
    expect(Object.keys(back)).toEqual(Object.keys(dict));
    for (const [k, t] of Object.entries(dict)) {
      expect([back[k].shape, back[k].dtype, back[k].device], k).toEqual([t.shape, t.dtype, device]);
      expect(bits(await back[k].data()), k).toEqual(bits(await t.data()));
    }
  });

  test("a model's state dict round-trips into a fresh model with the same outputs", async () => {
    wg.manualSeed(1);
    const a = new wg.nn.Sequential(new wg.nn.Linear(3, 4, { device }), new wg.nn.Tanh(), new wg.nn.Linear(4, 2, { device }));
    wg.manualSeed(2);
    const b = new wg.nn.Sequential(new wg.nn.Linear(3, 4, { device }), new wg.nn.Tanh(), new wg.nn.Linear(4, 2, { device }));
    const x = wg.tensor(randomData(6, -1, 1, 3), { shape: [2, 3], device });
    expect(await values(b.forward(x))).not.toEqual(await values(a.forward(x)));
    b.loadStateDict(wg.load(await wg.save(a.stateDict()), { device }));
    expect(await values(b.forward(x))).toEqual(await values(a.forward(x)));
  });

  test("load puts tensors on the default device", async () => {
    const t = wg.load(await wg.save({ t: wg.ones([2], { device }) }))["t"];
    expect(t.device).toBe(wg.defaultDevice());
  });
});

describe("safetensors format", () => {
  test("layout: u64 LE header length, JSON header padded with spaces to 8 bytes, then LE data at the offsets", async () => {
    const bytes = await wg.save({ a: wg.tensor([1, -2], { device: "cpu" }), b: wg.tensor([7], { dtype: "int32", device: "cpu" }) });
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(bytes.length).toBe(8 + n + 12);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeGreaterThan(n - 8);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(JSON.parse(text)).toEqual({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "I32", shape: [1], data_offsets: [8, 12] } });
    expect([view.getFloat32(8 + n, true), view.getFloat32(12 + n, true), view.getInt32(16 + n, true)]).toEqual([1, -2, 7]);
  });

  test("metadata is written under __metadata__ and skipped by load", async () => {
    const bytes = await wg.save({ a: wg.ones([1], { device: "cpu" }) }, { format: "pt", epoch: "3" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)))["__metadata__"]).toEqual({ format: "pt", epoch: "3" });
    expect(Object.keys(wg.load(bytes, { device: "cpu" }))).toEqual(["a"]);
  });

  test("reads a file written by another writer: unpadded header, at an unaligned offset in a larger buffer", async () => {
    const inner = file({ __metadata__: { by: "hand" }, x: { dtype: "I32", shape: [2, 1], data_offsets: [0, 8] } }, 8);
    const dv = new DataView(inner.buffer, inner.length - 8);
    dv.setInt32(0, 7, true);
    dv.setInt32(4, -3, true);
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    const { x } = wg.load(outer.subarray(3), { device: "cpu" });
    expect([x.shape, x.dtype, await values(x)]).toEqual([[2, 1], "int32", [7, -3]]);
    expect(await values(wg.load(inner.buffer as ArrayBuffer, { device: "cpu" }).x)).toEqual([7, -3]);
  });

  const malformed: { name: string; bytes: () => Uint8Array | Promise<Uint8Array>; error: RegExp }[] = [
    { name: "shorter than the length field", bytes: () => new Uint8Array(5), error: /has 5 bytes, fewer than the 8-byte header length/ },
    { name: "header length past the end", bytes: () => file({ a: f32([1], 0) }, 4, 500n), error: /header claims 500 bytes but only \d+ follow \(truncated\)/ },
    { name: "oversized header length", bytes: () => file({}, 0, 1n << 40n), error: /header length 1099511627776 is over the 100000000-byte limit/ },
    { name: "header not an object", bytes: () => file("[1, 2]", 0), error: /header does not start with "\{"/ },
    { name: "header not JSON", bytes: () => file('{"a": {', 0), error: /header is not UTF-8 JSON/ },
    { name: "header not UTF-8", bytes: () => file(new Uint8Array([0x7b, 0xff, 0x7d]), 0), error: /header is not UTF-8 JSON/ },
    { name: "entry not an object", bytes: () => file({ a: 5 }, 0), error: /"a" has dtype undefined/ },
    { name: "unknown dtype", bytes: () => file({ a: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, 4), error: /"a" has dtype "F16"; webgrad loads F32 and I32/ },
    { name: "bad shape", bytes: () => file({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4), error: /"a" has shape \[-1\], not a list of non-negative integers/ },
    { name: "reversed offsets", bytes: () => file({ a: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, 4), error: /"a" has data_offsets \[4,0\]/ },
    { name: "offsets past the data", bytes: () => file({ a: f32([4], 0) }, 8), error: /"a" ends at data byte 16 but the file holds 8 data bytes/ },
    { name: "size does not match the shape", bytes: () => file({ a: { dtype: "I32", shape: [3], data_offsets: [0, 8] } }, 8), error: /"a" has 8 bytes but shape \[3\] of I32 needs 12/ },
    { name: "overlapping tensors", bytes: () => file({ a: f32([2], 0), b: f32([2], 4) }, 12), error: /"b" \(bytes 4-12\) overlaps another tensor/ },
    { name: "a gap between tensors", bytes: () => file({ a: f32([2], 0), b: f32([2], 12) }, 20), error: /data bytes 8-12 before "b" belong to no tensor/ },
    { name: "trailing bytes", bytes: () => file({ a: f32([2], 0) }, 12), error: /its tensors cover 8 data bytes but 12 follow the header/ },
    { name: "bad metadata", bytes: () => file({ __metadata__: { a: 1 } }, 0), error: /"__metadata__" must be an object of strings/ },
    { name: "dtype naming an Object.prototype key", bytes: () => file({ a: { dtype: "constructor", shape: [1], data_offsets: [0, 4] } }, 4), error: /"a" has dtype "constructor"; webgrad loads F32 and I32/ },
    { name: "unknown dtype BF16", bytes: () => file({ w: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } }, 4), error: /"w" has dtype "BF16"; webgrad loads F32 and I32 \(convert/ },
    {
      name: "a truncated file",
      bytes: async () => (await wg.save({ a: wg.ones([2, 2], { device: "cpu" }), b: wg.ones([3], { device: "cpu" }) })).slice(0, -4),
      error: /"b" ends at data byte 28 but the file holds 24 data bytes \(truncated\?\)/,
    },
  ];
  test.each(malformed)("malformed: $name throws and makes no tensor", async ({ bytes, error }) => {
    const b = await bytes();
    const before = wg.memory("cpu").tensors;
    expect(() => wg.load(b, { device: "cpu" })).toThrow(error);
    expect(() => wg.load(b, { device: "cpu" })).toThrow(/^load: not a valid safetensors file: /);
    expect(wg.memory("cpu").tensors).toBe(before);
  });

  const badSaves: { name: string; dict: () => Record<string, unknown>; error: RegExp }[] = [
    { name: "float64", dict: () => ({ a: wg.ones([2], { dtype: "float64", device: "cpu" }) }), error: /^save: "a" \[2\] is float64; webgrad saves float32 and int32\. Fix: t\.float\(\)/ },
    { name: "not a tensor", dict: () => ({ a: [1, 2] }), error: /^save: "a" is object, not a Tensor/ },
    { name: "reserved name", dict: () => ({ __metadata__: wg.ones([1], { device: "cpu" }) }), error: /^save: "__metadata__" is reserved/ },
    { name: "disposed", dict: () => { const t = wg.ones([3], { device: "cpu" }); t.dispose(); return { a: t }; }, error: /^save: "a" \(shape \[3\]\) was disposed/ },
  ];
  test.each(badSaves)("save rejects $name", async ({ dict, error }) => {
    await expect(wg.save(dict() as Record<string, Tensor>)).rejects.toThrow(error);
  });
});

describe("safetensors from Node files and hostile names", () => {
  test("load(fs.readFileSync(path)): a Buffer is a view into a larger pool, read from its own offset", async () => {
    const dir = mkdtempSync(join(tmpdir(), "webgrad-st-"));
    try {
      const dict = { w: wg.tensor([[1.5, -2], [3, 4.25]], { device: "cpu" }), n: wg.tensor(new Int32Array([7, -8, 9]), { device: "cpu" }) };
      writeFileSync(join(dir, "m.safetensors"), await wg.save(dict));
      readFileSync(join(dir, "m.safetensors")); // a first read, so the second Buffer sits further into Node's pool
      const buf = readFileSync(join(dir, "m.safetensors"));
      expect(Buffer.isBuffer(buf)).toBe(true);
      for (const bytes of [buf, new Uint8Array(buf), buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)]) {
        const back = wg.load(bytes, { device: "cpu" });
        expect(await back.w.tolist()).toEqual([[1.5, -2], [3, 4.25]]);
        expect(await back.n.tolist()).toEqual([7, -8, 9]);
      }
      // The same inside a pooled Buffer that does not start at 0: a small file comes from Node's shared pool.
      const pooled = Buffer.from(buf);
      expect(pooled.byteOffset).toBeGreaterThan(0);
      expect(await wg.load(pooled, { device: "cpu" }).w.tolist()).toEqual([[1.5, -2], [3, 4.25]]);
      expect(() => wg.load("model.safetensors" as unknown as Uint8Array)).toThrow(/load: expected the file's bytes \(a Uint8Array, an ArrayBuffer or a Node Buffer.*got string/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a tensor named "__proto__" is an own entry: it round-trips and the dict keeps its prototype', async () => {
    const dict: Record<string, Tensor> = {};
    Object.defineProperty(dict, "__proto__", { value: wg.tensor([1, 2], { device: "cpu" }), enumerable: true });
    dict.b = wg.tensor([3], { device: "cpu" });
    const back = wg.load(await wg.save(dict), { device: "cpu" });
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "b"]);
    expect(await Object.getOwnPropertyDescriptor(back, "__proto__")!.value.tolist()).toEqual([1, 2]);
    const hand = wg.load(file({ ["__proto__"]: f32([1], 0), toString: f32([1], 4) } as object, 8), { device: "cpu" });
    expect(Object.keys(hand).sort()).toEqual(["__proto__", "toString"]);
    expect(typeof ({} as object).toString).toBe("function");
  });
});
