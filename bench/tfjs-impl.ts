/**
 * The same cases on TensorFlow.js's WebGPU backend, in this process, on the
 * adapter webgrad uses (TF.js gets webgrad's Dawn GPU object as
 * navigator.gpu and makes its own device on it). Loaded only for
 * `--compare tfjs`. Runs end like webgrad's: the queue flushed and
 * onSubmittedWorkDone awaited, or the readback the case is about.
 *
 * TF.js's types are not imported (its @webgpu/types is an older copy whose
 * globals would clash with ours); `Tf` lists the few calls used here.
 */
import type { Impl, Instance } from "./cases.js";

interface TfTensor {
  readonly shape: number[];
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}
interface TfOptimizer {
  minimize(f: () => TfTensor, returnCost: boolean, varList: TfTensor[]): TfTensor | null;
  dispose(): void;
}
interface Tf {
  version_core: string;
  env(): { set(flag: string, value: unknown): void };
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  backend(): unknown;
  tidy<T>(fn: () => T): T;
  dispose(x: TfTensor | TfTensor[]): void;
  memory(): { numTensors: number };
  randomNormal(shape: number[], mean?: number, stdDev?: number, dtype?: "float32", seed?: number): TfTensor;
  randomUniform(shape: number[], min?: number, max?: number, dtype?: "float32", seed?: number): TfTensor;
  fill(shape: number[], value: number): TfTensor;
  tensor1d(values: Int32Array, dtype: "int32"): TfTensor;
  oneHot(indices: TfTensor, depth: number): TfTensor;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  mul(a: TfTensor, b: TfTensor): TfTensor;
  sum(x: TfTensor, axis?: number): TfTensor;
  cumsum(x: TfTensor, axis?: number): TfTensor;
  relu(x: TfTensor): TfTensor;
  softmax(x: TfTensor, dim?: number): TfTensor;
  logSoftmax(x: TfTensor, axis?: number): TfTensor;
  neg(x: TfTensor): TfTensor;
  grad(f: (x: TfTensor) => TfTensor): (x: TfTensor) => TfTensor;
  grads(f: (...xs: TfTensor[]) => TfTensor): (xs: TfTensor[]) => TfTensor[];
  variable(initial: TfTensor): TfTensor;
  train: { sgd(lr: number): TfOptimizer; adam(lr: number): TfOptimizer };
  sub(a: TfTensor, b: TfTensor): TfTensor;
  div(a: TfTensor, b: TfTensor): TfTensor;
  mean(x: TfTensor, axis?: number, keepDims?: boolean): TfTensor;
  square(x: TfTensor): TfTensor;
  rsqrt(x: TfTensor): TfTensor;
  scalar(v: number): TfTensor;
  transpose(x: TfTensor, perm?: number[]): TfTensor;
  gather(x: TfTensor, indices: TfTensor, axis?: number): TfTensor;
  losses: { softmaxCrossEntropy(onehotLabels: TfTensor, logits: TfTensor): TfTensor };
  reshape(x: TfTensor, shape: number[]): TfTensor;
  conv2d(x: TfTensor, filter: TfTensor, strides: number, pad: "same" | "valid"): TfTensor;
  maxPool(x: TfTensor, filterSize: number, strides: number, pad: "same" | "valid"): TfTensor;
  moments(x: TfTensor, axes: number[]): { mean: TfTensor; variance: TfTensor };
  batchNorm(x: TfTensor, mean: TfTensor, variance: TfTensor, offset?: TfTensor, scale?: TfTensor, eps?: number): TfTensor;
  dropout(x: TfTensor, rate: number): TfTensor;
}

/** The parts of TF.js's WebGPUBackend used to flush: not public API, checked at load. */
interface TfWebGpuBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
  adapterInfo?: { vendor?: string; architecture?: string };
}

export interface TfjsLibrary {
  impl: Impl;
  version: string;
  liveTensors(): number;
  gpuDevice(): GPUDevice;
}

