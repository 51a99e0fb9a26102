/**
 * Bad indices, sizes and probabilities on every device: each row either throws an Error matching
 * `error` (on WebGPU at the sync point the row reaches with a readback) or gives `value` (PyTorch 1.13's
 * numbers, computed once by hand with python3-torch; no test runs Python).
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { expectClose, startWebgpu, type TestDevice } from "./helpers.js";

type Row = { name: string; devices: TestDevice[]; run: (device: TestDevice) => Promise<number[]> } & ({ error: RegExp } | { value: number[] });

const F = wg.nn.functional;
const BOTH: TestDevice[] = ["cpu", "webgpu"];
const int = (device: TestDevice, v: number[], shape = [v.length]) => wg.tensor(Int32Array.from(v), { dtype: "int32", device, shape });
const logits = (device: TestDevice) => wg.tensor([[1, 2, 3], [1, 0, 0], [0, 0, 5]], { device, requiresGrad: true });
const read = async (...ts: Tensor[]) => (await Promise.all(ts.map((t) => t.data()))).flatMap((d) => Array.from(d));

/** The loss, then d(sum(loss · w))/dx with w = [1, 2, 3] for per-row losses (a plain sum hides an ignored gradient). */
async function lossAndGrad(x: Tensor, loss: Tensor): Promise<number[]> {
  const w = loss.ndim === 0 ? loss : loss.mul(wg.tensor([1, 2, 3], { device: x.device }));
  w.sum().backward();
  return read(loss, x.grad!);
}

// PyTorch: F.cross_entropy(x, [2, -100, 0]) and its gradient, x = [[1, 2, 3], [1, 0, 0], [0, 0, 5]].
const CE_MEAN = [2.710495948791504, 0.04501529, 0.12236425, -0.1673795, 0, 0, 0, -0.49667582, 0.00332418, 0.49335164];

