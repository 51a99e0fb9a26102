/** wg.data: the platform-neutral data helpers (Node's folder reader is registered by src/node.ts). */
export { text, type TextData, type TextOptions, type TextBatch, type TextBatchOptions } from "./text.js";
export { fashionMnist, type FashionMnist, type FashionMnistOptions } from "./fashion-mnist.js";
export { batches, type Batch, type Batches, type BatchOptions, type LabeledData } from "./batches.js";
