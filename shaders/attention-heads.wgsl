// Multi-head layout changes, one invocation per output element (flat addressing, no shape arrays).
// Entry `split`: x [B, T, G, H, D] → out [G, B, H, T, D] (a linear layer's [q | k | v] columns into
// per-head row blocks); entry `merge`: its inverse, [G, B, H, T, D] → [B, T, G, H, D].
// Entries `split_rows` / `merge_rows` (CPU emulators): one invocation per run of D elements, so the
// index divisions, scalar on an emulator, happen once per D elements, not per element.
// Dispatch: ceil(n / WG) workgroups (ceil(n / D / WG) for the _rows entries) over x then y.

struct Params {
  n: u32,
  b: u32,
  t: u32,
  g: u32,
  h: u32,
  d: u32,
  off: u32,  // element offset of x in its buffer
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 256u;

// Offsets of element (g, b, h, t, e) in the two layouts.
fn heads_major(g: u32, b: u32, h: u32, t: u32, e: u32) -> u32 {
  return (((g * p.b + b) * p.h + h) * p.t + t) * p.d + e;
}
fn tokens_major(g: u32, b: u32, h: u32, t: u32, e: u32) -> u32 {
  return (((b * p.t + t) * p.g + g) * p.h + h) * p.d + e;
}

@compute @workgroup_size(WG)
fn split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  // i = (((g·B + b)·H + h)·T + t)·D + e
  let e = i % p.d;
  let t = (i / p.d) % p.t;
  let h = (i / (p.d * p.t)) % p.h;
  let gb = i / (p.d * p.t * p.h);
  out[i] = x[p.off + tokens_major(gb / p.b, gb % p.b, h, t, e)];
}

@compute @workgroup_size(WG)
fn merge(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  // i = (((b·T + t)·G + g)·H + h)·D + e
  let e = i % p.d;
  let h = (i / p.d) % p.h;
  let g = (i / (p.d * p.h)) % p.g;
  let bt = i / (p.d * p.h * p.g);
  out[i] = x[p.off + heads_major(g, bt / p.t, h, bt % p.t, e)];
}

@compute @workgroup_size(WG)
fn split_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;  // r = ((g·B + b)·H + h)·T + t
  if (r * p.d >= p.n) { return; }
  let t = r % p.t;
  let h = (r / p.t) % p.h;
  let gb = r / (p.t * p.h);
  let src = p.off + tokens_major(gb / p.b, gb % p.b, h, t, 0u);
  for (var e = 0u; e < p.d; e++) { out[r * p.d + e] = x[src + e]; }
}

@compute @workgroup_size(WG)
fn merge_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;  // r = ((b·T + t)·G + g)·H + h
  if (r * p.d >= p.n) { return; }
  let h = r % p.h;
  let g = (r / p.h) % p.g;
  let bt = r / (p.h * p.g);
  let src = p.off + heads_major(g, bt / p.t, h, bt % p.t, 0u);
  for (var e = 0u; e < p.d; e++) { out[r * p.d + e] = x[src + e]; }
}
