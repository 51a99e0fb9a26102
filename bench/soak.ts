/**
 * The soak (`webgrad bench --soak`): train the 784-256-128-10 MLP with Adam for
 * many steps, each inside wg.tidy, and record live tensors, bytes in use and
 * bytes pooled at steps 10, 100, 1,000, 10,000: after warm-up they must not
 * change. Then a loop of ops without tidy, whose dropped tensors only dispose()
 * and the FinalizationRegistry reclaim: its memory must stay bounded.
 */
import * as wg from "../src/index.js";
import type { Device, Tensor } from "../src/index.js";

export interface SoakRow {
  step: number;
  tensors: number;
  bytesInUse: number;
  bytesPooled: number;
  /** Since the first step. */
  seconds: number;
  loss: number;
}

export interface SoakResult {
  rows: SoakRow[];
  /** Rows after warm-up that differ from the first one in tensors, bytesInUse or bytesPooled. */
  drift: string[];
}

/** Steps 10, 100, 1,000 ... up to `steps`, and `steps` itself. */
export function checkpoints(steps: number): number[] {
  const at: number[] = [];
  for (let s = 10; s < steps; s *= 10) at.push(s);
  return [...at, steps];
}

export interface SoakModel {
  /** Layer widths, input first: Linear layers with ReLU between them. */
  sizes: number[];
  batch: number;
}

/** The training job's MLP (`webgrad train`), at its batch size. */
export const SOAK_MODEL: SoakModel = { sizes: [784, 256, 128, 10], batch: 64 };
const BATCHES = 8;

/** Train `steps` steps on BATCHES fixed random batches; `onRow` sees each checkpoint as it is taken. */
export async function soakTraining(steps: number, device: Device, onRow: (r: SoakRow) => void = () => {}, { sizes, batch }: SoakModel = SOAK_MODEL): Promise<SoakResult> {
  const { nn, optim } = wg;
  wg.manualSeed(0);
  const opts = { device };
  const layers = sizes.slice(1).flatMap((n, i) => [new nn.Linear(sizes[i], n, opts), new nn.ReLU()]).slice(0, -1);
  const model = new nn.Sequential(...layers);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const classes = sizes[sizes.length - 1];
  const xs = Array.from({ length: BATCHES }, () => wg.rand([batch, sizes[0]], opts));
  const ys = Array.from({ length: BATCHES }, (_, b) => wg.tensor(Int32Array.from({ length: batch }, (_, k) => (k * 7 + b) % classes), { dtype: "int32", device }));
  const rows: SoakRow[] = [];
  const at = new Set(checkpoints(steps));
  const t0 = performance.now();
  try {
    for (let step = 1; step <= steps; step++) {
      const loss = wg.tidy(() => {
        opt.zeroGrad();
        const l = nn.functional.crossEntropy(model.forward(xs[step % BATCHES]), ys[step % BATCHES]);
        l.backward();
        opt.step();
        return at.has(step) ? l : null;
      });
      if (!loss) continue;
      const value = await loss.item(); // also waits for the step's GPU work
      loss.dispose();
      const m = wg.memory(device);
      const row = { step, tensors: m.tensors, bytesInUse: m.bytesInUse, bytesPooled: m.bytesPooled, seconds: (performance.now() - t0) / 1e3, loss: value };
      rows.push(row);
      onRow(row);
    }
  } finally {
    opt.zeroGrad();
    const state = model.parameters().map((p) => opt.stateOf(p));
    [...xs, ...ys, ...model.parameters(), ...state].forEach((t) => t?.dispose());
  }
  const [first, ...rest] = rows;
  const drift = rest
    .filter((r) => r.tensors !== first.tensors || r.bytesInUse !== first.bytesInUse || r.bytesPooled !== first.bytesPooled)
    .map((r) => `step ${r.step}: ${r.tensors} tensors, ${r.bytesInUse} bytes in use, ${r.bytesPooled} pooled; step ${first.step} had ${first.tensors}, ${first.bytesInUse}, ${first.bytesPooled}`);
  return { rows, drift };
}

export interface Peak {
  tensors: number;
  bytesInUse: number;
  bytesPooled: number;
}

export interface LoopResult {
  iterations: number;
  /** Peak memory over the first and over the second half of the loop. */
  early: Peak;
  late: Peak;
  bounded: boolean;
}

/**
 * `iterations` steps of a small forward and backward whose results are dropped
 * without dispose() or tidy(): only the FinalizationRegistry reclaims them, after
 * V8 collects (`collect`, e.g. the exposed gc(), forces that; without it V8's own
 * schedule decides). The peak memory of the second half must not exceed the first
 * half's by more than half: a leak grows linearly, so it would double.
 */
export async function soakWithoutTidy(iterations: number, device: Device, collect: () => void = () => {}): Promise<LoopResult> {
  const w = wg.randn([64, 64], { device, requiresGrad: true });
  const x = wg.randn([32, 64], { device });
  const peak: Peak[] = [{ tensors: 0, bytesInUse: 0, bytesPooled: 0 }, { tensors: 0, bytesInUse: 0, bytesPooled: 0 }];
  const every = Math.min(50, Math.ceil(iterations / 10));
  for (let i = 0; i < iterations; i++) {
    let h: Tensor = x.matmul(w).tanh();
    h = h.mul(h).mean();
    h.backward();
    w.grad = null; // the old gradient is dropped, not disposed
    if (i % every === every - 1) {
      await wg.flush(device); // a real loop awaits something now and then; finalizers run in those turns
      for (let k = 0; k < 2; k++) {
        collect(); // finalizer callbacks run in a later task, so give them two turns
        await new Promise((r) => setTimeout(r, 0));
      }
      const m = wg.memory(device);
      const p = peak[i < iterations / 2 ? 0 : 1];
      for (const k of ["tensors", "bytesInUse", "bytesPooled"] as const) p[k] = Math.max(p[k], m[k]);
    }
  }
  w.dispose();
  x.dispose();
  const [early, late] = peak;
  const grows = (k: keyof Peak, slack: number) => late[k] > 1.5 * early[k] + slack;
  return { iterations, early, late, bounded: !grows("tensors", 16) && !grows("bytesInUse", 1 << 16) && !grows("bytesPooled", 1 << 20) };
}

/** Exact byte counts: the soak's claim is that they do not change at all. */
export function soakTable(rows: readonly SoakRow[]): string {
  const cols = ["step", "tensors", "bytesInUse", "bytesPooled", "seconds", "loss"];
  const cells = rows.map((r) => [r.step, r.tensors, r.bytesInUse, r.bytesPooled, r.seconds.toFixed(1), r.loss.toFixed(4)].map(String));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  return [cols, ...cells].map((row) => row.map((c, i) => c.padStart(width[i])).join("  ")).join("\n");
}
