/**
 * matmul like torch.matmul: 1-D operands are promoted and the added dim
 * removed again; batch dims broadcast. The primitive reads both operands
 * through their strides, so transposes in the backward rules cost no copy.
 */
import template from "../../shaders/matmul.wgsl";
import subgroupEntry from "../../shaders/matmul-subgroup.wgsl";
import type { GpuCaps, Kernel, View } from "../backend/backend.js";
import { broadcastShapes, broadcastStrides, fmt, numel, stridedOffsets } from "../shape.js";
import { apply, type Primitive } from "./primitive.js";
import { cast, collapse } from "./elementwise.js";
import { describeValue } from "./layout.js";
import { specialize } from "../engine/wgsl.js";
import { Tensor } from "../tensor.js";

/** Batch dims of both operands broadcast to the output's, merged where contiguous. */
function layout(a: View, b: View) {
  const M = a.shape[a.shape.length - 2];
  const K = a.shape[a.shape.length - 1];
  const N = b.shape[b.shape.length - 1];
  const batchShape = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const sa = broadcastStrides(a.shape.slice(0, -2), a.strides.slice(0, -2), batchShape);
  const sb = broadcastStrides(b.shape.slice(0, -2), b.strides.slice(0, -2), batchShape);
  const batch = collapse(batchShape, [sa, sb]);
  const s = (v: View, i: number) => v.strides[v.strides.length + i];
  return { M, K, N, batches: numel(batchShape), batch, am: s(a, -2), ak: s(a, -1), bk: s(b, -2), bn: s(b, -1) };
}

const matmulKernel: Kernel<void> = {
  name: "matmul",
  // The anchors in shaders/matmul.wgsl where the scheduler fuses consumers (engine/epilogue.ts).
  epilogue: {
    store: "fn store_c(i: u32, v: f32) { C[i] = v; }",
    bindings: "@group(0) @binding(2) var<storage, read_write> C: array<f32>;\n@group(0) @binding(3) var<uniform> p: Params;",
    paramsEnd: "  batch_b: vec4<u32>,\n}",
  },
  // On WebGPU (the scheduler fuses only there), for 2-D products: the row sums of one matrix.
  rowSums: ([a, b]) => a.shape.length === 2 && b.shape.length === 2,
  cpu([c], [a, b]) {
    const { M, K, N, batch, am, ak, bk, bn } = layout(a, b);
    const baseA = stridedOffsets(batch.shape, batch.strides[0], a.offset);
    const baseB = stridedOffsets(batch.shape, batch.strides[1], b.offset);
    const row = new Float64Array(N);
    for (let t = 0; t < baseA.length; t++) {
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const aik = a.data[baseA[t] + i * am + k * ak]; // no skip of zeros: 0 · Inf and 0 · NaN are NaN
          const bRow = baseB[t] + k * bk;
          for (let j = 0; j < N; j++) row[j] += aik * b.data[bRow + j * bn];
        }
        c.data.set(row, (t * M + i) * N);
      }
    }
  },
  webgpu(outs, [a, b], _attrs, caps) {
    const { M, K, N, batches, batch, am, ak, bk, bn } = layout(a, b);
    if (batch.shape.length > 4)
      throw new Error(`matmul: webgpu supports at most 4 non-contiguous batch dims; got ${fmt(a.shape)} @ ${fmt(b.shape)}. Fix: reshape the batch dims together.`);
    const rowSums = outs.length === 2;
    if (rowSums && batches !== 1) throw new Error(`matmul: internal error: row sums of A asked of a batched product ${fmt(a.shape)} @ ${fmt(b.shape)}.`);
    const { tile: [tileM, tileN], entry, subgroups: sub } = VARIANTS[matmulVariant(caps, N)];
    const tilesN = Math.ceil(N / tileN);
    const tilesM = Math.ceil(M / tileM);
    // The row sums take one more slice of workgroups past the last batch (shaders/matmul.wgsl, row_sums).
    const slices = batches + (rowSums ? 1 : 0);
    const P = new Uint32Array(32);
    // A 3-D grid (tile column, tile row, batch) where it fits the adapter's limit, so the kernel
    // divides nothing to find its tile; else a flat count it decodes (shaders/matmul.wgsl, locate).
    const max = caps.maxWorkgroupsPerDim;
    const grid = tilesN <= max && tilesM <= max && slices <= max ? ([tilesN, tilesM, slices] as const) : undefined;
    P.set([M, N, K, batch.shape.length, a.offset, b.offset, tilesN, tilesM, am, ak, bk, bn, batches, grid ? 1 : 0]);
    P.set(batch.shape, 16);
    P.set(batch.strides[0], 20);
    P.set(batch.strides[1], 24);
    const source = () => (sub ? `enable subgroups;\n${template}\n${subgroupEntry}` : template);
    return {
      key: `${sub ? "matmul-subgroup" : "matmul"}${rowSums ? "|row-sums" : ""}`,
      code: rowSums ? () => specialize("matmul", source(), ROW_SUMS) : source,
      entryPoint: entry,
      params: P.buffer,
      workgroups: tilesN * tilesM * slices,
      grid,
    };
  },
};

