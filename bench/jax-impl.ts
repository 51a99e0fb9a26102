/**
 * The same cases on jax-js (@jax-js/jax) on WebGPU, in this process, on the
 * adapter webgrad uses: jax-js reads navigator.gpu, so it gets webgrad's Dawn
 * GPU object there and makes its own device on it. Loaded only for
 * `--compare jax`.
 *
 * jax-js is lazy and counts references: every function consumes its array
 * arguments (`.ref` keeps one), and work is dispatched only when a result is
 * realized. So each case runs as one `jit`-compiled function (jax-js fuses
 * and records the whole graph, as a jax user would), and finish() realizes
 * the result with blockUntilReady() (or data(), for the readback cases).
 */
import type { Impl, Instance } from "./cases.js";

type Jax = typeof import("@jax-js/jax");
type JArray = import("@jax-js/jax").Array;

export interface JaxLibrary {
  impl: Impl;
  version: string;
  /** jax-js keeps no public count of live arrays; the runner's leak check reads 0. */
  liveTensors(): number;
  gpuDevice(): GPUDevice;
}

/** Give jax-js `gpu` as navigator.gpu, import it and start its webgpu device. */
export async function loadJax(gpu: GPU): Promise<JaxLibrary> {
  const g = globalThis as { navigator?: { gpu?: GPU; userAgent?: string } };
  // jax-js also reads navigator.userAgent (browser-specific tuning): Node 20 has no navigator.
  if (g.navigator) Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu, userAgent: "Node.js" }, configurable: true, writable: true });
  let jax: Jax;
  try {
    jax = await import("@jax-js/jax");
  } catch (e) {
    const absent = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
    const what = absent ? "is not installed (webgrad does not depend on it)" : `could not be loaded (${(e as Error).message})`;
    throw new Error(`--compare jax: jax-js ${what}. Fix: npm install @jax-js/jax@0.1 (the comparison is written against 0.1.25), or run the bench from a webgrad checkout after npm install.`);
  }
  const devices = await jax.init("webgpu");
  if (!devices.includes("webgpu")) throw new Error("--compare jax: jax-js could not start its webgpu device on this adapter.");
  jax.defaultDevice("webgpu");
  return { impl: jaxImpl(jax), version: await jaxVersion(), liveTensors: () => 0, gpuDevice: () => jax.getWebGPUDevice() };
}

/** The installed version, from its package.json (the package exports no ./package.json subpath). */
async function jaxVersion(): Promise<string> {
  const [{ createRequire }, { readFileSync }, { dirname, join }] = await Promise.all([import("node:module"), import("node:fs"), import("node:path")]);
  const entry = createRequire(import.meta.url).resolve("@jax-js/jax");
  return (JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string }).version;
}

