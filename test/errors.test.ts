/** Every error a user meets: a thrown Error naming the op, the shapes and the fix. */
import { beforeAll, describe, expect, test } from "vitest";
import * as wg from "../src/node.js";
import { crossEntropyRows } from "../src/ops/index.js";
import { DEVICES, startWebgpu } from "./helpers.js";

beforeAll(startWebgpu);

describe.each(DEVICES)("errors on %s", (device) => {
  const o = { device };
  const cases: [string, () => unknown, RegExp][] = [
    ["backward of a non-scalar without a gradient", () => wg.ones([3], { ...o, requiresGrad: true }).mul(2).backward(), /backward: .*scalar output.*shape \[3\].*Fix: pass a gradient/],
    ["backward of a tensor that does not require grad", () => wg.ones([2], o).sum().backward(), /backward: .*does not require grad.*requiresGrad: true/],
    ["a gradient of the wrong shape", () => wg.ones([3], { ...o, requiresGrad: true }).mul(2).backward(wg.ones([4], o)), /backward: gradient has shape \[4\] but the output has shape \[3\]/],
    // @ts-expect-error: options passed where the gradient goes
    ["options in the gradient's place", () => wg.ones([2], { ...o, requiresGrad: true }).sum().backward({ retainGraph: true }), /backward: the gradient must be a Tensor or a number, got object with keys retainGraph.*options go second/],
    ["second backward through freed values", () => { const y = wg.ones([2], { ...o, requiresGrad: true }).exp().sum(); y.backward(); y.backward(); }, /ExpBackward a second time.*retainGraph: true/],
    ["in-place change of a saved value", () => { const a = wg.ones([2], { ...o, requiresGrad: true }).mul(1); const b = a.log(); a.mul_(2); b.sum().backward(); }, /LogBackward.*mul_.*version 1.*expected version 0/],
    ["in-place on a leaf that requires grad", () => wg.ones([2], { ...o, requiresGrad: true }).add_(1), /add_: a leaf tensor that requires grad \(shape \[2\]\).*noGrad/],
    ["broadcast mismatch", () => wg.ones([2, 3], o).add(wg.ones([4], o)), /add: shapes \[2, 3\] and \[4\] cannot be broadcast.*Fix/],
    ["matmul mismatch", () => wg.ones([2, 3], o).matmul(wg.ones([4, 5], o)), /matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied \(3 != 4\).*Fix/],
    ["matmul batch mismatch", () => wg.ones([2, 2, 3], o).matmul(wg.ones([3, 3, 4], o)), /matmul: shapes \[2\] and \[3\] cannot be broadcast/],
    ["reshape mismatch", () => wg.ones([2, 3], o).reshape(4, 2), /reshape: cannot reshape a tensor of shape \[2, 3\] \(6 elements\) to \[4, 2\].*Fix/],
    ["reshape with two -1", () => wg.ones([2, 3], o).reshape(-1, -1), /reshape: target shape \[-1, -1\] may hold one -1/],
    ["bad dim", () => wg.ones([2, 3], o).sum(2), /sum: dim 2 is out of range for a tensor of rank 2 \(shape \[2, 3\]\); expected a dim in \[-2, 1\]/],
    ["bad permutation", () => wg.ones([2, 3], o).permute(0, 0), /permute: \[0, 0\] is not a permutation/],
    ["T of a 3-D tensor", () => wg.ones([2, 3, 4], o).T, /T: expects a 2-D tensor, got shape \[2, 3, 4\].*transpose/],
    ["bad expand", () => wg.ones([2, 3], o).expand(4, 3), /expand: cannot expand shape \[2, 3\] to \[4, 3\]/],
    ["cat shape mismatch", () => wg.cat([wg.ones([2, 3], o), wg.ones([2, 4], o)], 0), /cat: shapes \[2, 3\], \[2, 4\] must match in every dim except dim 0/],
    ["stack shape mismatch", () => wg.stack([wg.ones([2], o), wg.ones([3], o)]), /stack: all tensors must have the same shape/],
    ["int32 where a float is needed: exp", () => wg.ones([2], { ...o, dtype: "int32" }).exp(), /exp: needs a float tensor, got int32 of shape \[2\]. Fix: x.float\(\).exp\(\)/],
    ["int32 where a float is needed: matmul", () => wg.ones([2, 2], { ...o, dtype: "int32" }).matmul(wg.ones([2, 2], { ...o, dtype: "int32" })), /matmul: needs float tensors.*\.float\(\)/],
    ["int32 where a float is needed: gelu", () => wg.ones([2], { ...o, dtype: "int32" }).gelu(), /^gelu: needs a float tensor, got int32 of shape \[2\]/],
    ["int32 where a float is needed: leakyRelu", () => wg.ones([2], { ...o, dtype: "int32" }).leakyRelu(), /^leakyRelu: needs a float tensor, got int32 of shape \[2\]/],
    ["int32 where a float is needed: mean", () => wg.ones([2], { ...o, dtype: "int32" }).mean(), /mean: needs a float tensor/],
    ["int32 where a float is needed: div", () => wg.ones([2], { ...o, dtype: "int32" }).div(2), /div: needs float tensors/],
    ["int32 cannot require grad", () => wg.ones([2], { ...o, dtype: "int32", requiresGrad: true }), /int32 tensors \(shape \[2\]\) cannot require grad/],
    ["int32 with a non-integer number", () => wg.ones([2], { ...o, dtype: "int32" }).add(0.5), /add: cannot combine an int32 tensor of shape \[2\] with the non-integer number 0.5/],
    ["mixing int32 and float32", () => wg.ones([2], { ...o, dtype: "int32" }).add(wg.ones([2], o)), /add: cannot mix int32 and float32.*\.float\(\)/],
    ["item of a many-element tensor", () => wg.ones([2], o).item(), /item: only a one-element tensor/],
    ["a disposed tensor", () => { const t = wg.ones([2], o); t.dispose(); t.add(1); }, /disposed/],
    ["requiresGrad on a non-leaf", () => { wg.ones([2], { ...o, requiresGrad: true }).mul(2).requiresGrad = false; }, /requiresGrad: can only be changed on leaf tensors.*detach/],
    ["gather with float indices", () => wg.ones([2, 3], o).gather(1, wg.ones([2, 1], o)), /gather: index must be int32/],
    ["cross-entropy with float targets", () => crossEntropyRows(wg.ones([2, 3], o), wg.ones([2], o)), /crossEntropy: class-index targets must be int32/],
    ["cross-entropy shape mismatch", () => crossEntropyRows(wg.ones([2, 3], o), wg.ones([3], { ...o, dtype: "int32" })), /crossEntropy: logits \[2, 3\] and targets \[3\] do not match/],
    ["einsum size mismatch", () => wg.einsum("ij,jk->ik", wg.ones([2, 3], o), wg.ones([4, 5], o)), /einsum "ij,jk->ik": index j has size 3 in one operand and 4/],
    ["clamp with min > max", () => wg.ones([2], o).clamp(2, 1), /clamp: min 2 is greater than max 1/],
    ["arange with step 0", () => wg.arange(0, 5, 0, o), /arange: step must be a non-zero finite number/],
    ["ragged nested arrays", () => wg.tensor([[1, 2], [3]], o), /tensor: ragged nested array: the list at \[1\] has 1 elements where 2 were expected/],
    ["data that does not fill the shape", () => wg.tensor(new Float32Array(5), { ...o, shape: [2, 3] }), /tensor: 5 values do not fill shape \[2, 3\]/],
    ["unused input in autograd.grad", () => { const x = wg.ones([2], { ...o, requiresGrad: true }); const u = wg.ones([2], { ...o, requiresGrad: true }); wg.autograd.grad(x.sum(), [x, u]); }, /input 1 \(shape \[2\]\) was not used.*allowUnused: true/],
  ];
  test.each(cases)("%s", async (_name, fn, message) => {
    let caught: unknown;
    try {
      await fn();
    } catch (e) {
      caught = e;
    }
    expect(caught, "expected an Error").toBeInstanceOf(Error);
    expect((caught as Error).message).toMatch(message);
  });
});

describe("errors across devices", () => {
  test("mixing devices throws and names both", () => {
    const a = wg.ones([2], { device: "cpu" });
    const b = wg.ones([2], { device: "webgpu" });
    expect(() => a.add(b)).toThrow(/add: inputs are on different devices \(\[2\] on cpu, \[2\] on webgpu\).*await t.to\("cpu"\)/);
  });

  test("float64 exists on the CPU only", () => {
    expect(() => wg.ones([2], { device: "webgpu", dtype: "float64" })).toThrow(/float64 exists on the CPU backend only/);
  });

  test("a tensor too large for the adapter fails before any GPU work", () => {
    expect(() => wg.zeros([1 << 30, 4], { device: "webgpu" })).toThrow(/maxStorageBufferBindingSize/);
  });

  test("an unknown device is refused by init", async () => {
    await expect(wg.init({ device: "tpu" as "cpu" })).rejects.toThrow(/init: unknown device "tpu"/);
  });
});