/** Give TF.js `gpu` as navigator.gpu (Node 20 has no navigator), import it, and start its WebGPU backend. */
export async function loadTfjs(gpu: GPU): Promise<TfjsLibrary> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator) Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  let tf: Tf;
  try {
    // The union package, not tfjs-core alone: tfjs-core's Node build registers no gradients
    // (they live in ESM-only files Node cannot load); the union's Node build does.
    tf = (await import("@tensorflow/tfjs")) as unknown as Tf;
    // Registers the "webgpu" backend when navigator.gpu exists at import time.
    await import("@tensorflow/tfjs-backend-webgpu");
  } catch (e) {
    // From an installed package TF.js is absent: webgrad only lists it as a devDependency.
    const absent = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
    const what = absent ? "is not installed (webgrad does not depend on it)" : `could not be loaded (${(e as Error).message})`;
    throw new Error(
      `--compare tfjs: TensorFlow.js ${what}. Fix: npm install @tensorflow/tfjs@4 @tensorflow/tfjs-backend-webgpu@4 ` +
        `(the comparison is written against 4.22), or run the bench from a webgrad checkout after npm install.`,
    );
  }
  // Small tensors not yet on the GPU run on TF.js's CPU backend by default; every op here must be a GPU launch, as webgrad's are.
  tf.env().set("WEBGPU_CPU_FORWARD", false);
  if (!(await tf.setBackend("webgpu"))) throw new Error("--compare tfjs: TF.js could not start its webgpu backend on this adapter.");
  await tf.ready();
  const backend = tf.backend() as TfWebGpuBackend;
  for (const m of ["endComputePassEncoder", "submitQueue"] as const)
    if (typeof backend[m] !== "function") throw new Error(`--compare tfjs: this TF.js version's WebGPU backend has no ${m}(); the bench cannot flush it.`);
  return { impl: tfjsImpl(tf, backend), version: tf.version_core, liveTensors: () => tf.memory().numTensors, gpuDevice: () => backend.device };
}

