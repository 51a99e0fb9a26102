/**
 * Browser-safe loading (no Node imports): gunzip through the standard
 * DecompressionStream, and Fashion-MNIST fetched from a URL prefix, as the
 * browser demo serves the Debian package's .gz files.
 */
import { isGzip } from "./idx.js";
import { datasetFromIdx, IDX_FILES, type Dataset, type IdxBytes } from "./dataset.js";

export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Fetch `${baseUrl}/train-images-idx3-ubyte.gz` and the other three; a body that is not gzip is taken as raw IDX. */
export async function fetchFashionMnist(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<Dataset> {
  const base = baseUrl.replace(/\/+$/, "");
  const entries = await Promise.all(
    Object.entries(IDX_FILES).map(async ([key, file]) => {
      const url = `${base}/${file}.gz`;
      const res = await fetchFn(url);
      if (!res.ok) throw new Error(`Fashion-MNIST: GET ${url} answered ${res.status} ${res.statusText}; serve the four IDX .gz files there.`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      // A server may already have undone the gzip (Content-Encoding), so look at the bytes.
      return [key, isGzip(bytes) ? await gunzip(bytes) : bytes] as const;
    }),
  );
  return datasetFromIdx(Object.fromEntries(entries) as IdxBytes);
}