/** The texts a launch with row sums replaces in shaders/matmul.wgsl: R bound after C, and row_sums' body. */
const ROW_SUMS: [string, string][] = [
  ["@group(0) @binding(3) var<uniform> p: Params;", "@group(0) @binding(3) var<storage, read_write> R: array<f32>;\n@group(0) @binding(4) var<uniform> p: Params;"],
  [
    "fn row_sums(t: Tile, tile_m: u32, tile_n: u32, li: u32, size: u32) {}",
    `fn row_sums(t: Tile, tile_m: u32, tile_n: u32, li: u32, size: u32) {
  if (t.batch != p.batches) { return; }  // spare workgroups of a split dispatch
  let slice = p.tiles_n * p.tiles_m;
  let w = (t.m0 / tile_m) * p.tiles_n + t.n0 / tile_n;
  for (var m = w * size + li; m < p.M; m += slice * size) {
    var s = 0.0;
    var at = p.off_a + m * p.a_m;
    for (var k = 0u; k < p.K; k++) {
      s += A[at];
      at += p.a_k;
    }
    R[m] = s;
  }
}`,
  ],
];

/** Each variant's entry point, its output tile ([rows, cols] per workgroup) and whether it needs subgroups (shaders/matmul*.wgsl). */
const VARIANTS = {
  tiled: { entry: "tiled", tile: [64, 64], subgroups: false },
  blocked: { entry: "blocked", tile: [64, 64], subgroups: false },
  wide: { entry: "wide", tile: [64, 32], subgroups: false },
  subgroup: { entry: "subgroup", tile: [16, 32], subgroups: true },
  narrow: { entry: "subgroup_narrow", tile: [16, 16], subgroups: true },
} as const;
type Variant = keyof typeof VARIANTS;

/**
 * The workgroup-memory tiled kernel on GPUs; on an emulator the subgroup kernel where the adapter
 * has subgroups, else the 16x8 register-blocked one. Measured on SwiftShader (2 loaded cores,
 * 1024², variants alternated in one process): subgroup 0.51 GFLOP/s, wide 0.27, blocked 0.27
 * (another run: 0.23, 0.23, 0.19). `force` picks any of them, for tests and benchmarks.
 */
export function matmulVariant(caps: GpuCaps, N = Infinity): Variant {
  const forced = caps.force?.matmul;
  if (forced !== undefined) {
    if (!(forced in VARIANTS)) throw new Error(`matmul: unknown forced variant "${forced}"; expected one of ${Object.keys(VARIANTS).join(", ")}.`);
    if (VARIANTS[forced as Variant].subgroups && !caps.subgroups)
      throw new Error(`matmul: the forced variant "${forced}" needs the adapter's "subgroups" feature, which this adapter lacks. Fix: force "wide" or "blocked".`);
    return forced as Variant;
  }
  if (!caps.emulated) return "tiled";
  if (!caps.subgroups) return "wide";
  return N <= 16 ? "narrow" : "subgroup";
}

