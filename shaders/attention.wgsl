// Region attention: many independent sequences of L consecutive tokens (one per image region),
// multi-head: out[t, h·dh …] = softmax(q_t·Kᵀ/√dh)·V over the tokens of t's sequence, per head h.
// qkv is the packed output of the qkv linear: row t = [q | k | v], each [heads, dh].
//
// v1: one thread per (query token, head), online softmax (running max m, sum l, rescaled
// accumulator) in one pass over the keys, so any L works (4 … ≥ 1024) with O(dh) state.
// Threads are ordered (sequence, head, query) so neighbouring threads read the same keys.
// Head dim DH (override; multiple of 4, ≤ 64) selects the variant. q and the accumulator live in
// 16 hand-unrolled vec4 registers guarded by DH (dead ones vanish at pipeline creation): an
// indexed private array would go to memory on SwiftShader.

struct Params {
  total: u32,     // Ntok · heads threads
  d4: u32,        // d / 4 (vec4s per q, k or v row)
  heads: u32,
  seq_len: u32,   // L
  scale: f32,     // 1 / √dh
  grid_x: u32,
  _pad0: u32,
  _pad1: u32,
}

override DH: u32 = 32u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> QKV: array<vec4f>;        // [Ntok, 3d / 4]
@group(0) @binding(2) var<storage, read_write> OUT: array<vec4f>;  // [Ntok, d / 4]

