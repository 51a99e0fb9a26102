/** wg.data: the platform-neutral data helpers. */
export { text, type TextData, type TextOptions, type TextBatch, type TextBatchOptions } from "./text.js";