/** Deterministic values in [lo, hi) (a 32-bit LCG): the cases need data, not jax-js's PRNG. */
function values(n: number, lo: number, hi: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

/** The cases not written for jax-js yet: their set-up fails with this, so the run reports them as errors. */
const NOT_WRITTEN = ["conv2d", "maxPool2d", "batchNorm", "cnnStep", "layerNorm", "attention", "embedding", "cumsum", "gptStep"] as const;
const notWritten = (kind: string) => (): Instance => {
  throw new Error(`--compare jax: the ${kind} case is not written for jax-js yet (bench/jax-impl.ts); compare it with --compare tfjs.`);
};

function jaxImpl(jax: Jax): Impl {
  const np = jax.numpy;
  const arr = (shape: number[], lo = -1, hi = 1, seed = 1) => np.array(values(shape.reduce((a, b) => a * b, 1), lo, hi, seed)).reshape(shape);
  const done = async (x: JArray) => {
    await x.blockUntilReady();
    x.dispose();
  };
  /** A case whose run is one call of `f` on `held` (kept with .ref), awaited, or read back with `read`. */
  const fused = (held: JArray[], f: (...xs: JArray[]) => JArray, read = false): Instance => {
    const jf = jax.jit(f);
    let out: JArray | null = null;
    return {
      record: () => void (out = jf(...held.map((h) => h.ref))),
      finish: async () => void (read ? await out!.data() : await done(out!)),
      dispose: () => (jf.dispose(), held.forEach((h) => h.dispose())),
    };
  };

  return {
    ...(Object.fromEntries(NOT_WRITTEN.map((k) => [k, notWritten(k)])) as unknown as Pick<Impl, (typeof NOT_WRITTEN)[number]>),
    matmul: ({ batch, n }) => {
      const shape = batch ? [batch, n, n] : [n, n];
      return fused([arr(shape, -1, 1, 1), arr(shape, -1, 1, 2)], (a, b) => np.matmul(a, b));
    },
    matmulBackward: ({ n }) => matmulBackward(jax, [arr([n, n], -1, 1, 1), arr([n, n], -1, 1, 2), arr([n, n], -1, 1, 3)]),
    chain: ({ size, ops }) => {
      const chain = (x: JArray, scale: JArray, shift: JArray) => {
        for (let i = 0; i < ops; i++) x = i % 2 ? x.add(shift.ref) : x.mul(scale.ref);
        scale.dispose();
        shift.dispose();
        return x;
      };
      // The case ends with a readback, as on the other libraries.
      return fused([arr([size], 0, 1), np.full([size], 0.999), np.full([size], 1e-3)], chain, true);
    },
    elementwise: ({ size }) => fused([arr([size], -1, 1, 1), arr([size], -1, 1, 2)], (a, b) => a.add(b)),
    sum: ({ rows, cols, dim }) => fused([arr([rows, cols])], (x) => x.sum(dim)),
    softmax: ({ rows, cols, log }) => {
      const nn = jax.nn;
      const f = (x: JArray, r: JArray) => (log ? nn.logSoftmax(x, -1) : nn.softmax(x, -1)).mul(r).sum();
      return fused([arr([rows, cols], -1, 1, 1), arr([rows, cols], -1, 1, 2)], (x, r) => jax.grad(f)(x, r));
    },
    crossEntropy: ({ rows, cols }) => {
      const nn = jax.nn;
      const hot = new Float32Array(rows * cols);
      for (let k = 0; k < rows; k++) hot[k * cols + ((k * 7) % cols)] = 1;
      const f = (x: JArray, y: JArray) => nn.logSoftmax(x, -1).mul(y).sum().mul(-1 / rows);
      return fused([arr([rows, cols], -1, 1, 1), jax.numpy.array(hot).reshape([rows, cols])], (x, y) => jax.grad(f)(x, y));
    },
    mlpStep: (spec) => mlpStep(jax, spec.batch, spec.sizes, spec.optimizer, arr),
    readback: ({ size }) => {
      const src = arr([size]);
      const neg = jax.jit((x: JArray) => x.neg());
      let x: JArray | null = null, pending: Promise<unknown> | null = null;
      return {
        async prepare() {
          x = await neg(src.ref).blockUntilReady();
        },
        record: () => void (pending = x!.data()),
        finish: async () => void (await pending),
        dispose: () => (neg.dispose(), src.dispose()),
      };
    },
  };
}

function matmulBackward(jax: Jax, [a, b, r]: JArray[]): Instance {
  const np = jax.numpy;
  const f = (a: JArray, b: JArray, r: JArray) => np.matmul(a, b).mul(r).sum();
  const step = jax.jit((a: JArray, b: JArray, r: JArray) => jax.grad(f, { argnums: [0, 1] })(a, b, r) as unknown as JArray[]);
  let out: JArray[] | null = null;
  return {
    record: () => void (out = step(a.ref, b.ref, r.ref)),
    finish: async () => {
      await jax.blockUntilReady(out!);
      jax.tree.dispose(out!);
    },
    dispose: () => (step.dispose(), [a, b, r].forEach((x) => x.dispose())),
  };
}

type Params = { w1: JArray; b1: JArray; w2: JArray; b2: JArray };
const KEYS = ["w1", "b1", "w2", "b2"] as const;

/**
 * One training step of the [784, 256, 10] ReLU MLP as one jit-compiled function: cross-entropy,
 * grad, and the update, returning the new parameters (jax has no in-place update). jax-js has no
 * optimizer of its own (that is @jax-js/optax, not installed), so SGD and Adam are written here.
 */
function mlpStep(jax: Jax, batch: number, [i, h, o]: [number, number, number], optimizer: "sgd" | "adam", arr: (s: number[], lo: number, hi: number, seed: number) => JArray): Instance {
  const { numpy: np, nn, tree } = jax;
  const init = (shape: number[], fanIn: number, seed: number) => arr(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), seed);
  let p: Params = { w1: init([i, h], i, 1), b1: init([h], i, 2), w2: init([h, o], h, 3), b2: init([o], h, 4) };
  const x = arr([batch, i], 0, 1, 5);
  const hot = new Float32Array(batch * o);
  for (let k = 0; k < batch; k++) hot[k * o + ((k * 7) % o)] = 1;
  const y = np.array(hot).reshape([batch, o]);
  const loss = (p: Params, x: JArray, y: JArray) => {
    const hidden = nn.relu(np.matmul(x, p.w1).add(p.b1));
    return nn.logSoftmax(np.matmul(hidden, p.w2).add(p.b2), -1).mul(y).sum().mul(-1 / batch);
  };
  const gradOf = (p: Params, x: JArray, y: JArray) => jax.grad(loss)(tree.ref(p), x, y) as unknown as Params;
  if (optimizer === "sgd") {
    const step = jax.jit((p: Params, x: JArray, y: JArray) => {
      const g = gradOf(p, x, y);
      return Object.fromEntries(KEYS.map((k) => [k, p[k].sub(g[k].mul(0.01))])) as Params;
    });
    let out: Params | null = null;
    return {
      record: () => void (out = step(p, x.ref, y.ref) as Params),
      finish: async () => void (p = await jax.blockUntilReady(out!)),
      dispose: () => (step.dispose(), tree.dispose(p), x.dispose(), y.dispose()),
    };
  }
  return adam(jax, () => p, (q) => (p = q), gradOf, x, y);
}