@compute @workgroup_size(WG)
fn region_attention(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = thread_index(wid, lid, P.grid_x);
  if (idx >= P.total) { return; }
  let L = P.seq_len;
  let qi = idx % L;
  let head = (idx / L) % P.heads;
  let seq = idx / (L * P.heads);
  let tok = seq * L + qi;
  let row = 3u * P.d4;            // vec4s per qkv row
  let hoff = head * (DH / 4u);    // this head's first vec4 within q, k or v
  let qb = tok * row + hoff;
  let q0 = QKV[qb] * P.scale;
  var q1 = vec4f(0.0);
  if (DH > 4u) { q1 = QKV[qb + 1u] * P.scale; }
  var q2 = vec4f(0.0);
  if (DH > 8u) { q2 = QKV[qb + 2u] * P.scale; }
  var q3 = vec4f(0.0);
  if (DH > 12u) { q3 = QKV[qb + 3u] * P.scale; }
  var q4 = vec4f(0.0);
  if (DH > 16u) { q4 = QKV[qb + 4u] * P.scale; }
  var q5 = vec4f(0.0);
  if (DH > 20u) { q5 = QKV[qb + 5u] * P.scale; }
  var q6 = vec4f(0.0);
  if (DH > 24u) { q6 = QKV[qb + 6u] * P.scale; }
  var q7 = vec4f(0.0);
  if (DH > 28u) { q7 = QKV[qb + 7u] * P.scale; }
  var q8 = vec4f(0.0);
  if (DH > 32u) { q8 = QKV[qb + 8u] * P.scale; }
  var q9 = vec4f(0.0);
  if (DH > 36u) { q9 = QKV[qb + 9u] * P.scale; }
  var q10 = vec4f(0.0);
  if (DH > 40u) { q10 = QKV[qb + 10u] * P.scale; }
  var q11 = vec4f(0.0);
  if (DH > 44u) { q11 = QKV[qb + 11u] * P.scale; }
  var q12 = vec4f(0.0);
  if (DH > 48u) { q12 = QKV[qb + 12u] * P.scale; }
  var q13 = vec4f(0.0);
  if (DH > 52u) { q13 = QKV[qb + 13u] * P.scale; }
  var q14 = vec4f(0.0);
  if (DH > 56u) { q14 = QKV[qb + 14u] * P.scale; }
  var q15 = vec4f(0.0);
  if (DH > 60u) { q15 = QKV[qb + 15u] * P.scale; }
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var a4 = vec4f(0.0);
  var a5 = vec4f(0.0);
  var a6 = vec4f(0.0);
  var a7 = vec4f(0.0);
  var a8 = vec4f(0.0);
  var a9 = vec4f(0.0);
  var a10 = vec4f(0.0);
  var a11 = vec4f(0.0);
  var a12 = vec4f(0.0);
  var a13 = vec4f(0.0);
  var a14 = vec4f(0.0);
  var a15 = vec4f(0.0);
  var m = -3.0e38; // running max (finite: exp(m − s) is 0, never NaN, on the first key)
  var l = 0.0;       // running Σ exp(s − m)
  for (var j = 0u; j < L; j++) {
    let kb = (seq * L + j) * row + P.d4 + hoff;
    let vb = kb + P.d4;
    var s = dot(q0, QKV[kb]);
    if (DH > 4u) { s += dot(q1, QKV[kb + 1u]); }
    if (DH > 8u) { s += dot(q2, QKV[kb + 2u]); }
    if (DH > 12u) { s += dot(q3, QKV[kb + 3u]); }
    if (DH > 16u) { s += dot(q4, QKV[kb + 4u]); }
    if (DH > 20u) { s += dot(q5, QKV[kb + 5u]); }
    if (DH > 24u) { s += dot(q6, QKV[kb + 6u]); }
    if (DH > 28u) { s += dot(q7, QKV[kb + 7u]); }
    if (DH > 32u) { s += dot(q8, QKV[kb + 8u]); }
    if (DH > 36u) { s += dot(q9, QKV[kb + 9u]); }
    if (DH > 40u) { s += dot(q10, QKV[kb + 10u]); }
    if (DH > 44u) { s += dot(q11, QKV[kb + 11u]); }
    if (DH > 48u) { s += dot(q12, QKV[kb + 12u]); }
    if (DH > 52u) { s += dot(q13, QKV[kb + 13u]); }
    if (DH > 56u) { s += dot(q14, QKV[kb + 14u]); }
    if (DH > 60u) { s += dot(q15, QKV[kb + 15u]); }
    let m_new = max(m, s);
    let corr = exp(m - m_new);
    let pj = exp(s - m_new);
    l = l * corr + pj;
    m = m_new;
    a0 = a0 * corr + pj * QKV[vb];
    if (DH > 4u) { a1 = a1 * corr + pj * QKV[vb + 1u]; }
    if (DH > 8u) { a2 = a2 * corr + pj * QKV[vb + 2u]; }
    if (DH > 12u) { a3 = a3 * corr + pj * QKV[vb + 3u]; }
    if (DH > 16u) { a4 = a4 * corr + pj * QKV[vb + 4u]; }
    if (DH > 20u) { a5 = a5 * corr + pj * QKV[vb + 5u]; }
    if (DH > 24u) { a6 = a6 * corr + pj * QKV[vb + 6u]; }
    if (DH > 28u) { a7 = a7 * corr + pj * QKV[vb + 7u]; }
    if (DH > 32u) { a8 = a8 * corr + pj * QKV[vb + 8u]; }
    if (DH > 36u) { a9 = a9 * corr + pj * QKV[vb + 9u]; }
    if (DH > 40u) { a10 = a10 * corr + pj * QKV[vb + 10u]; }
    if (DH > 44u) { a11 = a11 * corr + pj * QKV[vb + 11u]; }
    if (DH > 48u) { a12 = a12 * corr + pj * QKV[vb + 12u]; }
    if (DH > 52u) { a13 = a13 * corr + pj * QKV[vb + 13u]; }
    if (DH > 56u) { a14 = a14 * corr + pj * QKV[vb + 14u]; }
    if (DH > 60u) { a15 = a15 * corr + pj * QKV[vb + 15u]; }
  }
  let inv = 1.0 / l;
  let ob = tok * P.d4 + hoff;
  OUT[ob] = a0 * inv;
  if (DH > 4u) { OUT[ob + 1u] = a1 * inv; }
  if (DH > 8u) { OUT[ob + 2u] = a2 * inv; }
  if (DH > 12u) { OUT[ob + 3u] = a3 * inv; }
  if (DH > 16u) { OUT[ob + 4u] = a4 * inv; }
  if (DH > 20u) { OUT[ob + 5u] = a5 * inv; }
  if (DH > 24u) { OUT[ob + 6u] = a6 * inv; }
  if (DH > 28u) { OUT[ob + 7u] = a7 * inv; }
  if (DH > 32u) { OUT[ob + 8u] = a8 * inv; }
  if (DH > 36u) { OUT[ob + 9u] = a9 * inv; }
  if (DH > 40u) { OUT[ob + 10u] = a10 * inv; }
  if (DH > 44u) { OUT[ob + 11u] = a11 * inv; }
  if (DH > 48u) { OUT[ob + 12u] = a12 * inv; }
  if (DH > 52u) { OUT[ob + 13u] = a13 * inv; }
  if (DH > 56u) { OUT[ob + 14u] = a14 * inv; }
  if (DH > 60u) { OUT[ob + 15u] = a15 * inv; }
}