const matmulPrim: Primitive<void> = {
  name: "matmul",
  infer([a, b]) {
    if (a.dtype === "int32" || b.dtype === "int32")
      throw new Error(`matmul: needs float tensors, got ${a.dtype} ${fmt(a.shape)} and ${b.dtype} ${fmt(b.shape)}. Fix: cast with .float().`);
    if (a.dtype !== b.dtype)
      throw new Error(`matmul: cannot mix ${a.dtype} and ${b.dtype} (${fmt(a.shape)} @ ${fmt(b.shape)}). Fix: cast one side, e.g. b.cast("${a.dtype}").`);
    const K = a.shape[a.ndim - 1];
    if (K !== b.shape[b.ndim - 2])
      throw new Error(
        `matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be multiplied (${K} != ${b.shape[b.ndim - 2]}): ` +
          `the last dim of the first must equal the second-to-last dim of the second. Fix: transpose one operand (e.g. b.T) or reshape.`,
      );
    const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { shape: [...batch, a.shape[a.ndim - 2], b.shape[b.ndim - 1]], dtype: a.dtype };
  },
  kernel: matmulKernel,
  save: ([a, b]) => [a, b],
  // dA = G Bᵀ and dB = Aᵀ G, each computed in its input's memory order: for a transposed view
  // (x @ W.T in Linear) as (B Gᵀ)ᵀ or (Gᵀ A)ᵀ, so the view's own rule hands back a dense gradient.
  grads: [
    (g, [a, b]) => (columnMajor(a) ? b.matmul(g.transpose(-1, -2)).transpose(-1, -2) : g.matmul(b.transpose(-1, -2))),
    (g, [a, b]) => (columnMajor(b) ? g.transpose(-1, -2).matmul(a).transpose(-1, -2) : a.transpose(-1, -2).matmul(g)),
  ],
  docs: ["d(A@B)/dA = g @ Bᵀ", "d(A@B)/dB = Aᵀ @ g"],
};

/** Stored with its rows strided and its columns adjacent in memory: a transposed view of a dense matrix. */
function columnMajor(x: Tensor): boolean {
  const [rows, cols] = [x.ndim - 2, x.ndim - 1];
  return x.strides[rows] === 1 && x.shape[rows] > 1 && x.strides[cols] >= x.shape[rows];
}

/**
 * Matrix product with torch.matmul's rules: 1-D·1-D is a dot product (0-d), a 1-D operand is promoted to a matrix and
 * the added dim removed again, and the batch dims of N-D operands broadcast ([5, 1, 2, 3] @ [4, 3, 7] is
 * [5, 4, 2, 7]). Float tensors only; the inner sizes must agree. Differentiable; transposed views are read in place.
 *
 * PyTorch: `torch.matmul`.
 * @example wg.matmul(wg.tensor([[1, 2], [3, 4]]), wg.tensor([5, 6])) // tensor([17, 39])
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  for (const [which, t] of [["first", a], ["second", b]] as const)
    if (!(t instanceof Tensor))
      throw new Error(`matmul: the ${which} operand must be a tensor, got ${describeValue(t)}. Fix: wrap it with wg.tensor(...), or use mul for a scalar.`);
  // float32 with float64 (gradcheck of a function closing over float32 tensors): widen, as elementwise ops do.
  if (a.dtype !== b.dtype && a.dtype !== "int32" && b.dtype !== "int32") {
    if (a.dtype === "float64") b = cast(b, "float64");
    else a = cast(a, "float64");
  }
  if (a.ndim === 0 || b.ndim === 0)
    throw new Error(`matmul: both operands need at least one dim, got ${fmt(a.shape)} and ${fmt(b.shape)}. Fix: use mul for scalars.`);
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(-1) : b;
  let c = apply(matmulPrim, [a2, b2], undefined);
  if (b.ndim === 1) c = c.squeeze(-1);
  if (a.ndim === 1) c = c.squeeze(b.ndim === 1 ? -1 : -2);
  return c;
}
