/**
 * Multi-head attention's layout changes as one primitive pair, each the other's gradient:
 * splitHeads turns a linear layer's output [B, T, G·H·D] (G groups such as q, k, v of H heads of
 * width D) into contiguous per-head blocks [G, B, H, T, D]; mergeHeads is its inverse. A flat
 * index kernel each way: on emulators a permuted contiguous() copy costs several times more.
 */
import template from "../../shaders/attention-heads.wgsl";
import type { CpuView, Kernel } from "../backend/backend.js";
import { fmt } from "../shape.js";
import { uniformLayout } from "../engine/wgsl.js";
import { apply, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import type { Tensor } from "../tensor.js";

interface Attrs { B: number; T: number; G: number; H: number; D: number }

const params = uniformLayout(template);
const size = (a: Attrs) => a.B * a.T * a.G * a.H * a.D;

/** Copy between the layouts: heads-major [G, B, H, T, D] ↔ tokens-major [B, T, G, H, D]. */
function cpuCopy(out: CpuView, x: CpuView, a: Attrs, toHeads: boolean): void {
  const { B, T, G, H, D } = a;
  for (let g = 0; g < G; g++)
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let t = 0; t < T; t++) {
          const heads = (((g * B + b) * H + h) * T + t) * D;
          const tokens = (((b * T + t) * G + g) * H + h) * D;
          const [to, from] = toHeads ? [heads, tokens] : [tokens, heads];
          for (let e = 0; e < D; e++) out.data[out.offset + to + e] = x.data[x.offset + from + e];
        }
}

const kernel = (name: string, entry: "split" | "merge"): Kernel<Attrs> => ({
  name,
  cpu: ([out], [x], a) => cpuCopy(out, x, a, entry === "split"),
  webgpu: (_outs, [x], a, caps) => {
    // Emulators: one invocation per D-run (split_rows/merge_rows); force heads=elements keeps the GPU path testable here.
    const rows = caps.emulated && caps.force?.heads !== "elements";
    return {
      key: "attention-heads",
      code: () => template,
      entryPoint: rows ? `${entry}_rows` : entry,
      params: params.pack({ n: size(a), b: a.B, t: a.T, g: a.G, h: a.H, d: a.D, off: x.offset }),
      workgroups: Math.ceil(size(a) / (rows ? a.D : 1) / 256),
    };
  },
});

const splitPrim: Primitive<Attrs> = {
  name: "splitHeads",
  infer: ([x], a) => ({ shape: [a.G, a.B, a.H, a.T, a.D], dtype: x.dtype }),
  kernel: kernel("splitHeads", "split"),
  grads: [(g, _saved, a) => apply(mergePrim, [dense(g)], a).reshape([a.B, a.T, a.G * a.H * a.D])],
  docs: ["d splitHeads/dx: g merged back ([G, B, H, T, D] → [B, T, G, H, D])"],
};

const mergePrim: Primitive<Attrs> = {
  name: "mergeHeads",
  infer: ([x], a) => ({ shape: [a.B, a.T, a.G, a.H, a.D], dtype: x.dtype }),
  kernel: kernel("mergeHeads", "merge"),
  grads: [(g, _saved, a) => apply(splitPrim, [dense(g)], a)],
  docs: ["d mergeHeads/dx: g split again ([B, T, G, H, D] → [G, B, H, T, D])"],
};

/** x [B, T, G·heads·D] (float) → [G, B, heads, T, D], contiguous: e.g. q, k, v = splitHeads(qkv, 3, nHead). */
export function splitHeads(x: Tensor, groups: number, heads: number): Tensor {
  const [B, T, W] = x.shape;
  if (x.ndim !== 3 || x.dtype === "int32" || !Number.isInteger(groups) || !Number.isInteger(heads) || groups < 1 || heads < 1 || W % (groups * heads) !== 0)
    throw new Error(`splitHeads: expected a float [B, T, groups·heads·D] tensor with whole groups ${groups} and heads ${heads}, got ${x.dtype} ${fmt(x.shape)}.`);
  return apply(splitPrim, [dense(x)], { B, T, G: groups, H: heads, D: W / (groups * heads) });
}

/** y [G, B, heads, T, D] (float) → [B, T, G·heads·D]: the heads side by side again, per token. */
export function mergeHeads(y: Tensor): Tensor {
  if (y.ndim !== 5 || y.dtype === "int32") throw new Error(`mergeHeads: expected a float [G, B, heads, T, D] tensor, got ${y.dtype} ${fmt(y.shape)}.`);
  const [G, B, H, T, D] = y.shape;
  return apply(mergePrim, [dense(y)], { B, T, G, H, D }).reshape([B, T, G * H * D]);
}
