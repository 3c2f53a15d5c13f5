// Fused brick kernels: one brick of depth N in 2 + 3·N dispatches, 2 + 2·N for regions of at most
// 16 tokens (docs/model-spec.md for the math).
//   brick_embed  gather the patches → SA; Linear(Cin·p², d) + GELU → SB; Linear(d, d) + b + pos → TOK
//   brick_qkv    LN(TOK)·(1 + scale1) + shift1 → SA; qkv linear → SB [Ntok, 3d]
//   brick_attn   region attention over SB → SA [Ntok, d]; proj linear → TOK += gate1 ⊙ …
//   brick_qkv_attn  both, for regions of T | 16 rows (each region inside one tile)
//   brick_mlp    LN(TOK)·(1 + scale2) + shift2 → SA; Linear(d, 4d) + GELU → SB; Linear(4d, d) →
//                TOK += gate2 ⊙ …
//   brick_final  LN(TOK)·(1 + scale) + shift → SA; Linear(d, 3p²) folded straight into the canvas F_k,
//                or into SB [Ntok, 3p²] where regions overlap (a canvas side not a multiple of r)
//   brick_fold   where regions overlap: F_k = the mean of the SB patch values that cover each pixel
// Each workgroup owns a tile of up to 16 consecutive token rows of ONE network image (an image's
// rows split into ceil(rows_per_image / 16) tiles; tiles never straddle images, so adaLN's
// shift/scale/gate are the same for every row of a tile). The stages of a dispatch pass their
// results through the scratch buffers SA/SB, in the rows the workgroup owns, behind a
// storageBarrier; only attention reads other tiles' rows (K and V of its region, in SB), which
// brick_qkv wrote in the dispatch before. LayerNorm runs on 16 threads, a row each (two passes
// for the statistics, no E[x²] − E[x]² cancellation, one to write the modulated row), then the
// linears read the normalised rows from SA like any other input.
// Matmuls use the 16×8 register tile of shaders/tile.wgsl: a thread owns 8 output columns of the
// tile's rows; the workgroup's WG threads loop over the column tiles. All activations and weights
// are vec4 arrays: d, 3d, 4d and the weight offsets (a pack puts each tensor at a multiple of 64
// floats, src/engine/weights.ts) are multiples of 4.
//
// v1 (this file): per block, layernorm + qkv + attention + proj + layernorm + mlp.0 + mlp.2 of the
// unfused kernels (7 dispatches) become 3, or 2 for small regions; per brick, gather + 2 linears
// (embed) and layernorm + linear + fold (final) become 1 each. lego-s at 32×32: 109 → 36 dispatches
// per evaluation, 0.7× the SwiftShader time (docs/bench-quick.md). SwiftShader time per dispatch:
// bench/kernels.ts (docs/bench-kernels.json, engineOps).

struct Params {
  n: u32,               // token rows Ntok
  d: u32,
  rows_per_image: u32,  // token rows of one network image
  tiles_per_image: u32, // ceil(rows_per_image / 16)
  total_tiles: u32,
  grid_x: u32,
  mod_stride: u32,      // floats between images in MOD
  shift_offset: u32,    // floats from an image's MOD row to this op's shift, scale and gate vectors
  scale_offset: u32,
  gate_offset: u32,
  heads: u32,
  seq_len: u32,         // T: tokens per region
  scale: f32,           // 1 / √dh
  m_a: u32,             // output columns of the first linear (qkv 3d, mlp 4d, final 3p², embed d)
  k_in: u32,            // embed: Cin·p²
  w_a: u32,             // float offsets in WP: first linear's weight [m_a, K] and bias …
  b_a: u32,
  w_b: u32,             // … second linear's weight [d, K] and bias (proj, mlp.2, patch.2)
  b_b: u32,
  pos: u32,             // embed: positional table [T, d]
  h: u32,               // canvas (embed, final)
  w: u32,
  region: u32,
  psize: u32,
  sy: u32,              // region-grid shift, 0 ≤ sy < h
  sx: u32,
  prev_mode: u32,       // embed: 0 no F_prev channels (Cin 5), 1 read F_prev from CANVAS, 2 F_prev zero
  x_images: u32,        // embed: network image b reads x image b mod x_images
  cin_offset: u32,      // embed: c_in of x image i at COEF[cin_offset + i·cin_stride]
  cin_stride: u32,
  overlap: u32,         // final: 1 writes SB for brick_fold (regions overlap); fold: 3·B·H·W outputs
  _pad1: u32,
}

