/** The API.md surface not covered by the op suite: creation, properties, readback, devices. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { DEVICES, startWebgpu, values } from "./helpers.js";

beforeAll(startWebgpu);

describe.each(DEVICES)("creation and properties on %s", (device) => {
  const o = { device };
  test("tensor from numbers, nested arrays and typed arrays", async () => {
    const s = wg.tensor(2.5, o);
    expect([s.shape, s.ndim, s.size, s.dtype, s.device]).toEqual([[], 0, 1, "float32", device]);
    expect(await s.item()).toBe(2.5);
    const m = wg.tensor([[1, 2, 3], [4, 5, 6]], o);
    expect([m.shape, m.ndim, m.size]).toEqual([[2, 3], 2, 6]);
    expect(await m.tolist()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const i = wg.tensor(new Int32Array([3, -1, 7, 0]), { ...o, shape: [2, 2] });
    expect(i.dtype).toBe("int32");
    expect(await i.tolist()).toEqual([[3, -1], [7, 0]]);
    expect(await wg.tensor([1, 2], { ...o, dtype: "int32" }).data()).toEqual(new Int32Array([1, 2]));
  });

  test("zeros, ones, full, zerosLike, onesLike, eye, arange", async () => {
    expect(await wg.zeros([2, 2], o).tolist()).toEqual([[0, 0], [0, 0]]);
    expect(await wg.ones([3], { ...o, dtype: "int32" }).tolist()).toEqual([1, 1, 1]);
    expect(await wg.full([2], -4.5, o).tolist()).toEqual([-4.5, -4.5]);
    const like = wg.tensor(new Int32Array([1, 2, 3]), o);
    const z = wg.zerosLike(like);
    expect([z.dtype, z.shape, await z.tolist()]).toEqual(["int32", [3], [0, 0, 0]]);
    expect(await wg.onesLike(wg.zeros([2, 1], o)).tolist()).toEqual([[1], [1]]);
    expect(await wg.eye(3, o).tolist()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(await wg.eye(2, 3, o).tolist()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(await wg.arange(4, o).tolist()).toEqual([0, 1, 2, 3]);
    expect(await wg.arange(1, 2, 0.25, o).tolist()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(await wg.arange(5, 0, -2, { ...o, dtype: "int32" }).tolist()).toEqual([5, 3, 1]);
    expect(wg.zeros([0, 3], o).size).toBe(0);
    expect(await wg.zeros([0, 3], o).tolist()).toEqual([]);
  });

  test("manualSeed makes rand and randn repeat", async () => {
    wg.manualSeed(7);
    const a = await values(wg.randn([5], o));
    const b = await values(wg.rand([5], o));
    wg.manualSeed(7);
    expect(await values(wg.randn([5], o))).toEqual(a);
    expect(await values(wg.rand([5], o))).toEqual(b);
    expect(await values(wg.randn([5], o))).not.toEqual(a);
  });

  test("requiresGrad, isLeaf, gradFn, grad assignment", async () => {
    const x = wg.ones([2], { ...o, requiresGrad: true });
    expect([x.requiresGrad, x.isLeaf, x.gradFn]).toEqual([true, true, null]);
    const y = x.mul(3).sum();
    expect([y.requiresGrad, y.isLeaf, y.gradFn?.name]).toEqual([true, false, "SumBackward"]);
    y.backward();
    expect(await values(x.grad!)).toEqual([3, 3]);
    x.grad = null;
    expect(x.grad).toBeNull();
    x.grad = wg.full([2], 5, o);
    x.mul(1).sum().backward();
    expect(await values(x.grad!)).toEqual([6, 6]);
    const z = wg.ones([2], o).requiresGrad_();
    expect(z.requiresGrad).toBe(true);
    z.requiresGrad = false;
    expect(z.requiresGrad).toBe(false);
    expect(() => (x.grad = wg.ones([3], o))).toThrow(/grad: assigned gradient \[3\]/);
    expect(String(y)).toMatch(/Tensor\(shape=\[\], dtype=float32, device=\w+, gradFn=SumBackward\)/);
  });

  test("to() copies between devices as a leaf; mixing devices throws", async () => {
    const other = device === "cpu" ? "webgpu" : "cpu";
    const x = wg.tensor([[1, 2], [3, 4]], { ...o, requiresGrad: true });
    const y = await x.to(other);
    expect([y.device, y.shape, y.isLeaf, y.requiresGrad]).toEqual([other, [2, 2], true, true]);
    expect(await y.tolist()).toEqual([[1, 2], [3, 4]]);
    expect(await x.to(device)).toBe(x);
    const back = await y.T.to(device);
    expect(await back.tolist()).toEqual([[1, 3], [2, 4]]);
    expect(() => x.add(y)).toThrow(/different devices/);
  });

  test("free functions mirror the methods", async () => {
    const a = wg.tensor([1, 4], o);
    expect(await values(wg.add(a, 1))).toEqual([2, 5]);
    expect(await values(wg.sub(10, a))).toEqual([9, 6]);
    expect(await values(wg.mul(a, a))).toEqual([1, 16]);
    expect(await values(wg.div(a, 2))).toEqual([0.5, 2]);
    expect(await values(wg.sqrt(a))).toEqual([1, 2]);
    expect(await values(wg.maximum(a, 2))).toEqual([2, 4]);
    expect(await values(wg.minimum(a, 2))).toEqual([1, 2]);
    expect(await values(wg.sum(a))).toEqual([5]);
    expect(await values(wg.mean(a))).toEqual([2.5]);
    expect(await values(wg.matmul(a, a))).toEqual([17]);
  });
});

test("defaultDevice follows init; creation uses it unless told otherwise", async () => {
  await wg.init({ device: "cpu" });
  expect(wg.defaultDevice()).toBe("cpu");
  expect(wg.zeros([1]).device).toBe("cpu");
  await wg.init({ device: "webgpu", quiet: true });
  expect(wg.defaultDevice()).toBe("webgpu");
  expect(wg.zeros([1]).device).toBe("webgpu");
  expect(wg.zeros([1], { device: "cpu" }).device).toBe("cpu");
});
