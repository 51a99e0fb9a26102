/** Device-side index checks: an out-of-range index throws at the next sync point, naming the op, and the library keeps working. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { webgpuBackend } from "../src/engine/device.js";
import type { WebGpuBackend } from "../src/backend/webgpu/webgpu-backend.js";
import { settle, startWebgpu, values } from "./helpers.js";

const device = "webgpu" as const;
let gpu: WebGpuBackend;
beforeAll(async () => {
  await startWebgpu();
  gpu = webgpuBackend() as WebGpuBackend;
});

const int = (v: number[], shape?: number[]) => wg.tensor(Int32Array.from(v), { dtype: "int32", device, shape: shape ?? [v.length] });

describe("webgpu index checks", () => {
  test("a bad gather index throws at the readback, names gather, the value and the range; the next op works", async () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]], { device });
    const y = x.gather(1, int([0, 7, 1, 2], [2, 2]));
    await expect(y.data()).rejects.toThrow(/gather: index 7 is out of range for dim 1 of size 3 .*0 to 2[\s\S]*launched at/);
    expect(await values(x.gather(1, int([2, 0, 1, 1], [2, 2])))).toEqual([3, 1, 5, 5]);
  });
});
