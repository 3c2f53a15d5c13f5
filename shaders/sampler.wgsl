// The EDM sampler's work after a network evaluation, in one dispatch, on canvases flattened to
// [images, per_image] (per_image = 3·H·W). Per element:
//   F    = F_u + w·(F_c − F_u) when guided (network batch [cond B | uncond B]), else F
//   D    = c_skip·x_in + c_out·F          (c_skip, c_out of image b from COEF; x_in = X, or XNEXT to correct)
//   kind 0 denoise       only D (LegoEngine.evaluate)
//   kind 1 euler         X ← X + h·(X − D)/t
//   kind 2 heun predict  DERIV = (X − D)/t;  XNEXT = X + h·DERIV           (X unchanged)
//   kind 3 heun correct  X ← X + h·½·(DERIV + (XNEXT − D)/t_next)
// and with a mask (repaint), the new state is blended back onto the start image's noised trajectory:
//   s ← m·s + (1 − m)·(y + t_next·ε)     (m = MASK[pixel], y = the start image, ε = NOISE)
// D goes to DOUT for the live preview (with a mask: m·D + (1 − m)·y, what the result will keep).
// v1: denoise and each update as separate kernels (3 dispatches per Heun stage).
// v2: one kernel, the step's kind and scalars in the uniforms (rewritten before each evaluation): 1 dispatch.

struct StepParams {
  total: u32,        // B · per_image
  per_image: u32,
  pixels: u32,       // H·W: mask index = element index mod pixels
  guided: u32,       // 1: NET has 2B images [cond | uncond]
  kind: u32,         // 0 denoise, 1 euler, 2 heun predict, 3 heun correct
  masked: u32,       // 1: repaint blend with KNOWN and NOISE
  coef_stride: u32,
  skip_offset: u32,  // c_skip of image b at COEF[skip_offset + b·coef_stride]
  out_offset: u32,   // c_out  of image b at COEF[out_offset + b·coef_stride]
  grid_x: u32,
  guidance: f32,     // w
  t: f32,
  t_next: f32,
  h: f32,            // t_next − t, computed in f64 on the CPU
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> P: StepParams;
@group(0) @binding(1) var<storage, read> NET: array<f32>;         // F [B or 2B, per_image]
@group(0) @binding(2) var<storage, read> COEF: array<f32>;
@group(0) @binding(3) var<storage, read_write> DOUT: array<f32>;  // D [B, per_image]
@group(0) @binding(4) var<storage, read_write> X: array<f32>;     // sampler state x_i
@group(0) @binding(5) var<storage, read_write> XNEXT: array<f32>; // Heun's prediction of x_{i+1}
@group(0) @binding(6) var<storage, read_write> DERIV: array<f32>; // Heun's first slope
@group(0) @binding(7) var<storage, read> NOISE: array<f32>;       // ε [B, per_image]
@group(0) @binding(8) var<storage, read> KNOWN: array<f32>;       // [y (per_image) | mask (pixels)]

const DENOISE = 0u;
const EULER = 1u;
const PREDICT = 2u;
const CORRECT = 3u;

// Repaint: a new state s at t_next, blended back onto the start image's noised trajectory.
fn keep(s: f32, i: u32, j: u32) -> f32 {
  if (P.masked == 0u) { return s; }
  let m = KNOWN[P.per_image + j % P.pixels];
  return m * s + (1.0 - m) * (KNOWN[j] + P.t_next * NOISE[i]);
}

@compute @workgroup_size(WG)
fn edm_step(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, lid, P.grid_x);
  if (i >= P.total) { return; }
  let b = i / P.per_image;
  let j = i - b * P.per_image;
  var f = NET[i];
  if (P.guided == 1u) {
    let fu = NET[P.total + i];
    f = fu + P.guidance * (f - fu);
  }
  var x_in: f32;
  if (P.kind == CORRECT) { x_in = XNEXT[i]; } else { x_in = X[i]; }
  let cb = b * P.coef_stride;
  let d = COEF[P.skip_offset + cb] * x_in + COEF[P.out_offset + cb] * f;
  if (P.masked == 1u) {
    let m = KNOWN[P.per_image + j % P.pixels];
    DOUT[i] = m * d + (1.0 - m) * KNOWN[j];
  } else {
    DOUT[i] = d;
  }
  if (P.kind == EULER) {
    let x = X[i];
    X[i] = keep(x + P.h * ((x - d) / P.t), i, j);
  } else if (P.kind == PREDICT) {
    let x = X[i];
    let slope = (x - d) / P.t;
    DERIV[i] = slope;
    XNEXT[i] = keep(x + P.h * slope, i, j);
  } else if (P.kind == CORRECT) {
    X[i] = keep(X[i] + P.h * 0.5 * (DERIV[i] + (x_in - d) / P.t_next), i, j);
  }
}