override EPS: f32; // LayerNorm eps (architecture.layernorm_eps)
override DH: u32 = 32u; // head dim: a multiple of 4, ≤ 64

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> TOK: array<vec4f>;   // [Ntok, d] residual stream
@group(0) @binding(2) var<storage, read> MOD: array<vec4f>;         // adaLN outputs [images, mod_stride]
@group(0) @binding(3) var<storage, read> WP: array<vec4f>;          // this op's weight pack
@group(0) @binding(4) var<storage, read_write> SA: array<vec4f>;    // normalised rows, attention [Ntok, d]; patches
@group(0) @binding(5) var<storage, read_write> SB: array<vec4f>;    // qkv [Ntok, 3d]; MLP and embed hidden
@group(0) @binding(6) var<storage, read> XIN: array<f32>;          // x [x_images, 3, H, W]
@group(0) @binding(7) var<storage, read_write> CANVAS: array<f32>; // embed: F_prev; final: F_k [B, 3, H, W]
@group(0) @binding(8) var<storage, read> COEF: array<f32>;         // EDM coefficients (c_in)

struct Tile { first: u32, last: u32, img: u32 }

fn tile_of(t: u32) -> Tile {
  let img = t / P.tiles_per_image;
  let first = img * P.rows_per_image + (t % P.tiles_per_image) * 16u;
  return Tile(first, min(first + 15u, (img + 1u) * P.rows_per_image - 1u), img);
}

// vec4 index of image img's modulation vector at float `offset` of its MOD row.
fn mod_at(img: u32, offset: u32) -> u32 {
  return (img * P.mod_stride + offset) / 4u;
}

fn gelu_tanh(x: vec4f) -> vec4f {
  // tanh saturates to ±1 in f32 beyond |u| ≈ 9; the clamp keeps exp-based tanh's from overflowing.
  let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), vec4f(-15.0), vec4f(15.0));
  return 0.5 * x * (1.0 + tanh(u));
}

fn wmat(a: u32, b: u32, c: u32, d: u32, kk: u32) -> mat4x4f {
  return mat4x4f(WP[a + kk], WP[b + kk], WP[c + kk], WP[d + kk]);
}

fn sa16(r: Rows16, kk: u32) -> X16 {
  return X16(SA[r.r0 + kk], SA[r.r1 + kk], SA[r.r2 + kk], SA[r.r3 + kk], SA[r.r4 + kk], SA[r.r5 + kk],
    SA[r.r6 + kk], SA[r.r7 + kk], SA[r.r8 + kk], SA[r.r9 + kk], SA[r.r10 + kk], SA[r.r11 + kk],
    SA[r.r12 + kk], SA[r.r13 + kk], SA[r.r14 + kk], SA[r.r15 + kk]);
}

fn sb16(r: Rows16, kk: u32) -> X16 {
  return X16(SB[r.r0 + kk], SB[r.r1 + kk], SB[r.r2 + kk], SB[r.r3 + kk], SB[r.r4 + kk], SB[r.r5 + kk],
    SB[r.r6 + kk], SB[r.r7 + kk], SB[r.r8 + kk], SB[r.r9 + kk], SB[r.r10 + kk], SB[r.r11 + kk],
    SB[r.r12 + kk], SB[r.r13 + kk], SB[r.r14 + kk], SB[r.r15 + kk]);
}

// ---- LayerNorm + modulate, then linears on the scratch rows -------------------------------------

