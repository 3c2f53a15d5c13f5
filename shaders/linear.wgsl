// Linear / matmul family: Y[N,M] = X[N,K]·W[M,K]ᵀ + b[M] (the adaLN linear of every brick; the
// brick's own linears are fused into shaders/brick.wgsl, on shaders/tile.wgsl's tile of v3).
//
// Versions, measured by `npm run bench:kernels` (SwiftShader/Subzero on 2 AMD EPYC cores shared
// with a PyTorch run; GFLOP/s on 4096×192→576 / 4096×768→192; docs/bench-kernels.json):
//   v1 linear_v1_naive   one thread per output, scalar K loop                          0.12 / 0.14  (1×)
//   v2 linear_v2_vec4    4×4 register tile per thread, vec4 loads along K, W as mat4  0.87 / 1.13  (7.6–8.2×)
//   v2 linear_v2_scalar  the same tile with scalar loads, for K % 4 ≠ 0
//   v3 linear_v3_vec4    16×8 register tile, vec4 loads                               1.46 / 1.92  (12.7–13.9×)
// (rerun on a quieter machine, 2026-11-29: v1 0.21 / 0.22, v2 1.63 / 2.09, v3 3.73 / 3.48 GFLOP/s)
// v3 is the one used, and v2 below 16 rows (src/kernels/linear.ts).
// On SwiftShader every storage load is a per-lane, bounds-checked gather (a branch per lane), so
// loads per FMA decide: the tile trades 1/TM + 1/TN loads per FMA against register spills. Tile
// sweep on 4096×192→576: 4×4 1.0, 8×8 1.3, 16×4 1.3, 8×16 1.2–1.7, 16×8 1.7, 16×16 1.6–2.2
// GFLOP/s (256 accumulators: too many for GPUs). Workgroup-memory tiling is slower there
// (barriers are coroutine switches). v3's 128 accumulators still fit a GPU thread's registers.

// Layouts: X row-major [N, K]; W row-major [M, K] (PyTorch Linear); b [M]; Y row-major [N, M].
// Edge tiles: row and column indices are clamped to N−1 / M−1 for loads (so every load is in
// range) and only in-range outputs are stored. The vec4 entry point needs K % 4 == 0.

struct Params {
  n: u32,
  k: u32,
  m: u32,
  _pad: u32,
}

override WG_X: u32 = 8u; // threads per workgroup along M
override WG_Y: u32 = 8u; // threads per workgroup along N

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> X4: array<vec4f>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> W4: array<vec4f>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

fn store(row: u32, col: u32, acc: f32) {
  Y[row * P.m + col] = acc + B[col];
}

fn store_tile(row0: u32, col0: u32, a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f) {
  let rows = array<vec4f, 4>(a0, a1, a2, a3);
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + i;
    if (row >= P.n) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + j;
      if (col >= P.m) { break; }
      store(row, col, rows[i][j]);
    }
  }
}

// v2: 4×4 outputs per thread; W rows form a mat4 so x·w gives 4 dot products at once.
@compute @workgroup_size(WG_X, WG_Y)
fn linear_v2_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * 4u;
  if (col0 >= P.m || row0 >= P.n) { return; }
  let k4 = P.k / 4u;
  let xb0 = min(row0, P.n - 1u) * k4;
  let xb1 = min(row0 + 1u, P.n - 1u) * k4;
  let xb2 = min(row0 + 2u, P.n - 1u) * k4;
  let xb3 = min(row0 + 3u, P.n - 1u) * k4;
  let wb0 = min(col0, P.m - 1u) * k4;
  let wb1 = min(col0 + 1u, P.m - 1u) * k4;
  let wb2 = min(col0 + 2u, P.m - 1u) * k4;
  let wb3 = min(col0 + 3u, P.m - 1u) * k4;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var kk = 0u; kk < k4; kk++) {
    let w = mat4x4f(W4[wb0 + kk], W4[wb1 + kk], W4[wb2 + kk], W4[wb3 + kk]);
    a0 += X4[xb0 + kk] * w;
    a1 += X4[xb1 + kk] * w;
    a2 += X4[xb2 + kk] * w;
    a3 += X4[xb3 + kk] * w;
  }
  store_tile(row0, col0, a0, a1, a2, a3);
}

fn ld4(base: u32, k: u32) -> vec4f {
  return vec4f(X[base + k], X[base + k + 1u], X[base + k + 2u], X[base + k + 3u]);
}
fn lw4(base: u32, k: u32) -> vec4f {
  return vec4f(W[base + k], W[base + k + 1u], W[base + k + 2u], W[base + k + 3u]);
}

