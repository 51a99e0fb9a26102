/** Ops built from other ops: no kernel, no rule of their own. */
import { fmt } from "../shape.js";
import { unary, where } from "./elementwise.js";
import { matmul } from "./matmul.js";
import type { Tensor } from "../tensor.js";

/**
 * Clamps each element to [min, max] (`null` leaves that side open; at least one is needed, and min ≤ max). The gradient
 * passes where min ≤ x ≤ max, as in PyTorch; a NaN bound makes every element NaN.
 *
 * PyTorch: `torch.clamp`.
 * @example wg.tensor([-2, 0.5, 3]).clamp(0, 1) // tensor([0, 0.5, 1])
 */
export function clamp(x: Tensor, min: number | null, max: number | null): Tensor {
  if (min === null && max === null) throw new Error("clamp: give at least one of min and max.");
  if (min !== null && max !== null && min > max) throw new Error(`clamp: min ${min} is greater than max ${max}.`);
  // A NaN bound makes every element NaN (gradient 0), as PyTorch; where(x < NaN) alone would keep x.
  if (Number.isNaN(min) || Number.isNaN(max)) return x.mul(0).add(NaN);
  let r = x;
  if (min !== null) r = where(r.lt(min), min, r);
  if (max !== null) r = where(r.gt(max), max, r);
  return r;
}

/**
 * GELU, x·Φ(x): with the exact erf form (`"none"`, PyTorch's default), or the tanh approximation
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Differentiable to any order (the exact form is one op whose
 * derivative Φ(x) + x·φ(x) is another; the tanh form a composite).
 *
 * PyTorch: `torch.nn.functional.gelu`.
 * @example wg.tensor([0, 1]).gelu({ approximate: "tanh" }) // ≈ tensor([0, 0.8412])
 */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  if (x.dtype === "int32") throw new Error(`gelu: needs a float tensor, got int32 of shape ${fmt(x.shape)}. Fix: x.float().gelu().`);
  if (approximate === "tanh") {
    const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(inner.tanh().add(1)).mul(0.5);
  }
  if (approximate !== "none") throw new Error(`gelu: approximate must be "none" or "tanh", got "${String(approximate)}".`);
  return unary("gelu", x); // one op with its own rule: a one-op matmul epilogue, a one-op backward

}

/**
 * Einstein summation over one or more operands: letters name dims, a letter missing from the output is summed over,
 * and without `->` the output is the letters that appear once, in alphabetical order (as PyTorch). Pairs reduce to one
 * batched matmul each; differentiable. Unlike PyTorch, no ellipsis (`...`) and no repeated letter within one operand
 * (diagonals, traces such as `"ii"`); sizes of a letter must agree exactly (no broadcasting of size-1 dims).
 *
 * PyTorch: `torch.einsum`.
 * @example wg.einsum("i,j->ij", wg.tensor([1, 2]), wg.tensor([3, 4])) // tensor([[3, 4], [6, 8]])
 */
export function einsum(equation: string, ...tensors: Tensor[]): Tensor {
  const eq = equation.replace(/\s+/g, "");
  const [lhs, rhs] = eq.includes("->") ? eq.split("->") : [eq, undefined];
  const inputs = lhs.split(",");
  const bad = (why: string) => new Error(`einsum "${equation}": ${why}`);
  if (eq.includes(".")) throw bad("ellipsis (...) is not supported; name every dim.");
  if (inputs.length !== tensors.length) throw bad(`names ${inputs.length} operands but ${tensors.length} tensors were given.`);
  const sizes = new Map<string, number>();
  inputs.forEach((s, k) => {
    const t = tensors[k];
    if (!/^[a-zA-Z]*$/.test(s)) throw bad(`subscripts must be letters, got "${s}".`);
    if (s.length !== t.ndim) throw bad(`operand ${k} has ${t.ndim} dims (shape ${fmt(t.shape)}) but subscripts "${s}".`);
    if (new Set(s).size !== s.length) throw bad(`repeated index in "${s}" (diagonals/traces) is not supported.`);
    [...s].forEach((c, i) => {
      const prev = sizes.get(c);
      if (prev !== undefined && prev !== t.shape[i])
        throw bad(`index ${c} has size ${prev} in one operand and ${t.shape[i]} in operand ${k} (shape ${fmt(t.shape)}).`);
      sizes.set(c, t.shape[i]);
    });
  });
  const count = (c: string) => inputs.join("").split(c).length - 1;
  const out = rhs ?? [...sizes.keys()].filter((c) => count(c) === 1).sort().join("");
  for (const c of out) if (!sizes.has(c)) throw bad(`output index ${c} appears in no operand.`);

  let acc = { t: tensors[0], s: inputs[0] };
  for (let k = 1; k < tensors.length; k++) {
    const later = inputs.slice(k + 1).join("") + out;
    acc = contractPair(acc, { t: tensors[k], s: inputs[k] }, later, sizes);
  }
  // Sum what the output does not name, then order the rest as the output asks.
  const drop = [...acc.s].map((c, i) => (out.includes(c) ? -1 : i)).filter((i) => i >= 0);
  let r = drop.length ? acc.t.sum(drop) : acc.t;
  const kept = [...acc.s].filter((c) => out.includes(c));
  return kept.length ? r.permute([...out].map((c) => kept.indexOf(c))) : r;
}

type Term = { t: Tensor; s: string };

function contractPair(a: Term, b: Term, later: string, sizes: Map<string, number>): Term {
  // Sum indices that only one side has and nothing later needs.
  const squash = (x: Term, other: string): Term => {
    const drop = [...x.s].map((c, i) => (!other.includes(c) && !later.includes(c) ? i : -1)).filter((i) => i >= 0);
    return drop.length ? { t: x.t.sum(drop), s: [...x.s].filter((_, i) => !drop.includes(i)).join("") } : x;
  };
  const A = squash(a, b.s);
  const B = squash(b, A.s);
  const batch = [...A.s].filter((c) => B.s.includes(c) && later.includes(c));
  const contract = [...A.s].filter((c) => B.s.includes(c) && !later.includes(c));
  const aFree = [...A.s].filter((c) => !B.s.includes(c));
  const bFree = [...B.s].filter((c) => !A.s.includes(c));
  const size = (cs: string[]) => cs.reduce((n, c) => n * sizes.get(c)!, 1);
  const order = (x: Term, cs: string[]) => x.t.permute(cs.map((c) => x.s.indexOf(c)));
  const a3 = order(A, [...batch, ...aFree, ...contract]).reshape([size(batch), size(aFree), size(contract)]);
  const b3 = order(B, [...batch, ...contract, ...bFree]).reshape([size(batch), size(contract), size(bFree)]);
  const c = matmul(a3, b3).reshape([...batch, ...aFree, ...bFree].map((ch) => sizes.get(ch)!));
  return { t: c, s: [...batch, ...aFree, ...bFree].join("") };
}
