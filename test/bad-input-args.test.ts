/**
 * Bad arguments and IEEE edge values, one table row each, on every device: either an Error that
 * names the op (never an internal TypeError), or PyTorch's value.
 */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import type { Tensor } from "../src/node.js";
import { DEVICES, startWebgpu, values, type TestDevice } from "./helpers.js";

type Run = (device: TestDevice) => Tensor;
type Row = { name: string; devices: readonly TestDevice[]; run: Run } & ({ error: RegExp } | { value: number[] });

const all = DEVICES;
const t = (data: number[], device: TestDevice) => wg.tensor(data, { device });
const asAny = (v: unknown) => v as never; // what a JavaScript caller may pass despite the types

const rows: Row[] = [
  // NaN and Inf follow IEEE and PyTorch
  { name: "log(0) is -Inf", devices: all, run: (d) => t([0], d).log(), value: [-Infinity] },
  { name: "log(-1) is NaN", devices: all, run: (d) => t([-1], d).log(), value: [NaN] },
  { name: "exp(NaN) is NaN", devices: all, run: (d) => t([NaN], d).exp(), value: [NaN] },
  { name: "sigmoid(NaN) is NaN", devices: all, run: (d) => t([NaN], d).sigmoid(), value: [NaN] },
  { name: "relu(NaN) is NaN", devices: all, run: (d) => t([NaN, -1, 2, -Infinity], d).relu(), value: [NaN, 0, 2, 0] },
  { name: "sqrt(-1) is NaN", devices: all, run: (d) => t([-1], d).sqrt(), value: [NaN] },
  { name: "max([1, NaN, 3]) is NaN", devices: all, run: (d) => t([1, NaN, 3], d).max(), value: [NaN] },
  { name: "maximum(NaN, 1) is NaN", devices: all, run: (d) => t([NaN, NaN, 0], d).maximum(1), value: [NaN, NaN, 1] },
  { name: "minimum(1, NaN) is NaN", devices: all, run: (d) => wg.minimum(1, t([NaN, 2], d)), value: [NaN, 1] },
  { name: "softmax([1, NaN, 3]) is all NaN", devices: all, run: (d) => t([1, NaN, 3], d).softmax(-1), value: [NaN, NaN, NaN] },
  { name: "argmax with NaN is the NaN's index", devices: all, run: (d) => t([1, 5, NaN, 3, NaN], d).argmax(), value: [2] },
  { name: "argmin with NaN is the NaN's index", devices: all, run: (d) => t([1, -5, 3, NaN], d).argmin(), value: [3] },
  // creation arguments
  { name: 'full([2], "x")', devices: all, run: (d) => wg.full([2], asAny("x"), { device: d }), error: /^full: the fill value must be a number, got string "x"/ },
  { name: "full([2], undefined)", devices: all, run: (d) => wg.full([2], asAny(undefined), { device: d }), error: /^full: the fill value must be a number, got undefined/ },
  { name: "arange(5, 0)", devices: all, run: (d) => wg.arange(5, 0, { device: d }), error: /^arange: step 1 moves away from end 0 \(start 5\).*arange\(5, 0, -1\)/ },
  { name: "arange(0, 5, -1)", devices: all, run: (d) => wg.arange(0, 5, -1, { device: d }), error: /^arange: step -1 moves away from end 5/ },
  { name: "arange(5, 5) is empty", devices: all, run: (d) => wg.arange(5, 5, { device: d }), value: [] },
  { name: "arange(Infinity)", devices: all, run: (d) => wg.arange(Infinity, { device: d }), error: /^arange: start, end and step must be finite numbers, got 0, Infinity, 1/ },
  { name: "int32 data 2**31", devices: all, run: (d) => wg.tensor([1, 2 ** 31], { dtype: "int32", device: d }), error: /^tensor: element 1 is 2147483648, which does not fit in int32/ },
  { name: "int32 data 2**40", devices: all, run: (d) => wg.tensor([2 ** 40], { dtype: "int32", device: d }), error: /^tensor: element 0 is 1099511627776, which does not fit in int32/ },
  { name: "int32 data -(2**31) - 1", devices: all, run: (d) => wg.tensor(new Float64Array([-(2 ** 31) - 1]), { dtype: "int32", device: d }), error: /^tensor: element 0 is -2147483649, which does not fit/ },
  { name: "int32 data at the limits fits", devices: all, run: (d) => wg.tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: "int32", device: d }), value: [-(2 ** 31), 2 ** 31 - 1] },
  { name: "int32 fill 2**31", devices: all, run: (d) => wg.full([2], 2 ** 31, { dtype: "int32", device: d }), error: /^full: the fill value is 2147483648, which does not fit in int32/ },
  { name: "int32 arange past 2**31", devices: all, run: (d) => wg.arange(2 ** 31 - 2, 2 ** 31 + 1, { dtype: "int32", device: d }), error: /^arange: the last value is 2147483648, which does not fit in int32/ },
  { name: 'dtype "float16"', devices: all, run: (d) => wg.tensor([1, 2], { dtype: asAny("float16"), device: d }), error: /^tensor: unknown dtype "float16"; webgrad has "float32", "int32"/ },
  { name: 'dtype "bool"', devices: all, run: (d) => wg.tensor([1, 0], { dtype: asAny("bool"), device: d }), error: /^tensor: unknown dtype "bool".*Masks are float32 0\/1/ },
  { name: 'zeros with dtype "bool"', devices: all, run: (d) => wg.zeros([2], { dtype: asAny("bool"), device: d }), error: /^zeros: unknown dtype "bool"/ },
  { name: 'randn with dtype "float16"', devices: all, run: (d) => wg.randn([2], { dtype: asAny("float16"), device: d }), error: /^randn: unknown dtype "float16"/ },
  { name: 'cast to "float16"', devices: all, run: (d) => t([1], d).cast(asAny("float16")), error: /^cast: unknown dtype "float16"/ },
  // non-tensor operands
  { name: "matmul(2)", devices: all, run: (d) => t([1, 2], d).matmul(asAny(2)), error: /^matmul: the second operand must be a tensor, got number 2.*use mul for a scalar/ },
  { name: "wg.matmul([1, 2], t)", devices: all, run: (d) => wg.matmul(asAny([1, 2]), t([1, 2], d)), error: /^matmul: the first operand must be a tensor, got an array \[1,2\]/ },
  { name: "cat([t, [1, 2]])", devices: all, run: (d) => wg.cat([t([1], d), asAny([1, 2])]), error: /^cat: element 1 of the list is an array \[1,2\], not a tensor/ },
  { name: "cat(t)", devices: all, run: (d) => wg.cat(asAny(t([1], d))), error: /^cat: expected a non-empty array of tensors, got a Tensor/ },
  { name: "stack([t, 5])", devices: all, run: (d) => wg.stack([t([1], d), asAny(5)]), error: /^stack: element 1 of the list is number 5, not a tensor/ },
];

