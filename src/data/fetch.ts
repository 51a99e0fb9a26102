/**
 * Browser-safe loading (no Node imports): gunzip through the standard
 * DecompressionStream, and Fashion-MNIST fetched from a URL prefix, as the
 * browser demo serves the Debian package's .gz files.
 */
import { IdxInflater, isGzip } from "./idx.js";
import { IDX_FILES, type IdxBytes } from "./dataset.js";

/** Decompress gzip; with `idx` (the file's name for errors) the output is capped at the size its IDX header promises. */
export async function gunzip(bytes: Uint8Array, idx?: string): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  if (idx === undefined) return new Uint8Array(await new Response(stream).arrayBuffer());
  const out = new IdxInflater(idx);
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out.result();
    try {
      out.add(value);
    } catch (e) {
      await reader.cancel();
      throw e;
    }
  }
}

/** Fetch `${baseUrl}/train-images-idx3-ubyte.gz` and the other three, decompressed; a body that is not gzip is taken as raw IDX. */
export async function fetchIdx(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<IdxBytes> {
  const base = baseUrl.replace(/\/+$/, "");
  const entries = await Promise.all(
    Object.entries(IDX_FILES).map(async ([key, file]) => {
      const url = `${base}/${file}.gz`;
      let res: Response;
      try {
        res = await fetchFn(url);
      } catch (e) {
        throw new Error(`data.fashionMnist: GET ${url} failed (${(e as Error).message}); check that baseUrl points at a server that serves the four IDX .gz files.`);
      }
      if (!res.ok) throw new Error(`data.fashionMnist: GET ${url} answered ${res.status} ${res.statusText}; serve the four IDX .gz files there.`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      // A server may already have undone the gzip (Content-Encoding), so look at the bytes.
      return [key, isGzip(bytes) ? await gunzip(bytes, url) : bytes] as const;
    }),
  );
  return Object.fromEntries(entries) as IdxBytes;
}
