/**
 * The cases on webgrad, on one device. Every run records its work inside
 * wg.tidy (nothing leaks between runs) and finishes with the device's work
 * awaited: `await wg.flush(device)`, or the readback the case is about.
 */
import * as wg from "../src/index.js";
import type { Device, Tensor } from "../src/index.js";
import type { Impl, Instance } from "./cases.js";
import { cnnModel } from "../src/train/models.js";

const { nn } = wg;
import { attentionComposite, attentionFused } from "../src/ops/attention.js";
import { Gpt } from "../src/train/gpt.js";

/** The webgrad implementation of every case, with tensors on `device`. */
export function webgradImpl(device: Device): Impl {
  const opts = { device };
  const flush = () => wg.flush(device);
  const randn = (shape: number[], requiresGrad = false) => wg.randn(shape, { device, requiresGrad });
  /**
   * A case whose run makes `record()`'s result, held until the GPU work is awaited: the scheduler
   * skips work whose result nobody holds any more, so a result dropped at once would time nothing.
   */
  const instance = (tensors: Tensor[], record: () => Tensor | void, finish = flush): Instance => {
    let held: Tensor | void;
    return {
      record: () => void (held = record()),
      finish: async () => {
        await finish();
        held?.dispose();
        held = undefined;
      },
      dispose: () => (held?.dispose(), tensors.forEach((t) => t.dispose())),
    };
  };
  const dropGrads = (ts: Tensor[]) => ts.forEach((t) => { t.grad?.dispose(); t.grad = null; });

  return {
    matmul({ batch, n }) {
      const shape = batch ? [batch, n, n] : [n, n];
      const [a, b] = [randn(shape), randn(shape)];
      return instance([a, b], () => wg.tidy(() => a.matmul(b)));
    },

    matmulBackward({ n }) {
      const [a, b, r] = [randn([n, n], true), randn([n, n], true), randn([n, n])];
      return instance([a, b, r], () => {
        dropGrads([a, b]);
        wg.tidy(() => a.matmul(b).mul(r).sum().backward());
      });
    },

    chain({ size, ops }) {
      const x0 = wg.rand([size], opts);
      const [scale, shift] = [wg.full([size], 0.999, opts), wg.full([size], 1e-3, opts)];
      let x: Tensor | null = null;
      const record = () => {
        x = wg.tidy(() => {
          let x = x0;
          for (let i = 0; i < ops; i++) x = i % 2 ? x.add(shift) : x.mul(scale);
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
      return instance([a, b], () => wg.tidy(() => a.add(b)));
    },

    sum({ rows, cols, dim }) {
      const x = randn([rows, cols]);
      return instance([x], () => wg.tidy(() => x.sum(dim)));
    },

    cumsum({ rows, cols, dim }) {
      const x = randn([rows, cols]);
      return instance([x], () => wg.tidy(() => x.cumsum(dim)));
    },

    softmax({ rows, cols, log }) {
      const [x, r] = [randn([rows, cols], true), randn([rows, cols])];
      return instance([x, r], () => {
        dropGrads([x]);
        wg.tidy(() => (log ? x.logSoftmax(-1) : x.softmax(-1)).mul(r).sum().backward());
      });
    },

    crossEntropy({ rows, cols }) {
      const x = randn([rows, cols], true);
      const y = wg.tensor(Int32Array.from({ length: rows }, (_, k) => (k * 7) % cols), { dtype: "int32", shape: [rows], device });
      return instance([x, y], () => {
        dropGrads([x]);
        wg.tidy(() => wg.nn.functional.crossEntropy(x, y).backward());
      });
    },

    mlpStep({ batch, sizes: [i, h, o], optimizer }) {
      const { nn, optim } = wg;
      const model = new nn.Sequential(new nn.Linear(i, h, opts), new nn.ReLU(), new nn.Linear(h, o, opts));
      const params = model.parameters();
      const opt = optimizer === "sgd" ? new optim.SGD(params, { lr: 0.01 }) : new optim.Adam(params, { lr: 1e-3 });
      const x = wg.rand([batch, i], opts);
      const labels = Int32Array.from({ length: batch }, (_, k) => (k * 7) % o);
      const y = wg.tensor(labels, { dtype: "int32", shape: [batch], device });
      const step = () =>
        wg.tidy(() => {
          opt.zeroGrad();
          nn.functional.crossEntropy(model.forward(x), y).backward();
          opt.step();
        });
      const held = [x, y, ...params];
      return { record: step, finish: flush, dispose: () => (opt.zeroGrad(), held.forEach((t) => t.dispose())) };
    },

    gptStep({ batch, blockSize, nLayer, nHead, nEmbd, vocab }) {
      // Gpt's layers are made on the default device, like any nn module without a device option.
      if (wg.defaultDevice() !== device) throw new Error(`gpt-step: the GPT is built on the default device (${wg.defaultDevice()}), not ${device}.`);
      const model = new Gpt({ vocabSize: vocab, blockSize, nLayer, nHead, nEmbd });
      const params = model.parameters();
      const opt = new wg.optim.AdamW(params, { lr: 1e-3, weightDecay: 0.1 });
      const windows = (k: number) => Int32Array.from({ length: batch * blockSize }, (_, j) => (j * 31 + k * 7) % vocab);
      const x = wg.tensor(windows(0), { shape: [batch, blockSize], dtype: "int32", device });
      const y = wg.tensor(windows(1), { shape: [batch, blockSize], dtype: "int32", device });
      const step = () =>
        wg.tidy(() => {
          opt.zeroGrad();
          model.loss(x, y).backward();
          wg.nn.utils.clipGradNorm(params, 1.0); // as the trainer
          opt.step();
        });
      const held = [x, y, ...params];
      return { record: step, finish: flush, dispose: () => (opt.zeroGrad(), held.forEach((t) => t.dispose())) };
    },

    conv2d({ x: xs, w: ws, backward }) {
      const [x, w, r] = [randn(xs, backward), randn(ws, backward), randn([xs[0], ws[0], xs[2], xs[3]])];
      const padding = ws[2] >> 1;
      return instance([x, w, r], () => {
        dropGrads([x, w]);
        wg.tidy(() => {
          const y = nn.functional.conv2d(x, w, null, { padding });
          if (backward) y.mul(r).sum().backward();
        });
      });
    },

    maxPool2d({ x: xs }) {
      const [x, r] = [randn(xs, true), randn([xs[0], xs[1], xs[2] >> 1, xs[3] >> 1])];
      return instance([x, r], () => {
        dropGrads([x]);
        wg.tidy(() => nn.functional.maxPool2d(x, 2).mul(r).sum().backward());
      });
    },

    batchNorm({ x: xs }) {
      const [x, r, weight, bias] = [randn(xs, true), randn(xs), randn([xs[1]], true), randn([xs[1]], true)];
      return instance([x, r, weight, bias], () => {
        dropGrads([x, weight, bias]);
        wg.tidy(() => nn.functional.batchNorm(x, null, null, { weight, bias, training: true }).mul(r).sum().backward());
      });
    },

    cnnStep({ batch, widths }) {
      const model = cnnModel(784, 10, widths, device);
      const params = model.parameters();
      const opt = new wg.optim.AdamW(params, { lr: 1e-3, weightDecay: 1e-4 });
      const x = wg.rand([batch, 784], opts);
      const y = wg.tensor(Int32Array.from({ length: batch }, (_, k) => (k * 7) % 10), { dtype: "int32", shape: [batch], device });
      const step = () =>
        wg.tidy(() => {
          opt.zeroGrad();
          nn.functional.crossEntropy(model.forward(x), y).backward();
          opt.step();
        });
      const held = [x, y, ...params, ...model.buffers()];
      return { record: step, finish: flush, dispose: () => (opt.zeroGrad(), held.forEach((t) => t.dispose())) };
    },

    layerNorm({ rows, cols }) {
      const [x, r] = [randn([rows, cols], true), randn([rows, cols])];
      const [w, b] = [randn([cols], true), randn([cols], true)];
      return instance([x, r, w, b], () => {
        dropGrads([x, w, b]);
        wg.tidy(() => wg.nn.functional.layerNorm(x, [cols], { weight: w, bias: b }).mul(r).sum().backward());
      });
    },

    attention({ batch, heads, seq, dim, fused }) {
      const shape = [batch, heads, seq, dim];
      const [q, k, v, r] = [randn(shape, true), randn(shape, true), randn(shape, true), randn(shape)];
      const attn = fused ? attentionFused : attentionComposite;
      return instance([q, k, v, r], () => {
        dropGrads([q, k, v]);
        wg.tidy(() => attn(q, k, v).mul(r).sum().backward());
      });
    },

    embedding({ num, dim, tokens }) {
      const [w, r] = [randn([num, dim], true), randn([tokens, dim])];
      const idx = wg.tensor(Int32Array.from({ length: tokens }, (_, i) => (i * 31) % num), { dtype: "int32", device });
      return instance([w, r, idx], () => {
        dropGrads([w]);
        wg.tidy(() => wg.nn.functional.embedding(idx, w).mul(r).sum().backward());
      });
    },

    readback({ size }) {
      const src = randn([size]);
      let x: Tensor | null = null, pending: Promise<unknown> | null = null;
      return {
        async prepare() {
          x = src.neg();
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

/** Live webgrad tensors on a device: the runner checks that runs leak none. */
export const webgradLiveTensors = (device: Device): number => wg.memory(device).tensors;