beforeAll(startWebgpu);

describe.each(DEVICES)("bad input on %s", (device) => {
  const mine = rows.filter((r) => r.devices.includes(device));
  test.each(mine.filter((r) => "error" in r))("$name throws an Error naming the op", async (row) => {
    const before = wg.memory(device).tensors;
    expect(() => wg.tidy(() => row.run(device))).toThrow((row as { error: RegExp }).error);
    expect(wg.memory(device).tensors, "tensors left behind").toBe(before);
  });

  test.each(mine.filter((r) => "value" in r))("$name", async (row) => {
    const y = row.run(device);
    expect(y.device).toBe(device);
    expect(await values(y)).toEqual((row as { value: number[] }).value);
  });
});

describe("gradcheck of a function closing over float32 tensors", () => {
  test("matmul widens float32 with float64 (either side), as elementwise ops do", async () => {
    const w = wg.tensor([[0.5, -1], [2, 0.25], [1, 1]], { device: "cpu" }); // float32
    const x = wg.tensor([[1, 2, 3], [-1, 0.5, 2]], { device: "cpu" });
    for (const f of [(a: Tensor) => a.matmul(w).tanh().sum(), (a: Tensor) => w.T.matmul(a.T).sin().sum()]) {
      const r = await wg.gradcheck(f, [x]);
      expect(r.ok, JSON.stringify(r.details)).toBe(true);
      expect(r.maxAbsError).toBeLessThan(1e-6);
    }
    const y = x.cast("float64").matmul(w);
    expect(y.dtype).toBe("float64");
    expect(await values(y)).toEqual([7.5, 2.5, 2.5, 3.125]);
  });
});
