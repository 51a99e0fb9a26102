/**
 * The user-facing tensor handle. Methods are one-liners over ops/; the data
 * lives in a Storage owned by a backend and leaves the device only through
 * the async readbacks data(), item() and tolist().
 */
import type { Device, Storage, View } from "./backend/backend.js";
import type { ArrayOf, DType, NestedList, TypedArray } from "./dtype.js";
import { contiguousStrides, fmt, isContiguous, numel } from "./shape.js";
import { disposeTracked, track, type Handle } from "./engine/scope.js";
import { allocate, readback } from "./engine/scheduler.js";
import { AccumulateGrad, type Node } from "./autograd/node.js";
import { isInferenceMode, noGrad } from "./autograd/mode.js";
import { backward, type BackwardOptions } from "./autograd/engine.js";
import * as ops from "./ops/index.js";
import { formatValues, printed } from "./tensor-format.js";

type Operand = Tensor | number;
type Dims = number | number[];

/**
 * An n-dimensional array of one dtype on one device (`"webgpu"` or `"cpu"`), with the autograd record of how it was
 * computed. Make one with `wg.tensor`, `wg.zeros`, `wg.randn` and the other creation functions (the constructor is internal).
 * Methods return new tensors, except those ending in `_`, which write in place; values leave the device only through the
 * async `data()`, `item()` and `tolist()`. Names are PyTorch's in camelCase.
 *
 * PyTorch: `torch.Tensor`.
 * @example const x = wg.tensor([[1, 2], [3, 4]], { requiresGrad: true }); x.mul(x).sum().backward(); x.grad // tensor([[2., 4.], [6., 8.]])
 */
export class Tensor<D extends DType = DType> implements View {
  /** @internal */
  readonly handle: Handle;
  /**
   * The size of each dim, outermost first (`[]` for a 0-d scalar). A fresh array per tensor; use `reshape` and the other
   * shape methods for a new shape.
   *
   * PyTorch: `Tensor.shape`.
   * @example wg.zeros([2, 3]).shape // [2, 3]
   */
  readonly shape: number[];
  /**
   * How many storage elements one step along each dim skips (`[3, 1]` for a contiguous [2, 3] tensor). Views such as
   * `transpose`, `expand` (stride 0) and `slice` change the strides instead of copying.
   *
   * PyTorch: `Tensor.stride()`.
   * @example wg.zeros([2, 3]).T.strides // [1, 3]
   */
  readonly strides: number[];
  /**
   * The backward node that produced this tensor (its `name`, e.g. `"MulBackward"`), or null for a leaf and for a tensor
   * computed without grad. Set by the ops; do not assign it.
   *
   * PyTorch: `Tensor.grad_fn`.
   * @example wg.tensor([1, 2], { requiresGrad: true }).mul(2).gradFn.name // "MulBackward"
   */
  gradFn: Node | null = null;
  /** Set by retainGrad(), or for leaves by the engine. */
  private _grad: Tensor | null = null;
  private _requiresGrad = false;
  private _acc: AccumulateGrad | null = null;
  /**
   * Whether the tensor was made inside `wg.inferenceMode()`: an op that would save it for backward later throws.
   *
   * PyTorch: `Tensor.is_inference()`.
   * @example wg.inferenceMode(() => wg.ones([2])).isInference // true
   */
  readonly isInference = isInferenceMode();

  /** @internal Tensors come from wg.tensor, wg.zeros and the other creation functions, or from ops. */
  constructor(
    storage: Storage,
    shape: readonly number[],
    /**
     * The element type: `"float32"` (the default), `"int32"` (indices, counts, labels) or `"float64"` (CPU only, for gradcheck).
     * There is no bool: comparisons give float32 masks of 0s and 1s.
     *
     * PyTorch: `Tensor.dtype`.
     * @example wg.tensor([1, 2], { dtype: "int32" }).dtype // "int32"
     */
    readonly dtype: D,
    strides?: readonly number[],
    /**
     * Where the first element sits in the storage, in elements: non-zero for a slice that does not start at the beginning.
     *
     * PyTorch: `Tensor.storage_offset()`.
     * @example wg.arange(6).slice(0, 2).offset // 2
     */
    readonly offset = 0,
    /**
     * Whether the tensor shares its storage with the tensor it was made from (reshape, permute, transpose, expand, slice,
     * split, detach): an in-place write to one shows in the other.
     *
     * PyTorch: `Tensor._is_view()`.
     * @example wg.zeros([2, 3]).T.isView // true
     */
    readonly isView = false,
  ) {
    this.shape = [...shape];
    this.strides = strides ? [...strides] : contiguousStrides(shape);
    this.handle = { storage, device: storage.backend.device, disposed: false };
    track(this);
  }

  /**
   * A new contiguous tensor of `shape` and `dtype` on `device` whose contents are undefined until a kernel writes them
   * (nothing is launched to fill it); for ops and kernels: users want `wg.zeros`. Does not require grad.
   *
   * PyTorch: `torch.empty`.
   * @example wg.Tensor.empty([2, 3], "float32", "cpu").shape // [2, 3]
   */
  static empty<E extends DType>(shape: readonly number[], dtype: E, device: Device): Tensor<E> {
    return new Tensor(allocate(device, dtype, numel(shape)), shape, dtype);
  }

