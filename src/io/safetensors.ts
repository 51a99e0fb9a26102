/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes
 * of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
 * {string: string}} padded with spaces, then the raw little-endian data, each
 * tensor's bytes at [begin, end) of that data. load() checks the whole file
 * before it makes any tensor, so a bad file leaves nothing behind.
 */
import type { Device } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { tensor } from "../ops/creation.js";
import { fmt, numel } from "../shape.js";
import { Tensor } from "../tensor.js";

const CODES: Partial<Record<DType, string>> = { float32: "F32", int32: "I32" };
const DTYPES: Record<string, DType> = { F32: "float32", I32: "int32" };
/** As the reference implementation: a longer header is taken as a corrupt file, not read. */
const MAX_HEADER = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** dict[name] = value as an own property: a tensor named "__proto__" must not replace the dict's prototype. */
function put<T>(dict: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(dict, name, { value, enumerable: true, writable: true, configurable: true });
}

/** 4-byte elements in file order: a no-op on little-endian hosts (all current browsers and Node platforms). */
function toLittleEndian(bytes: Uint8Array): Uint8Array {
  if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  return bytes;
}

/**
 * Serializes a state dict (tensors by name, insertion order kept) with optional string metadata into the bytes of a
 * safetensors file, which PyTorch's `safetensors` reads. float32 and int32 only. Async: it reads the tensors back.
 *
 * PyTorch: `safetensors.torch.save` (`torch.save` for its own format).
 * @example const bytes = await wg.save(model.stateDict(), { epoch: "3" }) // Uint8Array
 */
export async function save(stateDict: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  if (stateDict === null || typeof stateDict !== "object" || stateDict instanceof Tensor)
    throw new Error(`save: expected an object of tensors by name, e.g. await wg.save(model.stateDict()), got ${stateDict instanceof Tensor ? "a Tensor" : String(stateDict)}.`);
  const entries = Object.entries(stateDict);
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new Error(`save: "__metadata__" is reserved for metadata. Fix: rename the tensor, and pass metadata as save(dict, metadata).`);
    if (!(t instanceof Tensor)) throw new Error(`save: "${name}" is ${typeof t}, not a Tensor.`);
    if (t.isDisposed) throw new Error(`save: "${name}" (shape ${fmt(t.shape)}) was disposed.`);
    if (!CODES[t.dtype]) throw new Error(`save: "${name}" ${fmt(t.shape)} is ${t.dtype}; webgrad saves float32 and int32. Fix: t.float().`);
  }
  if (metadata !== undefined && (metadata === null || typeof metadata !== "object" || Object.values(metadata).some((v) => typeof v !== "string")))
    throw new Error(`save: metadata must be an object of strings, e.g. { epoch: "3" }.`);
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of entries) {
    const data = await t.data();
    const bytes = toLittleEndian(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    put(header, name, { dtype: CODES[t.dtype], shape: t.shape, data_offsets: [at, at + bytes.length] });
    chunks.push(bytes);
    at += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8; // data starts 8-byte aligned
  const out = new Uint8Array(8 + headerLen + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The file's bytes as a plain Uint8Array view. A Node Buffer is a Uint8Array over a larger shared pool,
 * and its own slice() makes no copy, so it is re-viewed: offsets below are relative to this view only.
 */
function asBytes(file: unknown): Uint8Array {
  if (file instanceof ArrayBuffer) return new Uint8Array(file);
  if (ArrayBuffer.isView(file)) return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  const what = file === null ? "null" : typeof file === "object" ? `a ${file.constructor?.name ?? "object"}` : typeof file;
  throw new Error(`load: expected the file's bytes (a Uint8Array, an ArrayBuffer or a Node Buffer read from the file), got ${what}.`);
}

/**
 * Parses a safetensors file (a `Uint8Array`, an `ArrayBuffer` or a Node `Buffer`) into tensors by name, on the default
 * device unless `opts.device`. The whole file is checked first: on a malformed file it throws, having made nothing.
 *
 * PyTorch: `safetensors.torch.load` (`torch.load` for its own format).
 * @example model.loadStateDict(wg.load(readFileSync("out/model.safetensors")))
 */
export function load(file: Uint8Array | ArrayBuffer, opts: { device?: Device } = {}): Record<string, Tensor> {
  const bytes = asBytes(file);
  const { entries, dataStart } = parse(bytes);
  const out: Record<string, Tensor> = {};
  for (const e of entries) {
    // A copy: tensor data must be 4-byte aligned, and the file's buffer is the caller's.
    const raw = toLittleEndian(bytes.slice(dataStart + e.begin, dataStart + e.end));
    const values = e.dtype === "int32" ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
    put(out, e.name, tensor(values, { shape: e.shape, dtype: e.dtype, device: opts.device }));
  }
  return out;
}

const bad = (why: string) => new Error(`load: not a valid safetensors file: ${why}.`);

/** The header's tensor entries, every field and offset checked against the file, and where the data starts. */
function parse(bytes: Uint8Array): { entries: Entry[]; dataStart: number } {
  const { header, dataLen } = readHeader(bytes);
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name !== "__metadata__") entries.push(entry(name, info, dataLen));
    else if (info === null || typeof info !== "object" || Object.values(info).some((v) => typeof v !== "string"))
      throw bad(`"__metadata__" must be an object of strings`);
  }
  // Tensors must tile the data exactly: no overlap, no gap, nothing after the last.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of sorted) {
    if (e.begin < covered) throw bad(`"${e.name}" (bytes ${e.begin}-${e.end}) overlaps another tensor`);
    if (e.begin > covered) throw bad(`data bytes ${covered}-${e.begin} before "${e.name}" belong to no tensor`);
    covered = e.end;
  }
  if (covered !== dataLen) throw bad(`its tensors cover ${covered} data bytes but ${dataLen} follow the header`);
  return { entries, dataStart: bytes.length - dataLen };
}

