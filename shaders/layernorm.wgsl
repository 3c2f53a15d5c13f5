// LayerNorm + adaLN modulate: out[n, :] = LN(x[n, :])·(1 + scale[img]) + shift[img]
// LN without affine parameters, biased variance, eps EPS (model.json's layernorm_eps);
// img = floor(n / rows_per_image);
// shift/scale of image i at MOD[shift_offset + i·mod_stride …] and MOD[scale_offset + i·mod_stride …].
//
// v1: one workgroup per row; two passes over the row (mean, then Σ(x − mean)²: no E[x²] − E[x]²
// cancellation), each a strided per-thread sum and a workgroup tree reduction. Any row length d.

struct Params {
  n: u32,
  d: u32,
  rows_per_image: u32,
  mod_stride: u32,
  shift_offset: u32,
  scale_offset: u32,
  grid_x: u32,
  _pad: u32,
}

override EPS: f32; // added to the variance: architecture.layernorm_eps

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> MOD: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

var<workgroup> red: array<f32, WG>;

fn workgroup_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier(); // everyone has read red[0] before it is reused
  return total;
}

@compute @workgroup_size(WG)
fn layernorm_modulate(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = workgroup_index(wid, P.grid_x); // one workgroup of WG threads (a power of two) per row
  if (row >= P.n) { return; } // uniform per workgroup
  let d = P.d;
  let base = row * d;
  var s = 0.0;
  for (var i = lid; i < d; i += WG) { s += X[base + i]; }
  let mean = workgroup_sum(s, lid) / f32(d);
  var q = 0.0;
  for (var i = lid; i < d; i += WG) {
    let t = X[base + i] - mean;
    q += t * t;
  }
  let rstd = inverseSqrt(workgroup_sum(q, lid) / f32(d) + EPS);
  let mb = (row / P.rows_per_image) * P.mod_stride;
  for (var i = lid; i < d; i += WG) {
    let xhat = (X[base + i] - mean) * rstd;
    OUT[base + i] = xhat * (1.0 + MOD[mb + P.scale_offset + i]) + MOD[mb + P.shift_offset + i];
  }
}