// Threads 0–15: row i of the tile → LN(x)·(1 + scale) + shift of its image, into the same row of SA
// (two passes for the statistics: no E[x²] − E[x]² cancellation; then one pass to write).
fn ln_to_sa(t: Tile, lid: u32) {
  let row = t.first + lid;
  if (row <= t.last) {
    let d4 = P.d / 4u;
    let base = row * d4;
    var s = vec4f(0.0);
    for (var i = 0u; i < d4; i++) { s += TOK[base + i]; }
    let mean = dot(s, vec4f(1.0)) / f32(P.d);
    var q = vec4f(0.0);
    for (var i = 0u; i < d4; i++) {
      let c = TOK[base + i] - mean;
      q += c * c;
    }
    let rstd = inverseSqrt(dot(q, vec4f(1.0)) / f32(P.d) + EPS);
    let sh = mod_at(t.img, P.shift_offset);
    let sc = mod_at(t.img, P.scale_offset);
    for (var i = 0u; i < d4; i++) {
      SA[base + i] = (TOK[base + i] - mean) * rstd * (1.0 + MOD[sc + i]) + MOD[sh + i];
    }
  }
  storageBarrier();
}

// Columns col0 … col0+7 of SA·Wᵀ for the tile's rows (SA rows of k4 vec4s, W [m, 4·k4] at vec4 w4).
fn sa_tile(t: Tile, col0: u32, m: u32, k4: u32, w4: u32) -> Acc {
  let r = rows16(t.first, t.last, k4);
  let c = cols8(w4, col0, m - 1u, k4);
  var a = Acc();
  for (var kk = 0u; kk < k4; kk++) {
    a = fma16x8(a, sa16(r, kk), wmat(c.c0, c.c1, c.c2, c.c3, kk), wmat(c.c4, c.c5, c.c6, c.c7, kk));
  }
  return a;
}

// The same from SB.
fn sb_tile(t: Tile, col0: u32, m: u32, k4: u32, w4: u32) -> Acc {
  let r = rows16(t.first, t.last, k4);
  let c = cols8(w4, col0, m - 1u, k4);
  var a = Acc();
  for (var kk = 0u; kk < k4; kk++) {
    a = fma16x8(a, sb16(r, kk), wmat(c.c0, c.c1, c.c2, c.c3, kk), wmat(c.c4, c.c5, c.c6, c.c7, kk));
  }
  return a;
}

// TOK[row, col0 …] += gate ⊙ (a + bias) for the tile's rows: the adaLN-Zero gated residual.
fn gated_residual(t: Tile, a: Acc, col0: u32, b4: u32) {
  let d4 = P.d / 4u;
  let c4 = col0 / 4u;
  let g4 = mod_at(t.img, P.gate_offset) + c4;
  let wide = col0 + 4u < P.d;
  for (var i = 0u; i <= t.last - t.first; i++) {
    let v = acc_row(a, i);
    let o = (t.first + i) * d4 + c4;
    TOK[o] += MOD[g4] * (v[0] + WP[b4 + c4]);
    if (wide) { TOK[o + 1u] += MOD[g4 + 1u] * (v[1] + WP[b4 + c4 + 1u]); }
  }
}

// ---- attention ---------------------------------------------------------------------------------

// Head vectors of 4 queries, 4 dims at a time: chunk c holds dims 4c … 4c+3 of query i in column i.
struct Heads4 {
  c0: mat4x4f, c1: mat4x4f, c2: mat4x4f, c3: mat4x4f, c4: mat4x4f, c5: mat4x4f, c6: mat4x4f, c7: mat4x4f,
  c8: mat4x4f, c9: mat4x4f, c10: mat4x4f, c11: mat4x4f, c12: mat4x4f, c13: mat4x4f, c14: mat4x4f, c15: mat4x4f,
}

// Chunk c of the 4 queries at vec4 indices qb, scaled by 1/√dh.
fn q_chunk(qb: vec4u, c: u32) -> mat4x4f {
  return mat4x4f(SB[qb.x + c], SB[qb.y + c], SB[qb.z + c], SB[qb.w + c]) * P.scale;
}

// o·diag(corr) + v ⊗ p: rescale each query's accumulator, add its weight times value chunk v.
fn pv(o: mat4x4f, v: vec4f, corr: vec4f, p: vec4f) -> mat4x4f {
  return mat4x4f(o[0] * corr.x + v * p.x, o[1] * corr.y + v * p.y, o[2] * corr.z + v * p.z, o[3] * corr.w + v * p.w);
}

