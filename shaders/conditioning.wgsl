// Conditioning elementwise kernels (the linears of t_embed / y_embed / adaLN use linear.wgsl).
//   fourier_embed  emb[b, :] = [cos(1000·c_noise_b·f_i) for i] ++ [sin(1000·c_noise_b·f_i) for i],
//                  f_i = exp(−ln(10000)·i/half), i < half = dim/2; c_noise_b = COEF[offset + b·stride].
//                  f_i comes from the uniforms (computed once on the CPU, rounded to f32, like
//                  PyTorch's f32 table); the argument is rounded as PyTorch does, (1000·c)·f_i,
//                  then cos/sin through cos_sin() below (the argument reaches ~1500 rad).
//   silu           out = x·sigmoid(x)
// v1: one thread per element.

struct FourierParams {
  count: u32,        // images B
  half: u32,         // dim / 2 (≤ 128)
  coef_offset: u32,
  coef_stride: u32,
  freqs: array<vec4f, 32>,
}

struct SiluParams {
  total: u32,
  grid_x: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> F: FourierParams;
@group(0) @binding(0) var<uniform> S: SiluParams;
@group(0) @binding(1) var<storage, read> COEF: array<f32>;
@group(0) @binding(1) var<storage, read> SIN: array<f32>;
@group(0) @binding(2) var<storage, read_write> EMB: array<f32>;
@group(0) @binding(2) var<storage, read_write> SOUT: array<f32>;

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

@compute @workgroup_size(WG)
fn fourier_embed(@builtin(global_invocation_id) gid: vec3u) {
  let idx = gid.x;
  if (idx >= F.count * F.half) { return; }
  let b = idx / F.half;
  let i = idx % F.half;
  let c = COEF[F.coef_offset + b * F.coef_stride];
  let cs = cos_sin((1000.0 * c) * F.freqs[i / 4u][i % 4u]);
  let row = b * 2u * F.half;
  EMB[row + i] = cs.x;
  EMB[row + F.half + i] = cs.y;
}

@compute @workgroup_size(WG)
fn silu(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = thread_index(wid, lid, S.grid_x);
  if (idx >= S.total) { return; }
  let x = SIN[idx];
  SOUT[idx] = x / (1.0 + exp(-x));
}
