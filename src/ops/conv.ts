/**
 * conv2d over NCHW float tensors with PyTorch's semantics (stride, padding,
 * dilation, groups), and its two gradients as primitives of their own, each
 * differentiable again (the three are adjoints of one another), so createGraph
 * works through a convolution. On WebGPU each is an implicit GEMM
 * (shaders/conv.wgsl); the CPU loops are the plain definition.
 */
import template from "../../shaders/conv.wgsl";
import subgroupEntry from "../../shaders/conv-subgroup.wgsl";
import type { CpuView, GpuCaps, GpuLaunch, Kernel } from "../backend/backend.js";
import { noGrad } from "../autograd/mode.js";
import { fmt } from "../shape.js";
import { uniformLayout } from "../engine/wgsl.js";
import { apply, record, type Primitive } from "./primitive.js";
import { dense } from "./layout.js";
import { channelSum, sumLeading } from "./batchnorm.js";
import type { Tensor } from "../tensor.js";
import { checkConvArgs, type ConvAttrs, type ConvOptions } from "./conv-args.js";

export type { ConvAttrs, ConvOptions } from "./conv-args.js";

type ConvOp = "conv2d" | "conv2dInputGrad" | "conv2dWeightGrad";
const OPS: Record<ConvOp, number> = { conv2d: 0, conv2dInputGrad: 1, conv2dWeightGrad: 2 };

/** Every size a loop or the shader needs, from the attrs. */
export function geometry(a: ConvAttrs) {
  const [N, C, H, W] = a.xShape;
  const [Co, Cg, KH, KW] = a.wShape;
  const [sh, sw] = a.stride, [ph, pw] = a.padding, [dh, dw] = a.dilation;
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  return { N, C, H, W, Co, Cg, Cog: Co / a.groups, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, groups: a.groups };
}
type Geo = ReturnType<typeof geometry>;

/**
 * Every (output pixel, tap) pair of the convolution, with the flat offsets of
 * x, w and y it joins: y[yi] += x[xi] · w[wi]. The three CPU kernels are this loop.
 */
function eachTap(g: Geo, visit: (yi: number, xi: number, wi: number) => void): void {
  for (let n = 0; n < g.N; n++)
    for (let co = 0; co < g.Co; co++) {
      const c0 = Math.floor(co / g.Cog) * g.Cg;
      for (let oh = 0; oh < g.OH; oh++)
        for (let ow = 0; ow < g.OW; ow++) {
          const yi = ((n * g.Co + co) * g.OH + oh) * g.OW + ow;
          for (let ci = 0; ci < g.Cg; ci++)
            for (let kh = 0; kh < g.KH; kh++) {
              const ih = oh * g.sh - g.ph + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (let kw = 0; kw < g.KW; kw++) {
                const iw = ow * g.sw - g.pw + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                visit(yi, ((n * g.C + c0 + ci) * g.H + ih) * g.W + iw, ((co * g.Cg + ci) * g.KH + kh) * g.KW + kw);
              }
            }
        }
    }
}

function cpuConv(op: ConvOp, [out]: readonly CpuView[], ins: readonly CpuView[], a: ConvAttrs): void {
  const g = geometry(a);
  const acc = new Float64Array(out.data.length);
  if (op === "conv2d") {
    const [x, w, b] = ins.map((v) => v.data);
    if (b) for (let i = 0; i < acc.length; i++) acc[i] = b[Math.floor(i / (g.OH * g.OW)) % g.Co];
    eachTap(g, (yi, xi, wi) => (acc[yi] += x[xi] * w[wi]));
  } else if (op === "conv2dInputGrad") {
    const [gy, w] = ins.map((v) => v.data);
    eachTap(g, (yi, xi, wi) => (acc[xi] += gy[yi] * w[wi]));
  } else {
    const [x, gy] = ins.map((v) => v.data);
    eachTap(g, (yi, xi, wi) => (acc[wi] += gy[yi] * x[xi]));
  }
  out.data.set(acc);
}

const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The GEMM each op is, per group: rows M, columns NN = (·, n1, n2), reduction K = (·, k1, k2). */
function gemm(op: ConvOp, g: Geo) {
  if (op === "conv2d") return { M: g.Cog, NN: g.N * g.OH * g.OW, n: [g.OH, g.OW], K: g.Cg * g.KH * g.KW, k: [g.KH, g.KW] };
  if (op === "conv2dInputGrad") return { M: g.Cg, NN: g.N * g.H * g.W, n: [g.H, g.W], K: g.Cog * g.KH * g.KW, k: [g.KH, g.KW] };
  return { M: g.Cog, NN: g.Cg * g.KH * g.KW, n: [g.KH, g.KW], K: g.N * g.OH * g.OW, k: [g.OH, g.OW] };
}

/**
 * The weight gradient reduces over N·OH·OW, while its output is small: split the
 * reduction so enough workgroups run (partial sums [splits, ...w], summed after).
 */
