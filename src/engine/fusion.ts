/**
 * Elementwise fusion on WebGPU. A fusable launch (an elementwise table op on
 * dense operands of one size) is not encoded at once: it joins the pending
 * chain, its output storage already made, so memory() and every handle
 * stay as they were (the backend takes a buffer only when a launch, upload or
 * readback first uses a storage, so an intermediate never written never has one). Anything that must observe device memory realizes the
 * chain first (another kernel, an upload, a readback, a flush, an input's
 * storage being freed). Realizing writes an op's output only if its storage
 * is still referenced then ("write if alive"): intermediates a tidy() or
 * dispose() dropped live only in registers.
 */
import type { Backend, GpuCaps, GpuLaunch, Kernel, Storage, View } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { isContiguous, numel, sameShape } from "../shape.js";
import { describeInputs, FUSED_PARAMS, fusedKey, fusedWgsl, opSignature, type FusedOp, type Ref } from "./fused-kernel.js";
import { baseLaunch, epilogueKernel, type Head } from "./epilogue.js";
import { prologueKernel, tailLaunch } from "./prologue.js";
import { uniformLayout } from "./wgsl.js";

/** WebGPU's guaranteed storage buffers per shader stage: inputs plus written outputs of one fused kernel. */
const MAX_BINDINGS = 8;
/** Ops per generated kernel (keeps the WGSL and its compile small): a longer chain is encoded as several kernels. */
const MAX_OPS = 128;
/**
 * Ops a plain chain may hold before it is realized. A chain is cut into kernels of MAX_OPS when it is
 * realized, not when it reaches them: by then a tidy() has dropped most of its values, which are then
 * never written (cut as it is recorded, every value the open tidy still holds would be).
 */
const MAX_CHAIN = 1024;

interface Pending {
  readonly kernel: Kernel<unknown>;
  readonly out: View;
  readonly ins: readonly View[];
  readonly attrs: unknown;
  readonly op: FusedOp;
  /** The chain's first launch is a kernel with an epilogue (a matmul): the ops after it run in its store. */
  readonly head?: boolean;
  /** The head's own launch, made when it was queued (so its errors are thrown then). */
  readonly launch?: GpuLaunch;
  /** A head that also writes the row sums of its first input here (a column sum it took over: see head). */
  readonly sibling?: View;
}

const paramsLayout = uniformLayout(FUSED_PARAMS);
const printed = new Set<string>();
const debugKernels = () => typeof process !== "undefined" && /\bkernels\b/.test(process.env?.WEBGRAD_DEBUG ?? "");

export class FusionQueue {
  private chain: Pending[] = [];
  /** Each chain value's storage to its node: the lookups per queued op do not scan the chain. */
  private nodeOf = new Map<Storage, number>();
  private inputs: View[] = [];
  private n = -1;
  private realizing = false;
  /** Freed storages the chain still reads: given back to the backend once it is encoded. */
  private heldInputs: Storage[] = [];
  /** The head's inputs (a matmul's operands), when the chain has a head. */
  private headIns: View[] = [];
  /** The head's second output (row sums), when it has one. */
  private sibling: View | undefined;

  constructor(private backend: Backend) {}

  get pending(): boolean {
    return this.chain.length > 0;
  }

  /** Whether this launch can join a chain at all (the queue may still realize first to start a new one). */
  static fusable(kernel: Kernel<unknown>, outs: readonly View[], ins: readonly View[]): boolean {
    const out = outs[0];
    if (!kernel.fusable || outs.length !== 1 || out.offset !== 0 || out.dtype === "float64") return false;
    if (!isContiguous(out.shape, out.strides) || numel(out.shape) !== out.storage.size || out.storage.size === 0) return false;
    return ins.every((v) => v.storage !== out.storage && v.dtype !== "float64" && (numel(v.shape) === 1 || (isContiguous(v.shape, v.strides) && trailing(v.shape, out.shape))));
  }

  /** Whether this launch can start a chain as its head (its kernel takes an epilogue). */
  static headable(kernel: Kernel<unknown>, outs: readonly View[]): boolean {
    const out = outs[0];
    return !!kernel.epilogue && outs.length === 1 && out.offset === 0 && out.dtype === "float32" && isContiguous(out.shape, out.strides) && numel(out.shape) === out.storage.size && out.storage.size > 0;
  }