fn put(ob: vec4u, c: u32, o: mat4x4f, inv: vec4f, valid: vec4<bool>) {
  SA[ob.x + c] = o[0] * inv.x;
  if (valid.y) { SA[ob.y + c] = o[1] * inv.y; }
  if (valid.z) { SA[ob.z + c] = o[2] * inv.z; }
  if (valid.w) { SA[ob.w + c] = o[3] * inv.w; }
}

// softmax(q·Kᵀ/√dh)·V for head `head` of the 4 query rows from `first` (rows past `last` repeat
// `last` and are not stored), over the T rows of each query's region in SB (qkv rows [q | k | v]),
// into SA. The 4 queries share every key and value load (4× fewer storage loads than a query per
// thread, which is what SwiftShader pays for: 2.4× less time for brick 3's attention of lego-s
// than with a query per thread): scores, running max m, sum l and the rescaling are
// vec4s over the queries, and k·Q is a vec4 × mat4 product. Online softmax in one pass over the
// keys. Rows of one group may lie in two regions (T not a multiple of 4): the keys run from the
// first query's region to the last one's, each query masking the keys outside its own.
// q and the accumulator live in 16 hand-unrolled mat4s guarded by DH (the dead ones vanish at
// pipeline creation; an indexed private array would go to memory on SwiftShader).
fn attend4(first: u32, last: u32, head: u32) {
  let L = P.seq_len;
  let d4 = P.d / 4u;
  let row = 3u * d4;            // vec4s per qkv row
  let hoff = head * (DH / 4u);  // this head's first vec4 within q, k or v
  let tok = min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), vec4u(last));
  let valid = vec4u(first) + vec4u(0u, 1u, 2u, 3u) <= vec4u(last);
  let start = (tok / L) * L;    // each query's region
  let qb = tok * row + hoff;
  var q = Heads4();
  q.c0 = q_chunk(qb, 0u);
  if (DH > 4u) { q.c1 = q_chunk(qb, 1u); }
  if (DH > 8u) { q.c2 = q_chunk(qb, 2u); }
  if (DH > 12u) { q.c3 = q_chunk(qb, 3u); }
  if (DH > 16u) { q.c4 = q_chunk(qb, 4u); }
  if (DH > 20u) { q.c5 = q_chunk(qb, 5u); }
  if (DH > 24u) { q.c6 = q_chunk(qb, 6u); }
  if (DH > 28u) { q.c7 = q_chunk(qb, 7u); }
  if (DH > 32u) { q.c8 = q_chunk(qb, 8u); }
  if (DH > 36u) { q.c9 = q_chunk(qb, 9u); }
  if (DH > 40u) { q.c10 = q_chunk(qb, 10u); }
  if (DH > 44u) { q.c11 = q_chunk(qb, 11u); }
  if (DH > 48u) { q.c12 = q_chunk(qb, 12u); }
  if (DH > 52u) { q.c13 = q_chunk(qb, 13u); }
  if (DH > 56u) { q.c14 = q_chunk(qb, 14u); }
  if (DH > 60u) { q.c15 = q_chunk(qb, 15u); }
  var o = Heads4();
  var m = vec4f(-3.0e38); // running max (finite: exp(m − s) is 0, never NaN, on the first key)
  var l = vec4f(0.0);     // running Σ exp(s − m)
  for (var j = start.x; j < start.w + L; j++) {
    let kb = j * row + d4 + hoff;
    let vb = kb + d4;
    let mine = (vec4u(j) >= start) & (vec4u(j) < start + L);
    var s = SB[kb] * q.c0;
    if (DH > 4u) { s += SB[kb + 1u] * q.c1; }
    if (DH > 8u) { s += SB[kb + 2u] * q.c2; }
    if (DH > 12u) { s += SB[kb + 3u] * q.c3; }
    if (DH > 16u) { s += SB[kb + 4u] * q.c4; }
    if (DH > 20u) { s += SB[kb + 5u] * q.c5; }
    if (DH > 24u) { s += SB[kb + 6u] * q.c6; }
    if (DH > 28u) { s += SB[kb + 7u] * q.c7; }
    if (DH > 32u) { s += SB[kb + 8u] * q.c8; }
    if (DH > 36u) { s += SB[kb + 9u] * q.c9; }
    if (DH > 40u) { s += SB[kb + 10u] * q.c10; }
    if (DH > 44u) { s += SB[kb + 11u] * q.c11; }
    if (DH > 48u) { s += SB[kb + 12u] * q.c12; }
    if (DH > 52u) { s += SB[kb + 13u] * q.c13; }
    if (DH > 56u) { s += SB[kb + 14u] * q.c14; }
    if (DH > 60u) { s += SB[kb + 15u] * q.c15; }
    let m_new = select(m, max(m, s), mine);
    let corr = exp(m - m_new);
    let pj = select(vec4f(0.0), exp(s - m_new), mine);
    l = l * corr + pj;
    m = m_new;
    o.c0 = pv(o.c0, SB[vb], corr, pj);
    if (DH > 4u) { o.c1 = pv(o.c1, SB[vb + 1u], corr, pj); }
    if (DH > 8u) { o.c2 = pv(o.c2, SB[vb + 2u], corr, pj); }
    if (DH > 12u) { o.c3 = pv(o.c3, SB[vb + 3u], corr, pj); }
    if (DH > 16u) { o.c4 = pv(o.c4, SB[vb + 4u], corr, pj); }
    if (DH > 20u) { o.c5 = pv(o.c5, SB[vb + 5u], corr, pj); }
    if (DH > 24u) { o.c6 = pv(o.c6, SB[vb + 6u], corr, pj); }
    if (DH > 28u) { o.c7 = pv(o.c7, SB[vb + 7u], corr, pj); }
    if (DH > 32u) { o.c8 = pv(o.c8, SB[vb + 8u], corr, pj); }
    if (DH > 36u) { o.c9 = pv(o.c9, SB[vb + 9u], corr, pj); }
    if (DH > 40u) { o.c10 = pv(o.c10, SB[vb + 10u], corr, pj); }
    if (DH > 44u) { o.c11 = pv(o.c11, SB[vb + 11u], corr, pj); }
    if (DH > 48u) { o.c12 = pv(o.c12, SB[vb + 12u], corr, pj); }
    if (DH > 52u) { o.c13 = pv(o.c13, SB[vb + 13u], corr, pj); }
    if (DH > 56u) { o.c14 = pv(o.c14, SB[vb + 14u], corr, pj); }
    if (DH > 60u) { o.c15 = pv(o.c15, SB[vb + 15u], corr, pj); }
  }
  let inv = 1.0 / l;
  let ob = tok * d4 + hoff;
  put(ob, 0u, o.c0, inv, valid);
  if (DH > 4u) { put(ob, 1u, o.c1, inv, valid); }
  if (DH > 8u) { put(ob, 2u, o.c2, inv, valid); }
  if (DH > 12u) { put(ob, 3u, o.c3, inv, valid); }
  if (DH > 16u) { put(ob, 4u, o.c4, inv, valid); }
  if (DH > 20u) { put(ob, 5u, o.c5, inv, valid); }
  if (DH > 24u) { put(ob, 6u, o.c6, inv, valid); }
  if (DH > 28u) { put(ob, 7u, o.c7, inv, valid); }
  if (DH > 32u) { put(ob, 8u, o.c8, inv, valid); }
  if (DH > 36u) { put(ob, 9u, o.c9, inv, valid); }
  if (DH > 40u) { put(ob, 10u, o.c10, inv, valid); }
  if (DH > 44u) { put(ob, 11u, o.c11, inv, valid); }
  if (DH > 48u) { put(ob, 12u, o.c12, inv, valid); }
  if (DH > 52u) { put(ob, 13u, o.c13, inv, valid); }
  if (DH > 56u) { put(ob, 14u, o.c14, inv, valid); }
  if (DH > 60u) { put(ob, 15u, o.c15, inv, valid); }
}

