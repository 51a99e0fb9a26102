/**
 * The benchmark cases: what each one computes, its shapes, and the work it
 * does per run (flops and/or bytes moved, ops, examples). Each library
 * implements every kind (bench/webgrad-impl.ts, bench/tfjs-impl.ts); the
 * mapped type `Impl` makes a missing implementation a compile error.
 */

import { CNN_WIDTHS } from "../src/train/models.js";

export type Spec =
  /** [batch?, n, n] @ [batch?, n, n]; batch 0 means plain 2-D. */
  | { kind: "matmul"; batch: number; n: number }
  /** Forward and backward of sum((A @ B) * R): gradients for A and B. */
  | { kind: "matmulBackward"; n: number }
  /** `ops` elementwise ops on [size] (alternately x*a and x+b), then one readback. */
  | { kind: "chain"; size: number; ops: number }
  /** One a + b on [size]. */
  | { kind: "elementwise"; size: number }
  /** sum over dim 0 (columns) or dim 1 (rows) of [rows, cols]. */
  | { kind: "sum"; rows: number; cols: number; dim: 0 | 1 }
  /** Forward and backward of sum(softmax(x) * R) along the last dim (log: logSoftmax). */
  | { kind: "softmax"; rows: number; cols: number; log: boolean }
  /** Forward and backward of the mean cross-entropy of logits [rows, cols] against class indices (TF.js, jax-js: one-hot labels). */
  | { kind: "crossEntropy"; rows: number; cols: number }
  /** One training step of a [784, 256, 10] ReLU MLP: cross-entropy, backward, in-place optimizer update. */
  | { kind: "mlpStep"; batch: number; sizes: [number, number, number]; optimizer: "sgd" | "adam" }
  /** Read [size] float32 back to the host. */
  | { kind: "readback"; size: number }
  /** conv2d of x [N, C, H, W] with w [Co, C, k, k], padding k/2 (TF.js: NHWC, "same"); backward: also sum(y * R)'s dx and dw. */
  | { kind: "conv2d"; x: [number, number, number, number]; w: [number, number, number, number]; backward: boolean }
  /** Forward and backward of sum(maxPool2d(x, 2) * R). */
  | { kind: "maxPool2d"; x: [number, number, number, number] }
  /** Forward and backward of sum(batchNorm(x) * R) with batch statistics (training mode), gradients for x, weight, bias. */
  | { kind: "batchNorm"; x: [number, number, number, number] }
  /** One training step of the trainer's CNN (bench: its default widths): cross-entropy, backward, AdamW update. */
  | { kind: "cnnStep"; batch: number; widths: number[] }
  /** Forward and backward of sum(layerNorm(x, [cols], { weight, bias }) * R): gradients for x, weight, bias. */
  | { kind: "layerNorm"; rows: number; cols: number }
  /** Forward and backward of sum(attention(q, k, v) * R) on [batch, heads, seq, dim]; fused kernel or the composite. */
  | { kind: "attention"; batch: number; heads: number; seq: number; dim: number; fused: boolean }
  /** Forward and backward of sum(embedding(indices, W) * R): W [num, dim], `tokens` int32 indices. */
  | { kind: "embedding"; num: number; dim: number; tokens: number }
  /** cumsum along dim 1 (rows) or dim 0 (columns) of [rows, cols]. */
  | { kind: "cumsum"; rows: number; cols: number; dim: 0 | 1 }
  /** One training step of the default character GPT (src/train/gpt-trainer.ts): forward, backward, clipGradNorm(1.0), AdamW. */
  | { kind: "gptStep"; batch: number; blockSize: number; nLayer: number; nHead: number; nEmbd: number; vocab: number };

export type Kind = Spec["kind"];
export type SpecOf<K extends Kind> = Extract<Spec, { kind: K }>;

/**
 * One set-up case. A run is record() then finish(): record() is the
 * synchronous part (the library's JS and the WebGPU encoding: the host-side
 * cost, which transfers to real GPUs); finish() submits and resolves when the
 * device is done (a flush, or the readback the case is about).
 */
