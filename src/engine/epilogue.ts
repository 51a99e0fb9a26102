/**
 * Matmul epilogues: elementwise consumers of a kernel's output (a bias added
 * with broadcasting, ReLU, GELU, a scale) computed where the kernel stores
 * each element, so the product is not read back from memory by another
 * launch. The kernel's own WGSL is specialized at its declared anchors
 * (Kernel.epilogue): its store function runs the chain's ops on the value it
 * stores and writes the chain's outputs still referenced.
 */
import type { GpuCaps, GpuLaunch, Kernel, View } from "../backend/backend.js";
import { numel } from "../shape.js";
import { chainFunctions, chainHelpers, chainStatements, fusedKey, WGSL_TYPE, type FusedInput, type FusedOp } from "./fused-kernel.js";
import { specialize, uniformLayout, type UniformLayout } from "./wgsl.js";

/** The launch the epilogue extends: a kernel with Kernel.epilogue anchors, writing `out`. */
export interface Head {
  readonly kernel: Kernel<unknown>;
  readonly out: View;
  readonly ins: readonly View[];
  readonly attrs: unknown;
  /** Its launch, if already made. */
  readonly launch?: GpuLaunch;
}

const generated = new Map<string, { code: string; layout: UniformLayout }>();
const debugKernels = () => typeof process !== "undefined" && /\bkernels\b/.test(process.env?.WEBGRAD_DEBUG ?? "");

/**
 * The head's launch, or null when it cannot take an epilogue (it remaps bindings, reads its
 * output or checks its data: a generated layout would have to know how).
 */
export function baseLaunch(head: Head, caps: GpuCaps): GpuLaunch | null {
  const base = head.launch ?? head.kernel.webgpu([head.out], head.ins, head.attrs, caps);
  return base.bindings || base.outputBindings || base.readsOutputs || base.check ? null : base;
}

/**
 * The head kernel with ops[1..] (op 0 is the head itself) fused into its store. Bindings: the
 * head's inputs, the chain's inputs, the head's output (a spare when nobody holds it), the
 * chain's `outputs` (op indices), then the params.
 */
export function epilogueKernel(head: Head, base: GpuLaunch, ops: readonly FusedOp[], inputs: readonly View[], outputs: readonly number[], headLive: boolean): Kernel<void> {
  const n = numel(head.out.shape);
  const described: FusedInput[] = inputs.map((v) => ({ dtype: v.dtype, scalar: numel(v.shape) === 1 && n !== 1, periodic: numel(v.shape) !== 1 && numel(v.shape) !== n }));
  const key = `${base.key}|epilogue|${fusedKey(described, ops, outputs)}|${headLive ? "c" : "-"}`;
  const name = `${head.kernel.name}+fused(${[...new Set(ops.slice(1).map((o) => o.name))].join(", ")})`;
  let g = generated.get(key);
  if (!g) {
    const code = epilogueWgsl(head, base.code(), described, ops, outputs, headLive);
    if (debugKernels()) console.log(`webgrad: generated kernel ${name}\n${code}`);
    generated.set(key, (g = { code, layout: uniformLayout(code) }));
  }
  const { code, layout } = g;
  const params = layout.pack({ ep_off: inputs.map((v) => v.offset), ep_period: inputs.map((v) => numel(v.shape)) });
  // The head's own fields come first, laid out as its kernel packed them.
  const own = 4 * layout.word("ep_off");
  new Uint8Array(params, 0, own).set(new Uint8Array(base.params, 0, Math.min(own, base.params.byteLength)));
  return {
    name,
    cpu() {
      throw new Error(`${name}: internal error: epilogues run on WebGPU only.`);
    },
    webgpu: () => ({
      key,
      code: () => code,
      entryPoint: base.entryPoint,
      constants: base.constants,
      params,
      workgroups: base.workgroups,
      outputBindings: [headLive ? 0 : null, ...outputs.map((_, j) => j + 1)],
      noErrorFlag: true,
    }),
  };
}

/** The name of the store function an anchor declares (store_c in matmul.wgsl, store_out in reduce.wgsl). */
function storeName(anchor: string): string {
  const m = /fn (\w+)\(/.exec(anchor);
  if (!m) throw new Error(`epilogue: internal error: the store anchor declares no function: ${anchor}`);
  return m[1];
}

function epilogueWgsl(head: Head, source: string, inputs: readonly FusedInput[], ops: readonly FusedOp[], outputs: readonly number[], headLive: boolean): string {
  const anchors = head.kernel.epilogue!;
  const first = head.ins.length;
  const out = WGSL_TYPE[head.out.dtype];
  const bindings = [
    ...inputs.map((x, k) => `@group(0) @binding(${first + k}) var<storage, read> in${k}: array<${WGSL_TYPE[x.dtype]}>;`),
    `@group(0) @binding(${first + inputs.length}) var<storage, read_write> C: array<${out}>;`,
    ...outputs.map((node, k) => `@group(0) @binding(${first + inputs.length + 1 + k}) var<storage, read_write> out${k}: array<${WGSL_TYPE[ops[node].out]}>;`),
    `@group(0) @binding(${first + inputs.length + 1 + outputs.length}) var<uniform> p: Params;`,
  ].join("\n");
  const store = [
    `// The epilogue: ${ops.length - 1} fused elementwise ops (${ops.slice(1).map((o) => o.name).join(", ")}) on each stored value.`,
    ...chainFunctions(ops, 0),
    `fn ${storeName(anchors.store)}(i: u32, acc: ${out}) {`,
    ...(headLive ? ["  C[i] = acc;"] : []),
    ...chainStatements(inputs, ops, { off: "p.ep_off", period: "p.ep_period", head: "acc" }),
    ...outputs.map((node, k) => `  out${k}[i] = v${node};`),
    "}",
  ].join("\n");
  const end = anchors.paramsEnd.lastIndexOf("}");
  const params = `${anchors.paramsEnd.slice(0, end)}  ep_off: array<vec4<u32>, 2>,  // element offset of each epilogue input\n  ep_period: array<vec4<u32>, 2>,  // its element count: element i reads i % period\n}`;
  const body = specialize(head.kernel.name, source, [
    [anchors.paramsEnd, params],
    [anchors.bindings, bindings],
    [anchors.store, store],
  ]);
  // The op helpers go after any `enable` directives, which WGSL wants first.
  const directives = /^(?:\s*enable [^;]+;\s*)*/.exec(body)![0];
  return `${directives}// Generated by webgrad's scheduler: ${head.kernel.name} with an epilogue.\n${chainHelpers()}\n\n${body.slice(directives.length)}`;
}
