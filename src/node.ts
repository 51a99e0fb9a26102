/** The Node entry point: the public API, with WebGPU from Dawn (the `webgpu` package). */
import { setGpuProvider } from "./engine/device.js";
import { nodeGpuProvider } from "./platform/node.js";

setGpuProvider(nodeGpuProvider);

export * from "./index.js";

// wg.data.fashionMnist({ dir }) reads files through node:fs; the browser bundle never imports this.
import { setIdxDirReader } from "./data/fashion-mnist.js";
import { readIdxDir } from "./data/node-files.js";
setIdxDirReader(readIdxDir);
