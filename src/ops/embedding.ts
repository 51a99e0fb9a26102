/**
 * The embedding primitive pair: rows of weight [num, dim] picked by flat int32 indices [tokens]
 * (forward), and its adjoint, the per-row sum of the gradient rows at each index (backward).
 * Each is the other's gradient, so createGraph works. Flat addressing keeps the kernels to a
 * few integer ops per element (the general gather's rank loop costs far more on emulators).
 */
import template from "../../shaders/embedding.wgsl";
import type { CpuView, GpuLaunch, Kernel } from "../backend/backend.js";
import { uniformLayout } from "../engine/wgsl.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import type { Tensor } from "../tensor.js";

interface Attrs {
  num: number;
  dim: number;
  tokens: number;
  /** The Error message for an out-of-range index k, the same on every device. */
  message: (k: number) => string;
}

const params = uniformLayout(template);

function launch(entry: "forward" | "backward" | "onehot", n: number, src: { offset: number }, index: { offset: number }, a: Attrs): GpuLaunch {
  return {
    key: "embedding",
    code: () => template,
    entryPoint: entry,
    params: params.pack({ n, dim: a.dim, num: a.num, tokens: a.tokens, off_src: src.offset, off_index: index.offset }),
    workgroups: Math.ceil(n / 256),
    check: { idWord: params.word("check_id"), message: (bits) => a.message(bits | 0) },
    // The one-hot reads only the indices: binding 0 (src) gets a dummy.
    bindings: entry === "onehot" ? [null, 0] : [0, 1],
  };
}

const row = (index: CpuView, t: number, a: Attrs): number => {
  const k = index.data[index.offset + t];
  if (!(k >= 0 && k < a.num)) throw new Error(a.message(k));
  return k;
};

const forwardKernel: Kernel<Attrs> = {
  name: "embedding",
  cpu([out], [w, index], a) {
    for (let t = 0; t < a.tokens; t++) {
      const k = row(index, t, a);
      out.data.set(w.data.subarray(w.offset + k * a.dim, w.offset + (k + 1) * a.dim), out.offset + t * a.dim);
    }
  },
  webgpu: (_outs, [w, index], a) => launch("forward", a.tokens * a.dim, w, index, a),
};

const backwardKernel: Kernel<Attrs> = {
  name: "embeddingBackward",
  cpu([out], [g, index], a) {
    const acc = new Float64Array(a.num * a.dim);
    for (let t = 0; t < a.tokens; t++) {
      const k = row(index, t, a);
      for (let c = 0; c < a.dim; c++) acc[k * a.dim + c] += g.data[g.offset + t * a.dim + c];
    }
    out.data.set(acc, out.offset);
  },
  webgpu: (_outs, [g, index], a) => launch("backward", a.num * a.dim, g, index, a),
};

const onehotKernel: Kernel<Attrs> = {
  name: "embeddingOnehot",
  cpu([out], [index], a) {
    out.data.fill(0, out.offset, out.offset + a.tokens * a.num);
    for (let t = 0; t < a.tokens; t++) out.data[out.offset + t * a.num + row(index, t, a)] = 1;
  },
  webgpu: (_outs, [index], a) => launch("onehot", a.tokens * a.num, index, index, a),
};

/** Float one-hot rows [tokens, num] of the indices; no gradient (the indices have none). */
const onehotPrim: Primitive<Attrs> = {
  name: "embeddingOnehot",
  infer: (_ins, a) => ({ shape: [a.tokens, a.num], dtype: "float32" }),
  kernel: onehotKernel,
  grads: [null],
  docs: [null],
};

/**
 * Up to this many one-hot elements (16 MiB of float32) the weight gradient is onehotᵀ·g, a
 * register-blocked matmul; past it, the kernel that loops over the tokens per weight element.
 * On SwiftShader, [1024 tokens, 113 rows, 64 wide]: about 40 ms against 2 s.
 */
const ONEHOT_MAX = 1 << 22;

function weightGrad(g: Tensor, index: Tensor, a: Attrs): Tensor {
  if (a.tokens * a.num > ONEHOT_MAX) return apply(backwardPrim, [dense(g), index], a);
  return apply(onehotPrim, [index], a).T.matmul(g);
}

const forwardPrim: Primitive<Attrs> = {
  name: "embedding",
  infer: ([w], a) => ({ shape: [a.tokens, a.dim], dtype: w.dtype }),
  kernel: forwardKernel,
  save: ([, index]) => [index],
  grads: [(g, [index], a) => weightGrad(g, index, a), null],
  docs: ["d embedding(w, i)/dw: row t of g added into row i[t] of w's shape (onehot(i)ᵀ·g)", null],
};

const backwardPrim: Primitive<Attrs> = {
  name: "embeddingBackward",
  infer: ([g], a) => ({ shape: [a.num, a.dim], dtype: g.dtype }),
  kernel: backwardKernel,
  save: ([, index]) => [index],
  grads: [(g, [index], a) => apply(forwardPrim, [dense(g), index], a), null],
  docs: ["d embeddingBackward(g, i)/dg: the rows of g at the indices (an embedding)", null],
};

/** weight [num, dim] (float), indices int32 of any shape → [tokens, dim] with tokens = indices.size; no shape checks here. */
export function embeddingRows(indices: Tensor, weight: Tensor, message: (k: number) => string): Tensor {
  const [num, dim] = weight.shape;
  const flat = dense(indices).reshape([indices.size]);
  return apply(forwardPrim, [dense(weight), flat], { num, dim, tokens: indices.size, message });
}