// v2 for any K: the same 4×4 tile, scalar loads, then a scalar tail for the last K mod 4.
@compute @workgroup_size(WG_X, WG_Y)
fn linear_v2_scalar(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * 4u;
  if (col0 >= P.m || row0 >= P.n) { return; }
  let K = P.k;
  let xb0 = min(row0, P.n - 1u) * K;
  let xb1 = min(row0 + 1u, P.n - 1u) * K;
  let xb2 = min(row0 + 2u, P.n - 1u) * K;
  let xb3 = min(row0 + 3u, P.n - 1u) * K;
  let wb0 = min(col0, P.m - 1u) * K;
  let wb1 = min(col0 + 1u, P.m - 1u) * K;
  let wb2 = min(col0 + 2u, P.m - 1u) * K;
  let wb3 = min(col0 + 3u, P.m - 1u) * K;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  let kv = K & ~3u;
  for (var k = 0u; k < kv; k += 4u) {
    let w = mat4x4f(lw4(wb0, k), lw4(wb1, k), lw4(wb2, k), lw4(wb3, k));
    a0 += ld4(xb0, k) * w;
    a1 += ld4(xb1, k) * w;
    a2 += ld4(xb2, k) * w;
    a3 += ld4(xb3, k) * w;
  }
  for (var k = kv; k < K; k++) {
    let w = vec4f(W[wb0 + k], W[wb1 + k], W[wb2 + k], W[wb3 + k]);
    a0 += X[xb0 + k] * w;
    a1 += X[xb1 + k] * w;
    a2 += X[xb2 + k] * w;
    a3 += X[xb3 + k] * w;
  }
  store_tile(row0, col0, a0, a1, a2, a3);
}