// ---- canvas ↔ tokens (the mapping of shaders/patch.wgsl) ----------------------------------------

// Regions along a canvas side: ⌈side / r⌉ (src/model/canvas.ts regionOrigins).
fn region_count(side: u32) -> u32 {
  return (side + P.region - 1u) / P.region;
}

// First pixel of region i of `count` along a side: spread evenly from 0 to side − r at multiples of the
// patch (i·r on a multiple of r; overlapping regions otherwise).
fn region_origin(i: u32, count: u32, side: u32) -> u32 {
  if (count <= 1u) { return 0u; }
  return P.psize * ((i * ((side - P.region) / P.psize)) / (count - 1u));
}

// Image b and grid position (y, x) of token n's top-left pixel; token n = ((b·Ry + ry)·Rx + rx)·T + ty·g + tx.
fn token_origin(n: u32) -> vec3u {
  let g = P.region / P.psize;
  let t = n % (g * g);
  let rr = n / (g * g);
  let rx_count = region_count(P.w);
  let ry_count = region_count(P.h);
  let rx = rr % rx_count;
  let ry = (rr / rx_count) % ry_count;
  return vec3u(rr / (rx_count * ry_count), region_origin(ry, ry_count, P.h) + (t / g) * P.psize,
    region_origin(rx, rx_count, P.w) + (t % g) * P.psize);
}

