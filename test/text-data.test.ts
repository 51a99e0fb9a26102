/** wg.data.text: vocabulary, encode/decode, the split, seeded windows; and the fortunes corpus as the issue defines it. */
import { describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { loadFortunes } from "../src/data/fortunes.js";
import { serveDemo } from "../src/cli/demo-server.js";

describe("wg.data.text", () => {
  const corpus = "hello world, hello text!\n".repeat(8);
  const d = wg.data.text(corpus, { blockSize: 5 });

  test("the vocabulary is the corpus's characters sorted by code point; encode and decode invert each other", () => {
    expect(d.vocab).toEqual([..."\n !,dehlortwx"]);
    const ids = d.encode("hello");
    expect(Array.from(ids)).toEqual([6, 5, 7, 7, 8]);
    expect(d.decode(ids)).toBe("hello");
    expect(d.decode(d.encode(corpus))).toBe(corpus);
  });

  test("the last 10% is validation, the rest training, in order", () => {
    const n = corpus.length;
    expect(d.train.length).toBe(Math.floor(0.9 * n));
    expect(d.decode(d.train) + d.decode(d.val)).toBe(corpus);
  });

  test("windows: y is x shifted by one character, drawn from the split, the same for the same seed", async () => {
    wg.defaultDevice();
    const a = d.batches({ batchSize: 3, seed: 7 }).next().value;
    const b = d.batches({ batchSize: 3, seed: 7 }).next().value;
    const c = d.batches({ batchSize: 3, seed: 8 }).next().value;
    expect(a.x.shape).toEqual([3, 5]);
    expect(a.x.dtype).toBe("int32");
    const x = Array.from(await a.x.data()), y = Array.from(await a.y.data());
    expect(Array.from(await b.x.data())).toEqual(x);
    expect(Array.from(await c.x.data())).not.toEqual(x);
    const train = d.decode(d.train);
    for (let r = 0; r < 3; r++) {
      const xs = d.decode(x.slice(r * 5, r * 5 + 5)), ys = d.decode(y.slice(r * 5, r * 5 + 5));
      expect(xs.slice(1)).toBe(ys.slice(0, 4));
      expect(train).toContain(xs + ys.slice(4));
    }
    [a, b, c].forEach((t) => t.dispose());
  });

  test("bad input: unknown characters, bad sizes and too-short splits are Errors that say what to do", () => {
    expect(() => d.encode("he ?")).toThrow(/character "\?" \(U\+003F\) at position 3 is not in the 13-character vocabulary/);
    expect(() => d.decode([99])).toThrow(/id 99 at position 0 is outside the vocabulary \[0, 13\)/);
    expect(() => wg.data.text(corpus, { blockSize: 0 })).toThrow(/blockSize must be a positive integer, got 0/);
    expect(() => wg.data.text(corpus, { blockSize: 64 }).batches({ batchSize: 2, split: "val" }).next()).toThrow(/val split has 20 characters, fewer than blockSize \+ 1 = 65/);
    expect(() => d.batches({ batchSize: 1.5 }).next()).toThrow(/batchSize must be a positive integer/);
  });
});

describe("the fortunes corpus", () => {
  test("every file with a .dat index, in name order, % lines turned blank: 2.56 M characters, 113 distinct, unigram entropy 3.30 nats", async () => {
    const corpus = await loadFortunes();
    expect(corpus).not.toMatch(/^%$/m);
    const d = wg.data.text(corpus, { blockSize: 64 });
    expect(d.vocab.length).toBe(113);
    expect(d.train.length + d.val.length).toBe(2561411);
    const counts = new Map<string, number>();
    for (const c of corpus) counts.set(c, (counts.get(c) ?? 0) + 1);
    let h = 0;
    for (const n of counts.values()) h -= (n / corpus.length) * Math.log(n / corpus.length);
    expect(h).toBeCloseTo(3.304, 3);
  });

  test("a missing folder names the package to install", async () => {
    await expect(loadFortunes("/nonexistent/fortunes")).rejects.toThrow(/apt-get install -y fortunes/);
  });
});

describe("the demo server's /data/fortunes.txt", () => {
  test("serves the same corpus; a missing folder is a 404 that names the package", async () => {
    const good = await serveDemo({ root: "examples/browser", dataDir: "/nonexistent", port: 0 });
    const bad = await serveDemo({ root: "examples/browser", dataDir: "/nonexistent", port: 0, fortunesDir: "/nonexistent/fortunes" });
    try {
      const res = await fetch(`${good.url}data/fortunes.txt`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(await loadFortunes());
      const miss = await fetch(`${bad.url}data/fortunes.txt`);
      expect(miss.status).toBe(404);
      expect(await miss.text()).toMatch(/apt-get install -y fortunes/);
    } finally {
      await good.close();
      await bad.close();
    }
  });
});
