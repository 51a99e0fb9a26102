/**
 * The user-facing tensor handle. Methods are one-liners over ops/; the data
 * lives in a Storage owned by a backend and leaves the device only through
 * the async readbacks data(), item() and tolist().
 */
import type { Device, Storage, View } from "./backend/backend.js";
import type { DType, TypedArray } from "./dtype.js";
import { contiguousStrides, fmt, isContiguous, numel } from "./shape.js";
import { disposeTracked, track, type Handle } from "./engine/scope.js";
import { backendFor } from "./engine/device.js";
import { AccumulateGrad, type Node } from "./autograd/node.js";
import { isInferenceMode, noGrad } from "./autograd/mode.js";
import { backward, type BackwardOptions } from "./autograd/engine.js";
import * as ops from "./ops/index.js";
import { formatValues, printed } from "./tensor-format.js";

type Operand = Tensor | number;
type Dims = number | number[];

export class Tensor implements View {
  /** @internal */
  readonly handle: Handle;
  readonly shape: number[];
  readonly strides: number[];
  gradFn: Node | null = null;
  /** Set by retainGrad(), or for leaves by the engine. */
  private _grad: Tensor | null = null;
  private _requiresGrad = false;
  private _acc: AccumulateGrad | null = null;
  readonly isInference = isInferenceMode();

  /** @internal Tensors come from wg.tensor, wg.zeros and the other creation functions, or from ops. */
  constructor(
    storage: Storage,
    shape: readonly number[],
    readonly dtype: DType,
    strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
    /** Shares its storage with the tensor it was made from (reshape, permute, expand, slice). */
    readonly isView = false,
  ) {
    this.shape = [...shape];
    this.strides = [...strides];
    this.handle = { storage, device: storage.backend.device, disposed: false };
    track(this);
  }

  /** A fresh contiguous tensor on `device`; its contents are undefined until a kernel writes them. */
  static empty(shape: readonly number[], dtype: DType, device: Device): Tensor {
    return new Tensor(backendFor(device).alloc(dtype, numel(shape)), shape, dtype);
  }