/** Adam (β 0.9, 0.999, ε 1e-8, lr 1e-3) as in torch.optim.Adam; the bias corrections are scalar inputs, so one trace serves every step. */
function adam(jax: Jax, get: () => Params, set: (p: Params) => void, gradOf: (p: Params, x: JArray, y: JArray) => Params, x: JArray, y: JArray): Instance {
  const { numpy: np, tree } = jax;
  const [b1, b2, eps, lr] = [0.9, 0.999, 1e-8, 1e-3];
  type State = { p: Params; m: Params; v: Params };
  const zeros = () => Object.fromEntries(KEYS.map((k) => [k, np.zeros(get()[k].shape)])) as Params;
  let s: State = { p: get(), m: zeros(), v: zeros() };
  let t = 0;
  const step = jax.jit((s: State, x: JArray, y: JArray, c1: JArray, c2: JArray) => {
    const g = gradOf(s.p, x, y);
    const next: State = { p: {} as Params, m: {} as Params, v: {} as Params };
    for (const k of KEYS) {
      const m = s.m[k].mul(b1).add(g[k].ref.mul(1 - b1));
      const v = s.v[k].mul(b2).add(g[k].ref.mul(g[k]).mul(1 - b2));
      // w - lr/(1-β1^t) m / (sqrt(v/(1-β2^t)) + ε)
      next.p[k] = s.p[k].sub(m.ref.mul(c1.ref).div(np.sqrt(v.ref.mul(c2.ref)).add(eps)));
      [next.m[k], next.v[k]] = [m, v];
    }
    c1.dispose();
    c2.dispose();
    return next;
  });
  let out: State | null = null;
  return {
    record: () => {
      t++;
      out = step(s, x.ref, y.ref, np.array(lr / (1 - b1 ** t)), np.array(1 / (1 - b2 ** t))) as State;
    },
    finish: async () => {
      s = await jax.blockUntilReady(out!);
      set(s.p);
    },
    dispose: () => (step.dispose(), tree.dispose(s), x.dispose(), y.dispose()),
  };
}
