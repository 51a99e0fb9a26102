// Multi-tensor optimizer step: one launch updates up to 7 parameters ("slots") in place, each with
// its own optimizer state. Slot k owns workgroups [end(k-1), end(k)); one invocation updates element
// i of its slot's parameter: `sgd` (state: the momentum buffer, n floats), `adam` (state: m then v,
// 2n floats). Dispatch: end(K-1) workgroups, laid out over x then y past 65,535. The per-step numbers
// (lr, bias corrections, first-step flag) arrive in the uniform block, so a step uploads no tensor.
// The bindings and the entry point below are those of one slot; optim/kernel.ts generates them for
// K slots (WGSL cannot index bindings), after the marker line.

struct Params {
  // L2 penalty added to the gradient (SGD, Adam); shared by every slot of a launch.
  weight_decay: f32,
  momentum: f32,
  dampening: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  // sgd: 1 with momentum, 0 for plain SGD, which has no state (its slots bind none).
  use_momentum: u32,
  nesterov: u32,
  // Per slot: [end workgroup, n, first (sgd: the momentum buffer starts as the gradient), 0].
  slot_u: array<vec4<u32>, 7>,
  // Per slot: [lr, decay (p *= decay first: 1 - lr * weight_decay for AdamW, else 1),
  // step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t)].
  slot_f: array<vec4<f32>, 7>,
}

// torch.optim.SGD: d = g + wd p; buf = first ? d : momentum buf + (1 - dampening) d;
// d = nesterov ? d + momentum buf : buf; p -= lr d. Returns (p, buf). `first` and `f` are the
// slot's slot_u[k].z and slot_f[k], passed by the caller (a constant index there, not a dynamic one here).
fn sgd_step(first: u32, f: vec4<f32>, w: f32, g: f32, s: f32) -> vec2<f32> {
  var d = g + u.weight_decay * w;
  var buf = s;
  if (u.use_momentum == 1u) {
    buf = d;
    if (first == 0u) { buf = u.momentum * s + (1.0 - u.dampening) * d; }
    d = select(buf, d + u.momentum * buf, u.nesterov == 1u);
  }
  return vec2<f32>(w - f.x * d, buf);
}

// torch.optim.Adam / AdamW: w *= decay; d = g + wd w; m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d²;
// w -= step_size m / (sqrt(v) / bc2_sqrt + eps). Returns (w, m, v).
fn adam_step(f: vec4<f32>, p0: f32, g: f32, m0: f32, v0: f32) -> vec3<f32> {
  let w = p0 * f.y;
  let d = g + u.weight_decay * w;
  let m = u.beta1 * m0 + (1.0 - u.beta1) * d;
  let v = u.beta2 * v0 + (1.0 - u.beta2) * d * d;
  return vec3<f32>(w - f.z * m / (sqrt(v) / f.w + u.eps), m, v);
}

// ---- one slot's bindings and entry point (generated per slot count from here on) ----
@group(0) @binding(0) var<storage, read> g0: array<f32>;
@group(0) @binding(1) var<storage, read_write> p0: array<f32>;
@group(0) @binding(2) var<storage, read_write> s0: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

fn update0(i: u32) {
  let n = u.slot_u[0].y;
  if (i >= n) { return; }
  let r = adam_step(u.slot_f[0], p0[i], g0[i], s0[i], s0[n + i]);
  p0[i] = r.x;
  s0[i] = r.y;
  s0[n + i] = r.z;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = wid.y * nwg.x + wid.x;
  if (w < u.slot_u[0].x) { update0(w * 256u + lid); return; }
}
