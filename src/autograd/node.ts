/**
 * Graph nodes. Every op that records gradient history makes one Node with an
 * edge per input (the input's gradFn, or its AccumulateGrad node if it is a
 * leaf) and the tensors its backward rule needs, saved with their versions.
 */
import { fmt } from "../shape.js";
import { releaseStorage, retainStorage } from "../engine/scope.js";
import type { Storage } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";

/** A gradient rule: the gradient for one input, given the output's gradient and the saved tensors. */
export type Rule<A = unknown> = (g: Tensor, saved: Tensor[], attrs: A) => Tensor;

class SavedTensor {
  readonly version: number;
  constructor(readonly tensor: Tensor, readonly storage: Storage) {
    if (tensor.isInference)
      throw new Error(
        `autograd: a tensor of shape ${fmt(tensor.shape)} made under inferenceMode() cannot be saved for backward. ` +
          `Fix: make it outside inferenceMode(), or use noGrad() if you only need to skip recording.`,
      );
    this.version = storage.version;
    retainStorage(storage);
  }
}

/** What the forward op was, for wg.explain: its name, the text of each rule, its output. */
export interface ForwardInfo {
  /** The forward op's name, as the op tables know it ("tanh", "matmul"). */
  readonly op: string;
  /** One line per input, the local derivative in words (null where the input gets no gradient). */
  readonly docs: readonly (string | null)[];
  /** The forward output's shape. */
  readonly outShape: readonly number[];
  /** The output, while something else keeps it alive (explain shows its values; the node never pins it). */
  readonly output: WeakRef<Tensor>;
  /** What each saved tensor is: the index of the input it is, or -1 for the output. */
  readonly saved: readonly number[];
}

/**
 * A node of the backward graph, what `Tensor.gradFn` holds: the op's backward (its `name`, e.g. "MulBackward"), an edge
 * per input to the input's node, and the tensors its rules saved, with their versions. Made by the ops.
 *
 * PyTorch: `torch.autograd.graph.Node` (a tensor's `grad_fn`).
 * @example wg.tensor([1, 2], { requiresGrad: true }).mul(2).gradFn.name // "MulBackward"
 */
export class Node {
  private saved: (SavedTensor | undefined)[] | null;
  /** A non-leaf tensor whose retainGrad() asks for this node's incoming gradient. */
  retained: Tensor | null = null;

  /**
   * Made by the ops when they record history (users never call it); saving a tensor made under `inferenceMode` throws.
   *
   * PyTorch: none (webgrad only; PyTorch's nodes are made by its C++ autograd).
   * @example wg.tensor([1], { requiresGrad: true }).exp().gradFn.next.length // 1
   */
  constructor(
    /** The backward op's name: the forward op's, capitalized, with "Backward" ("MulBackward"), or "AccumulateGrad" for a leaf. */
    readonly name: string,
    /** Per input, the node its gradient goes to (null where the input does not require grad). */
    readonly next: readonly (Node | null)[],
    /** The shapes of the forward op's inputs: each gradient is summed back to its input's shape. */
    readonly inputShapes: readonly (readonly number[])[],
    /** Per input, the gradient rule (null where the op has none, e.g. for an index). */
    readonly rules: readonly (Rule | null)[],
    /** By position, as the rules read them; a hole where no rule that can run reads one. */
    saved: readonly (Tensor | undefined)[],
    /** The op's attributes (dims, sizes, ...) that the rules read. */
    readonly attrs: unknown,
    /** What the forward op was, for `wg.explain`; null for nodes made without it. */
    readonly forward: ForwardInfo | null = null,
  ) {
    this.saved = saved.map((t) => (t === undefined ? undefined : new SavedTensor(t, t.handle.storage)));
  }

  /** The saved tensors as they were when saved; throws if freed or changed in place since. */
  unpack(alias: (t: Tensor) => Tensor): Tensor[] {
    if (this.saved === null)
      throw new Error(
        `backward: trying to backward through ${this.name} a second time, but its saved values were freed ` +
          `by the first backward(). Fix: pass { retainGraph: true } to the first backward() ` +
          `(or autograd.grad) if you need to go through the graph again.`,
      );
    return this.saved.map((s) => {
      if (s === undefined) return undefined as unknown as Tensor; // read by no rule that runs
      if (s.storage.version !== s.version)
        throw new Error(
          `backward: a tensor of shape ${fmt(s.tensor.shape)} that ${this.name} saved for its gradient was ` +
            `modified by an in-place operation (${s.storage.lastInplaceOp ?? "an in-place op"}): it is at version ` +
            `${s.storage.version}, ${this.name} expected version ${s.version}. Fix: do the in-place change ` +
            `after backward(), or use the out-of-place op (e.g. add instead of add_) or clone() first.`,
        );
      return alias(s.tensor);
    });
  }

  /** Free the saved tensors. A node that saved nothing stays usable, as in PyTorch. */
  release(): void {
    if (!this.saved?.some((s) => s !== undefined)) return;
    for (const s of this.saved) if (s) releaseStorage(s.storage);
    this.saved = null;
  }

  /** How many tensors the node keeps for its rules (0 once freed). */
  get savedCount(): number {
    return this.saved?.filter((s) => s !== undefined).length ?? 0;
  }

  /** Whether release() freed saved values (a later backward or explain({ values }) cannot use them). */
  get freed(): boolean {
    return this.saved === null;
  }

  /** Shapes of the saved tensors, for explain; empty once freed. */
  get savedShapes(): (readonly number[])[] {
    return this.saved?.flatMap((s) => (s ? [s.tensor.shape] : [])) ?? [];
  }
}

/** The sink of a leaf that requires grad: gradients arriving here land in `variable.grad`. */
export class AccumulateGrad extends Node {
  constructor(readonly variable: Tensor) {
    super("AccumulateGrad", [], [], [], [], null);
  }
}
