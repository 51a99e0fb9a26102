/**
 * The seeds' two-layer network (shared/seeds/jacobian-of-vector-function-wrt-matrix.md):
 * h = x W, relu, a dot product with wout, a sigmoid, a squared error. wg.explain
 * prints each step backward runs, with the numbers the seed works out by hand.
 * The CLI prints the same table:
 *
 *   webgrad explain "((x @ W).relu() @ wout).sigmoid().sub(t) ** 2" \
 *     --inputs "x = [1, 2] const; t = [1] const; W ~ 2x3; wout ~ 3" --seed 3 --values
 *
 * test/explain.test.ts checks this table against the manual chain rule.
 */
import * as wg from "../src/node.js";

export function seedNetwork(device: wg.Device = wg.defaultDevice()) {
  wg.manualSeed(3);
  const x = wg.tensor([1, 2], { device });
  const t = wg.tensor([1], { device });
  const W = wg.randn([2, 3], { device, requiresGrad: true });
  const wout = wg.randn([3], { device, requiresGrad: true });
  const h = x.matmul(W);
  const hact = h.relu();
  const score = hact.matmul(wout);
  const prob = score.sigmoid();
  const loss = prob.sub(t).pow(2);
  return { x, t, W, wout, h, hact, score, prob, loss };
}

/** The table with values, as the CLI command above prints it. */
export async function explainSeedNetwork(device?: wg.Device): Promise<wg.Explanation> {
  const { x, t, W, wout, loss } = seedNetwork(device);
  return wg.explain(loss, { values: true, names: { x, t, W, wout } });
}
