/**
 * Node-only: the text corpus from Debian's `fortunes` package. Every file in
 * the folder that has a `.dat` index (strfile's), in name order, concatenated;
 * the `%` lines that separate fortunes become blank lines.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export const DEFAULT_FORTUNES_DIR = "/usr/share/games/fortunes";

export async function loadFortunes(dir = DEFAULT_FORTUNES_DIR): Promise<string> {
  if (!existsSync(dir))
    throw new Error(`fortunes: no folder ${dir}. Fix: apt-get install -y fortunes (Debian's package; fortunes-min has too little text), or pass the folder of fortune files.`);
  const names = (await readdir(dir)).filter((n) => n.endsWith(".dat")).map((n) => n.slice(0, -4)).filter((n) => existsSync(join(dir, n))).sort();
  if (names.length === 0) throw new Error(`fortunes: ${dir} has no fortune files with a .dat index. Fix: apt-get install -y fortunes.`);
  const texts = await Promise.all(names.map((n) => readFile(join(dir, n), "utf8")));
  return texts.map((t) => t.replace(/^%$/gm, "")).join("");
}
