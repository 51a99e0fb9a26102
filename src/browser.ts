/** The browser entry point: the public API, with WebGPU from navigator.gpu. No Node imports. */
export * from "./index.js";