export interface Instance {
  /** Untimed work before each run, awaited (the readback case makes a fresh GPU tensor: TF.js caches what it read). */
  prepare?(): Promise<void>;
  record(): void;
  finish(): Promise<void>;
  dispose(): void;
}

export type Impl = { [K in Kind]: (spec: SpecOf<K>) => Promise<Instance> | Instance };

/** Set a case up on one library (the mapped type cannot relate impl[spec.kind] to spec by itself). */
export function setUp(impl: Impl, spec: Spec): Promise<Instance> | Instance {
  return (impl[spec.kind] as (s: Spec) => Promise<Instance> | Instance)(spec);
}

export interface BenchCase {
  /** Unique, used by --filter and --profile: "matmul 512", "mlp-step sgd". */
  id: string;
  shape: string;
  spec: Spec;
  /** Work per run, for the rate column: GFLOP/s when flops is set, else GB/s from bytes. */
  flops?: number;
  bytes?: number;
  /** Ops per run: the rate column shows µs per op. */
  ops?: number;
  /** Training examples per run: the rate column adds examples/s. */
  examples?: number;
  /** Readbacks one run performs (the counts must show exactly this many). */
  readbacks: number;
  /** In the --quick suite. */
  quick?: boolean;
}

const F32 = 4;

function matmul(n: number, batch = 0, quick = false): BenchCase {
  const b = Math.max(batch, 1);
  const dims = batch ? `${batch}x${n}x${n}` : `${n}x${n}`;
  return {
    id: batch ? `bmm ${batch}x${n}` : `matmul ${n}`,
    shape: `${dims} @ ${dims}`,
    spec: { kind: "matmul", batch, n },
    flops: 2 * b * n ** 3,
    bytes: 3 * b * n * n * F32,
    readbacks: 0,
    quick,
  };
}

function softmax(rows: number, cols: number, log: boolean, quick = false): BenchCase {
  return {
    id: `${log ? "logSoftmax" : "softmax"} fwd+bwd ${rows}x${cols}`,
    shape: `${rows}x${cols}, dim -1`,
    spec: { kind: "softmax", rows, cols, log },
    // Least traffic of the two kernels: x in, y out; (y, dy) in, dx out.
    bytes: 5 * rows * cols * F32,
    readbacks: 0,
    quick,
  };
}

function crossEntropy(rows: number, cols: number, quick = false): BenchCase {
  return {
    id: `crossEntropy fwd+bwd ${rows}x${cols}`,
    shape: `logits [${rows}, ${cols}], mean over the rows`,
    spec: { kind: "crossEntropy", rows, cols },
    // Least traffic: the logits in, their gradient out.
    bytes: 2 * rows * cols * F32,
    readbacks: 0,
    quick,
  };
}

function mlp(optimizer: "sgd" | "adam", quick = false): BenchCase {
  const [i, h, o] = [784, 256, 10], batch = 128;
  return {
    id: `mlp-step ${optimizer}`,
    shape: `${i}-${h}-${o}, batch ${batch}`,
    spec: { kind: "mlpStep", batch, sizes: [i, h, o], optimizer },
    // Backward costs twice the forward matmuls.
    flops: 3 * 2 * batch * (i * h + h * o),
    examples: batch,
    readbacks: 0,
    quick,
  };
}

type Nchw = [number, number, number, number];

function conv(x: Nchw, w: Nchw, backward: boolean, quick = false): BenchCase {
  const [N, , H, W] = x, [Co, C, k] = w;
  return {
    id: `conv2d ${backward ? "fwd+bwd" : "fwd"} ${C}->${Co} ${H}x${W}`,
    shape: `[${x}] * [${w}], padding ${k >> 1}`,
    spec: { kind: "conv2d", x, w, backward },
    // Forward, then (backward) the input and the weight gradient, each as many multiply-adds.
    flops: (backward ? 3 : 1) * 2 * N * H * W * Co * C * k * k,
    readbacks: 0,
    quick,
  };
}

/**
 * Multiply-adds of one CNN forward pass per image (28x28 input, 3x3 convs with padding 1, 2x2 pools
 * after the first two): widths [c1, c2, h] or [c1, c2, c3, h] (a third conv on the 7x7 grid).
 */
