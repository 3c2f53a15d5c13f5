// Patch family: the canvas ↔ token-row mapping of a brick (docs/model-spec.md, "Brick input,
// regions, patches").
//   patch_gather  builds brick-input patch vectors P[Ntok, Cin·p²] straight from the canvases:
//                 channels [F_prev (3, optional) | c_in·x (3) | row | col]
//   patch_fold    writes the final linear's outputs Y[Ntok, 3·p²] back to canvas F[B, 3, H, W]
//
// Token n = ((b·Ry + ry)·Rx + rx)·T + ty·g + tx with g = r/p, T = g², Ry = H/r, Rx = W/r.
// Patch element index c·p² + py·p + px is grid pixel (y, x) = (ry·r + ty·p + py, rx·r + tx·p + px),
// which reads source pixel ((y + sy) mod H, (x + sx) mod W); coordinates are the source pixel's.
// v1: one thread per output element, WG per workgroup, 2-D grid of workgroups for large outputs.

struct Params {
  h: u32,
  w: u32,
  region: u32,
  psize: u32,
  sy: u32,          // shift, 0 ≤ sy < H
  sx: u32,          // shift, 0 ≤ sx < W
  prev_mode: u32,   // gather: 0 no F_prev channels (Cin 5), 1 read F_prev, 2 F_prev channels zero
  x_images: u32,    // gather: output image b reads x image (b mod x_images)
  cin_offset: u32,  // gather: c_in of image b is COEF[cin_offset + (b mod x_images)·cin_stride]
  cin_stride: u32,
  grid_x: u32,      // workgroups along x
  total: u32,       // output elements
}

@group(0) @binding(0) var<uniform> P: Params;

// gather bindings
@group(0) @binding(1) var<storage, read> FPREV: array<f32>;
@group(0) @binding(2) var<storage, read> XIN: array<f32>;
@group(0) @binding(3) var<storage, read> COEF: array<f32>;
@group(0) @binding(4) var<storage, read_write> PATCHES: array<f32>;

// fold bindings
@group(0) @binding(1) var<storage, read> YTOK: array<f32>;
@group(0) @binding(2) var<storage, read_write> FOUT: array<f32>;

@compute @workgroup_size(WG)
fn patch_gather(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = thread_index(wid, lid, P.grid_x);
  if (idx >= P.total) { return; }
  let p = P.psize;
  let pp = p * p;
  let has_prev = P.prev_mode != 0u;
  let cin_count = select(5u, 8u, has_prev);
  let vlen = cin_count * pp;
  let n = idx / vlen;
  let v = idx % vlen;
  // patch element → channel, pixel within the patch
  let c = v / pp;
  let py = (v % pp) / p;
  let px = v % p;
  // token → image, region, token position
  let g = P.region / p;
  let t = n % (g * g);
  let rr = n / (g * g);
  let rx_count = P.w / P.region;
  let ry_count = P.h / P.region;
  let rx = rr % rx_count;
  let ry = (rr / rx_count) % ry_count;
  let b = rr / (rx_count * ry_count);
  let y = ry * P.region + (t / g) * p + py;
  let x = rx * P.region + (t % g) * p + px;
  let ys = (y + P.sy) % P.h;
  let xs = (x + P.sx) % P.w;
  let hw = P.h * P.w;
  let pix = ys * P.w + xs;
  // channel in the [F_prev | c_in·x | row | col] order; without F_prev it starts at c_in·x
  let ch = select(c + 3u, c, has_prev);
  let bx = b % P.x_images;
  var val = 0.0;
  if (ch < 3u) {
    if (P.prev_mode == 1u) { val = FPREV[(b * 3u + ch) * hw + pix]; }
  } else if (ch < 6u) {
    val = COEF[P.cin_offset + bx * P.cin_stride] * XIN[(bx * 3u + ch - 3u) * hw + pix];
  } else if (ch == 6u) {
    val = f32(2u * ys + 1u) / f32(P.h) - 1.0;
  } else {
    val = f32(2u * xs + 1u) / f32(P.w) - 1.0;
  }
  PATCHES[idx] = val;
}

@compute @workgroup_size(WG)
fn patch_fold(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = thread_index(wid, lid, P.grid_x);
  if (idx >= P.total) { return; }
  let hw = P.h * P.w;
  let bc = idx / hw;          // b·3 + c
  let c = bc % 3u;
  let b = bc / 3u;
  let ys = (idx % hw) / P.w;  // source pixel
  let xs = idx % P.w;
  let y = (ys + P.h - P.sy) % P.h; // grid position that reads it
  let x = (xs + P.w - P.sx) % P.w;
  let p = P.psize;
  let g = P.region / p;
  let ry = y / P.region;
  let rx = x / P.region;
  let ty = (y % P.region) / p;
  let tx = (x % P.region) / p;
  let n = ((b * (P.h / P.region) + ry) * (P.w / P.region) + rx) * (g * g) + ty * g + tx;
  FOUT[idx] = YTOK[n * 3u * p * p + (c * p + y % p) * p + x % p];
}