  /**
   * Realize the pending chain and start a new one whose first value is this launch's output. When
   * the pending chain is only a column sum of the matrix this launch reads transposed as its first
   * input (the bias gradient beside the weight gradient, sum(G, 0) then Gᵀ @ X), the launch writes
   * that sum too, as its row sums of Gᵀ, and the sum is never launched.
   */
  head(kernel: Kernel<unknown>, outView: View, inViews: readonly View[], attrs: unknown): void {
    const sibling = this.columnSumOf(kernel, inViews);
    if (sibling) this.drop();
    else this.realize();
    // Its errors now, as an unfused launch would throw them: unusable inputs, and its own checks.
    this.backend.claim?.(inViews, kernel.name);
    const caps = (this.backend as Backend & { caps?: GpuCaps }).caps;
    const made = caps ? kernel.webgpu(sibling ? [outView, sibling] : [outView], inViews, attrs, caps) : undefined;
    // Its own copy of the params: a layout's pack() reuses one buffer for the next launch.
    const launch = made && { ...made, params: made.params.slice(0) };
    const out = snapshot(outView);
    this.n = numel(out.shape);
    this.headIns = inViews.map(snapshot);
    this.sibling = sibling;
    const op: FusedOp = { name: kernel.name, expr: "", args: [], argTypes: [], out: out.dtype };
    this.push({ kernel, out, ins: this.headIns, attrs, op, head: true, launch, sibling });
  }

  /**
   * The output of the pending chain when it is a lone column sum (Kernel.columnSums) of the dense
   * matrix X that `kernel` reads as its first input A = Xᵀ (same storage and offset, strides
   * [1, cols]) and whose row sums it can write (Kernel.rowSums); else undefined.
   */
  private columnSumOf(kernel: Kernel<unknown>, ins: readonly View[]): View | undefined {
    const sum = this.chain[0];
    if (this.chain.length !== 1 || !sum.head || !kernel.rowSums?.(ins) || !sum.kernel.columnSums?.([sum.out], sum.ins, sum.attrs)) return undefined;
    const [x, a] = [sum.ins[0], ins[0]];
    const cols = numel(sum.out.shape);
    const rows = numel(x.shape) / cols;
    const transposed = a.shape[0] === cols && a.shape[1] === rows && (cols === 1 || a.strides[0] === 1) && (rows === 1 || a.strides[1] === cols);
    return x.storage === a.storage && x.offset === a.offset && transposed && !sum.out.storage.freed ? sum.out : undefined;
  }

  /** Forget the pending chain unencoded (its work is taken over); the inputs it held stay held until the next encode. */
  private drop(): void {
    this.chain = [];
    this.nodeOf = new Map();
    this.inputs = [];
    this.headIns = [];
    this.sibling = undefined;
  }

  /**
   * Run a kernel with a prologue (a reduction) that reads one value of the pending plain chain
   * whole: the chain is computed inside its loads, writing the outputs still referenced, and is
   * done. False (nothing run) when it cannot: the caller realizes the chain and runs the kernel.
   */
  prologue(kernel: Kernel<unknown>, outs: readonly View[], ins: readonly View[], attrs: unknown): boolean {
    if (!kernel.prologue || this.chain.length === 0 || this.chain.length > MAX_OPS || this.chain[0].head || this.realizing || outs.length !== 1 || ins.length !== 1) return false;
    const x = ins[0];
    const node = this.nodeOf.get(x.storage) ?? -1;
    if (node < 0 || x.offset !== 0 || numel(x.shape) !== this.n || !isContiguous(x.shape, x.strides) || this.touches(outs[0].storage)) return false;
    const caps = (this.backend as Backend & { caps?: GpuCaps }).caps;
    const base = caps ? tailLaunch({ kernel, out: outs[0], x, attrs }, caps) : null;
    const outputs = this.chain.flatMap((p, k) => (p.out.storage.freed ? [] : [k]));
    if (!base || this.inputs.length + 1 + outputs.length > (caps?.maxStorageBuffers ?? MAX_BINDINGS)) return false;
    this.encode((chain, inputs) => {
      const fused = prologueKernel({ kernel, out: outs[0], x, attrs }, base, chain.map((p) => p.op), node, inputs, outputs);
      this.backend.run(fused, [outs[0], ...outputs.map((k) => chain[k].out)], inputs, undefined);
    });
    return true;
  }