export function cnnMacs(widths: readonly number[]): number {
  const [c1, c2] = widths;
  const h = widths[widths.length - 1];
  const c3 = widths.length === 4 ? widths[2] : 0;
  const last = c3 || c2;
  return 28 * 28 * c1 * 9 + 14 * 14 * c2 * c1 * 9 + 7 * 7 * c3 * c2 * 9 + 7 * 7 * last * h + h * 10;
}

function cnnStep(widths: number[], batch = 64, quick = false): BenchCase {
  const convs = widths.slice(0, -1);
  return {
    id: `cnn-step ${widths.join("-")}`,
    shape: `${convs.map((c) => `conv ${c}`).join(", ")}, linear ${widths[widths.length - 1]}, batch ${batch}`,
    spec: { kind: "cnnStep", batch, widths },
    flops: 3 * 2 * batch * cnnMacs(widths),
    examples: batch,
    readbacks: 0,
    quick,
  };
}

/** The default suite, or the --quick one: its smaller shapes only. */
export function suite(quick = false): BenchCase[] {
  const all: BenchCase[] = [
    ...[128, 256, 512, 1024, 2048].map((n) => matmul(n, 0, n <= 256)),
    ...[64, 128, 256].map((n) => matmul(n, 8, n === 64)),
    ...[256, 512].map((n) => ({
      id: `matmul-backward ${n}`,
      shape: `sum((A@B)*R), ${n}x${n}`,
      spec: { kind: "matmulBackward", n } as const,
      flops: 3 * 2 * n ** 3,
      readbacks: 0,
      quick: n === 256,
    })),
    { id: "elementwise-chain 100", shape: "100 ops on [1024], 1 readback", spec: { kind: "chain", size: 1024, ops: 100 }, ops: 100, readbacks: 1, quick: true },
    // The same with one op: the round trip (record, submit, run, read back 4 KB) that the 100-op chain adds its ops to.
    { id: "elementwise-chain 1", shape: "1 op on [1024], 1 readback", spec: { kind: "chain", size: 1024, ops: 1 }, ops: 1, readbacks: 1, quick: true },
    { id: "elementwise 4M", shape: "[4194304] + [4194304]", spec: { kind: "elementwise", size: 4 << 20 }, bytes: 3 * (4 << 20) * F32, readbacks: 0 },
    { id: "elementwise 256K", shape: "[262144] + [262144]", spec: { kind: "elementwise", size: 256 << 10 }, bytes: 3 * (256 << 10) * F32, readbacks: 0, quick: true },
    ...([0, 1] as const).flatMap((dim) => [
      { id: `sum dim${dim} 2048x2048`, shape: `[2048, 2048].sum(${dim})`, spec: { kind: "sum", rows: 2048, cols: 2048, dim }, bytes: 2048 * 2049 * F32, readbacks: 0 } as BenchCase,
      { id: `sum dim${dim} 512x512`, shape: `[512, 512].sum(${dim})`, spec: { kind: "sum", rows: 512, cols: 512, dim }, bytes: 512 * 513 * F32, readbacks: 0, quick: true } as BenchCase,
    ]),
    softmax(1024, 1024, false),
    softmax(1024, 1024, true),
    softmax(256, 256, false, true),
    softmax(256, 256, true, true),
    crossEntropy(128, 10, true),
    crossEntropy(2048, 128),
    mlp("sgd", true),
    mlp("adam"),
    { id: "readback 1M", shape: "[1048576] float32 to host", spec: { kind: "readback", size: 1 << 20 }, bytes: (1 << 20) * F32, readbacks: 1, quick: true },
    ...[false, true].flatMap((bwd) => [conv([32, 1, 28, 28], [32, 1, 3, 3], bwd, !bwd), conv([32, 32, 14, 14], [64, 32, 3, 3], bwd)]),
    { id: "maxPool2d fwd+bwd 64x32x28x28", shape: "2x2, stride 2", spec: { kind: "maxPool2d", x: [64, 32, 28, 28] }, bytes: (64 * 32 * 28 * 28 * 2.5 + 64 * 32 * 14 * 14 * 2) * F32, readbacks: 0 },
    { id: "batchNorm fwd+bwd 64x32x28x28", shape: "training mode, weight and bias", spec: { kind: "batchNorm", x: [64, 32, 28, 28] }, bytes: 64 * 32 * 28 * 28 * 4 * F32, readbacks: 0 },
    cnnStep([...CNN_WIDTHS]), // the trainer's default model
    cnnStep([32, 64, 128]), // the issue's two-block design
    cnnStep([16, 32, 128], 64, true),
    ...sequenceCases(),
    ...([[1024, 1024, 1], [64, 4096, 1], [4096, 64, 0]] as const).map(([rows, cols, dim]) => ({
      id: `cumsum dim${dim} ${rows}x${cols}`, shape: `[${rows}, ${cols}].cumsum(${dim})`, spec: { kind: "cumsum", rows, cols, dim }, bytes: 2 * rows * cols * F32, readbacks: 0,
    }) as BenchCase),
    gptStep(),
  ];
  return quick ? all.filter((c) => c.quick) : all;
}