function weightGradSplits(g: Geo): number {
  const { M, NN, K } = gemm("conv2dWeightGrad", g);
  const tiles = Math.ceil(M / 64) * Math.ceil(NN / 64) * g.groups;
  return Math.max(1, Math.min(Math.ceil(256 / tiles), Math.ceil(K / 256)));
}

const convParams = uniformLayout(template);
const VARIANTS = ["tiled", "blocked", "subgroup"] as const;
type Variant = (typeof VARIANTS)[number];

/**
 * Workgroup-memory tiles on GPUs; on an emulator the subgroup entry where the adapter has subgroups
 * (it shares the A loads across a subgroup, as matmul's does) and the GEMM fills its 16 x 32 tile
 * (a first layer's weight gradient has Cg·KH·KW = 9 columns; narrow layers have few rows), else
 * the register-blocked one, which sizes its rows per invocation to M.
 * Measured on SwiftShader (bench "conv2d fwd+bwd 32->64 14x14", 2 cores at load 15): 23.5 s blocked, 8.0 s subgroup.
 */
export function convVariant(caps: GpuCaps, rows = Infinity, columns = Infinity): Variant {
  const forced = caps.force?.conv;
  if (forced !== undefined) {
    if (!(VARIANTS as readonly string[]).includes(forced)) throw new Error(`conv2d: unknown forced variant "${forced}"; expected one of ${VARIANTS.join(", ")}.`);
    if (forced === "subgroup" && !caps.subgroups) throw new Error(`conv2d: the forced variant "subgroup" needs the adapter's "subgroups" feature, which this adapter lacks. Fix: force "blocked" or "tiled".`);
    return forced as Variant;
  }
  if (!caps.emulated) return "tiled";
  return caps.subgroups && rows >= 16 && columns >= 32 ? "subgroup" : "blocked";
}

/** Output tile [rows, columns] of one workgroup and the blocked entry's shape (R rows per invocation, WX x WY of them). */
function tiling(variant: Variant, M: number, NN: number) {
  if (variant === "tiled") return { tm: 64, tn: 64, WX: 16, WY: 16, R: 4 };
  if (variant === "subgroup") return { tm: 16, tn: 32, WX: 4, WY: 1, R: 16 };
  // Fewer rows per invocation when M is small, so no row is computed twice.
  const R = Math.min(8, pow2(M));
  const WY = Math.min(8, pow2(Math.ceil(M / R)));
  const WX = Math.min(64 / WY, pow2(Math.ceil(NN / 4)));
  return { tm: R * WY, tn: 4 * WX, WX, WY, R };
}

function gpuConv(op: ConvOp, ins: readonly unknown[], a: ConvAttrs & { splits?: number }, caps: GpuCaps): GpuLaunch {
  const g = geometry(a);
  const { M, NN, n, K, k } = gemm(op, g);
  const splits = a.splits ?? 1;
  const variant = convVariant(caps, M, NN);
  const { tm, tn, WX, WY, R } = tiling(variant, M, NN);
  const tilesM = Math.ceil(M / tm), tilesN = Math.ceil(NN / tn);
  const hasBias = op === "conv2d" && ins.length > 2;
  const params = convParams.pack({
    N: g.N, C: g.C, H: g.H, W: g.W, Co: g.Co, KH: g.KH, KW: g.KW, OH: g.OH, OW: g.OW, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw,
    dh: g.dh, dw: g.dw, groups: g.groups, Cg: g.Cg, Cog: g.Cog, M, NN, K, kchunk: Math.ceil(K / splits), tiles_n: tilesN, tiles_m: tilesM,
    splits, n1: n[0], n2: n[1], k1: k[0], k2: k[1], has_bias: hasBias ? 1 : 0,
  });
  const unit = g.sh === 1 && g.sw === 1 ? 1 : 0;
  const constants: Record<string, number> = variant === "blocked" ? { OP: OPS[op], WX, WY, R, UNIT_STRIDE: unit } : { OP: OPS[op], UNIT_STRIDE: unit };
  const sub = variant === "subgroup";
  return {
    key: `conv${sub ? "-subgroup" : ""}:${OPS[op]}:${variant}:${WX}x${WY}x${R}:${unit}`,
    code: sub ? () => `enable subgroups;\n${template}\n${subgroupEntry}` : () => template,
    entryPoint: variant,
    constants,
    params,
    workgroups: tilesN * tilesM * g.groups * splits,
    bindings: [0, 1, hasBias ? 2 : null],
  };
}

function convKernel(op: ConvOp): Kernel<ConvAttrs & { splits?: number }> {
  return {
    name: op,
    cpu: (outs, ins, a) => cpuConv(op, outs, ins, a),
    webgpu: (_outs, ins, a, caps) => gpuConv(op, ins, a, caps),
  };
}