// Element v (channel c, pixel py, px: v = c·p² + py·p + px) of token n's patch vector; 0 past k_in.
// Channels [F_prev (3, unless prev_mode is 0) | c_in·x (3) | row | col] of the source pixel, which
// the shift (sy, sx) moves the grid onto (coordinates are the source pixel's).
fn patch_value(n: u32, v: u32, o: vec3u) -> f32 {
  if (v >= P.k_in) { return 0.0; }
  let p = P.psize;
  let pp = p * p;
  let ys = (o.y + (v % pp) / p + P.sy) % P.h;
  let xs = (o.z + v % p + P.sx) % P.w;
  let pix = ys * P.w + xs;
  let hw = P.h * P.w;
  let ch = select(v / pp + 3u, v / pp, P.prev_mode != 0u);
  let b = o.x;
  let bx = b % P.x_images;
  if (ch < 3u) {
    return select(0.0, CANVAS[(b * 3u + ch) * hw + pix], P.prev_mode == 1u);
  }
  if (ch < 6u) {
    return COEF[P.cin_offset + bx * P.cin_stride] * XIN[(bx * 3u + ch - 3u) * hw + pix];
  }
  if (ch == 6u) { return f32(2u * ys + 1u) / f32(P.h) - 1.0; }
  return f32(2u * xs + 1u) / f32(P.w) - 1.0;
}

// One float of WP (weights whose rows are not vec4-aligned: patch.0 with Cin·p² % 4 ≠ 0).
fn wp1(i: u32) -> f32 {
  return WP[i / 4u][i % 4u];
}

// W1 [d, K] row `col`, elements k … k+3 (clamped to the row: the patch rows are zero past K).
fn w1_4(col: u32, k: u32) -> vec4f {
  let base = P.w_a + col * P.k_in;
  let last = P.k_in - 1u;
  return vec4f(wp1(base + min(k, last)), wp1(base + min(k + 1u, last)), wp1(base + min(k + 2u, last)),
    wp1(base + min(k + 3u, last)));
}

// ---- entry points ------------------------------------------------------------------------------