  /** Queue a fusable launch (see fusable), realizing the current chain first when it cannot take it. */
  add(kernel: Kernel<unknown>, outView: View, inViews: readonly View[], attrs: unknown): void {
    // Plain views: a tensor handle disposed before the chain is realized no longer answers for its storage.
    const out = snapshot(outView);
    const ins: View[] = [];
    for (const v of inViews) ins.push(snapshot(v));
    const n = out.storage.size; // fusable: the output is its whole storage
    // A write into a storage the chain already reads or writes (a copy into an existing tensor) starts a new chain.
    if (this.chain.length > 0 && (n !== this.n || this.touches(out.storage) || this.full() || !this.fits(ins))) this.realize();
    this.n = n;
    const args: Ref[] = [];
    const argTypes: DType[] = [];
    for (const v of ins) {
      args.push(this.refOf(v, n));
      argTypes.push(v.dtype);
    }
    const op: FusedOp = { name: kernel.name, expr: kernel.fusable!.expr, args, argTypes, out: out.dtype, sig: signatureOf(kernel) };
    this.push({ kernel, out, ins, attrs, op });
  }

  /** A head chain runs as one kernel with its epilogue, so it stops at MAX_OPS; a plain chain at MAX_CHAIN. */
  private full(): boolean {
    return this.chain.length >= (this.chain[0].head ? MAX_OPS : MAX_CHAIN);
  }

  private push(p: Pending): void {
    if (!this.nodeOf.has(p.out.storage)) this.nodeOf.set(p.out.storage, this.chain.length);
    this.chain.push(p);
  }

  /** A chain value read whole and in place (a register), else an input binding. */
  private refOf(v: View, n: number): Ref {
    const node = this.nodeOf.get(v.storage);
    const size = numel(v.shape);
    if (node !== undefined && v.offset === 0 && size === n) return { node };
    const inputs = this.inputs;
    for (let k = 0; k < inputs.length; k++) {
      const u = inputs[k];
      if (u.storage === v.storage && u.offset === v.offset && numel(u.shape) === size) return { input: k };
    }
    return { input: inputs.push(v) - 1 };
  }

  /**
   * Whether the chain can take these inputs: a chain value read other than whole cannot be a
   * register, and the inputs alone must leave a binding for an output. (Outputs are counted at
   * realize time, when the values dropped meanwhile are known; realize splits the chain if needed.)
   */
  private fits(ins: readonly View[]): boolean {
    let fresh = 0;
    for (const v of ins) {
      if (v.storage === this.sibling?.storage) return false;
      if (this.nodeOf.has(v.storage)) {
        if (v.offset !== 0 || numel(v.shape) !== this.n) return false;
      } else if (!this.inputs.some((u) => u.storage === v.storage)) fresh++;
    }
    // A head chain also binds the head's inputs and output.
    const head = this.chain[0]?.head ? this.headIns.length + 1 : 0;
    return this.inputs.length + fresh + 1 + head <= MAX_BINDINGS;
  }

  /** Whether the chain reads or writes `storage` (an upload to it must wait for the chain). */
  touches(storage: Storage): boolean {
    return this.nodeOf.has(storage) || this.inputs.some((v) => v.storage === storage) || this.headIns.some((v) => v.storage === storage) || this.sibling?.storage === storage;
  }

  /**
   * A storage is being freed. One the chain reads as an input keeps its buffer until the chain is
   * encoded (true: the queue frees it then), so a tidy() that drops inputs and intermediates
   * together still fuses.
   */
  released(storage: Storage): boolean {
    if (![...this.inputs, ...this.headIns].some((v) => v.storage === storage)) return false;
    this.heldInputs.push(storage);
    return true;
  }

  /** Encode the pending chain: one generated kernel writing the outputs still referenced. */
  realize(): void {
    if (this.chain.length === 0 || this.realizing) return;
    this.encode((chain, inputs) => (chain[0].head ? this.runHead(chain, inputs) : runChain(this.backend, chain, inputs, this.n)));
  }

  /** Take the pending chain out of the queue and encode it with `run`; then free the inputs it held. */
  private encode(run: (chain: Pending[], inputs: View[]) => void): void {
    const [chain, inputs] = [this.chain, this.inputs];
    this.drop();
    this.realizing = true;
    try {
      run(chain, inputs);
    } finally {
      this.realizing = false;
      const held = this.heldInputs;
      this.heldInputs = [];
      for (const s of held) this.backend.free(s);
    }
  }