function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataLen: number } {
  if (bytes.length < 8) throw bad(`it has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw bad(`its header length ${n} is over the ${MAX_HEADER}-byte limit (a corrupt or foreign file)`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) throw bad(`its header claims ${headerLen} bytes but only ${bytes.length - 8} follow (truncated)`);
  if (bytes[8] !== 0x7b) throw bad(`its header does not start with "{"`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw bad(`its header is not UTF-8 JSON (${(e as Error).message})`);
  }
  return { header: header as Record<string, unknown>, dataLen: bytes.length - 8 - headerLen };
}

function entry(name: string, info: unknown, dataLen: number): Entry {
  const { dtype, shape, data_offsets: offsets } = (info ?? {}) as Record<string, unknown>;
  if (typeof dtype !== "string" || !Object.hasOwn(DTYPES, dtype))
    throw bad(`"${name}" has dtype ${JSON.stringify(dtype)}; webgrad loads ${Object.keys(DTYPES).join(" and ")} (convert the tensors to float32 or int32 before saving)`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw bad(`"${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0) || offsets[0] > offsets[1])
    throw bad(`"${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 <= begin <= end`);
  const [begin, end] = offsets as number[];
  if (end > dataLen) throw bad(`"${name}" ends at data byte ${end} but the file holds ${dataLen} data bytes (truncated?)`);
  if (end - begin !== numel(shape) * 4)
    throw bad(`"${name}" has ${end - begin} bytes but shape ${fmt(shape)} of ${dtype} needs ${numel(shape) * 4}`);
  return { name, dtype: DTYPES[dtype], shape, begin, end };
}

/**
 * The string metadata of a safetensors file (`{}` when it has none), checked as `load` checks the whole file; makes no tensor.
 *
 * PyTorch: none (webgrad only; Python reads it with `safetensors.safe_open(...).metadata()`).
 * @example wg.loadMetadata(await wg.save({ w: wg.ones([1]) }, { epoch: "3" })) // { epoch: "3" }
 */
export function loadMetadata(file: Uint8Array | ArrayBuffer): Record<string, string> {
  const bytes = asBytes(file);
  parse(bytes);
  const meta = readHeader(bytes).header.__metadata__ as Record<string, string> | undefined;
  return { ...(meta ?? {}) };
}
