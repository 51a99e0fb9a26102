// OP 6: crossEntropy's mean over the rows whose target is not `ignore`, in one launch of one
// workgroup (appended to softmax.wgsl, whose helpers it calls; ops/softmax.ts takes it for small
// inputs, below MEAN_LIMIT elements). Invocation lid folds rows lid, lid + WG, ...: out[0] is the
// mean loss Σ loss / kept (NaN when every row is ignored, as PyTorch's 0/0) and out2[0] = 1 / kept,
// which the gradient scales by. With GRAD = 1 it also writes dx, the loss's gradient for a unit
// upstream gradient, (softmax(x) - onehot(t)) / kept (0 on ignored rows), the value op 5 computes
// backward from x, t and the scale: backward() then reads it instead of launching op 5.
@group(0) @binding(5) var<storage, read_write> out2: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

override GRAD: u32 = 0u;

@compute @workgroup_size(WG)
fn mean(@builtin(local_invocation_index) lid: u32) {
  var kept = 0.0;
  for (var r = lid; r < p.rows; r += WG) { kept += select(1.0, 0.0, t[r] == p.ignore); }
  kept = wg_reduce(kept, lid, false);
  let inv = 1.0 / kept;
  var total = 0.0;
  for (var r = lid; r < p.rows; r += WG) {
    let base = r * p.cols;
    let m = strided_max(base, 0u, 1u);
    var s = 0.0;
    for (var c = 0u; c < p.cols; c++) { s += exp(x[base + c] - m); }
    total += row_loss(r, m, s);
    if (GRAD == 1u) {
      let k = class_of(r);
      for (var c = 0u; c < p.cols; c++) {
        var d = 0.0;
        if (!is_finite(m)) { d = nan_f32(); }
        else { d = (exp(x[base + c] - m) / s - select(0.0, 1.0, c == k)) * inv; }
        dx[base + c] = select(d, 0.0, k == NO_CLASS);
      }
    }
  }
  total = wg_reduce(total, lid, false);
  if (lid == 0u) {
    out[0] = total / kept;
    out2[0] = inv;
  }
}