@compute @workgroup_size(WG)
fn brick_embed(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile_index = workgroup_index(wid, P.grid_x);
  if (tile_index >= P.total_tiles) { return; } // uniform per workgroup
  let t = tile_of(tile_index);
  let rows = t.last - t.first + 1u;
  let d4 = P.d / 4u;
  let kq = (P.k_in + 3u) / 4u; // vec4s per patch row in SA (zero-padded)
  for (var item = lid; item < 16u * kq; item += WG) {
    let i = item / kq;
    if (i < rows) {
      let n = t.first + i;
      let o = token_origin(n);
      let v = (item % kq) * 4u;
      SA[n * kq + item % kq] = vec4f(patch_value(n, v, o), patch_value(n, v + 1u, o), patch_value(n, v + 2u, o),
        patch_value(n, v + 3u, o));
    }
  }
  storageBarrier();
  // hidden = GELU(patches·W1ᵀ + b1) into SB [Ntok, d]
  let r = rows16(t.first, t.last, kq);
  for (var item = lid; item < (P.d + 7u) / 8u; item += WG) {
    let col0 = item * 8u;
    let cl = P.d - 1u;
    var a = Acc();
    for (var kk = 0u; kk < kq; kk++) {
      let k = 4u * kk;
      let wl = mat4x4f(w1_4(col0, k), w1_4(min(col0 + 1u, cl), k), w1_4(min(col0 + 2u, cl), k),
        w1_4(min(col0 + 3u, cl), k));
      let wh = mat4x4f(w1_4(min(col0 + 4u, cl), k), w1_4(min(col0 + 5u, cl), k), w1_4(min(col0 + 6u, cl), k),
        w1_4(min(col0 + 7u, cl), k));
      a = fma16x8(a, sa16(r, kk), wl, wh);
    }
    let c4 = col0 / 4u;
    let b4 = P.b_a / 4u + c4;
    for (var i = 0u; i < rows; i++) {
      let v = acc_row(a, i);
      let o = (t.first + i) * d4 + c4;
      SB[o] = gelu_tanh(v[0] + WP[b4]);
      if (col0 + 4u < P.d) { SB[o + 1u] = gelu_tanh(v[1] + WP[b4 + 1u]); }
    }
  }
  storageBarrier();
  // tokens = hidden·W2ᵀ + b2 + pos[row mod T]
  for (var item = lid; item < (P.d + 7u) / 8u; item += WG) {
    let col0 = item * 8u;
    let a = sb_tile(t, col0, P.d, d4, P.w_b / 4u);
    let c4 = col0 / 4u;
    let b4 = P.b_b / 4u + c4;
    for (var i = 0u; i < rows; i++) {
      let v = acc_row(a, i);
      let n = t.first + i;
      let o = n * d4 + c4;
      let p4 = P.pos / 4u + (n % P.seq_len) * d4 + c4;
      TOK[o] = v[0] + WP[b4] + WP[p4];
      if (col0 + 4u < P.d) { TOK[o + 1u] = v[1] + WP[b4 + 1u] + WP[p4 + 1u]; }
    }
  }
}

// LN(TOK)·(1 + scale) + shift → SA; then the first linear (m_a columns, weight w_a, bias b_a) of the
// tile's rows → SB, through GELU for the MLP's first layer, as is for qkv [Ntok, 3d].
fn ln_linear(t: Tile, lid: u32, gelu: bool) {
  ln_to_sa(t, lid);
  let m4 = P.m_a / 4u;
  for (var item = lid; item < (P.m_a + 7u) / 8u; item += WG) {
    let col0 = item * 8u;
    let a = sa_tile(t, col0, P.m_a, P.d / 4u, P.w_a / 4u);
    let b4 = P.b_a / 4u + col0 / 4u;
    for (var i = 0u; i <= t.last - t.first; i++) {
      let v = acc_row(a, i);
      let o = (t.first + i) * m4 + col0 / 4u;
      let lo = v[0] + WP[b4];
      SB[o] = select(lo, gelu_tanh(lo), gelu);
      if (col0 + 4u < P.m_a) {
        let hi = v[1] + WP[b4 + 1u];
        SB[o + 1u] = select(hi, gelu_tanh(hi), gelu);
      }
    }
  }
}

// Attention of the tile's rows over their regions' rows of SB → SA; proj → TOK += gate1 ⊙ …
fn attn_stage(t: Tile, lid: u32) {
  let rows = t.last - t.first + 1u;
  // (4 queries, head) groups ordered head-major so that neighbouring threads read the same keys
  for (var item = lid; item < 4u * P.heads; item += WG) {
    if (4u * (item % 4u) < rows) { attend4(t.first + 4u * (item % 4u), t.last, item / 4u); }
  }
  storageBarrier();
  for (var item = lid; item < (P.d + 7u) / 8u; item += WG) {
    let col0 = item * 8u;
    gated_residual(t, sa_tile(t, col0, P.d, P.d / 4u, P.w_b / 4u), col0, P.b_b / 4u);
  }
}

@compute @workgroup_size(WG)
fn brick_qkv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile_index = workgroup_index(wid, P.grid_x);
  if (tile_index >= P.total_tiles) { return; }
  ln_linear(tile_of(tile_index), lid, false);
}