const convPrim: Primitive<ConvAttrs> = {
  name: "conv2d",
  infer: ([x], a) => {
    const g = geometry(a);
    return { shape: [g.N, g.Co, g.OH, g.OW], dtype: x.dtype };
  },
  kernel: convKernel("conv2d"),
  save: ([x, w]) => [x, w],
  grads: [(gy, [, w], a) => conv2dInputGrad(gy, w, a), (gy, [x], a) => conv2dWeightGrad(x, gy, a), (gy) => channelSum(gy)],
  docs: ["d conv2d(x, w)/dx = conv2dInputGrad(g, w): g correlated with the flipped kernel", "d conv2d(x, w)/dw = conv2dWeightGrad(x, g): x correlated with g", "d conv2d/db[c] = Σ over n, h, w of g"],
};

// dx = Jₓᵀ gy. With cotangent v (x's shape): ∂gy = conv2d(v, w); ∂w = conv2dWeightGrad(v, gy).
const inputGradPrim: Primitive<ConvAttrs> = {
  name: "conv2dInputGrad",
  infer: ([gy], a) => ({ shape: [...a.xShape], dtype: gy.dtype }),
  kernel: convKernel("conv2dInputGrad"),
  save: ([gy, w]) => [gy, w],
  grads: [(v, [, w], a) => convRaw(v, w, null, a), (v, [gy], a) => conv2dWeightGrad(v, gy, a)],
  docs: ["d conv2dInputGrad(gy, w)/dgy, applied to v: conv2d(v, w)", "d conv2dInputGrad(gy, w)/dw, applied to v: conv2dWeightGrad(v, gy)"],
};

// Partial sums of dw = J_wᵀ gy over `splits` chunks of the reduction; not differentiated itself
// (conv2dWeightGrad below records the rules on the summed result).
const weightGradPrim: Primitive<ConvAttrs & { splits: number }> = {
  name: "conv2dWeightGrad",
  infer: ([x], a) => ({ shape: [a.splits, ...a.wShape], dtype: x.dtype }),
  kernel: convKernel("conv2dWeightGrad"),
  grads: [null, null],
  docs: [null, null],
};

// dw = J_wᵀ gy. With cotangent v (w's shape): ∂x = conv2dInputGrad(gy, v); ∂gy = conv2d(x, v).
const weightGradRules = [
  (v: Tensor, [, gy]: Tensor[], a: ConvAttrs) => conv2dInputGrad(gy, v, a),
  (v: Tensor, [x]: Tensor[], a: ConvAttrs) => convRaw(x, v, null, a),
];

function conv2dInputGrad(gy: Tensor, w: Tensor, a: ConvAttrs): Tensor {
  return apply(inputGradPrim, [dense(gy), dense(w)], a);
}

function conv2dWeightGrad(x: Tensor, gy: Tensor, a: ConvAttrs): Tensor {
  const xs = dense(x), gs = dense(gy);
  const splits = x.device === "cpu" ? 1 : weightGradSplits(geometry(a));
  const dw = noGrad(() => {
    const part = apply(weightGradPrim, [xs, gs], { ...a, splits });
    if (splits === 1) return part.reshape([...a.wShape]);
    const sum = sumLeading(part).reshape([...a.wShape]);
    part.dispose();
    return sum;
  });
  record("conv2dWeightGrad", [xs, gs], dw, weightGradRules, () => [xs, gs], a);
  return dw;
}

function convRaw(x: Tensor, w: Tensor, bias: Tensor | null, a: ConvAttrs): Tensor {
  return apply(convPrim, bias ? [dense(x), dense(w), dense(bias)] : [dense(x), dense(w)], a);
}

/**
 * 2-D convolution (cross-correlation, as PyTorch) of x [N, C, H, W] with weight [Co, C / groups, KH, KW] plus an
 * optional bias [Co] (`null` for none); the output is [N, Co, OH, OW] with OH = ⌊(H + 2·padding − dilation·(KH − 1)
 * − 1) / stride⌋ + 1 (likewise OW). Float tensors of one dtype; 4-D input only (add a batch dim for one image).
 * Differentiable in x, weight and bias to any order (its gradients are convolutions too).
 *
 * PyTorch: `torch.nn.functional.conv2d`.
 * @example wg.nn.functional.conv2d(wg.ones([1, 3, 32, 32]), wg.ones([8, 3, 3, 3]), null, { stride: 2, padding: 1 }) // shape [1, 8, 16, 16]
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvOptions = {}): Tensor {
  const a = checkConvArgs(x, weight, bias, opts);
  if (x.dtype !== weight.dtype || (bias && bias.dtype !== x.dtype))
    throw new Error(`conv2d: input ${x.dtype} ${fmt(x.shape)}, weight ${weight.dtype}${bias ? ` and bias ${bias.dtype}` : ""} must share one float dtype. Fix: cast with .float().`);
  return convRaw(x, weight, bias, a);
}
