/**
 * wg.data.fashionMnist: the four IDX files, from a folder (Node: the entry
 * point registers the reader, so this file and the browser bundle stay free
 * of node:*) or from a URL (fetch, any platform), as tensors on a device.
 */
import type { Device } from "../backend/backend.js";
import { defaultDevice } from "../engine/device.js";
import { keep } from "../engine/scope.js";
import { tensor } from "../ops/index.js";
import type { LabeledData } from "./batches.js";
import { datasetFromIdx, IDX_FILES, type IdxBytes, type Split } from "./dataset.js";
import { fetchIdx } from "./fetch.js";

/** Options of wg.data.fashionMnist: where the files are (dir or baseUrl, not both) and where the tensors go. */
export interface FashionMnistOptions {
  /** Node: the folder holding the four IDX files, gzipped or not (default /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist). */
  dir?: string;
  /** A URL folder serving `train-images-idx3-ubyte.gz` and the other three (required in the browser). */
  baseUrl?: string;
  /** Where the tensors go (default wg.defaultDevice()). */
  device?: Device;
}

/** Fashion-MNIST as tensors: `train` (60,000 examples) and `test` (10,000). */
export interface FashionMnist {
  /** images [60000, 784] float32 in [0, 1] (28×28 row-major), labels [60000] int32 in 0..9. */
  train: LabeledData;
  /** images [10000, 784] float32 in [0, 1], labels [10000] int32 in 0..9 (1,000 per class). */
  test: LabeledData;
  /** The ten class names, indexed by label (torchvision's FashionMNIST.classes). */
  classes: string[];
  /** Releases the four tensors. */
  dispose(): void;
}

/** torchvision's names, in label order. */
const CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

type DirReader = (dir: string | undefined) => Promise<{ bytes: IdxBytes; where: string }>;
let readDir: DirReader | null = null;

/** @internal The Node entry point's folder reader (node-files.ts); the browser has none. */
export function setIdxDirReader(r: DirReader): void {
  readDir = r;
}

function checkOptions(opts: FashionMnistOptions): void {
  if (opts === null || typeof opts !== "object") throw new Error(`data.fashionMnist: options must be an object such as { dir } or { baseUrl }, got ${String(opts)}.`);
  const unknown = Object.keys(opts).filter((k) => !["dir", "baseUrl", "device"].includes(k));
  if (unknown.length) throw new Error(`data.fashionMnist: unknown option ${unknown.join(", ")}; the options are dir, baseUrl and device.`);
  for (const k of ["dir", "baseUrl"] as const)
    if (opts[k] !== undefined && (typeof opts[k] !== "string" || opts[k] === "")) throw new Error(`data.fashionMnist: ${k} must be a non-empty string, got ${JSON.stringify(opts[k])}.`);
  if (opts.dir !== undefined && opts.baseUrl !== undefined)
    throw new Error(`data.fashionMnist: pass dir (a folder, Node) or baseUrl (a URL), not both; got dir ${JSON.stringify(opts.dir)} and baseUrl ${JSON.stringify(opts.baseUrl)}.`);
  if (opts.device !== undefined && opts.device !== "cpu" && opts.device !== "webgpu")
    throw new Error(`data.fashionMnist: unknown device ${JSON.stringify(opts.device)}; expected "cpu" or "webgpu".`);
}

async function readFiles(opts: FashionMnistOptions): Promise<{ bytes: IdxBytes; where: string }> {
  if (opts.baseUrl !== undefined) return { bytes: await fetchIdx(opts.baseUrl), where: opts.baseUrl };
  if (!readDir)
    throw new Error(
      `data.fashionMnist: this platform has no file system to read ${opts.dir === undefined ? "the default folder" : JSON.stringify(opts.dir)} from. ` +
        `Fix: pass { baseUrl }, a URL folder that serves ${Object.values(IDX_FILES).map((f) => `${f}.gz`).join(", ")}.`,
    );
  return readDir(opts.dir);
}

/**
 * Loads Fashion-MNIST (28×28 grey images of 10 kinds of clothing): images as float32 [N, 784] in [0, 1], labels as
 * int32 [N], on the default device (or `device`). Node reads `dir` (default: Debian's dataset-fashion-mnist); with
 * `baseUrl`, and always in the browser, it fetches the four .gz files. Missing or corrupt files throw, naming the file.
 *
 * PyTorch: `torchvision.datasets.FashionMNIST` (with `transforms.ToTensor()`, flattened).
 * @example const { train, test } = await wg.data.fashionMnist(); // train.images.shape: [60000, 784]
 */
export async function fashionMnist(opts: FashionMnistOptions = {}): Promise<FashionMnist> {
  checkOptions(opts);
  const { bytes, where } = await readFiles(opts);
  let parsed;
  try {
    parsed = datasetFromIdx(bytes);
  } catch (e) {
    throw new Error(`data.fashionMnist: ${where}: ${(e as Error).message}`);
  }
  const device = opts.device ?? defaultDevice();
  const train = upload(parsed.train, device, "train");
  let test: LabeledData;
  try {
    test = upload(parsed.test, device, "test");
  } catch (e) {
    train.images.dispose();
    train.labels.dispose();
    throw e;
  }
  return { train, test, classes: [...CLASSES], dispose: () => [train, test].forEach((s) => (s.images.dispose(), s.labels.dispose())) };
}

/** One split's tensors, out of any enclosing tidy() (they are the caller's until dispose); a device too small for it says what to do. */
function upload(s: Split, device: Device, name: string): LabeledData {
  let images: LabeledData["images"] | null = null;
  try {
    images = keep(tensor(s.images, { shape: [s.n, s.features], device }));
    return { images, labels: keep(tensor(s.labels, { shape: [s.n], dtype: "int32", device })) };
  } catch (e) {
    images?.dispose();
    const fix = device === "cpu" ? "" : ` Or load on the CPU with { device: "cpu" } and move each batch with await x.to("${device}").`;
    throw new Error(`data.fashionMnist: the ${name} images (${s.n}×${s.features} float32, ${s.images.byteLength} bytes) do not fit on ${device}: ${(e as Error).message}${fix}`);
  }
}