  /**
   * A head chain: the head kernel with the other ops as its epilogue, when its launch takes one
   * and the bindings fit; else the head alone, then the rest as a plain chain reading its output.
   */
  private runHead(chain: Pending[], inputs: View[]): void {
    const head: Head & { sibling?: View } = chain[0];
    const outputs = chain.flatMap((p, k) => (k > 0 && !p.out.storage.freed ? [k] : []));
    const headLive = !head.out.storage.freed;
    const sibling = head.sibling;
    if (!headLive && outputs.length === 0 && (!sibling || sibling.storage.freed)) return;
    const caps = (this.backend as Backend & { caps?: GpuCaps }).caps;
    // A head with row sums runs alone (its epilogue anchors bind one output).
    const base = chain.length > 1 && caps && !sibling ? baseLaunch(head, caps) : null;
    const limit = caps?.maxStorageBuffers ?? MAX_BINDINGS;
    if (base && head.ins.length + inputs.length + 1 + outputs.length <= limit) {
      const kernel = epilogueKernel(head, base, chain.map((p) => p.op), inputs, outputs, headLive);
      return this.backend.run(kernel, [head.out, ...outputs.map((k) => chain[k].out)], [...head.ins, ...inputs], undefined);
    }
    // Unfused: the head writes its output (a temporary when nobody holds it), which the rest reads.
    const out = headLive ? head.out : { ...head.out, storage: this.backend.alloc(head.out.dtype, this.n) };
    const sums = sibling && (sibling.storage.freed ? { ...sibling, storage: this.backend.alloc(sibling.dtype, numel(sibling.shape)) } : sibling);
    // Its launch was made when it was queued (same shapes and offsets for a temporary output).
    const made = head.launch;
    this.backend.run(made ? { ...head.kernel, webgpu: () => made } : head.kernel, sums ? [out, sums] : [out], head.ins, head.attrs);
    if (sums && sums !== sibling) this.backend.free(sums.storage);
    const at = inputs.length;
    const rest = chain.slice(1).map((p) => ({ ...p, op: { ...p.op, args: p.op.args.map((r): Ref => ("input" in r ? r : r.node === 0 ? { input: at } : { node: r.node - 1 })) } }));
    runChain(this.backend, rest, [...inputs, out], this.n);
    if (!headLive) this.backend.free(out.storage);
  }
}

/** Encode a chain of elementwise ops: one generated kernel writing the outputs still referenced (or several, past the bindings or MAX_OPS). */
function runChain(backend: Backend, chain: Pending[], inputs: readonly View[], n: number): void {
  const outputs: number[] = [];
  for (let k = 0; k < chain.length; k++) if (!chain[k].out.storage.freed) outputs.push(k);
  if (outputs.length === 0) return; // every value was dropped before anyone could observe it
  if (chain.length === 1) return backend.run(chain[0].kernel, [chain[0].out], chain[0].ins, chain[0].attrs);
  if (inputs.length + outputs.length <= MAX_BINDINGS && chain.length <= MAX_OPS) return backend.run(fusedKernel(chain.map((p) => p.op), inputs, outputs, n), outputs.map((k) => chain[k].out), inputs, undefined);
  runSplit(backend, chain, inputs, n);
}

/** Whether `shape` (leading 1s aside) is the trailing dims of `out`: a dense operand then repeats every numel(shape) elements. */
function trailing(shape: readonly number[], out: readonly number[]): boolean {
  if (shape === out || sameShape(shape, out)) return true; // most operands: no slice
  const s = shape.slice(shape.findIndex((d) => d !== 1));
  return s.length <= out.length && s.every((d, j) => d === out[out.length - s.length + j]);
}

const kernelSignatures = new WeakMap<Kernel<unknown>, number>();
/** The op signature of a fusable kernel's (name, expr), looked up by the kernel object after the first time. */
function signatureOf(kernel: Kernel<unknown>): number {
  let sig = kernelSignatures.get(kernel);
  if (sig === undefined) kernelSignatures.set(kernel, (sig = opSignature(kernel.name, kernel.fusable!.expr)));
  return sig;
}

const snapshot = (v: View): View => ({ storage: v.storage, shape: v.shape, strides: v.strides, offset: v.offset, dtype: v.dtype });

const names = new Map<string, string>();
/** "fused(mul, add)": the ops' distinct names, kept per pipeline key (the key names the chain's ops). */
function fusedName(key: string, ops: readonly FusedOp[]): string {
  let name = names.get(key);
  if (name === undefined) {
    name = `fused(${[...new Set(ops.map((o) => o.name))].join(", ")})`;
    if (names.size >= 4096) names.clear();
    names.set(key, name);
  }
  return name;
}

