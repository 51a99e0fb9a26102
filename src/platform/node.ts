/**
 * WebGPU in Node through Dawn (the `webgpu` package). On Linux with no Vulkan
 * driver, fall back to SwiftShader from Debian's chromium-common: a CPU
 * emulation of a GPU that runs WGSL correctly, slowly.
 */
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import type { WaitPacer } from "../backend/backend.js";
import type { GpuProvider } from "../engine/device.js";
import { dawnPacer } from "./dawn-pacing.js";

export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

type Dawn = { create(flags: string[]): GPU; globals: Record<string, unknown> };
let dawn: Dawn | null = null;
let found: { gpu: GPU; notice?: string; pacer?: WaitPacer } | null = null;

/** A GPU device node exists (DRM render node or NVIDIA's): worth asking the system's Vulkan drivers first. */
function hasGpuDevice(): boolean {
  try {
    return readdirSync("/dev/dri").some((f) => f.startsWith("renderD")) || existsSync("/dev/nvidia0");
  } catch {
    return existsSync("/dev/nvidia0");
  }
}

/** The flags of the Dawn instance webgrad's device came from. */
let instanceFlags: readonly string[] = [];

async function adapterFrom(flags: string[] = []): Promise<GPU | null> {
  const gpu = dawn!.create(flags);
  if (!(await gpu.requestAdapter())) return null;
  instanceFlags = flags;
  return gpu;
}

const EMULATOR_NOTICE = "using SwiftShader, a CPU emulation of a GPU (correct, but slow).";

const NO_ROBUSTNESS = "enable-dawn-features=disable_robustness";

/**
 * Dawn flags for an emulator. Dawn's robustness pass clamps every buffer and array index of every
 * shader; SwiftShader runs those clamps as code, and without them a GPT training step is 1.3-1.9×
 * faster (`webgrad bench --filter gpt-step`). webgrad's kernels keep their accesses in bounds
 * themselves (edges clamped, tails guarded, user indices checked before they are used), so on
 * SwiftShader the pass is off; `WEBGRAD_ROBUSTNESS=1` keeps it. GPUs keep it: there it costs
 * little, and it guards the whole system's memory.
 */
function emulatorFlags(): string[] {
  return process.env.WEBGRAD_ROBUSTNESS === "1" ? [] : [NO_ROBUSTNESS];
}

/** Whether Dawn's robustness pass is on for webgrad's device (off on SwiftShader unless WEBGRAD_ROBUSTNESS=1). */
export function dawnRobustness(): boolean {
  return !instanceFlags.includes(NO_ROBUSTNESS);
}

/** The Vulkan loader's driver-list variable the user set, if any: [name, value]. */
function chosenDrivers(): [string, string] | null {
  for (const name of ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"]) {
    const value = process.env[name];
    if (value) return [name, value];
  }
  return null;
}

async function loadDawn(): Promise<{ gpu: null; reason: string; fix: string } | null> {
  try {
    dawn = (await import("webgpu")) as unknown as Dawn;
  } catch (e) {
    const missing = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && /['"]webgpu['"]/.test((e as Error).message);
    const reason = missing
      ? `the "webgpu" package (Dawn, WebGPU for Node) is not installed (it is an optional peer dependency of webgrad)`
      : `the "webgpu" package (Dawn) could not be loaded: ${(e as Error).message}`;
    return { gpu: null, reason, fix: "npm install webgpu" };
  }
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return null;
}

/** The user picked the Vulkan drivers: use them, or say which file of the variable is missing. */
async function fromChosen([name, value]: [string, string]): ReturnType<GpuProvider> {
  const missing = value.split(":").filter((f) => f && !existsSync(f));
  if (missing.length)
    return {
      gpu: null,
      reason: `${name}=${value} names ${missing.length > 1 ? "files that do" : "a file that does"} not exist (${missing.join(", ")})`,
      fix: `point ${name} at a Vulkan driver manifest (SwiftShader's is ${SWIFTSHADER_ICD}, from apt-get install -y chromium-common), or unset it`,
    };
  const swiftshader = /swiftshader/i.test(value);
  const gpu = await adapterFrom(swiftshader ? emulatorFlags() : []);
  if (!gpu)
    return {
      gpu: null,
      reason: `Dawn found no adapter with the Vulkan driver that ${name}=${value} names`,
      fix: `check that driver (vulkaninfo lists what the loader sees), or unset ${name} so webgrad looks for a GPU driver and SwiftShader itself`,
    };
  return (found = swiftshader ? { gpu, notice: `webgrad: ${name} selects SwiftShader; ${EMULATOR_NOTICE}`, pacer: dawnPacer(true) ?? undefined } : { gpu, pacer: dawnPacer(false) ?? undefined });
}

export const nodeGpuProvider: GpuProvider = async () => {
  if (found) return found;
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  const failed = dawn ? null : await loadDawn();
  if (failed) return failed;
  const chosen = chosenDrivers();
  if (chosen) return fromChosen(chosen);
  if (process.platform !== "linux" || hasGpuDevice()) {
    const gpu = await adapterFrom();
    if (gpu) return (found = { gpu, pacer: dawnPacer(false) ?? undefined });
  }
  if (process.platform === "linux" && existsSync(SWIFTSHADER_ICD)) {
    // The Vulkan loader reads this when Dawn makes an instance, so a new instance sees it.
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const gpu = await adapterFrom(emulatorFlags());
    if (gpu) return (found = { gpu, notice: `webgrad: no GPU driver found; ${EMULATOR_NOTICE}`, pacer: dawnPacer(true) ?? undefined });
    delete process.env.VK_ICD_FILENAMES;
  }
  const hint = existsSync(SWIFTSHADER_ICD) ? "SwiftShader is installed: is libvulkan1?" : "no GPU driver, and no SwiftShader";
  return { gpu: null, reason: `Dawn found no adapter (${hint})` };
};

/** The Dawn GPU object webgrad uses (after init), so a benchmark can give another library the same adapter. */
export function dawnGpu(): GPU | null {
  return found?.gpu ?? null;
}
