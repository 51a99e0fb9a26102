/**
 * Getting a device: request the adapter, ask for its real limits (not the
 * defaults), and tell kernels what it is (an emulator picks other variants).
 */
import type { AdapterInfo } from "../backend.js";
import { WebGpuBackend } from "./webgpu-backend.js";

export interface WebGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Force kernel variants (e.g. { matmul: "tiled" }) to test every path on one adapter. */
  force?: Record<string, string>;
}

export async function createWebGpuBackend(gpu: GPU, opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? "high-performance" });
  if (!adapter) throw new Error("navigator.gpu.requestAdapter() returned no adapter");
  const L = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
    maxBufferSize: L.maxBufferSize,
    maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: L.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupsPerDimension: L.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
  };
  // subgroups: the matmul kernel that shares A across a subgroup (ops/matmul.ts picks it).
  const requiredFeatures = (["timestamp-query", "subgroups"] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const i = adapter.info;
  const text = `${i.vendor} ${i.architecture} ${i.device} ${i.description}`.toLowerCase();
  const emulated = /swiftshader|llvmpipe|lavapipe|warp|software/.test(text) || (i as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const info: AdapterInfo = {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description || [i.vendor, i.architecture].filter(Boolean).join(" "),
    emulated,
  };
  return new WebGpuBackend(device, info, requiredFeatures.includes("timestamp-query"), {
    maxWorkgroupSize: L.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorage: L.maxComputeWorkgroupStorageSize,
    maxWorkgroupsPerDim: L.maxComputeWorkgroupsPerDimension,
    maxStorageBinding: L.maxStorageBufferBindingSize,
    maxStorageBuffers: L.maxStorageBuffersPerShaderStage,
    subgroups: requiredFeatures.includes("subgroups" as GPUFeatureName),
    emulated,
    force: opts.force,
  });
}
