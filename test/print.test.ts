/**
 * How tensors print. print() matches PyTorch 1.13's repr (expected strings written down from
 * python3-torch); console.log / util.inspect / String show shape, dtype, device, gradFn, and the
 * values of a small tensor once read and until it changes.
 */
import { afterEach, beforeAll, expect, test, vi } from "vitest";
import { inspect } from "node:util";
import * as wg from "../src/node.js";
import { startWebgpu } from "./helpers.js";

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

// [data, shape, what print(torch.tensor(data).reshape(shape)) shows]
const CASES: [number[] | number, number[] | null, string][] = [
  [[1, 2.5, 3, 4], [2, 2], "tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]])"],
  [[1, 2], null, "tensor([1., 2.])"],
  [3, null, "tensor(3.)"],
  [[1e-5, 1e5], null, "tensor([1.0000e-05, 1.0000e+05])"],
  [[NaN, Infinity, 1], null, "tensor([nan, inf, 1.])"],
  [range(2000, (i) => i), null, "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"],
  [
    range(30, (i) => i * 0.37),
    null,
    "tensor([ 0.0000,  0.3700,  0.7400,  1.1100,  1.4800,  1.8500,  2.2200,  2.5900,\n" +
      "         2.9600,  3.3300,  3.7000,  4.0700,  4.4400,  4.8100,  5.1800,  5.5500,\n" +
      "         5.9200,  6.2900,  6.6600,  7.0300,  7.4000,  7.7700,  8.1400,  8.5100,\n" +
      "         8.8800,  9.2500,  9.6200,  9.9900, 10.3600, 10.7300])",
  ],
  [
    range(24, (i) => i - 5.5),
    [2, 3, 4],
    "tensor([[[-5.5000, -4.5000, -3.5000, -2.5000],\n         [-1.5000, -0.5000,  0.5000,  1.5000],\n         [ 2.5000,  3.5000,  4.5000,  5.5000]],\n\n" +
      "        [[ 6.5000,  7.5000,  8.5000,  9.5000],\n         [10.5000, 11.5000, 12.5000, 13.5000],\n         [14.5000, 15.5000, 16.5000, 17.5000]]])",
  ],
  [
    range(2400, (i) => i / 7),
    [40, 60],
    "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 8.1429e+00, 8.2857e+00,\n         8.4286e+00],\n" +
      "        [8.5714e+00, 8.7143e+00, 8.8571e+00,  ..., 1.6714e+01, 1.6857e+01,\n         1.7000e+01],\n" +
      "        [1.7143e+01, 1.7286e+01, 1.7429e+01,  ..., 2.5286e+01, 2.5429e+01,\n         2.5571e+01],\n" +
      "        ...,\n" +
      "        [3.1714e+02, 3.1729e+02, 3.1743e+02,  ..., 3.2529e+02, 3.2543e+02,\n         3.2557e+02],\n" +
      "        [3.2571e+02, 3.2586e+02, 3.2600e+02,  ..., 3.3386e+02, 3.3400e+02,\n         3.3414e+02],\n" +
      "        [3.3429e+02, 3.3443e+02, 3.3457e+02,  ..., 3.4243e+02, 3.4257e+02,\n         3.4271e+02]])",
  ],
  [[], null, "tensor([])"],
];

async function printed(t: wg.Tensor): Promise<string> {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  await t.print();
  const calls = log.mock.calls.map((c) => String(c[0]));
  log.mockRestore();
  expect(calls).toHaveLength(1);
  return calls[0];
}

beforeAll(() => startWebgpu());
afterEach(() => vi.restoreAllMocks());

test.each(CASES.map((c, i) => [i, ...c] as const))("print() matches PyTorch's repr (case %i)", async (_, data, shape, expected) => {
  const t = wg.tensor(data, { device: "cpu" });
  expect(await printed(shape ? t.reshape(shape) : t)).toBe(expected);
});

test("print() suffixes: device, dtype, gradFn, requiresGrad, the shape of an empty matrix", async () => {
  const x = wg.tensor([1, 2, 300], { dtype: "int32", device: "webgpu" });
  expect(await printed(x)).toBe("tensor([  1,   2, 300], device=webgpu, dtype=int32)");
  const z = wg.zeros([2, 3], { requiresGrad: true, device: "cpu" });
  expect(await printed(z)).toBe("tensor([[0., 0., 0.],\n        [0., 0., 0.]], requiresGrad=true)");
  expect(await printed(z.mul(2).sum())).toBe(`tensor(0., gradFn=<${z.mul(2).sum().gradFn!.name}>)`);
  expect(await printed(wg.zeros([0, 3], { device: "cpu" }))).toBe("tensor([], shape=[0, 3])");
});

test("console.log shows a summary, not storage internals; values appear once read and go when the tensor changes", async () => {
  const t = wg.tensor([[1, 2], [3, 4.5]], { device: "webgpu" });
  expect(inspect(t)).toBe("Tensor(shape=[2, 2], dtype=float32, device=webgpu)");
  expect(inspect({ t })).toBe("{ t: Tensor(shape=[2, 2], dtype=float32, device=webgpu) }");
  await t.data();
  expect(String(t)).toBe("Tensor(shape=[2, 2], dtype=float32, device=webgpu, values=[[1.0000, 2.0000], [3.0000, 4.5000]])");
  t.add_(1);
  expect(String(t)).toBe("Tensor(shape=[2, 2], dtype=float32, device=webgpu)");
  const y = t.mul(t);
  expect(`${y}`).toBe("Tensor(shape=[2, 2], dtype=float32, device=webgpu)");
  const big = wg.zeros([101], { device: "webgpu" });
  await big.data();
  expect(String(big)).toBe("Tensor(shape=[101], dtype=float32, device=webgpu)");
  big.dispose();
  expect(String(big)).toBe("Tensor(shape=[101], dtype=float32, device=webgpu)");
  const w = wg.tensor([1, 2], { requiresGrad: true, device: "cpu" });
  const values = await w.data();
  values[0] = 99; // the array returned to the caller is theirs; what toString shows is the tensor's
  expect(String(w.mul(1))).toMatch(/gradFn=\w+/);
  expect(String(w)).toBe("Tensor(shape=[2], dtype=float32, device=cpu, requiresGrad, values=[1., 2.])");
});
