/**
 * The launch queue between ops and backends. Ops describe work (a kernel, the
 * views it writes and reads, its attributes) and hand it here; only this
 * module and device.ts hold a backend. Every allocation, upload, launch and
 * readback passes through these functions, so a later pass can hold
 * launches back and fuse them before the backend encodes them.
 */
import type { Device, Kernel, Storage, View } from "../backend/backend.js";
import type { DType, TypedArray } from "../dtype.js";
import { backendFor } from "./device.js";

/** Device memory for `size` elements of `dtype`; its contents are undefined until a launch or upload writes them. */
export function allocate(device: Device, dtype: DType, size: number): Storage {
  return backendFor(device).alloc(dtype, size);
}

/** Replace a whole storage's contents with host data. */
export function upload(storage: Storage, data: TypedArray): void {
  backendFor(storage.backend.device).write(storage, data);
}

/**
 * Run `kernel` writing `outs` (one or several views, possibly read too by in-place kernels)
 * from `ins`. All views must live on `device`.
 */
export function launch<A>(device: Device, kernel: Kernel<A>, outs: readonly View[], ins: readonly View[], attrs: A): void {
  backendFor(device).run(kernel, outs, ins, attrs);
}

/** A contiguous view's values on the host, once every launch writing it has run. */
export function readback(device: Device, view: View): Promise<TypedArray> {
  return backendFor(device).read(view);
}

/** Throw the device's own Error (not started, lost) when `device` cannot take work now. */
export function checkDevice(device: Device): void {
  backendFor(device);
}

/** Whether `storage` belongs to `device`'s current backend (not to one lost or replaced by a later init). */
export function isCurrent(storage: Storage, device: Device): boolean {
  return storage.backend === backendFor(device);
}
