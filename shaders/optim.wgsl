// One invocation updates element i of one parameter in place, together with its optimizer state:
// entry `sgd` (state: the momentum buffer, n floats), entry `adam` (state: m then v, 2n floats).
// Dispatch: ceil(n / WG) workgroups, laid out over x then y past 65,535. The per-step numbers
// (lr, bias corrections, first-step flag) arrive in the uniform block, so a step uploads no tensor.

struct Params {
  n: u32,
  // sgd: 1 on the first step, when the momentum buffer starts as the gradient itself.
  first: u32,
  // sgd: 1 with momentum, 0 for plain SGD, which has no state (its binding is left untouched).
  use_momentum: u32,
  nesterov: u32,
  lr: f32,
  // L2 penalty added to the gradient (SGD, Adam).
  weight_decay: f32,
  // p *= decay before the update: 1 - lr * weight_decay for AdamW, else 1.
  decay: f32,
  momentum: f32,
  dampening: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  // lr / (1 - beta1^t)
  step_size: f32,
  // sqrt(1 - beta2^t)
  bc2_sqrt: f32,
}

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

override WG: u32 = 256u;

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// torch.optim.SGD: d = g + wd p; buf = first ? d : momentum buf + (1 - dampening) d;
// d = nesterov ? d + momentum buf : buf; p -= lr d.
@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= u.n) { return; }
  let w = p[i];
  var d = g[i] + u.weight_decay * w;
  if (u.use_momentum == 1u) {
    var buf = d;
    if (u.first == 0u) { buf = u.momentum * state[i] + (1.0 - u.dampening) * d; }
    state[i] = buf;
    d = select(buf, d + u.momentum * buf, u.nesterov == 1u);
  }
  p[i] = w - u.lr * d;
}

// torch.optim.Adam / AdamW: w *= decay; d = g + wd w; m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d²;
// w -= step_size m / (sqrt(v) / bc2_sqrt + eps).
@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= u.n) { return; }
  let w = p[i] * u.decay;
  let d = g[i] + u.weight_decay * w;
  let m = u.beta1 * state[i] + (1.0 - u.beta1) * d;
  let v = u.beta2 * state[u.n + i] + (1.0 - u.beta2) * d * d;
  state[i] = m;
  state[u.n + i] = v;
  p[i] = w - u.step_size * m / (sqrt(v) / u.bc2_sqrt + u.eps);
}