function tfjsImpl(tf: Tf, backend: TfWebGpuBackend): Impl {
  /** TF.js's equivalent of wg.flush(): submit what it has encoded, then wait for the queue. */
  const flush = async () => {
    if (backend.commandEncoder) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
    await backend.device.queue.onSubmittedWorkDone();
  };
  const randn = (shape: number[]) => tf.randomNormal(shape, 0, 1, "float32", 1);
  const instance = (tensors: TfTensor[], record: () => void, finish = flush): Instance => ({ record, finish, dispose: () => tf.dispose(tensors) });

  return {
    matmul({ batch, n }) {
      const shape = batch ? [batch, n, n] : [n, n];
      const [a, b] = [randn(shape), randn(shape)];
      return instance([a, b], () => tf.tidy(() => void tf.matMul(a, b)));
    },

    matmulBackward({ n }) {
      const [a, b, r] = [randn([n, n]), randn([n, n]), randn([n, n])];
      const grads = tf.grads((a, b) => tf.sum(tf.mul(tf.matMul(a, b), r)));
      return instance([a, b, r], () => tf.tidy(() => void grads([a, b])));
    },

    chain({ size, ops }) {
      const x0 = tf.randomUniform([size], 0, 1, "float32", 1);
      const [scale, shift] = [tf.fill([size], 0.999), tf.fill([size], 1e-3)];
      let x: TfTensor | null = null;
      const record = () => {
        x = tf.tidy(() => {
          let x = x0;
          for (let i = 0; i < ops; i++) x = i % 2 ? tf.add(x, shift) : tf.mul(x, scale);
          return x;
        });
      };
      return instance([x0, scale, shift], record, async () => {
        await x!.data();
        x!.dispose();
      });
    },

    elementwise({ size }) {
      const [a, b] = [randn([size]), randn([size])];
      return instance([a, b], () => tf.tidy(() => void tf.add(a, b)));
    },

    sum({ rows, cols, dim }) {
      const x = randn([rows, cols]);
      return instance([x], () => tf.tidy(() => void tf.sum(x, dim)));
    },

    cumsum({ rows, cols, dim }) {
      const x = randn([rows, cols]);
      return instance([x], () => tf.tidy(() => void tf.cumsum(x, dim)));
    },

    softmax({ rows, cols, log }) {
      const [x, r] = [randn([rows, cols]), randn([rows, cols])];
      const grad = tf.grad((x) => tf.sum(tf.mul(log ? tf.logSoftmax(x, -1) : tf.softmax(x, -1), r)));
      return instance([x, r], () => tf.tidy(() => void grad(x)));
    },

    crossEntropy({ rows, cols }) {
      const x = randn([rows, cols]);
      const labels = tf.tensor1d(Int32Array.from({ length: rows }, (_, k) => (k * 7) % cols), "int32");
      const y = tf.oneHot(labels, cols);
      const grad = tf.grad((x) => tf.losses.softmaxCrossEntropy(y, x));
      return instance([x, labels, y], () => tf.tidy(() => void grad(x)));
    },

    gptStep() {
      throw new Error("gpt-step: no TF.js version of the GPT yet (webgrad only).");
    },

    mlpStep({ batch, sizes: [i, h, o], optimizer }) {
      // TF.js's layout: W [in, out], y = x W + b; initialised U(-1/sqrt(in), 1/sqrt(in)) like nn.Linear.
      const uniform = (shape: number[], fanIn: number) => tf.variable(tf.tidy(() => tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), "float32", 1)));
      const vars = [uniform([i, h], i), uniform([h], i), uniform([h, o], h), uniform([o], h)];
      const [w1, b1, w2, b2] = vars;
      const opt = optimizer === "sgd" ? tf.train.sgd(0.01) : tf.train.adam(1e-3);
      const x = tf.randomUniform([batch, i], 0, 1, "float32", 1);
      const labels = tf.tensor1d(Int32Array.from({ length: batch }, (_, k) => (k * 7) % o), "int32");
      const y = tf.oneHot(labels, o);
      const loss = () => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2));
      const held = [x, labels, y, ...vars];
      return { record: () => tf.tidy(() => void opt.minimize(loss, false, vars)), finish: flush, dispose: () => (opt.dispose(), tf.dispose(held)) };
    },

    // TF.js convolves NHWC images with [k, k, in, out] filters: the same sizes in its own layout.
    conv2d({ x: [N, C, H, W], w: [Co, , k], backward }) {
      const [x, w, r] = [randn([N, H, W, C]), randn([k, k, C, Co]), randn([N, H, W, Co])];
      const grads = tf.grads((x, w) => tf.sum(tf.mul(tf.conv2d(x, w, 1, "same"), r)));
      return instance([x, w, r], () => tf.tidy(() => void (backward ? grads([x, w]) : tf.conv2d(x, w, 1, "same"))));
    },

    maxPool2d({ x: [N, C, H, W] }) {
      const [x, r] = [randn([N, H, W, C]), randn([N, H >> 1, W >> 1, C])];
      const grad = tf.grad((x) => tf.sum(tf.mul(tf.maxPool(x, 2, 2, "valid"), r)));
      return instance([x, r], () => tf.tidy(() => void grad(x)));
    },

    batchNorm({ x: [N, C, H, W] }) {
      const [x, r, scale, offset] = [randn([N, H, W, C]), randn([N, H, W, C]), randn([C]), randn([C])];
      const grads = tf.grads((x, scale, offset) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(x, mean, variance, offset, scale, 1e-5), r));
      });
      return instance([x, r, scale, offset], () => tf.tidy(() => void grads([x, scale, offset])));
    },

    cnnStep({ batch, widths }) {
      const uniform = (shape: number[], fanIn: number) => tf.variable(tf.tidy(() => tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), "float32", 1)));
      const ones = (n: number) => tf.variable(tf.fill([n], 1));
      const zeros = (n: number) => tf.variable(tf.fill([n], 0));
      const convs = widths.slice(0, -1);
      const h = widths[widths.length - 1];
      const last = convs[convs.length - 1];
      // Per conv block: kernel, bias, BN scale, BN offset (webgrad's convs have no bias; TF.js's keep one, as before).
      const blocks = convs.map((c, i) => {
        const cin = i ? convs[i - 1] : 1;
        return [uniform([3, 3, cin, c], 9 * cin), uniform([c], 9 * cin), ones(c), zeros(c)];
      });
      const [w3, b3, w4, b4] = [uniform([49 * last, h], 49 * last), uniform([h], 49 * last), uniform([h, 10], h), uniform([10], h)];
      const vars = [...blocks.flat(), w3, b3, w4, b4];
      const block = (x: TfTensor, [k, b, g, o]: TfTensor[], pool: boolean) => {
        const y = tf.add(tf.conv2d(x, k, 1, "same"), b);
        const { mean, variance } = tf.moments(y, [0, 1, 2]);
        const z = tf.relu(tf.batchNorm(y, mean, variance, o, g, 1e-5));
        return pool ? tf.maxPool(z, 2, 2, "valid") : z;
      };
      const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", 1);
      const labels = tf.tensor1d(Int32Array.from({ length: batch }, (_, k) => (k * 7) % 10), "int32");
      const y = tf.oneHot(labels, 10);
      const loss = () => {
        const f = tf.reshape(blocks.reduce((t: TfTensor, blk, i) => block(t, blk, i < 2), x), [batch, 49 * last]);
        const hidden = tf.dropout(tf.relu(tf.add(tf.matMul(f, w3), b3)), 0.25);
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(hidden, w4), b4));
      };
      const opt = tf.train.adam(1e-3);
      const held = [x, labels, y, ...vars];
      return { record: () => tf.tidy(() => void opt.minimize(loss, false, vars)), finish: flush, dispose: () => (opt.dispose(), tf.dispose(held)) };
    },

    layerNorm({ rows, cols }) {
      const [x, r, w, b] = [randn([rows, cols]), randn([rows, cols]), randn([cols]), randn([cols])];
      const eps = tf.scalar(1e-5);
      // TF.js has no layer-norm op: its composite, biased variance as PyTorch's.
      const ln = (x: TfTensor, w: TfTensor, b: TfTensor) => {
        const d = tf.sub(x, tf.mean(x, -1, true));
        return tf.add(tf.mul(tf.mul(d, tf.rsqrt(tf.add(tf.mean(tf.square(d), -1, true), eps))), w), b);
      };
      const grads = tf.grads((x, w, b) => tf.sum(tf.mul(ln(x, w, b), r)));
      return instance([x, r, w, b, eps], () => tf.tidy(() => void grads([x, w, b])));
    },

    attention({ batch, heads, seq, dim }) {
      // TF.js has no fused attention: both webgrad cases compare against this composite.
      const shape = [batch, heads, seq, dim];
      const [q, k, v, r] = [randn(shape), randn(shape), randn(shape), randn(shape)];
      const scale = tf.scalar(1 / Math.sqrt(dim));
      const attn = (q: TfTensor, k: TfTensor, v: TfTensor) => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, tf.transpose(k, [0, 1, 3, 2])), scale), -1), v);
      const grads = tf.grads((q, k, v) => tf.sum(tf.mul(attn(q, k, v), r)));
      return instance([q, k, v, r, scale], () => tf.tidy(() => void grads([q, k, v])));
    },

    embedding({ num, dim, tokens }) {
      const [w, r] = [randn([num, dim]), randn([tokens, dim])];
      const idx = tf.tensor1d(Int32Array.from({ length: tokens }, (_, i) => (i * 31) % num), "int32");
      const grad = tf.grad((w) => tf.sum(tf.mul(tf.gather(w, idx, 0), r)));
      return instance([w, r, idx], () => tf.tidy(() => void grad(w)));
    },

    readback({ size }) {
      const src = randn([size]);
      let x: TfTensor | null = null, pending: Promise<unknown> | null = null;
      return {
        // A tensor TF.js has read keeps its values on the host, so each run reads a fresh one made on the GPU.
        async prepare() {
          x = tf.neg(src);
          await flush();
        },
        record: () => void (pending = x!.data()),
        finish: async () => {
          await pending;
          x!.dispose();
        },
        dispose: () => src.dispose(),
      };
    },
  };
}
