// Register tiles for the fused brick kernels (prepended to shaders/brick.wgsl after common.wgsl).
// A thread computes a 16-row × 8-column tile of X·Wᵀ (X [N, K], W [M, K], both row-major) with
// vec4 loads along K: per step of 4 K it loads 16 X and 8 W vec4s for 512 FMAs, the ratio that
// made linear v3 the fastest on SwiftShader (shaders/linear.wgsl). Tiles are structs of named
// vec4s, passed by value: SwiftShader keeps them in registers (an array indexed in a loop would go
// to memory). Loading the X16 and the two mat4 of W is left to the caller, which knows its bindings.

struct Rows16 { r0: u32, r1: u32, r2: u32, r3: u32, r4: u32, r5: u32, r6: u32, r7: u32,
  r8: u32, r9: u32, r10: u32, r11: u32, r12: u32, r13: u32, r14: u32, r15: u32 }
struct Cols8 { c0: u32, c1: u32, c2: u32, c3: u32, c4: u32, c5: u32, c6: u32, c7: u32 }
struct X16 { x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, x4: vec4f, x5: vec4f, x6: vec4f, x7: vec4f,
  x8: vec4f, x9: vec4f, x10: vec4f, x11: vec4f, x12: vec4f, x13: vec4f, x14: vec4f, x15: vec4f }
// Row i's 8 outputs are (li, hi): columns 0–3 and 4–7 of the tile.
struct Acc { l0: vec4f, h0: vec4f, l1: vec4f, h1: vec4f, l2: vec4f, h2: vec4f, l3: vec4f, h3: vec4f,
  l4: vec4f, h4: vec4f, l5: vec4f, h5: vec4f, l6: vec4f, h6: vec4f, l7: vec4f, h7: vec4f,
  l8: vec4f, h8: vec4f, l9: vec4f, h9: vec4f, l10: vec4f, h10: vec4f, l11: vec4f, h11: vec4f,
  l12: vec4f, h12: vec4f, l13: vec4f, h13: vec4f, l14: vec4f, h14: vec4f, l15: vec4f, h15: vec4f }

// vec4 index of the start of rows first … first+15 (rows past `last` repeat `last`: every load is in range).
fn rows16(first: u32, last: u32, stride4: u32) -> Rows16 {
  return Rows16(first * stride4, min(first + 1u, last) * stride4, min(first + 2u, last) * stride4,
    min(first + 3u, last) * stride4, min(first + 4u, last) * stride4, min(first + 5u, last) * stride4,
    min(first + 6u, last) * stride4, min(first + 7u, last) * stride4, min(first + 8u, last) * stride4,
    min(first + 9u, last) * stride4, min(first + 10u, last) * stride4, min(first + 11u, last) * stride4,
    min(first + 12u, last) * stride4, min(first + 13u, last) * stride4, min(first + 14u, last) * stride4,
    min(first + 15u, last) * stride4);
}

// vec4 index of W rows col0 … col0+7 (past `last` repeat `last`) in a matrix starting at vec4 `base`.
fn cols8(base: u32, col0: u32, last: u32, stride4: u32) -> Cols8 {
  return Cols8(base + min(col0, last) * stride4, base + min(col0 + 1u, last) * stride4,
    base + min(col0 + 2u, last) * stride4, base + min(col0 + 3u, last) * stride4,
    base + min(col0 + 4u, last) * stride4, base + min(col0 + 5u, last) * stride4,
    base + min(col0 + 6u, last) * stride4, base + min(col0 + 7u, last) * stride4);
}

// a += x·[wl | wh] for the 16 rows: wl, wh hold W rows (output columns) 0–3 and 4–7 as columns.
fn fma16x8(a: Acc, x: X16, wl: mat4x4f, wh: mat4x4f) -> Acc {
  return Acc(a.l0 + x.x0 * wl, a.h0 + x.x0 * wh, a.l1 + x.x1 * wl, a.h1 + x.x1 * wh,
    a.l2 + x.x2 * wl, a.h2 + x.x2 * wh, a.l3 + x.x3 * wl, a.h3 + x.x3 * wh,
    a.l4 + x.x4 * wl, a.h4 + x.x4 * wh, a.l5 + x.x5 * wl, a.h5 + x.x5 * wh,
    a.l6 + x.x6 * wl, a.h6 + x.x6 * wh, a.l7 + x.x7 * wl, a.h7 + x.x7 * wh,
    a.l8 + x.x8 * wl, a.h8 + x.x8 * wh, a.l9 + x.x9 * wl, a.h9 + x.x9 * wh,
    a.l10 + x.x10 * wl, a.h10 + x.x10 * wh, a.l11 + x.x11 * wl, a.h11 + x.x11 * wh,
    a.l12 + x.x12 * wl, a.h12 + x.x12 * wh, a.l13 + x.x13 * wl, a.h13 + x.x13 * wh,
    a.l14 + x.x14 * wl, a.h14 + x.x14 * wh, a.l15 + x.x15 * wl, a.h15 + x.x15 * wh);
}

// Row i of the tile: its 8 outputs as two vec4 (used once per tile, after the K loop).
fn acc_row(a: Acc, i: u32) -> array<vec4f, 2> {
  switch i {
    case 0u: { return array(a.l0, a.h0); }
    case 1u: { return array(a.l1, a.h1); }
    case 2u: { return array(a.l2, a.h2); }
    case 3u: { return array(a.l3, a.h3); }
    case 4u: { return array(a.l4, a.h4); }
    case 5u: { return array(a.l5, a.h5); }
    case 6u: { return array(a.l6, a.h6); }
    case 7u: { return array(a.l7, a.h7); }
    case 8u: { return array(a.l8, a.h8); }
    case 9u: { return array(a.l9, a.h9); }
    case 10u: { return array(a.l10, a.h10); }
    case 11u: { return array(a.l11, a.h11); }
    case 12u: { return array(a.l12, a.h12); }
    case 13u: { return array(a.l13, a.h13); }
    case 14u: { return array(a.l14, a.h14); }
    default: { return array(a.l15, a.h15); }
  }
}