/** Sequence models (issue 12): layerNorm, attention fused and composite, embedding; each forward and backward. */
function sequenceCases(): BenchCase[] {
  const attention = (batch: number, heads: number, seq: number, dim: number, fused: boolean, quick = false): BenchCase => ({
    id: `sdpa-${fused ? "fused" : "composite"} ${batch}x${heads}x${seq}x${dim}`,
    shape: `attention fwd+bwd [${batch}, ${heads}, ${seq}, ${dim}], ${fused ? "fused (TF.js: composite)" : "matmul, softmax, matmul"}`,
    spec: { kind: "attention", batch, heads, seq, dim, fused },
    // q·kᵀ and P·v forward, four matmuls' worth backward (dP, dV, dQ, dK): 6 of 2·L·S·E each.
    flops: 6 * 2 * batch * heads * seq * seq * dim,
    readbacks: 0,
    quick,
  });
  return [
    { id: "layerNorm fwd+bwd 4096x512", shape: "[4096, 512] over [512], weight and bias", spec: { kind: "layerNorm", rows: 4096, cols: 512 }, bytes: 7 * 4096 * 512 * F32, readbacks: 0 },
    { id: "layerNorm fwd+bwd 512x256", shape: "[512, 256] over [256], weight and bias", spec: { kind: "layerNorm", rows: 512, cols: 256 }, bytes: 7 * 512 * 256 * F32, readbacks: 0, quick: true },
    attention(8, 4, 256, 64, true),
    attention(8, 4, 256, 64, false),
    attention(2, 4, 64, 32, true, true),
    attention(2, 4, 64, 32, false, true),
    // W [128, 128] (a character vocabulary), 1024 tokens (8 sequences of 128). The backward is gather's
    // deterministic scatter-add, which loops over every token per weight element: num·dim·tokens steps.
    { id: "embedding fwd+bwd 128x128", shape: "W [128, 128], indices [8, 128] (1024 tokens)", spec: { kind: "embedding", num: 128, dim: 128, tokens: 1024 }, bytes: 2 * 1024 * 128 * F32, readbacks: 0, quick: true },
  ];
}

/** The default GPT's training step; examples are tokens (batch × blockSize). */
function gptStep(): BenchCase {
  const [batch, blockSize, nLayer, nHead, nEmbd, vocab] = [16, 64, 2, 4, 64, 113];
  const tokens = batch * blockSize;
  // 6 flops per parameter per token (forward 2, backward 4) for the matrices, plus QKᵀ and PV: 2·2·T·C per token per layer, ×3.
  const matrixParams = nLayer * 12 * nEmbd * nEmbd + vocab * nEmbd;
  return {
    id: "gpt-step",
    shape: `${nLayer} layers, ${nEmbd} wide, ${nHead} heads, context ${blockSize}, batch ${batch}, vocab ${vocab}`,
    spec: { kind: "gptStep", batch, blockSize, nLayer, nHead, nEmbd, vocab },
    flops: 6 * matrixParams * tokens + 3 * nLayer * 4 * blockSize * nEmbd * tokens,
    examples: tokens,
    readbacks: 0,
  };
}
