/** The Node entry point: the public API, with WebGPU from Dawn (the `webgpu` package). */
import { setGpuProvider } from "./engine/device.js";
import { nodeGpuProvider } from "./platform/node.js";

setGpuProvider(nodeGpuProvider);

export * from "./index.js";
