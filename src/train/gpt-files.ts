/** A Gpt to and from safetensors: the weights, with the config and vocabulary as JSON in the metadata. */
import * as wg from "../index.js";
import { Gpt, type GptConfig } from "./gpt.js";

export async function saveGpt(model: Gpt, vocab: string[], extra: Record<string, string> = {}): Promise<Uint8Array> {
  return wg.save(model.stateDict(), { ...extra, model: "gpt", config: JSON.stringify(model.config), vocab: JSON.stringify(vocab) });
}

export function loadGpt(bytes: Uint8Array): { model: Gpt; vocab: string[] } {
  const meta = wg.loadMetadata(bytes) as Record<string, string> | null;
  if (!meta || meta.model !== "gpt" || !meta.config || !meta.vocab)
    throw new Error("loadGpt: the file has no GPT config and vocabulary in its metadata. Fix: use a file written by `webgrad train --model gpt`.");
  const config = JSON.parse(meta.config) as GptConfig;
  const vocab = JSON.parse(meta.vocab) as string[];
  const model = new Gpt(config);
  model.loadStateDict(wg.load(bytes));
  return { model, vocab };
}