@compute @workgroup_size(WG)
fn brick_attn(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile_index = workgroup_index(wid, P.grid_x);
  if (tile_index >= P.total_tiles) { return; }
  attn_stage(tile_of(tile_index), lid);
}

// Both in one dispatch when every region lies inside one tile (T divides 16): attention then reads
// only K and V rows that this workgroup wrote.
@compute @workgroup_size(WG)
fn brick_qkv_attn(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile_index = workgroup_index(wid, P.grid_x);
  if (tile_index >= P.total_tiles) { return; }
  let t = tile_of(tile_index);
  ln_linear(t, lid, false);
  storageBarrier();
  attn_stage(t, lid);
}

@compute @workgroup_size(WG)
fn brick_mlp(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile_index = workgroup_index(wid, P.grid_x);
  if (tile_index >= P.total_tiles) { return; }
  let t = tile_of(tile_index);
  ln_linear(t, lid, true);
  storageBarrier();
  for (var item = lid; item < (P.d + 7u) / 8u; item += WG) {
    let col0 = item * 8u;
    gated_residual(t, sb_tile(t, col0, P.d, P.m_a / 4u, P.w_b / 4u), col0, P.b_b / 4u);
  }
}

@compute @workgroup_size(WG)
fn brick_final(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tile_index = workgroup_index(wid, P.grid_x);
  if (tile_index >= P.total_tiles) { return; }
  let t = tile_of(tile_index);
  ln_to_sa(t, lid);
  let pp = P.psize * P.psize;
  let hw = P.h * P.w;
  for (var item = lid; item < (P.m_a + 7u) / 8u; item += WG) {
    let col0 = item * 8u;
    let a = sa_tile(t, col0, P.m_a, P.d / 4u, P.w_a / 4u);
    for (var i = 0u; i <= t.last - t.first; i++) {
      let v = acc_row(a, i);
      let n = t.first + i;
      let o = token_origin(n);
      for (var j = 0u; j < 8u; j++) {
        let col = col0 + j; // c·p² + py·p + px
        if (col >= P.m_a) { break; }
        let value = v[j / 4u][j % 4u] + wp1(P.b_a + col);
        if (P.overlap != 0u) {
          let at = n * P.m_a + col;
          SB[at / 4u][at % 4u] = value;
          continue;
        }
        let ys = (o.y + (col % pp) / P.psize + P.sy) % P.h;
        let xs = (o.z + col % P.psize + P.sx) % P.w;
        CANVAS[(o.x * 3u + col / pp) * hw + ys * P.w + xs] = value;
      }
    }
  }
}

// Where regions overlap: thread i = (b·3 + c)·H·W + pixel writes F_k[i], the mean of the patch values
// (SB, from brick_final) of the regions whose grid covers the pixel. Grid coordinates undo the shift.
@compute @workgroup_size(WG)
fn brick_fold(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, lid, P.grid_x);
  if (i >= P.overlap) { return; }
  let hw = P.h * P.w;
  let pix = i % hw;
  let bc = i / hw; // b·3 + c
  let y = (pix / P.w + P.h - P.sy) % P.h;
  let x = (pix % P.w + P.w - P.sx) % P.w;
  let p = P.psize;
  let g = P.region / p;
  let ry_count = region_count(P.h);
  let rx_count = region_count(P.w);
  let col = (bc % 3u) * p * p + (y % p) * p + x % p; // the origins are multiples of p
  var sum = 0.0;
  var count = 0.0;
  for (var ry = 0u; ry < ry_count; ry++) {
    let oy = region_origin(ry, ry_count, P.h);
    if (y < oy || y >= oy + P.region) { continue; }
    for (var rx = 0u; rx < rx_count; rx++) {
      let ox = region_origin(rx, rx_count, P.w);
      if (x < ox || x >= ox + P.region) { continue; }
      let n = (((bc / 3u) * ry_count + ry) * rx_count + rx) * g * g + ((y - oy) / p) * g + (x - ox) / p;
      let at = n * P.m_a + col;
      sum += SB[at / 4u][at % 4u];
      count += 1.0;
    }
  }
  CANVAS[i] = sum / count;
}