const rows: Row[] = [
  {
    name: "gather: an index >= the dim's size",
    devices: BOTH,
    run: async (d) => read(wg.tensor([[1, 2, 3], [4, 5, 6]], { device: d }).gather(1, int(d, [0, 3, 1, 2], [2, 2]))),
    error: /gather: index 3 is out of range for dim 1 of size 3 \(input \[2, 3\]\): valid indices are 0 to 2/,
  },
  {
    name: "gather: a negative index",
    devices: BOTH,
    run: async (d) => read(wg.tensor([1, 2, 3], { device: d }).gather(0, int(d, [-1]))),
    error: /gather: index -1 is out of range for dim 0 of size 3/,
  },
  {
    name: "gather's backward with a bad index: the gradient is never read silently",
    devices: BOTH,
    run: async (d) => {
      const x = wg.tensor([1, 2, 3], { device: d, requiresGrad: true });
      x.gather(0, int(d, [1, 5])).sum().backward();
      return read(x.grad!);
    },
    error: /gather: index 5 is out of range for dim 0 of size 3/,
  },
  {
    name: "gather: rank 9 (dims merged to fit the kernel)",
    devices: BOTH,
    run: async (d) => {
      const x = wg.arange(2 * 3 * 2, { device: d }).reshape([1, 2, 1, 1, 3, 1, 1, 2, 1]);
      return read(x.gather(4, int(d, [2, 0, 1, 1], [1, 2, 1, 1, 1, 1, 1, 2, 1])));
    },
    value: [4, 1, 8, 9],
  },
  {
    name: "gather: rank 9 that cannot be merged works on the CPU",
    devices: ["cpu"],
    run: async (d) => read(wg.arange(512, { device: d }).reshape(Array(9).fill(2)).gather(0, int(d, [1], Array(9).fill(1)))),
    value: [256],
  },
  {
    name: "gather: rank 9 that cannot be merged is a clear Error on WebGPU",
    devices: ["webgpu"],
    run: async (d) => read(wg.arange(512, { device: d }).reshape(Array(9).fill(2)).gather(0, int(d, [1], Array(9).fill(1)))),
    error: /gather: webgpu addresses at most 8 dims, and input \[2, 2, 2, 2, 2, 2, 2, 2, 2\] with index \[1, 1, 1, 1, 1, 1, 1, 1, 1\] along dim 0 cannot be merged/,
  },
  {
    name: "crossEntropy: a label >= classes",
    devices: BOTH,
    run: async (d) => read(F.crossEntropy(logits(d), int(d, [0, 3, 1]))),
    error: /crossEntropy: target 3 in row 1 is out of range for 3 classes: valid class indices are 0 to 2 \(or ignoreIndex, -100\)/,
  },
  {
    name: "crossEntropy: a negative label other than ignoreIndex",
    devices: BOTH,
    run: async (d) => read(F.crossEntropy(logits(d), int(d, [0, 1, -1]))),
    error: /crossEntropy: target -1 in row 2 is out of range for 3 classes/,
  },
  {
    name: "crossEntropy: the gradient of a bad label is never read silently",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      F.crossEntropy(x, int(d, [7, 1, 0]), { reduction: "sum" }).backward();
      return read(x.grad!);
    },
    error: /crossEntropy: target 7 in row 0 is out of range for 3 classes/,
  },
  {
    name: "crossEntropy: ignoreIndex -100 (the default), mean over kept rows, 0 gradient",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      return lossAndGrad(x, F.crossEntropy(x, int(d, [2, -100, 0])));
    },
    value: CE_MEAN,
  },
  {
    name: "crossEntropy: reduction none with an ignored row",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      return lossAndGrad(x, F.crossEntropy(x, int(d, [2, -100, 0]), { reduction: "none" }));
    },
    value: [0.40760595, 0, 5.01338577, 0.09003058, 0.24472849, -0.334759, 0, 0, 0, -2.98005486, 0.01994507, 2.96010971],
  },
  {
    name: "crossEntropy: a custom ignoreIndex with reduction sum",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      return lossAndGrad(x, F.crossEntropy(x, int(d, [2, 0, 0]), { ignoreIndex: 0, reduction: "sum" }));
    },
    value: [0.40760595, 0.09003058, 0.24472849, -0.334759, 0, 0, 0, 0, 0, 0],
  },
  {
    name: "crossEntropy: every row ignored gives NaN with mean (PyTorch's 0/0)",
    devices: BOTH,
    run: async (d) => read(F.crossEntropy(logits(d), int(d, [-100, -100, -100]))),
    value: [NaN],
  },
  {
    name: "crossEntropy: labelSmoothing 0.1 with an ignored row",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      return lossAndGrad(x, F.crossEntropy(x, int(d, [2, -100, 0]), { labelSmoothing: 0.1 }));
    },
    value: [2.6771624, 0.02834862, 0.10569758, -0.13404617, 0, 0, 0, -0.46334249, -0.01334249, 0.47668496],
  },
  {
    name: "crossEntropy: labelSmoothing 0.2 with probability targets",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      const p = wg.tensor([[1, 2, 3], [1, 0, 0], [0, 0, 5]], { device: d }).softmax(-1);
      return lossAndGrad(x, F.crossEntropy(x, p, { labelSmoothing: 0.2 }));
    },
    value: [0.90152055, -0.01622018, -0.00590699, 0.02212719, 0.01618558, -0.00809279, -0.00809279, -0.021779, -0.021779, 0.04355799],
  },
  {
    name: "nllLoss: a label >= classes",
    devices: BOTH,
    run: async (d) => read(F.nllLoss(logits(d).logSoftmax(-1), int(d, [0, 1, 3]))),
    error: /nllLoss: target 3 is out of range for 3 classes \(logProbs \[3, 3\]\): valid class indices are 0 to 2 \(or ignoreIndex, -100\)/,
  },
  {
    name: "nllLoss: ignoreIndex -100 (the default) matches crossEntropy",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      return lossAndGrad(x, F.nllLoss(x.logSoftmax(-1), int(d, [2, -100, 0])));
    },
    value: CE_MEAN,
  },
  {
    name: "nllLoss: a custom ignoreIndex",
    devices: BOTH,
    run: async (d) => {
      const x = logits(d);
      return lossAndGrad(x, F.nllLoss(x.logSoftmax(-1), int(d, [2, 1, 0]), { ignoreIndex: 2 }));
    },
    value: [3.28241515, 0, 0, 0, 0.28805846, -0.3940292, 0.10597079, -0.49667582, 0.00332418, 0.49335164],
  },
  {
    name: "binaryCrossEntropy: a probability above 1",
    devices: BOTH,
    run: async (d) => read(F.binaryCrossEntropy(wg.tensor([0.5, 1.5], { device: d }), wg.tensor([1, 0], { device: d }))),
    error: /binaryCrossEntropy: every element of probs must be in \[0, 1\], got 1\.5 at flat element 1 \(probs \[2\]\)/,
  },
  {
    name: "binaryCrossEntropy: a negative probability",
    devices: BOTH,
    run: async (d) => read(F.binaryCrossEntropy(wg.tensor([-0.25, 0.5], { device: d }), wg.tensor([1, 0], { device: d }))),
    error: /binaryCrossEntropy: every element of probs must be in \[0, 1\], got -0\.25 at flat element 0/,
  },
  {
    name: "binaryCrossEntropy: a NaN probability",
    devices: BOTH,
    run: async (d) => read(F.binaryCrossEntropy(wg.tensor([0.5, NaN], { device: d }), wg.tensor([1, 0], { device: d }))),
    error: /binaryCrossEntropy: every element of probs must be in \[0, 1\], got NaN at flat element 1/,
  },
  {
    name: "binaryCrossEntropy: 0 and 1 are valid probabilities",
    devices: BOTH,
    run: async (d) => read(F.binaryCrossEntropy(wg.tensor([0.2, 0.9, 1, 0], { device: d }), wg.tensor([0, 1, 1, 0], { device: d }))),
    value: [0.08212602],
  },
  {
    name: "sum of 2^32 + 256 elements is refused before any work",
    devices: BOTH,
    run: async (d) => read(wg.ones([1], { device: d }).expand([2 ** 32 + 256]).sum()),
    error: /sum: an input of shape \[4294967552\] has 4294967552 elements, over webgrad's limit of 2147483647/,
  },
  {
    name: "mean of 2^32 + 256 elements is refused before any work",
    devices: BOTH,
    run: async (d) => read(wg.ones([1], { device: d }).expand([2 ** 32 + 256]).mean()),
    error: /mean: an input of shape \[4294967552\] has 4294967552 elements/,
  },
  {
    name: "an elementwise op with a 2^31-element output is refused",
    devices: BOTH,
    run: async (d) => read(wg.ones([1, 1], { device: d }).expand([2 ** 16, 2 ** 15]).mul(2)),
    error: /mul: an input of shape \[65536, 32768\] has 2147483648 elements/,
  },
];

beforeAll(async () => {
  await startWebgpu();
});

describe.each(["cpu", "webgpu"] as const)("bad input on %s", (device) => {
  test.each(rows.filter((r) => r.devices.includes(device)).map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    if ("error" in row) {
      await expect(row.run(device)).rejects.toThrow(row.error);
    } else {
      expectClose(await row.run(device), row.value, 1e-5, 1e-4, row.name);
    }
    // The library keeps working on the device after the error.
    expect(await wg.tensor([1, 2], { device }).mul(3).data()).toEqual(new Float32Array([3, 6]));
  });
});
