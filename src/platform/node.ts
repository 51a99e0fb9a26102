/**
 * WebGPU in Node through Dawn (the `webgpu` package). On Linux with no Vulkan
 * driver, fall back to SwiftShader from Debian's chromium-common: a CPU
 * emulation of a GPU that runs WGSL correctly, slowly.
 */
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import type { GpuProvider } from "../engine/device.js";

export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

type Dawn = { create(flags: string[]): GPU; globals: Record<string, unknown> };
let dawn: Dawn | null = null;
let found: { gpu: GPU; notice?: string } | null = null;

/** A GPU device node exists (DRM render node or NVIDIA's): worth asking the system's Vulkan drivers first. */
function hasGpuDevice(): boolean {
  try {
    return readdirSync("/dev/dri").some((f) => f.startsWith("renderD")) || existsSync("/dev/nvidia0");
  } catch {
    return existsSync("/dev/nvidia0");
  }
}

async function adapterFrom(flags: string[] = []): Promise<GPU | null> {
  const gpu = dawn!.create(flags);
  return (await gpu.requestAdapter()) ? gpu : null;
}

export const nodeGpuProvider: GpuProvider = async () => {
  if (found) return found;
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  if (!dawn) {
    try {
      dawn = (await import("webgpu")) as unknown as Dawn;
    } catch (e) {
      return { gpu: null, reason: `the "webgpu" package (Dawn) could not be loaded: ${(e as Error).message}. Fix: npm install` };
    }
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const chosen = process.platform !== "linux" || process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES;
  if (chosen || hasGpuDevice()) {
    const gpu = await adapterFrom();
    if (gpu) return (found = { gpu });
  }
  if (process.platform === "linux" && !chosen && existsSync(SWIFTSHADER_ICD)) {
    // The Vulkan loader reads this when Dawn makes an instance, so a new instance sees it.
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const gpu = await adapterFrom();
    if (gpu) return (found = { gpu, notice: "webgrad: no GPU driver found; using SwiftShader, a CPU emulation of a GPU (correct, but slow)." });
  }
  const hint = existsSync(SWIFTSHADER_ICD) ? "SwiftShader is installed: is libvulkan1?" : "no GPU driver, and no SwiftShader";
  return { gpu: null, reason: `Dawn found no adapter (${hint})` };
};

/** The Dawn GPU object webgrad uses (after init), so a benchmark can give another library the same adapter. */
export function dawnGpu(): GPU | null {
  return found?.gpu ?? null;
}
