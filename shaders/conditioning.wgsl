// Conditioning: c = Linear(d,d)(SiLU(Linear(dim,d)(fourier(c_noise)))) + Linear(L,d)(labels), and
// SiLU(c), which every adaLN linear reads (they run as one linear afterwards, src/engine/plan.ts).
//   fourier(c) = [cos(1000·c·f_i) for i] ++ [sin(1000·c·f_i) for i], f_i = exp(−ln(10000)·i/half),
//   i < half = dim/2. f_i comes from the uniforms (computed once on the CPU, rounded to f32, like
//   PyTorch's f32 table); the argument is rounded as PyTorch does, (1000·c)·f_i, then cos/sin
//   through cos_sin() below (the argument reaches ~1500 rad).
// v1 (fourier_embed, silu, and three linears through linear.wgsl): 6 dispatches.
// v2 cond_embed: one workgroup per network image does the whole chain: 1 dispatch. The image's
//   Fourier features and hidden vector go through its row of a scratch buffer ([emb | t], behind a
//   storageBarrier); its weights come from one pack (offsets in floats, multiples of 4). Each output
//   is a thread's dot product of length dim, d or L: a few hundred thousand multiply-adds per image.

struct Params {
  half: u32,         // dim / 2 (≤ 128)
  d: u32,
  label_dim: u32,    // L
  coef_offset: u32,  // c_noise of image b at COEF[coef_offset + b·coef_stride]
  coef_stride: u32,
  w_t0: u32,         // pack offsets: t_embed.0 [d, dim] and bias, t_embed.2 [d, d] and bias,
  b_t0: u32,         // y_embed [d, L] and bias
  w_t2: u32,
  b_t2: u32,
  w_y: u32,
  b_y: u32,
  _pad: u32,
  freqs: array<vec4f, 32>,
}

@group(0) @binding(0) var<uniform> C: Params;
@group(0) @binding(1) var<storage, read> COEF: array<f32>;
@group(0) @binding(2) var<storage, read> LABELS: array<f32>;  // [images, L]
@group(0) @binding(3) var<storage, read> WP: array<vec4f>;    // weight pack
@group(0) @binding(4) var<storage, read_write> SCR: array<f32>; // per image [emb (dim) | t (d)]
@group(0) @binding(5) var<storage, read_write> OUT: array<f32>; // SiLU(c) [images, d]

// (cos a, sin a) to ~1e-7 for |a| up to a few thousand. WGSL's cos/sin only promise 2⁻¹¹ absolute
// on [−π, π] (SwiftShader's are off by ~2e-4), too coarse for arguments of ~1500 rad: reduce by
// quadrants (π/2 split in three parts; q·PIO2_1 is exact for |q| < 2¹⁵) and use the Cephes
// single-precision polynomials on [−π/4, π/4].
fn cos_sin(a: f32) -> vec2f {
  let q = round(a * 0.6366197723675814);
  let r = ((a - q * 1.5703125) - q * 4.837512969970703125e-4) - q * 7.549789954891882e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  switch (i32(q) & 3) {
    case 0: { return vec2f(c, s); }
    case 1: { return vec2f(-s, c); }
    case 2: { return vec2f(-c, -s); }
    default: { return vec2f(s, -c); }
  }
}

fn silu(x: f32) -> f32 {
  return x / (1.0 + exp(-x));
}

fn wp1(i: u32) -> f32 {
  return WP[i / 4u][i % 4u];
}

// Σ_k W[j, k]·SCR[s + k] over K = 4·k4 (W [·, K] at pack float `w`, a multiple of 4).
fn dot_scratch(w: u32, j: u32, k4: u32, s: u32) -> f32 {
  let wb = w / 4u + j * k4;
  var acc = vec4f(0.0);
  for (var k = 0u; k < k4; k++) {
    let o = s + 4u * k;
    acc += WP[wb + k] * vec4f(SCR[o], SCR[o + 1u], SCR[o + 2u], SCR[o + 3u]);
  }
  return dot(acc, vec4f(1.0));
}

@compute @workgroup_size(WG)
fn cond_embed(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x; // network image
  let dim = 2u * C.half;
  let emb = b * (dim + C.d);
  let t = emb + dim;
  let c1000 = 1000.0 * COEF[C.coef_offset + b * C.coef_stride];
  for (var i = lid; i < C.half; i += WG) {
    let cs = cos_sin(c1000 * C.freqs[i / 4u][i % 4u]);
    SCR[emb + i] = cs.x;
    SCR[emb + C.half + i] = cs.y;
  }
  storageBarrier();
  for (var j = lid; j < C.d; j += WG) {
    SCR[t + j] = silu(dot_scratch(C.w_t0, j, dim / 4u, emb) + wp1(C.b_t0 + j));
  }
  storageBarrier();
  let L = C.label_dim;
  for (var j = lid; j < C.d; j += WG) {
    var y = 0.0;
    for (var l = 0u; l < L; l++) { y += wp1(C.w_y + j * L + l) * LABELS[b * L + l]; }
    let c = dot_scratch(C.w_t2, j, C.d / 4u, t) + wp1(C.b_t2 + j) + y + wp1(C.b_y + j);
    OUT[b * C.d + j] = silu(c);
  }
}