  /**
   * The backend buffer that holds the elements, shared with every view of it; throws once the tensor is disposed. For
   * backends and ops: read values with `data()`.
   *
   * PyTorch: `Tensor.untyped_storage()`.
   * @example wg.zeros([4]).storage.size // 4
   */
  get storage(): Storage {
    if (this.handle.disposed)
      throw new Error(`tensor of shape ${fmt(this.shape)} was disposed; it cannot be used any more.`);
    return this.handle.storage;
  }
  /**
   * The device that holds the values, `"webgpu"` or `"cpu"`. Ops on tensors of different devices throw: copy with `to()`.
   *
   * PyTorch: `Tensor.device`.
   * @example wg.zeros([2], { device: "cpu" }).device // "cpu"
   */
  get device(): Device { return this.handle.device; }
  /**
   * The number of elements (the product of `shape`; 1 for a 0-d tensor). Unlike PyTorch's `Tensor.size()`, which is the shape.
   *
   * PyTorch: `Tensor.numel()`.
   * @example wg.zeros([2, 3]).size // 6
   */
  get size(): number { return numel(this.shape); }
  /**
   * The number of dims (0 for a scalar).
   *
   * PyTorch: `Tensor.ndim`.
   * @example wg.zeros([2, 3]).ndim // 2
   */
  get ndim(): number { return this.shape.length; }
  /**
   * True when the tensor has no `gradFn`: made by a creation function or `detach()`, or computed without grad. `backward()`
   * fills `.grad` of leaves only (other tensors need `retainGrad()`).
   *
   * PyTorch: `Tensor.is_leaf`.
   * @example wg.tensor([1], { requiresGrad: true }).mul(2).isLeaf // false
   */
  get isLeaf(): boolean { return this.gradFn === null; }
  /**
   * Whether `dispose()` (or the end of the `wg.tidy` that made it) released the tensor; using a disposed tensor throws.
   *
   * PyTorch: none (webgrad only).
   * @example const x = wg.zeros([2]); x.dispose(); x.isDisposed // true
   */
  get isDisposed(): boolean { return this.handle.disposed; }
  /**
   * The count of in-place writes to the storage (shared with its views). Autograd records it when an op saves the tensor
   * for backward, and backward throws if it changed since, naming the op and both versions.
   *
   * PyTorch: `Tensor._version`.
   * @example wg.zeros([2]).add_(1).version // 1
   */
  get version(): number { return this.handle.storage.version; }
  /**
   * Whether ops on this tensor record a graph for backward. Set it on a leaf (`{ requiresGrad: true }` at creation, or
   * `requiresGrad_()`); int32 tensors cannot require grad, and setting it on a non-leaf throws (`detach()` first). A result
   * computed from a tensor that requires grad requires grad too, outside `noGrad`.
   *
   * PyTorch: `Tensor.requires_grad`.
   * @example const w = wg.zeros([3]); w.requiresGrad = true; w.mul(2).requiresGrad // true
   */
  get requiresGrad(): boolean { return this._requiresGrad || this.gradFn !== null; }
  set requiresGrad(flag: boolean) {
    if (!this.isLeaf)
      throw new Error(
        `requiresGrad: can only be changed on leaf tensors; this one comes from ${this.gradFn!.name}. ` +
          `Fix: use x.detach() to get a leaf, then set requiresGrad on it.`,
      );
    if (flag && this.dtype === "int32")
      throw new Error(`requiresGrad: int32 tensors (shape ${fmt(this.shape)}) cannot require grad; only floats have gradients. Fix: x.float().`);
    this._requiresGrad = flag;
  }
  /**
   * The gradient that `backward()` accumulated, for a leaf that requires grad or a tensor that called `retainGrad()`;
   * null until the first backward. Each backward adds to it: assign `null` (or call the optimizer's `zeroGrad()`) to clear
   * it. An assigned tensor must have this tensor's shape and device.
   *
   * PyTorch: `Tensor.grad`.
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); x.mul(3).sum().backward(); x.grad // tensor([3., 3.])
   */
  get grad(): Tensor | null { return this._grad; }
  set grad(g: Tensor | null) {
    if (g !== null && (g.device !== this.device || g.shape.join() !== this.shape.join()))
      throw new Error(`grad: assigned gradient ${fmt(g.shape)} on ${g.device} must match the tensor ${fmt(this.shape)} on ${this.device}.`);
    this._grad = g;
  }
  /** @internal The AccumulateGrad node of a leaf that requires grad (made on first use). */
  accumulator(): AccumulateGrad {
    return (this._acc ??= new AccumulateGrad(this));
  }
  /**
   * Whether the elements lie in row-major order with no gaps, as in a fresh tensor; `transpose`, `expand` and some
   * `slice`s give non-contiguous views (`contiguous()` copies them).
   *
   * PyTorch: `Tensor.is_contiguous`.
   * @example wg.zeros([2, 3]).T.isContiguous() // false
   */
  isContiguous(): boolean { return isContiguous(this.shape, this.strides); }
  /** @internal A new handle on the same storage with the same autograd identity (how backward unpacks saved tensors). */
  aliasForBackward(): Tensor {
    const t = new Tensor(this.handle.storage, this.shape, this.dtype, this.strides, this.offset, true);
    t.gradFn = this.gradFn;
    t._requiresGrad = this._requiresGrad;
    if (this.isLeaf && this._requiresGrad) t._acc = this.accumulator();
    return t;
  }
  /**
   * Shape, dtype, device and gradFn (or requiresGrad), plus the values of a small tensor (100 elements or fewer) read since
   * its last change: reading is async, so `String(t)` and `console.log(t)` never read. `print()` reads and prints.
   *
   * PyTorch: `Tensor.__repr__` (which always shows the values).
   * @example String(wg.zeros([2, 3], { device: "cpu" })) // "Tensor(shape=[2, 3], dtype=float32, device=cpu)"
   */
  toString(): string {
    const seen = this._seen && this._seen.version === this.handle.storage.version && !this.handle.disposed ? this._seen.values : null;
    const values = seen ? `, values=${formatValues(seen, this.shape, this.dtype, 0, false)}` : "";
    return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, device=${this.device}${this.gradFn ? `, gradFn=${this.gradFn.name}` : this.requiresGrad ? ", requiresGrad" : ""}${values})`;
  }
  /** console.log and util.inspect in Node show toString(), not the storage's internals (no node:util import). */
  [Symbol.for("nodejs.util.inspect.custom")](): string { return this.toString(); }
  /**
   * Reads the values and prints them as PyTorch does, e.g. `tensor([[1., 2.], ...], device=webgpu, gradFn=<MulBackward>)`.
   *
   * PyTorch: `print(t)`.
   * @example await wg.tensor([1, 2]).print() // prints tensor([1., 2.])
   */
  async print(): Promise<void> { console.log(printed(await this.data(), this)); }
  // The last readback of a small tensor, for toString (a copy: the caller may change the array it got).
  private _seen: { version: number; values: TypedArray } | null = null;
  private remember(values: TypedArray): TypedArray {
    if (this.size <= 100) this._seen = { version: this.handle.storage.version, values: values.slice() };
    return values;
  }

  // Readback: the only way data leaves the device.
  /**
   * Reads the values back from the device as a flat, row-major typed array of the dtype (Float32Array, Int32Array or
   * Float64Array), a fresh copy the caller owns; a non-contiguous view is made dense first. With `item()` and `tolist()`,
   * the only way values leave the device; it waits for the pending kernels that write them.
   *
   * PyTorch: `Tensor.numpy()` (flattened).
   * @example await wg.tensor([[1, 2], [3, 4]]).data() // Float32Array(4) [1, 2, 3, 4]
   */
  async data(): Promise<ArrayOf<D>> {
    const v = this.viewFor("data");
    if (v.isContiguous()) return this.remember(await readback(this.device, v)) as ArrayOf<D>;
    const dense = noGrad(() => ops.contiguous(v));
    try {
      return this.remember(await readback(this.device, dense)) as ArrayOf<D>;
    } finally {
      dense.dispose();
    }
  }
  /**
   * Reads the value of a one-element tensor (of any shape) as a number; more elements throw (reduce first, e.g. `x.sum().item()`).
   *
   * PyTorch: `Tensor.item`.
   * @example await wg.tensor([[7]]).item() // 7
   */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: only a one-element tensor can be converted to a number; this one has shape ${fmt(this.shape)}. Fix: reduce it first, e.g. x.sum().item().`);
    return (await this.data())[0];
  }
  /**
   * Reads the values as nested arrays of numbers in the tensor's shape (a number for a 0-d tensor).
   *
   * PyTorch: `Tensor.tolist`.
   * @example await wg.tensor([[1, 2], [3, 4]]).tolist() // [[1, 2], [3, 4]]
   */
  async tolist(): Promise<NestedList> { return ops.nest(await this.data(), this.shape); }
  /**
   * A copy on `device`, or this tensor when it is already there. The copy goes through the host, so it is async, and it is
   * a new leaf (a leaf's requiresGrad carries over): unlike PyTorch, no gradient flows back through it. Devices only:
   * change the dtype with `cast`.
   *
   * PyTorch: `Tensor.to(device)`.
   * @example (await wg.tensor([1, 2], { device: "webgpu" }).to("cpu")).device // "cpu"
   */
  to(device: Device): Promise<Tensor<D>> { return ops.toDevice(this, device) as Promise<Tensor<D>>; }
  private viewFor(op: string): Tensor {
    if (this.handle.disposed) throw new Error(`${op}: tensor of shape ${fmt(this.shape)} was disposed.`);
    return this;
  }

  // Elementwise
  /**
   * Adds `o` elementwise, with NumPy broadcasting; `o` may be a number, taken in this tensor's dtype. int32 works with
   * int32 and integer numbers; mixing int32 with a float throws (cast first; PyTorch would promote), and float32 with
   * float64 gives float64. Differentiable.
   *
   * PyTorch: `Tensor.add`.
   * @example wg.tensor([1, 2]).add(wg.tensor([[10], [20]])) // tensor([[11., 12.], [21., 22.]])
   */
  add(o: number | Tensor<D>): Tensor<D>;
  add(o: Operand): Tensor;
  add(o: Operand): Tensor { return ops.binary("add", this, o); }
  /**
   * Subtracts `o` elementwise, with broadcasting and the dtype rules of `add`. Differentiable.
   *
   * PyTorch: `Tensor.sub`.
   * @example wg.tensor([5, 7]).sub(2) // tensor([3., 5.])
   */
  sub(o: number | Tensor<D>): Tensor<D>;
  sub(o: Operand): Tensor;
  sub(o: Operand): Tensor { return ops.binary("sub", this, o); }
  /**
   * Multiplies by `o` elementwise, with broadcasting and the dtype rules of `add`. Differentiable.
   *
   * PyTorch: `Tensor.mul`.
   * @example wg.tensor([[1, 2], [3, 4]]).mul(wg.tensor([10, 100])) // tensor([[10., 200.], [30., 400.]])
   */
  mul(o: number | Tensor<D>): Tensor<D>;
  mul(o: Operand): Tensor;
  mul(o: Operand): Tensor { return ops.binary("mul", this, o); }
  /**
   * Divides by `o` elementwise (true division), with broadcasting. Floats only: int32 throws (cast with `float()`; PyTorch
   * would promote). Division by zero gives ±Inf or NaN, as IEEE. Differentiable.
   *
   * PyTorch: `Tensor.div`.
   * @example wg.tensor([1, 2]).div(4) // tensor([0.2500, 0.5000])
   */
  div(o: number | Tensor<D>): Tensor<D>;
  div(o: Operand): Tensor;
  div(o: Operand): Tensor { return ops.binary("div", this, o); }
  /**
   * Raises to the power `o` elementwise, with broadcasting; floats only. IEEE results as PyTorch (`0 ** 0 = 1`, a negative
   * base to a non-integer power is NaN). Differentiable in both operands (the base gets 0 where the exponent is 0).
   *
   * PyTorch: `Tensor.pow`.
   * @example wg.tensor([1, 2, 3]).pow(2) // tensor([1., 4., 9.])
   */
  pow(o: number | Tensor<D>): Tensor<D>;
  pow(o: Operand): Tensor;
  pow(o: Operand): Tensor { return ops.binary("pow", this, o); }
  /**
   * The larger of the two elementwise, with broadcasting (int32 too); NaN wins. The gradient goes to the larger operand,
   * half to each on a tie.
   *
   * PyTorch: `Tensor.maximum`.
   * @example wg.tensor([1, 5]).maximum(3) // tensor([3., 5.])
   */
  maximum(o: number | Tensor<D>): Tensor<D>;
  maximum(o: Operand): Tensor;
  maximum(o: Operand): Tensor { return ops.binary("maximum", this, o); }
  /**
   * The smaller of the two elementwise, with broadcasting (int32 too); NaN wins. The gradient goes to the smaller operand,
   * half to each on a tie.
   *
   * PyTorch: `Tensor.minimum`.
   * @example wg.tensor([1, 5]).minimum(3) // tensor([1., 3.])
   */
  minimum(o: number | Tensor<D>): Tensor<D>;
  minimum(o: Operand): Tensor;
  minimum(o: Operand): Tensor { return ops.binary("minimum", this, o); }
  /**
   * `this == o` elementwise, with broadcasting, as a float32 mask of 0s and 1s (PyTorch gives bool; webgrad has none).
   * A comparison with NaN is false. No gradient.
   *
   * PyTorch: `Tensor.eq`.
   * @example wg.tensor([1, 2, 3]).eq(2) // tensor([0., 1., 0.])
   */
  eq(o: Operand): Tensor<"float32"> { return ops.binary("eq", this, o) as Tensor<"float32">; }
  /**
   * `this != o` elementwise as a float32 0/1 mask, like `eq`; 1 where either side is NaN. No gradient.
   *
   * PyTorch: `Tensor.ne`.
   * @example wg.tensor([1, 2, 3]).ne(2) // tensor([1., 0., 1.])
   */
  ne(o: Operand): Tensor<"float32"> { return ops.binary("ne", this, o) as Tensor<"float32">; }
  /**
   * `this > o` elementwise as a float32 0/1 mask, like `eq`; 0 where either side is NaN. No gradient.
   *
   * PyTorch: `Tensor.gt`.
   * @example wg.tensor([1, 2, 3]).gt(2) // tensor([0., 0., 1.])
   */
  gt(o: Operand): Tensor<"float32"> { return ops.binary("gt", this, o) as Tensor<"float32">; }
  /**
   * `this >= o` elementwise as a float32 0/1 mask, like `eq`; 0 where either side is NaN. No gradient.
   *
   * PyTorch: `Tensor.ge`.
   * @example wg.tensor([1, 2, 3]).ge(2) // tensor([0., 1., 1.])
   */
  ge(o: Operand): Tensor<"float32"> { return ops.binary("ge", this, o) as Tensor<"float32">; }
  /**
   * `this < o` elementwise as a float32 0/1 mask, like `eq`; 0 where either side is NaN. No gradient.
   *
   * PyTorch: `Tensor.lt`.
   * @example wg.tensor([1, 2, 3]).lt(2) // tensor([1., 0., 0.])
   */
  lt(o: Operand): Tensor<"float32"> { return ops.binary("lt", this, o) as Tensor<"float32">; }
  /**
   * `this <= o` elementwise as a float32 0/1 mask, like `eq`; 0 where either side is NaN. No gradient.
   *
   * PyTorch: `Tensor.le`.
   * @example wg.tensor([1, 2, 3]).le(2) // tensor([1., 1., 0.])
   */
  le(o: Operand): Tensor<"float32"> { return ops.binary("le", this, o) as Tensor<"float32">; }
  /**
   * Negates each element (int32 too). Differentiable.
   *
   * PyTorch: `Tensor.neg`.
   * @example wg.tensor([1, -2]).neg() // tensor([-1., 2.])
   */
  neg(): Tensor<D> { return ops.unary("neg", this) as Tensor<D>; }
  /**
   * e to the power of each element; floats only. Differentiable (d/dx = exp(x)).
   *
   * PyTorch: `Tensor.exp`.
   * @example wg.tensor([0, 1]).exp() // tensor([1.0000, 2.7183])
   */
  exp(): Tensor<D> { return ops.unary("exp", this) as Tensor<D>; }
  /**
   * The natural logarithm of each element; floats only. `log(0) = -Inf` and a negative gives NaN, as IEEE and PyTorch.
   * Differentiable (d/dx = 1/x).
   *
   * PyTorch: `Tensor.log`.
   * @example wg.tensor([1, 0]).log() // tensor([0., -inf])
   */
  log(): Tensor<D> { return ops.unary("log", this) as Tensor<D>; }
  /**
   * The square root of each element; floats only, a negative gives NaN. Differentiable (d/dx = 1/(2√x)).
   *
   * PyTorch: `Tensor.sqrt`.
   * @example wg.tensor([4, 9]).sqrt() // tensor([2., 3.])
   */
  sqrt(): Tensor<D> { return ops.unary("sqrt", this) as Tensor<D>; }
  /**
   * The absolute value of each element (int32 too). Differentiable (the gradient is sign(x), 0 at 0).
   *
   * PyTorch: `Tensor.abs`.
   * @example wg.tensor([-1, 2]).abs() // tensor([1., 2.])
   */
  abs(): Tensor<D> { return ops.unary("abs", this) as Tensor<D>; }
  /**
   * -1, 0 or 1 by the sign of each element (int32 too); NaN gives 0, as PyTorch. The gradient is 0.
   *
   * PyTorch: `Tensor.sign`.
   * @example wg.tensor([-3, 0, 2]).sign() // tensor([-1., 0., 1.])
   */
  sign(): Tensor<D> { return ops.unary("sign", this) as Tensor<D>; }
  /**
   * The hyperbolic tangent of each element; floats only. Differentiable (d/dx = 1 - tanh²(x)).
   *
   * PyTorch: `Tensor.tanh`.
   * @example wg.tensor([0, 1]).tanh() // tensor([0.0000, 0.7616])
   */
  tanh(): Tensor<D> { return ops.unary("tanh", this) as Tensor<D>; }
  /**
   * The logistic function 1 / (1 + e^-x) of each element; floats only. Differentiable (d/dx = σ(x)(1 - σ(x))).
   *
   * PyTorch: `Tensor.sigmoid`.
   * @example wg.tensor([0]).sigmoid() // tensor([0.5000])
   */
  sigmoid(): Tensor<D> { return ops.unary("sigmoid", this) as Tensor<D>; }
  /**
   * max(x, 0) elementwise (int32 too); NaN stays NaN. Differentiable (the gradient is 1 where x > 0, else 0).
   *
   * PyTorch: `Tensor.relu`.
   * @example wg.tensor([-1, 2]).relu() // tensor([0., 2.])
   */
  relu(): Tensor<D> { return ops.unary("relu", this) as Tensor<D>; }
  /**
   * The error function of each element; floats only. Differentiable (d/dx = 2/√π · e^(-x²)).
   *
   * PyTorch: `Tensor.erf`.
   * @example wg.tensor([0, 1]).erf() // tensor([0.0000, 0.8427])
   */
  erf(): Tensor<D> { return ops.unary("erf", this) as Tensor<D>; }
  /**
   * The sine of each element (radians); floats only, ±Inf gives NaN. Differentiable.
   *
   * PyTorch: `Tensor.sin`.
   * @example wg.tensor([0]).sin() // tensor([0.])
   */
  sin(): Tensor<D> { return ops.unary("sin", this) as Tensor<D>; }
  /**
   * The cosine of each element (radians); floats only, ±Inf gives NaN. Differentiable.
   *
   * PyTorch: `Tensor.cos`.
   * @example wg.tensor([0]).cos() // tensor([1.])
   */
  cos(): Tensor<D> { return ops.unary("cos", this) as Tensor<D>; }
  /**
   * Each element times itself (int32 too). Differentiable.
   *
   * PyTorch: `Tensor.square`.
   * @example wg.tensor([-2, 3]).square() // tensor([4., 9.])
   */
  square(): Tensor<D> { return ops.binary("mul", this, this) as Tensor<D>; }
  /**
   * GELU, x·Φ(x) with Φ the standard normal CDF: the exact erf form by default, or the tanh approximation with
   * `{ approximate: "tanh" }`. Floats only. Differentiable.
   *
   * PyTorch: `torch.nn.functional.gelu`.
   * @example wg.tensor([-1, 0, 1]).gelu() // tensor([-0.1587, 0.0000, 0.8413])
   */
  gelu(opts?: { approximate?: "none" | "tanh" }): Tensor<D> { return ops.gelu(this, opts?.approximate) as Tensor<D>; }
  /**
   * Limits each element to [min, max]; either bound may be null or omitted, not both. `min > max` throws (PyTorch gives max
   * everywhere); a NaN element stays NaN, a NaN bound makes every element NaN. The gradient passes where min ≤ x ≤ max,
   * 0 elsewhere.
   *
   * PyTorch: `Tensor.clamp`.
   * @example wg.tensor([-2, 0.5, 3]).clamp(0, 1) // tensor([0.0000, 0.5000, 1.0000])
   */
  clamp(min?: number | null, max?: number | null): Tensor<D> { return ops.clamp(this, min ?? null, max ?? null) as Tensor<D>; }
  /**
   * This tensor where `cond` is non-zero, else `other` (a tensor or number); the three broadcast together. The gradient
   * goes to the side each element came from. The same as `wg.where(cond, x, other)`.
   *
   * PyTorch: `Tensor.where`.
   * @example wg.tensor([1, 2, 3]).where(wg.tensor([1, 0, 1]), 0) // tensor([1., 0., 3.])
   */
  where(cond: Tensor, other: number | Tensor<D>): Tensor<D>;
  where(cond: Tensor, other: Operand): Tensor;
  where(cond: Tensor, other: Operand): Tensor { return ops.where(cond, this, other); }
  /**
   * A copy converted to `dtype`, or this tensor when it already has it. Float to int32 rounds toward zero; NaN and values
   * outside int32 become -2^31 (as PyTorch on x86). float64 exists on the CPU only. Differentiable between float dtypes
   * (the gradient comes back in the input's dtype); no gradient flows through int32.
   *
   * PyTorch: `Tensor.to(dtype)`.
   * @example wg.tensor([1.7, -1.7]).cast("int32") // tensor([1, -1], dtype=int32)
   */
  cast<E extends DType>(dtype: E): Tensor<E> { return ops.cast(this, dtype) as Tensor<E>; }
  /**
   * `cast("float32")`: a float32 copy, or this tensor when it is float32.
   *
   * PyTorch: `Tensor.float`.
   * @example wg.tensor([1, 2], { dtype: "int32" }).float() // tensor([1., 2.])
   */
  float(): Tensor<"float32"> { return ops.cast(this, "float32") as Tensor<"float32">; }
  /**
   * `cast("int32")`: an int32 copy (floats round toward zero), or this tensor when it is int32. No gradient.
   *
   * PyTorch: `Tensor.int`.
   * @example wg.tensor([2.9, -2.9]).int() // tensor([2, -2], dtype=int32)
   */
  int(): Tensor<"int32"> { return ops.cast(this, "int32") as Tensor<"int32">; }
  /**
   * `cast("float64")`: a float64 copy, CPU only (for gradcheck and other checks that need the precision).
   *
   * PyTorch: `Tensor.double`.
   * @example wg.tensor([1, 2], { device: "cpu" }).double().dtype // "float64"
   */
  double(): Tensor<"float64"> { return ops.cast(this, "float64") as Tensor<"float64">; }

  // Reductions
  /**
   * Sums over `dim` (a number, negative from the end, or an array; every dim when omitted); `keepdim` keeps the reduced
   * dims as size 1. int32 sums in int32 (PyTorch sums it in int64). Differentiable.
   *
   * PyTorch: `Tensor.sum`.
   * @example wg.tensor([[1, 2], [3, 4]]).sum(1) // tensor([3., 7.])
   */
  sum(dim?: Dims, keepdim = false): Tensor<D> { return ops.reduce("sum", this, dim, keepdim) as Tensor<D>; }
  /**
   * The mean over `dim` (every dim when omitted), with `dim` and `keepdim` as in `sum`; floats only (int32 throws, as in
   * PyTorch). Differentiable.
   *
   * PyTorch: `Tensor.mean`.
   * @example wg.tensor([[1, 2], [3, 4]]).mean(0) // tensor([2., 3.])
   */
  mean(dim?: Dims, keepdim = false): Tensor<D> { return ops.mean(this, dim, keepdim) as Tensor<D>; }
  /**
   * The largest value over `dim` (every dim when omitted), with `dim` and `keepdim` as in `sum`: values only, where
   * PyTorch's `max(dim)` also returns indices (use `argmax`). NaN propagates; an empty reduced dim throws. The gradient is
   * shared evenly by the elements equal to the max.
   *
   * PyTorch: `Tensor.amax`.
   * @example wg.tensor([[1, 5], [3, 4]]).max(1) // tensor([5., 4.])
   */
  max(dim?: Dims, keepdim = false): Tensor<D> { return ops.reduce("max", this, dim, keepdim) as Tensor<D>; }
  /**
   * The smallest value over `dim` (every dim when omitted), with `dim` and `keepdim` as in `sum`: values only, where
   * PyTorch's `min(dim)` also returns indices (use `argmin`). NaN propagates; an empty reduced dim throws. The gradient is
   * shared evenly by the elements equal to the min.
   *
   * PyTorch: `Tensor.amin`.
   * @example wg.tensor([[1, 5], [3, 4]]).min(1) // tensor([1., 3.])
   */
  min(dim?: Dims, keepdim = false): Tensor<D> { return ops.reduce("min", this, dim, keepdim) as Tensor<D>; }
  /**
   * The int32 index of the largest value along one `dim`, or in the flattened tensor when `dim` is omitted (`keepdim` then
   * has no effect). The first index wins ties, and a NaN counts as the largest. No gradient.
   *
   * PyTorch: `Tensor.argmax`.
   * @example wg.tensor([[1, 5], [3, 4]]).argmax(1) // tensor([1, 1], dtype=int32)
   */
  argmax(dim?: number, keepdim = false): Tensor<"int32"> { return ops.argReduce("argmax", this, dim, keepdim) as Tensor<"int32">; }
  /**
   * The int32 index of the smallest value along one `dim`, or in the flattened tensor when `dim` is omitted (`keepdim` then
   * has no effect). The first index wins ties, and a NaN counts as the smallest. No gradient.
   *
   * PyTorch: `Tensor.argmin`.
   * @example wg.tensor([[1, 5], [3, 4]]).argmin() // tensor(0, dtype=int32)
   */
  argmin(dim?: number, keepdim = false): Tensor<"int32"> { return ops.argReduce("argmin", this, dim, keepdim) as Tensor<"int32">; }

  // Linear algebra and softmax
  /**
   * The matrix product, with `torch.matmul`'s rules: two 1-D operands give their dot product (0-d), a 1-D operand gains a
   * dim for the product and loses it after, and batch dims broadcast ([b, n, k] @ [k, m] is [b, n, m]). Floats only; a
   * 0-d operand throws (use `mul`). Differentiable.
   *
   * PyTorch: `Tensor.matmul`.
   * @example wg.tensor([[1, 2], [3, 4]]).matmul(wg.tensor([1, 1])) // tensor([3., 7.])
   */
  matmul(o: Tensor<D>): Tensor<D>;
  matmul(o: Tensor): Tensor;
  matmul(o: Tensor): Tensor { return ops.matmul(this, o); }
  /**
   * exp(x) / Σ exp(x) along `dim` (default the last; PyTorch has no default), computed stably; floats only. Differentiable.
   *
   * PyTorch: `Tensor.softmax`.
   * @example wg.tensor([1, 1]).softmax() // tensor([0.5000, 0.5000])
   */
  softmax(dim = -1): Tensor<D> { return ops.softmax(this, dim) as Tensor<D>; }
  /**
   * log(softmax(x)) along `dim` (default the last), computed stably (no log of an underflowed 0); floats only. Differentiable.
   *
   * PyTorch: `Tensor.log_softmax`.
   * @example wg.tensor([0, 0]).logSoftmax() // tensor([-0.6931, -0.6931])
   */
  logSoftmax(dim = -1): Tensor<D> { return ops.logSoftmax(this, dim) as Tensor<D>; }

  // Shape
  /**
   * The same elements in a new shape, given as numbers or as one array; one size may be -1 (inferred). A view when the
   * tensor is contiguous, else a contiguous copy first, as PyTorch; this tensor itself when the shape is unchanged.
   * Differentiable.
   *
   * PyTorch: `Tensor.reshape`.
   * @example wg.arange(6).reshape(2, -1) // tensor([[0., 1., 2.], [3., 4., 5.]])
   */
  reshape(...shape: (number | number[])[]): Tensor<D> { return ops.reshape(this, shape.flat()) as Tensor<D>; }
  /**
   * The same as `reshape`: unlike PyTorch's `view`, a non-contiguous tensor is copied instead of refused.
   *
   * PyTorch: `Tensor.view`.
   * @example wg.zeros([2, 3]).view([3, 2]).shape // [3, 2]
   */
  view(...shape: (number | number[])[]): Tensor<D> { return ops.reshape(this, shape.flat()) as Tensor<D>; }
  /**
   * Merges the dims from `startDim` to `endDim` (all by default) into one, through `reshape`; a 0-d tensor becomes [1].
   * Differentiable.
   *
   * PyTorch: `Tensor.flatten`.
   * @example wg.zeros([2, 3, 4]).flatten(1).shape // [2, 12]
   */
  flatten(startDim = 0, endDim = -1): Tensor<D> { return ops.flatten(this, startDim, endDim) as Tensor<D>; }
  /**
   * Swaps dims `d0` and `d1` (negative from the end): a view with swapped strides, no copy. Differentiable.
   *
   * PyTorch: `Tensor.transpose`.
   * @example wg.zeros([2, 3, 4]).transpose(0, -1).shape // [4, 3, 2]
   */
  transpose(d0: number, d1: number): Tensor<D> { return ops.transpose(this, d0, d1) as Tensor<D>; }
  /**
   * Reorders the dims: output dim i is input dim `dims[i]` (numbers or one array, a permutation of all dims). A view, no
   * copy. Differentiable.
   *
   * PyTorch: `Tensor.permute`.
   * @example wg.zeros([2, 3, 4]).permute(2, 0, 1).shape // [4, 2, 3]
   */
  permute(...dims: (number | number[])[]): Tensor<D> { return ops.permute(this, dims.flat()) as Tensor<D>; }
  /**
   * The transpose of a 2-D tensor, as a view. Other ranks throw (PyTorch reverses every dim, deprecated): use
   * `transpose(-2, -1)` or `permute`.
   *
   * PyTorch: `Tensor.T`.
   * @example wg.tensor([[1, 2], [3, 4]]).T // tensor([[1., 3.], [2., 4.]])
   */
  get T(): Tensor<D> { return ops.matrixT(this) as Tensor<D>; }
  /**
   * A view that repeats size-1 dims (and adds leading dims) to reach `shape` without copying (stride 0); -1 keeps a dim's
   * size. Writing into an expanded view in place throws. The gradient sums over the expanded dims.
   *
   * PyTorch: `Tensor.expand`.
   * @example wg.tensor([[1], [2]]).expand(2, 3) // tensor([[1., 1., 1.], [2., 2., 2.]])
   */
  expand(...shape: (number | number[])[]): Tensor<D> { return ops.expand(this, shape.flat()) as Tensor<D>; }
  /**
   * `expand(o.shape)`: a view of this tensor broadcast to the shape of `o`.
   *
   * PyTorch: `Tensor.expand_as`.
   * @example wg.tensor([1, 2]).expandAs(wg.zeros([3, 2])).shape // [3, 2]
   */
  expandAs(o: Tensor): Tensor<D> { return ops.expand(this, o.shape) as Tensor<D>; }
  /**
   * A view with a new dim of size 1 at `dim` (negative counts from the end of the result). Differentiable.
   *
   * PyTorch: `Tensor.unsqueeze`.
   * @example wg.zeros([2, 3]).unsqueeze(-1).shape // [2, 3, 1]
   */
  unsqueeze(dim: number): Tensor<D> { return ops.unsqueeze(this, dim) as Tensor<D>; }
  /**
   * A view without the size-1 dims: every one, or only `dim` (a `dim` whose size is not 1 leaves the tensor as it is).
   * Differentiable.
   *
   * PyTorch: `Tensor.squeeze`.
   * @example wg.zeros([1, 2, 1]).squeeze().shape // [2]
   */
  squeeze(dim?: number): Tensor<D> { return ops.squeeze(this, dim) as Tensor<D>; }
  /**
   * The elements `start <= i < end` along `dim`, as Python's `x[start:end]` on that dim: negative indices count from the
   * end, out-of-range bounds clamp, no step. A view sharing storage; the gradient lands in the sliced region, zeros elsewhere.
   *
   * PyTorch: indexing, `x[:, start:end]` (`Tensor.narrow` takes a length instead of an end).
   * @example wg.arange(5).slice(0, 1, -1) // tensor([1., 2., 3.])
   */
  slice(dim: number, start?: number, end?: number): Tensor<D> { return ops.slice(this, dim, start, end) as Tensor<D>; }
  /**
   * This tensor if it is contiguous, else a row-major copy of it (differentiable).
   *
   * PyTorch: `Tensor.contiguous`.
   * @example wg.zeros([2, 3]).T.contiguous().isContiguous() // true
   */
  contiguous(): Tensor<D> { return this.isContiguous() ? this : ops.contiguous(this) as Tensor<D>; }
  /**
   * Picks values along `dim`: out at position p is this tensor at p with coordinate `dim` replaced by `index` at p.
   * `index` is int32, has this tensor's rank and is no larger in the other dims. An index out of range throws (on WebGPU at
   * the next sync point). The gradient scatter-adds into the picked positions.
   *
   * PyTorch: `Tensor.gather`.
   * @example wg.tensor([[1, 2], [3, 4]]).gather(1, wg.tensor([[1], [0]], { dtype: "int32" })) // tensor([[2.], [3.]])
   */
  gather(dim: number, index: Tensor): Tensor<D> { return ops.gather(this, dim, index) as Tensor<D>; }

  // Autograd
  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad and adds it into their `.grad`
   * (and into tensors that called `retainGrad()`). A tensor of more than one element needs `gradient`, of its shape (a
   * number fills it); a tensor that does not require grad throws. The graph's saved values are freed afterwards unless
   * `opts.retainGraph`; `opts.createGraph` records the backward pass for higher-order gradients. Launches kernels only:
   * no readback.
   *
   * PyTorch: `Tensor.backward`.
   * @example const x = wg.tensor([1, 2, 3], { requiresGrad: true }); x.pow(2).sum().backward(); x.grad // tensor([2., 4., 6.])
   */
  backward(gradient?: Tensor | number, opts: BackwardOptions = {}): void { backward(this, gradient, opts); }
  /**
   * A new leaf that shares this tensor's storage but has no history and does not require grad: gradients stop here. An
   * in-place change to either shows in both.
   *
   * PyTorch: `Tensor.detach`.
   * @example wg.tensor([1, 2], { requiresGrad: true }).mul(2).detach().requiresGrad // false
   */
  detach(): Tensor<D> { return ops.detach(this) as Tensor<D>; }
  /**
   * A contiguous copy with its own storage. Differentiable: the gradient passes through unchanged.
   *
   * PyTorch: `Tensor.clone`.
   * @example wg.zeros([2, 3]).T.clone().isContiguous() // true
   */
  clone(): Tensor<D> { return ops.clone(this) as Tensor<D>; }
  /**
   * Sets `requiresGrad` (on a float leaf; see there) and returns this tensor, for chaining.
   *
   * PyTorch: `Tensor.requires_grad_`.
   * @example wg.randn([3]).requiresGrad_().requiresGrad // true
   */
  requiresGrad_(flag = true): this { this.requiresGrad = flag; return this; }
  /**
   * Asks `backward()` to store this non-leaf tensor's gradient in its `.grad` as well (leaves get theirs anyway); throws if
   * the tensor does not require grad. Returns this tensor.
   *
   * PyTorch: `Tensor.retain_grad`.
   * @example const x = wg.tensor([1, 2], { requiresGrad: true }); const y = x.mul(2).retainGrad(); y.mul(y).sum().backward(); y.grad // tensor([4., 8.])
   */
  retainGrad(): this {
    if (!this.requiresGrad) throw new Error(`retainGrad: the tensor (shape ${fmt(this.shape)}) does not require grad, so it will have no gradient. Fix: make its inputs require grad.`);
    if (this.gradFn) this.gradFn.retained = this;
    return this;
  }

  // In place (bump the version; autograd refuses saved values changed since)
  /**
   * Adds `o` (a number, or a tensor that broadcasts to this shape, of the same dtype) into this tensor in place and returns
   * it. In-place writes bump `version`: a later backward through an op that saved the old value throws. With grad on, a
   * leaf that requires grad throws (update it inside `wg.noGrad`, as optimizers do), as does a view in a graph; an
   * expanded view always throws. Otherwise differentiable, as PyTorch.
   *
   * PyTorch: `Tensor.add_`.
   * @example wg.tensor([1, 2]).add_(10) // tensor([11., 12.])
   */
  add_(o: Operand): this { return ops.inplace("add_", this, o); }
  /**
   * Subtracts `o` from this tensor in place and returns it; broadcasting, dtypes, `version` and the autograd rules as `add_`.
   *
   * PyTorch: `Tensor.sub_`.
   * @example wg.tensor([1, 2]).sub_(1) // tensor([0., 1.])
   */
  sub_(o: Operand): this { return ops.inplace("sub_", this, o); }
  /**
   * Multiplies this tensor by `o` in place and returns it; broadcasting, dtypes, `version` and the autograd rules as `add_`.
   *
   * PyTorch: `Tensor.mul_`.
   * @example wg.tensor([1, 2]).mul_(wg.tensor([3, 4])) // tensor([3., 8.])
   */
  mul_(o: Operand): this { return ops.inplace("mul_", this, o); }
  /**
   * Divides this tensor by `o` in place and returns it (floats only); broadcasting, dtypes, `version` and the autograd rules
   * as `add_`.
   *
   * PyTorch: `Tensor.div_`.
   * @example wg.tensor([2, 4]).div_(2) // tensor([1., 2.])
   */
  div_(o: Operand): this { return ops.inplace("div_", this, o); }
  /**
   * Copies `src` (a number, or a tensor that broadcasts to this shape) into this tensor in place and returns it; int32 into
   * a float tensor converts, a float into int32 throws. The gradient goes to `src`; `version` and the autograd rules as `add_`.
   *
   * PyTorch: `Tensor.copy_`.
   * @example wg.zeros([2, 2]).copy_(wg.tensor([1, 2])) // tensor([[1., 2.], [1., 2.]])
   */
  copy_(src: Operand): this { return ops.inplace("copy_", this, src); }
  /**
   * Sets every element to `value` in place and returns this tensor (an int32 tensor takes integers only); `version` and
   * the autograd rules as `add_`.
   *
   * PyTorch: `Tensor.fill_`.
   * @example wg.zeros([3]).fill_(7) // tensor([7., 7., 7.])
   */
  fill_(value: number): this { return ops.inplace("fill_", this, value); }
  /**
   * Sets every element to 0 in place and returns this tensor; `version` and the autograd rules as `add_`.
   *
   * PyTorch: `Tensor.zero_`.
   * @example wg.ones([2]).zero_() // tensor([0., 0.])
   */
  zero_(): this { return ops.inplace("zero_", this, 0); }

  // Sequence-model activations
  /**
   * SiLU (swish), x·σ(x), elementwise; floats only. Differentiable.
   *
   * PyTorch: `torch.nn.functional.silu`.
   * @example wg.tensor([0, 1]).silu() // tensor([0.0000, 0.7311])
   */
  silu(): Tensor<D> { return ops.unary("silu", this) as Tensor<D>; }
  /**
   * ln(1 + eˣ) elementwise, computed as max(x, 0) + ln(1 + e^-|x|) so large inputs cannot overflow (PyTorch's beta = 1);
   * floats only. Differentiable (d/dx = σ(x)).
   *
   * PyTorch: `torch.nn.functional.softplus`.
   * @example wg.tensor([0, 100]).softplus() // tensor([0.6931, 100.0000])
   */
  softplus(): Tensor<D> { return ops.unary("softplus", this) as Tensor<D>; }
  /**
   * x where x > 0, else `negativeSlope`·x. Differentiable (the gradient at 0 is the slope, as PyTorch).
   *
   * PyTorch: `torch.nn.functional.leaky_relu`.
   * @example wg.tensor([-10, 5]).leakyRelu(0.1) // tensor([-1., 5.])
   */
  leakyRelu(negativeSlope = 0.01): Tensor<D> { return ops.leakyRelu(this, negativeSlope) as Tensor<D>; }

  // Indexing, splitting and sorting (issue 12, part B)
  /**
   * The slices of this tensor along `dim` at the positions in a 1-D (or 0-d) int32 `index`, repeats allowed. An index out
   * of range throws (on WebGPU at the next sync point). The gradient scatter-adds into the picked slices.
   *
   * PyTorch: `Tensor.index_select`.
   * @example wg.tensor([[1, 2], [3, 4], [5, 6]]).indexSelect(0, wg.tensor([2, 0], { dtype: "int32" })) // tensor([[5., 6.], [1., 2.]])
   */
  indexSelect(dim: number, index: Tensor): Tensor<D> { return ops.indexSelect(this, dim, index) as Tensor<D>; }
  /**
   * A copy of this tensor with each element of `src` added at the position whose coordinate `dim` is the value of `index`
   * there (repeated positions add up); out of place. `index` is int32 with the rank of this tensor and `src`; an index out
   * of range throws. Differentiable in this tensor and `src`.
   *
   * PyTorch: `Tensor.scatter_add`.
   * @example wg.zeros([3]).scatterAdd(0, wg.tensor([0, 2, 0], { dtype: "int32" }), wg.tensor([1, 2, 3])) // tensor([4., 0., 2.])
   */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor<D> { return ops.scatterAddInto(this, dim, index, src) as Tensor<D>; }
  /**
   * Views of consecutive pieces along `dim`: each of size `sizeOrSizes` (the last one smaller), or of the listed sizes,
   * which must add up to the dim's size. Differentiable.
   *
   * PyTorch: `Tensor.split`.
   * @example wg.arange(5).split(2).map((t) => t.shape) // [[2], [2], [1]]
   */
  split(sizeOrSizes: number | number[], dim = 0): Tensor<D>[] { return ops.split(this, sizeOrSizes, dim) as Tensor<D>[]; }
  /**
   * At most `n` views of ceil(size / n) elements along `dim` (fewer when the elements run out, as PyTorch). Differentiable.
   *
   * PyTorch: `Tensor.chunk`.
   * @example wg.arange(6).chunk(4).length // 3
   */
  chunk(n: number, dim = 0): Tensor<D>[] { return ops.chunk(this, n, dim) as Tensor<D>[]; }
  /**
   * Sorts along `dim` (default the last), ascending unless `{ descending: true }`, and stably (ties keep their order, as
   * `torch.sort(stable=True)`); NaN sorts as the largest. Returns `{ values, indices }` (int32 positions) instead of a
   * tuple. The gradient of `values` flows back to the original positions.
   *
   * PyTorch: `Tensor.sort`.
   * @example wg.tensor([3, 1, 2]).sort().indices // tensor([1, 2, 0], dtype=int32)
   */
  sort(dim = -1, opts: { descending?: boolean } = {}): { values: Tensor<D>; indices: Tensor<"int32"> } {
    return ops.sort(this, dim, opts) as { values: Tensor<D>; indices: Tensor<"int32"> };
  }
  /**
   * The `k` largest elements along `dim` (default the last), or the smallest with `{ largest: false }`, sorted, as
   * `{ values, indices }` (int32 positions); ties in position order. k must be in [0, size of dim]. The gradient of
   * `values` flows back to the picked positions.
   *
   * PyTorch: `Tensor.topk`.
   * @example wg.tensor([1, 5, 3]).topk(2).values // tensor([5., 3.])
   */
  topk(k: number, dim = -1, opts: { largest?: boolean } = {}): { values: Tensor<D>; indices: Tensor<"int32"> } {
    return ops.topk(this, k, dim, opts) as { values: Tensor<D>; indices: Tensor<"int32"> };
  }

  /**
   * Releases the tensor's device memory now (storage shared with views, or saved for backward, is freed when its last
   * user goes); using the tensor afterwards throws, disposing twice does nothing. `wg.tidy` disposes what its function made; tensors dropped
   * without either are reclaimed only when JavaScript collects them.
   *
   * PyTorch: none (webgrad only).
   * @example const x = wg.ones([1024]); x.dispose(); x.isDisposed // true
   */
  dispose(): void { disposeTracked(this); }

  // More tensor methods (issue 12, part A)
  /**
   * 1 / √x elementwise; floats only. Differentiable (d/dx = -½·x^(-3/2)).
   *
   * PyTorch: `Tensor.rsqrt`.
   * @example wg.tensor([4, 16]).rsqrt() // tensor([0.5000, 0.2500])
   */
  rsqrt(): Tensor<D> { return ops.unary("rsqrt", this) as Tensor<D>; }
  /**
   * ln(1 + x) elementwise, accurate for small x; floats only. Differentiable.
   *
   * PyTorch: `Tensor.log1p`.
   * @example wg.tensor([0, 1e-8]).log1p() // tensor([0.0000e+00, 1.0000e-08])
   */
  log1p(): Tensor { return ops.unary("log1p", this); }
  /**
   * eˣ - 1 elementwise, accurate for small x; floats only. Differentiable.
   *
   * PyTorch: `Tensor.expm1`.
   * @example wg.tensor([0, 1]).expm1() // tensor([0.0000, 1.7183])
   */
  expm1(): Tensor { return ops.unary("expm1", this); }
  /**
   * Rounds each element down to an integer (float result; floats only). The gradient is 0.
   *
   * PyTorch: `Tensor.floor`.
   * @example wg.tensor([1.5, -1.5]).floor() // tensor([ 1., -2.])
   */
  floor(): Tensor<D> { return ops.unary("floor", this) as Tensor<D>; }
  /**
   * Rounds each element up to an integer (float result; floats only). The gradient is 0.
   *
   * PyTorch: `Tensor.ceil`.
   * @example wg.tensor([1.5, -1.5]).ceil() // tensor([ 2., -1.])
   */
  ceil(): Tensor<D> { return ops.unary("ceil", this) as Tensor<D>; }
  /**
   * Rounds each element to the nearest integer, halves to even as PyTorch (float result; floats only). The gradient is 0.
   *
   * PyTorch: `Tensor.round`.
   * @example wg.tensor([0.5, 1.5, 2.5]).round() // tensor([0., 2., 2.])
   */
  round(): Tensor<D> { return ops.unary("round", this) as Tensor<D>; }
  /**
   * The variance over `dim` (every dim when omitted): Σ(x - mean)² / (n - correction), with `correction` (default 1,
   * Bessel's; 0 for the population variance) and `keepdim` in the options, PyTorch's keyword arguments. n - correction ≤ 0
   * gives Inf or NaN, as PyTorch. Floats only. Differentiable.
   *
   * PyTorch: `Tensor.var`.
   * @example wg.tensor([1, 2, 3, 4]).var() // tensor(1.6667)
   */
  var(dim?: Dims, opts?: ops.VarOptions): Tensor<D> { return ops.variance(this, dim, opts) as Tensor<D>; }
  /**
   * The standard deviation, √var, with the arguments of `var` (default correction 1). Floats only. Differentiable.
   *
   * PyTorch: `Tensor.std`.
   * @example wg.tensor([1, 2, 3, 4]).std(undefined, { correction: 0 }) // tensor(1.1180)
   */
  std(dim?: Dims, opts?: ops.VarOptions): Tensor<D> { return ops.std(this, dim, opts) as Tensor<D>; }
  /**
   * log Σ exp(x) over `dim` (required, as PyTorch), computed stably: the max is subtracted first, so large values cannot
   * overflow. Floats only. Differentiable (the gradient is softmax).
   *
   * PyTorch: `Tensor.logsumexp`.
   * @example wg.tensor([[0, 0], [100, 100]]).logsumexp(1) // tensor([  0.6931, 100.6931])
   */
  logsumexp(dim: Dims, keepdim = false): Tensor<D> { return ops.logsumexp(this, dim, keepdim) as Tensor<D>; }
  /**
   * The vector p-norm (Σ|x|ᵖ)^(1/p) over `dim` (every dim when omitted); `"fro"` is p = 2, `Infinity` / `-Infinity` the
   * max / min of |x|, 0 the count of non-zeros. Floats only. Differentiable (0 at x = 0, as PyTorch).
   *
   * PyTorch: `Tensor.norm` (`torch.linalg.vector_norm`).
   * @example wg.tensor([3, 4]).norm() // tensor(5.)
   */
  norm(p: number | "fro" = 2, dim?: Dims, keepdim = false): Tensor<D> { return ops.norm(this, p, dim, keepdim) as Tensor<D>; }
  /**
   * The product over `dim` (every dim when omitted; any number of dims, where PyTorch takes one), with `keepdim` as in
   * `sum`; int32 in int32. Differentiable, zeros included (PyTorch's rule).
   *
   * PyTorch: `Tensor.prod`.
   * @example wg.tensor([[1, 2], [3, 4]]).prod(1) // tensor([ 2., 12.])
   */
  prod(dim?: Dims, keepdim = false): Tensor<D> { return ops.reduce("prod", this, dim, keepdim) as Tensor<D>; }
  /**
   * Running sums along `dim` (required); int32 stays int32 and wraps on overflow. Differentiable.
   *
   * PyTorch: `Tensor.cumsum`.
   * @example wg.tensor([1, 2, 3]).cumsum(0) // tensor([1., 3., 6.])
   */
  cumsum(dim: number): Tensor<D> { return ops.cumsum(this, dim) as Tensor<D>; }
  /**
   * The lower triangle of the last two dims: x[..., i, j] where j - i ≤ k, zero elsewhere (k > 0 keeps diagonals above,
   * k < 0 drops some below). Needs at least 2 dims. Differentiable.
   *
   * PyTorch: `Tensor.tril`.
   * @example wg.ones([2, 2]).tril() // tensor([[1., 0.], [1., 1.]])
   */
  tril(k = 0): Tensor<D> { return ops.tril(this, k) as Tensor<D>; }
  /**
   * The upper triangle of the last two dims: x[..., i, j] where j - i ≥ k, zero elsewhere. Needs at least 2 dims.
   * Differentiable.
   *
   * PyTorch: `Tensor.triu`.
   * @example wg.ones([2, 2]).triu(1) // tensor([[0., 1.], [0., 0.]])
   */
  triu(k = 0): Tensor<D> { return ops.triu(this, k) as Tensor<D>; }
  /**
   * A copy with `value` where `mask` is non-zero (a float 0/1 or int32 mask that broadcasts to this shape; PyTorch wants
   * bool). `value` is a number or a 0-d tensor, which gets the gradient summed over the filled places. Differentiable.
   *
   * PyTorch: `Tensor.masked_fill`.
   * @example wg.tensor([1, 2, 3]).maskedFill(wg.tensor([1, 2, 3]).gt(1), 0) // tensor([1., 0., 0.])
   */
  maskedFill(mask: Tensor, value: number | Tensor): Tensor<D> { return ops.maskedFill(this, mask, value) as Tensor<D>; }
  /**
   * A copy with the order of the elements reversed along each of `dims` (numbers or one array). Differentiable.
   *
   * PyTorch: `Tensor.flip`.
   * @example wg.tensor([[1, 2], [3, 4]]).flip(1) // tensor([[2., 1.], [4., 3.]])
   */
  flip(...dims: (number | number[])[]): Tensor<D> { return ops.flip(this, dims.flat()) as Tensor<D>; }
  /**
   * Tiles the tensor `sizes[i]` times along dim i (numbers or one array); extra leading sizes add leading dims.
   * Differentiable.
   *
   * PyTorch: `Tensor.repeat`.
   * @example wg.tensor([1, 2]).repeat(2, 2) // tensor([[1., 2., 1., 2.], [1., 2., 1., 2.]])
   */
  repeat(...sizes: (number | number[])[]): Tensor<D> { return ops.repeat(this, sizes.flat()) as Tensor<D>; }
}