  get storage(): Storage {
    if (this.handle.disposed)
      throw new Error(`tensor of shape ${fmt(this.shape)} was disposed; it cannot be used any more.`);
    return this.handle.storage;
  }
  get device(): Device { return this.handle.device; }
  get size(): number { return numel(this.shape); }
  get ndim(): number { return this.shape.length; }
  get isLeaf(): boolean { return this.gradFn === null; }
  get isDisposed(): boolean { return this.handle.disposed; }
  get version(): number { return this.handle.storage.version; }
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
  isContiguous(): boolean { return isContiguous(this.shape, this.strides); }
  /** @internal A new handle on the same storage with the same autograd identity (how backward unpacks saved tensors). */
  aliasForBackward(): Tensor {
    const t = new Tensor(this.handle.storage, this.shape, this.dtype, this.strides, this.offset, true);
    t.gradFn = this.gradFn;
    t._requiresGrad = this._requiresGrad;
    if (this.isLeaf && this._requiresGrad) t._acc = this.accumulator();
    return t;
  }
  /** Shape, dtype, device, gradFn; and the values of a small tensor read since its last change. */
  toString(): string {
    const seen = this._seen && this._seen.version === this.handle.storage.version && !this.handle.disposed ? this._seen.values : null;
    const values = seen ? `, values=${formatValues(seen, this.shape, this.dtype, 0, false)}` : "";
    return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, device=${this.device}${this.gradFn ? `, gradFn=${this.gradFn.name}` : this.requiresGrad ? ", requiresGrad" : ""}${values})`;
  }
  /** console.log and util.inspect in Node show toString(), not the storage's internals (no node:util import). */
  [Symbol.for("nodejs.util.inspect.custom")](): string { return this.toString(); }
  /** Read the values and print them as PyTorch does: tensor([[1., 2.], ...], device=webgpu, gradFn=<MulBackward>). */
  async print(): Promise<void> { console.log(printed(await this.data(), this)); }
  // The last readback of a small tensor, for toString (a copy: the caller may change the array it got).
  private _seen: { version: number; values: TypedArray } | null = null;
  private remember(values: TypedArray): TypedArray {
    if (this.size <= 100) this._seen = { version: this.handle.storage.version, values: values.slice() };
    return values;
  }

  // Readback: the only way data leaves the device.
  async data(): Promise<TypedArray> {
    const v = this.viewFor("data");
    if (v.isContiguous()) return this.remember(await backendFor(this.device).read(v));
    const dense = noGrad(() => ops.contiguous(v));
    try {
      return this.remember(await backendFor(this.device).read(dense));
    } finally {
      dense.dispose();
    }
  }
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: only a one-element tensor can be converted to a number; this one has shape ${fmt(this.shape)}. Fix: reduce it first, e.g. x.sum().item().`);
    return (await this.data())[0];
  }
  async tolist(): Promise<number | unknown[]> { return ops.nest(await this.data(), this.shape); }
  to(device: Device): Promise<Tensor> { return ops.toDevice(this, device); }
  private viewFor(op: string): Tensor {
    if (this.handle.disposed) throw new Error(`${op}: tensor of shape ${fmt(this.shape)} was disposed.`);
    return this;
  }

  // Elementwise
  add(o: Operand): Tensor { return ops.binary("add", this, o); }
  sub(o: Operand): Tensor { return ops.binary("sub", this, o); }
  mul(o: Operand): Tensor { return ops.binary("mul", this, o); }
  div(o: Operand): Tensor { return ops.binary("div", this, o); }
  pow(o: Operand): Tensor { return ops.binary("pow", this, o); }
  maximum(o: Operand): Tensor { return ops.binary("maximum", this, o); }
  minimum(o: Operand): Tensor { return ops.binary("minimum", this, o); }
  eq(o: Operand): Tensor { return ops.binary("eq", this, o); }
  ne(o: Operand): Tensor { return ops.binary("ne", this, o); }
  gt(o: Operand): Tensor { return ops.binary("gt", this, o); }
  ge(o: Operand): Tensor { return ops.binary("ge", this, o); }
  lt(o: Operand): Tensor { return ops.binary("lt", this, o); }
  le(o: Operand): Tensor { return ops.binary("le", this, o); }
  neg(): Tensor { return ops.unary("neg", this); }
  exp(): Tensor { return ops.unary("exp", this); }
  log(): Tensor { return ops.unary("log", this); }
  sqrt(): Tensor { return ops.unary("sqrt", this); }
  abs(): Tensor { return ops.unary("abs", this); }
  sign(): Tensor { return ops.unary("sign", this); }
  tanh(): Tensor { return ops.unary("tanh", this); }
  sigmoid(): Tensor { return ops.unary("sigmoid", this); }
  relu(): Tensor { return ops.unary("relu", this); }
  erf(): Tensor { return ops.unary("erf", this); }
  sin(): Tensor { return ops.unary("sin", this); }
  cos(): Tensor { return ops.unary("cos", this); }
  square(): Tensor { return ops.binary("mul", this, this); }
  gelu(opts?: { approximate?: "none" | "tanh" }): Tensor { return ops.gelu(this, opts?.approximate); }
  clamp(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min ?? null, max ?? null); }
  where(cond: Tensor, other: Operand): Tensor { return ops.where(cond, this, other); }
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
  float(): Tensor { return ops.cast(this, "float32"); }
  int(): Tensor { return ops.cast(this, "int32"); }
  double(): Tensor { return ops.cast(this, "float64"); }

  // Reductions
  sum(dim?: Dims, keepdim = false): Tensor { return ops.reduce("sum", this, dim, keepdim); }
  mean(dim?: Dims, keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  max(dim?: Dims, keepdim = false): Tensor { return ops.reduce("max", this, dim, keepdim); }
  min(dim?: Dims, keepdim = false): Tensor { return ops.reduce("min", this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return ops.argReduce("argmax", this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return ops.argReduce("argmin", this, dim, keepdim); }

  // Linear algebra and softmax
  matmul(o: Tensor): Tensor { return ops.matmul(this, o); }
  softmax(dim = -1): Tensor { return ops.softmax(this, dim); }
  logSoftmax(dim = -1): Tensor { return ops.logSoftmax(this, dim); }

  // Shape
  reshape(...shape: (number | number[])[]): Tensor { return ops.reshape(this, shape.flat()); }
  view(...shape: (number | number[])[]): Tensor { return ops.reshape(this, shape.flat()); }
  flatten(startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  transpose(d0: number, d1: number): Tensor { return ops.transpose(this, d0, d1); }
  permute(...dims: (number | number[])[]): Tensor { return ops.permute(this, dims.flat()); }
  get T(): Tensor { return ops.matrixT(this); }
  expand(...shape: (number | number[])[]): Tensor { return ops.expand(this, shape.flat()); }
  expandAs(o: Tensor): Tensor { return ops.expand(this, o.shape); }
  unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  squeeze(dim?: number): Tensor { return ops.squeeze(this, dim); }
  slice(dim: number, start?: number, end?: number): Tensor { return ops.slice(this, dim, start, end); }
  contiguous(): Tensor { return this.isContiguous() ? this : ops.contiguous(this); }
  gather(dim: number, index: Tensor): Tensor { return ops.gather(this, dim, index); }

  // Autograd
  backward(gradient?: Tensor | number, opts: BackwardOptions = {}): void { backward(this, gradient, opts); }
  detach(): Tensor { return ops.detach(this); }
  clone(): Tensor { return ops.clone(this); }
  requiresGrad_(flag = true): this { this.requiresGrad = flag; return this; }
  retainGrad(): this {
    if (!this.requiresGrad) throw new Error(`retainGrad: the tensor (shape ${fmt(this.shape)}) does not require grad, so it will have no gradient. Fix: make its inputs require grad.`);
    if (this.gradFn) this.gradFn.retained = this;
    return this;
  }

  // In place (bump the version; autograd refuses saved values changed since)
  add_(o: Operand): this { return ops.inplace("add_", this, o); }
  sub_(o: Operand): this { return ops.inplace("sub_", this, o); }
  mul_(o: Operand): this { return ops.inplace("mul_", this, o); }
  div_(o: Operand): this { return ops.inplace("div_", this, o); }
  copy_(src: Operand): this { return ops.inplace("copy_", this, src); }
  fill_(value: number): this { return ops.inplace("fill_", this, value); }
  zero_(): this { return ops.inplace("zero_", this, 0); }

  // Sequence-model activations
  silu(): Tensor { return ops.unary("silu", this); }
  softplus(): Tensor { return ops.unary("softplus", this); }
  leakyRelu(negativeSlope = 0.01): Tensor { return ops.leakyRelu(this, negativeSlope); }

  /** Release device memory now; using the tensor afterwards throws. */
  dispose(): void { disposeTracked(this); }
}