// v3: 16 rows × 8 columns per thread (hand-unrolled: SwiftShader keeps let-values in registers but
// sends private arrays with loop indices to memory), vec4 loads along K; needs K % 4 == 0.
@compute @workgroup_size(WG_X, WG_Y)
fn linear_v3_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 8u;
  let row0 = gid.y * 16u;
  if (col0 >= P.m || row0 >= P.n) { return; }
  let k4 = P.k / 4u;
  let rl = P.n - 1u;
  let cl = P.m - 1u;
  let xb0 = min(row0 + 0u, rl) * k4;
  let xb1 = min(row0 + 1u, rl) * k4;
  let xb2 = min(row0 + 2u, rl) * k4;
  let xb3 = min(row0 + 3u, rl) * k4;
  let xb4 = min(row0 + 4u, rl) * k4;
  let xb5 = min(row0 + 5u, rl) * k4;
  let xb6 = min(row0 + 6u, rl) * k4;
  let xb7 = min(row0 + 7u, rl) * k4;
  let xb8 = min(row0 + 8u, rl) * k4;
  let xb9 = min(row0 + 9u, rl) * k4;
  let xb10 = min(row0 + 10u, rl) * k4;
  let xb11 = min(row0 + 11u, rl) * k4;
  let xb12 = min(row0 + 12u, rl) * k4;
  let xb13 = min(row0 + 13u, rl) * k4;
  let xb14 = min(row0 + 14u, rl) * k4;
  let xb15 = min(row0 + 15u, rl) * k4;
  let wb0 = min(col0 + 0u, cl) * k4;
  let wb1 = min(col0 + 1u, cl) * k4;
  let wb2 = min(col0 + 2u, cl) * k4;
  let wb3 = min(col0 + 3u, cl) * k4;
  let wb4 = min(col0 + 4u, cl) * k4;
  let wb5 = min(col0 + 5u, cl) * k4;
  let wb6 = min(col0 + 6u, cl) * k4;
  let wb7 = min(col0 + 7u, cl) * k4;
  var lo0 = vec4f(0.0);
  var hi0 = vec4f(0.0);
  var lo1 = vec4f(0.0);
  var hi1 = vec4f(0.0);
  var lo2 = vec4f(0.0);
  var hi2 = vec4f(0.0);
  var lo3 = vec4f(0.0);
  var hi3 = vec4f(0.0);
  var lo4 = vec4f(0.0);
  var hi4 = vec4f(0.0);
  var lo5 = vec4f(0.0);
  var hi5 = vec4f(0.0);
  var lo6 = vec4f(0.0);
  var hi6 = vec4f(0.0);
  var lo7 = vec4f(0.0);
  var hi7 = vec4f(0.0);
  var lo8 = vec4f(0.0);
  var hi8 = vec4f(0.0);
  var lo9 = vec4f(0.0);
  var hi9 = vec4f(0.0);
  var lo10 = vec4f(0.0);
  var hi10 = vec4f(0.0);
  var lo11 = vec4f(0.0);
  var hi11 = vec4f(0.0);
  var lo12 = vec4f(0.0);
  var hi12 = vec4f(0.0);
  var lo13 = vec4f(0.0);
  var hi13 = vec4f(0.0);
  var lo14 = vec4f(0.0);
  var hi14 = vec4f(0.0);
  var lo15 = vec4f(0.0);
  var hi15 = vec4f(0.0);
  for (var kk = 0u; kk < k4; kk++) {
    let wl = mat4x4f(W4[wb0 + kk], W4[wb1 + kk], W4[wb2 + kk], W4[wb3 + kk]);
    let wh = mat4x4f(W4[wb4 + kk], W4[wb5 + kk], W4[wb6 + kk], W4[wb7 + kk]);
    let x0 = X4[xb0 + kk];
    lo0 += x0 * wl;
    hi0 += x0 * wh;
    let x1 = X4[xb1 + kk];
    lo1 += x1 * wl;
    hi1 += x1 * wh;
    let x2 = X4[xb2 + kk];
    lo2 += x2 * wl;
    hi2 += x2 * wh;
    let x3 = X4[xb3 + kk];
    lo3 += x3 * wl;
    hi3 += x3 * wh;
    let x4 = X4[xb4 + kk];
    lo4 += x4 * wl;
    hi4 += x4 * wh;
    let x5 = X4[xb5 + kk];
    lo5 += x5 * wl;
    hi5 += x5 * wh;
    let x6 = X4[xb6 + kk];
    lo6 += x6 * wl;
    hi6 += x6 * wh;
    let x7 = X4[xb7 + kk];
    lo7 += x7 * wl;
    hi7 += x7 * wh;
    let x8 = X4[xb8 + kk];
    lo8 += x8 * wl;
    hi8 += x8 * wh;
    let x9 = X4[xb9 + kk];
    lo9 += x9 * wl;
    hi9 += x9 * wh;
    let x10 = X4[xb10 + kk];
    lo10 += x10 * wl;
    hi10 += x10 * wh;
    let x11 = X4[xb11 + kk];
    lo11 += x11 * wl;
    hi11 += x11 * wh;
    let x12 = X4[xb12 + kk];
    lo12 += x12 * wl;
    hi12 += x12 * wh;
    let x13 = X4[xb13 + kk];
    lo13 += x13 * wl;
    hi13 += x13 * wh;
    let x14 = X4[xb14 + kk];
    lo14 += x14 * wl;
    hi14 += x14 * wh;
    let x15 = X4[xb15 + kk];
    lo15 += x15 * wl;
    hi15 += x15 * wh;
  }
  store_row8(row0 + 0u, col0, lo0, hi0);
  store_row8(row0 + 1u, col0, lo1, hi1);
  store_row8(row0 + 2u, col0, lo2, hi2);
  store_row8(row0 + 3u, col0, lo3, hi3);
  store_row8(row0 + 4u, col0, lo4, hi4);
  store_row8(row0 + 5u, col0, lo5, hi5);
  store_row8(row0 + 6u, col0, lo6, hi6);
  store_row8(row0 + 7u, col0, lo7, hi7);
  store_row8(row0 + 8u, col0, lo8, hi8);
  store_row8(row0 + 9u, col0, lo9, hi9);
  store_row8(row0 + 10u, col0, lo10, hi10);
  store_row8(row0 + 11u, col0, lo11, hi11);
  store_row8(row0 + 12u, col0, lo12, hi12);
  store_row8(row0 + 13u, col0, lo13, hi13);
  store_row8(row0 + 14u, col0, lo14, hi14);
  store_row8(row0 + 15u, col0, lo15, hi15);
}

fn store_row8(row: u32, col0: u32, lo: vec4f, hi: vec4f) {
  if (row >= P.n) { return; }
  let v = array<vec4f, 2>(lo, hi);
  for (var j = 0u; j < 8u; j++) {
    let col = col0 + j;
    if (col >= P.m) { break; }
    store(row, col, v[j / 4u][j % 4u]);
  }
}

// v1: one thread per output; the benchmark's baseline.
@compute @workgroup_size(WG_X, WG_Y)
fn linear_v1_naive(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x;
  let row = gid.y;
  if (col >= P.m || row >= P.n) { return; }
  var acc = 0.0;
  for (var k = 0u; k < P.k; k++) {
    acc += X[row * P.k + k] * W[col * P.k + k];
  }
  store(row, col, acc);
}