function fusedKernel(ops: FusedOp[], inputs: readonly View[], outputs: number[], n: number): Kernel<void> {
  const described = describeInputs(inputs, n);
  const key = fusedKey(described, ops, outputs);
  const name = fusedName(key, ops);
  return {
    name,
    cpu() {
      throw new Error(`${name}: internal error: fused kernels run on WebGPU only.`);
    },
    webgpu() {
      return {
        key,
        code: () => {
          const code = fusedWgsl(described, ops, outputs);
          if (debugKernels() && !printed.has(key)) {
            printed.add(key);
            console.log(`webgrad: generated kernel ${name}\n${code}`);
          }
          return code;
        },
        params: paramsLayout.pack({ n, off: inputs.map((v) => v.offset), period: inputs.map((v) => numel(v.shape)) }),
        workgroups: Math.ceil(n / 256),
        // No error flag in its layout, so MAX_BINDINGS fits WebGPU's guaranteed 8 storage buffers.
        noErrorFlag: true,
      };
    },
  };
}

/**
 * A chain whose live outputs and inputs exceed the binding limit, or longer than MAX_OPS, runs as
 * consecutive fused kernels, each as long as its bindings and MAX_OPS allow. A value crossing from
 * one to a later one is written: to its own storage when it is still referenced, else to a
 * temporary freed once the chain is encoded. A kernel whose values nothing reads is not run.
 */
function runSplit(backend: Backend, chain: Pending[], inputs: readonly View[], n: number): void {
  const lastUse = new Array<number>(chain.length).fill(-1);
  chain.forEach((p, j) => {
    for (const r of p.op.args) if ("node" in r) lastUse[r.node] = j;
  });
  const live = chain.map((p) => !p.out.storage.freed);
  const temps: Storage[] = [];
  const home = new Map<number, View>(); // where a crossing value lives
  const place = (k: number): View => {
    let v = home.get(k);
    if (!v) {
      const out = chain[k].out;
      const storage = live[k] ? out.storage : backend.alloc(out.dtype, n);
      if (!live[k]) temps.push(storage);
      home.set(k, (v = { ...out, storage }));
    }
    return v;
  };
  for (let start = 0; start < chain.length; ) {
    const seg = segment(chain, lastUse, live, start);
    const end = seg.end;
    if (seg.writes.length > 0) {
      const ins = seg.reads.map((r) => ("input" in r ? inputs[r.input] : place(r.node)));
      const outs = seg.writes.map((k) => place(k));
      const at = new Map(seg.reads.map((r, j) => [refKey(r), j]));
      const remap = (r: Ref): Ref => ("node" in r && r.node >= start ? { node: r.node - start } : { input: at.get(refKey(r))! });
      const ops = chain.slice(start, end + 1).map((p) => ({ ...p.op, args: p.op.args.map(remap) }));
      backend.run(fusedKernel(ops, ins, seg.writes.map((k) => k - start), n), outs, ins, undefined);
    }
    start = end + 1;
  }
  for (const t of temps) backend.free(t);
}

/** An operand as one number: input k is -1 - k, a chain value its index. */
const refKey = (r: Ref): number => ("input" in r ? -1 - r.input : r.node);

/**
 * The longest segment from `start` whose bindings fit and which has at most MAX_OPS ops: what it
 * reads from outside (inputs, earlier values) and must write (live values, or values read past its end).
 */
function segment(chain: Pending[], lastUse: readonly number[], live: readonly boolean[], start: number) {
  const reads: Ref[] = [];
  const seen = new Set<number>();
  // Values of the segment that must be written: live ones, and dropped ones still read after its end
  // (counted by their last use, so extending the segment past it stops counting them).
  let liveCount = 0;
  let crossing = 0;
  const endsAt = new Map<number, number>();
  let end = start - 1;
  for (let e = start; e < chain.length && e - start < MAX_OPS; e++) {
    const fresh: number[] = []; // keys of what op e reads from outside that the segment does not read yet
    for (const r of chain[e].op.args) {
      const key = refKey(r);
      if (("input" in r || r.node < start) && !seen.has(key) && !fresh.includes(key)) fresh.push(key);
    }
    const crosses = !live[e] && lastUse[e] > e;
    const liveNext = liveCount + (live[e] ? 1 : 0);
    const crossingNext = crossing + (crosses ? 1 : 0) - (endsAt.get(e) ?? 0); // values last read by op e stop crossing
    if (end >= start && reads.length + fresh.length + liveNext + crossingNext > MAX_BINDINGS) break;
    for (const key of fresh) {
      seen.add(key);
      reads.push(key < 0 ? { input: -1 - key } : { node: key });
    }
    [liveCount, crossing, end] = [liveNext, crossingNext, e];
    if (crosses) endsAt.set(lastUse[e], (endsAt.get(lastUse[e]) ?? 0) + 1);
  }
  const writes: number[] = [];
  for (let k = start; k <= end; k++) if (live[k] || lastUse[k] > end) writes.push(k);
  return { end, reads, writes };
}
