import { describe, expect, it } from 'vitest';
import {
  brickAttnRef, brickEmbedRef, brickFinalRef, brickMlpRef, brickQkvRef, patchStride, prepareBrickAttn,
  prepareBrickEmbed, prepareBrickFinal, prepareBrickFold, prepareBrickMlp, prepareBrickQkv, prepareBrickQkvAttn, regionsFitTiles,
  setBrickShift, type BrickIO, type ModLayout,
} from '../../src/kernels/brick';
import { overlaps, posEmbed2d, tokenCount, type PrevMode, type Tiling } from '../../src/kernels/patch';
import { inputChannels, tokensPerRegion } from '../../src/model/arch';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

// Every output is a chain of f32 dot products of length ≤ 4d (≤ 256 here) over entries of O(1)
// against the f64 CPU references: 1e-4 relative; 1e-4 absolute for outputs that cancel to near 0
// (the LayerNorm'd rows and hidden activations are O(1), so their sums are too).
const TOL = { rtol: 1e-4, atol: 1e-4 };

/** The tensors at offsets that are multiples of 4 (as the engine's packs), 1e6 in the gaps: a wrong
 *  offset reads values that blow the tolerance. */
function pack(rand: () => number, tensors: Float32Array[]): { data: Float32Array; at: number[] } {
  const at: number[] = [];
  let len = 4 * Math.floor(rand() * 3);
  for (const t of tensors) {
    at.push(len);
    len += Math.ceil(t.length / 4) * 4 + 4 * Math.floor(rand() * 3);
  }
  const data = new Float32Array(len + 4).fill(1e6);
  tensors.forEach((t, i) => data.set(t, at[i]));
  return { data, at };
}

/** The linear whose weight and bias are tensors i and i+1 of a pack. */
const lin = (at: number[], i: number) => ({ weight: at[i], bias: at[i + 1] });

interface Bufs {
  tokens?: Float32Array | number;
  mods?: Float32Array;
  pack: Float32Array;
  scratchA: number;
  scratchB: Float32Array | number;
  x?: Float32Array;
  canvas?: Float32Array | number;
  coef?: Float32Array;
}

function io(device: GPUDevice, b: Bufs): Record<keyof BrickIO, GPUBuffer> {
  const up = (name: string, v: Float32Array | number | undefined) => upload(device, name, v ?? 4);
  return {
    tokens: up('tokens', b.tokens), mods: up('mods', b.mods), pack: up('pack', b.pack),
    scratchA: up('scratchA', b.scratchA), scratchB: up('scratchB', b.scratchB), x: up('x', b.x),
    canvas: up('canvas', b.canvas), coef: up('coef', b.coef),
  };
}

/** Row layout of a test case: images × rowsPerImage rows of d, heads, region length T. */
interface Rows { images: number; rowsPerImage: number; d: number; heads: number; seqLen: number }

// Awkward on purpose: rows per image below, at and past the 16-row tile (1, 3, 16, 17, 33), d not a
// multiple of 8 (12, 20, 44: the last column tile is half full), head dims 4–44, regions of 1–17 rows.
const ROWS: Rows[] = [
  { images: 2, rowsPerImage: 16, d: 32, heads: 2, seqLen: 4 },
  { images: 1, rowsPerImage: 3, d: 12, heads: 3, seqLen: 3 },
  { images: 3, rowsPerImage: 17, d: 20, heads: 5, seqLen: 17 },
  { images: 2, rowsPerImage: 33, d: 44, heads: 1, seqLen: 11 },
  { images: 4, rowsPerImage: 1, d: 8, heads: 2, seqLen: 1 },
];

/** adaLN rows of 6d + 8 floats (so the stride is not 6d), a block's vectors from float 4 on. */
function blockMods(d: number): Required<ModLayout> & { attnGate: number; shift2: number; scale2: number; gate2: number } {
  return { stride: 6 * d + 8, shift: 4, scale: 4 + d, gate: 4 + 2 * d, attnGate: 4 + 2 * d,
    shift2: 4 + 3 * d, scale2: 4 + 4 * d, gate2: 4 + 5 * d };
}

const name = (r: Rows) => `${r.images}×${r.rowsPerImage} rows, d ${r.d}, ${r.heads} heads, T ${r.seqLen}`;

describe('brick_qkv (LayerNorm + modulate + qkv linear)', () => {
  for (const [i, r] of ROWS.entries()) {
    it(name(r), () => checkQkv(10 + i, r));
  }
  it('rows with a large mean (x ≈ 100 ± 1): the two-pass statistics', () => checkQkv(99, ROWS[0], 100));
  it('uses the eps it is given (model.json layernorm_eps)', () =>
    // Rows of U(−1, 1) have variance ≈ 1/3: eps 0.1 changes x̂ by ~15%, far outside the tolerance.
    checkQkv(98, ROWS[2], 0, 0.1));
});

async function checkQkv(seed: number, r: Rows, offset = 0, eps = 1e-6) {
  const device = await getTestDevice();
  const rand = rng(seed);
  const { d } = r, n = r.images * r.rowsPerImage, m = blockMods(d);
  const tokens = randArray(rand, n * d, offset - 1, offset + 1), mods = randArray(rand, r.images * m.stride);
  const w = randArray(rand, 3 * d * d, -0.5, 0.5), b = randArray(rand, 3 * d);
  const { data, at } = pack(rand, [w, b]);
  const bufs = io(device, { tokens, mods, pack: data, scratchA: n * d, scratchB: n * 3 * d });
  const mod = { stride: m.stride, shift: m.shift, scale: m.scale };
  await runChecked(device, 'brick_qkv', () => [prepareBrickQkv(device, {
    label: 'test.qkv', io: bufs, n, d, rowsPerImage: r.rowsPerImage, eps, mod, qkv: lin(at, 0) })]);
  const ref = brickQkvRef(tokens, mods, w, b, { n, d, rowsPerImage: r.rowsPerImage, eps, mod });
  expectClose(await download(device, bufs.scratchB, n * 3 * d), ref, TOL, `qkv ${name(r)}`);
}

describe('brick_attn (region attention + proj + gated residual)', () => {
  for (const [i, r] of ROWS.entries()) it(name(r), () => checkAttn(20 + i, r));
  it('the shipped top brick\'s shape: 256-row regions, head dim 64', () =>
    checkAttn(26, { images: 1, rowsPerImage: 256, d: 128, heads: 2, seqLen: 256 }));
  it('peaked scores (|q|, |k| up to 4): the online softmax rescales without overflow', () =>
    checkAttn(27, { images: 2, rowsPerImage: 64, d: 32, heads: 1, seqLen: 32 }, 4));
  it('1024-row regions (a 64×64 whole-canvas brick of patch 2)', () =>
    checkAttn(28, { images: 1, rowsPerImage: 1024, d: 16, heads: 1, seqLen: 1024 }));
});

async function checkAttn(seed: number, r: Rows, range = 1) {
  const device = await getTestDevice();
  const rand = rng(seed);
  const { d } = r, n = r.images * r.rowsPerImage, m = blockMods(d);
  const tokens = randArray(rand, n * d), qkv = randArray(rand, n * 3 * d, -range, range);
  const mods = randArray(rand, r.images * m.stride);
  const w = randArray(rand, d * d, -0.5, 0.5), b = randArray(rand, d);
  const { data, at } = pack(rand, [w, b]);
  const bufs = io(device, { tokens, mods, pack: data, scratchA: n * d, scratchB: qkv });
  const mod = { stride: m.stride, gate: m.attnGate };
  const p = { n, d, rowsPerImage: r.rowsPerImage, heads: r.heads, seqLen: r.seqLen, mod };
  await runChecked(device, 'brick_attn', () => [prepareBrickAttn(device, {
    label: 'test.attn', io: bufs, ...p, proj: lin(at, 0) })]);
  expectClose(await download(device, bufs.tokens, n * d), brickAttnRef(tokens, qkv, mods, w, b, p), TOL,
    `attn ${name(r)}`);
}

describe('brick_qkv_attn (both in one dispatch, for regions that fit a 16-row tile)', () => {
  const fits = [...ROWS.filter((r) => regionsFitTiles(r.seqLen)), { images: 2, rowsPerImage: 40, d: 24, heads: 3, seqLen: 8 }];
  for (const [i, r] of fits.entries()) {
    it(name(r), async () => {
      const device = await getTestDevice();
      const rand = rng(70 + i);
      const { d } = r, n = r.images * r.rowsPerImage, m = blockMods(d);
      const tokens = randArray(rand, n * d), mods = randArray(rand, r.images * m.stride);
      const wq = randArray(rand, 3 * d * d, -0.5, 0.5), bq = randArray(rand, 3 * d);
      const wp = randArray(rand, d * d, -0.5, 0.5), bp = randArray(rand, d);
      const { data, at } = pack(rand, [wq, bq, wp, bp]);
      const bufs = io(device, { tokens, mods, pack: data, scratchA: n * d, scratchB: n * 3 * d });
      const mod = { stride: m.stride, shift: m.shift, scale: m.scale, gate: m.attnGate };
      const p = { n, d, rowsPerImage: r.rowsPerImage, heads: r.heads, seqLen: r.seqLen, eps: 1e-6, mod };
      await runChecked(device, 'brick_qkv_attn', () => [prepareBrickQkvAttn(device, {
        label: 'test.qkv_attn', io: bufs, ...p, qkv: lin(at, 0), proj: lin(at, 2) })]);
      const ref = brickAttnRef(tokens, brickQkvRef(tokens, mods, wq, bq, p), mods, wp, bp, p);
      expectClose(await download(device, bufs.tokens, n * d), ref, TOL, `qkv_attn ${name(r)}`);
    });
  }
  it('refuses regions that straddle tiles', async () => {
    const device = await getTestDevice();
    const bufs = io(device, { pack: new Float32Array(4), scratchA: 4, scratchB: 4 });
    expect(() => prepareBrickQkvAttn(device, { label: 'bad', io: bufs, n: 24, d: 4, rowsPerImage: 24, eps: 1e-6, heads: 1,
      seqLen: 12, mod: { stride: 24 }, qkv: { weight: 0, bias: 0 }, proj: { weight: 0, bias: 0 } })).toThrow(/12 rows do not fit/);
  });
});

describe('brick_mlp (LayerNorm + modulate + Linear + GELU + Linear + gated residual)', () => {
  for (const [i, r] of ROWS.entries()) {
    it(name(r), async () => {
      const device = await getTestDevice();
      const rand = rng(30 + i);
      const { d } = r, n = r.images * r.rowsPerImage, m = blockMods(d), hidden = 4 * d;
      const tokens = randArray(rand, n * d), mods = randArray(rand, r.images * m.stride);
      const w = { w1: randArray(rand, hidden * d, -0.5, 0.5), b1: randArray(rand, hidden),
        w2: randArray(rand, d * hidden, -0.25, 0.25), b2: randArray(rand, d) };
      const { data, at } = pack(rand, [w.w1, w.b1, w.w2, w.b2]);
      const bufs = io(device, { tokens, mods, pack: data, scratchA: n * d, scratchB: n * hidden });
      const mod = { stride: m.stride, shift: m.shift2, scale: m.scale2, gate: m.gate2 };
      const p = { n, d, rowsPerImage: r.rowsPerImage, eps: 1e-6, mod, hidden };
      await runChecked(device, 'brick_mlp', () => [prepareBrickMlp(device, {
        label: 'test.mlp', io: bufs, ...p, fc1: lin(at, 0), fc2: lin(at, 2) })]);
      expectClose(await download(device, bufs.tokens, n * d), brickMlpRef(tokens, mods, w, p), TOL, `mlp ${name(r)}`);
    });
  }
});

// Tilings as in the patch tests: shifted, non-square, odd sizes (Cin·p² = 5 and 45: patch rows that
// are not whole vec4s), a CFG batch whose two halves read the same x, and canvases that are not multiples
// of the region (overlapping regions, model/canvas.ts): on both sides, on one side with a shift along the
// other (a covered side ignores its shift), and with 3p² = 27 patch values (rows that are not whole vec4s).
const TILINGS: (Tiling & { prev: PrevMode; d: number; xImages?: number })[] = [
  { batch: 2, height: 8, width: 8, region: 4, patch: 2, prev: 'read', d: 16 },
  { batch: 1, height: 12, width: 20, region: 4, patch: 4, shiftY: 2, shiftX: -3, prev: 'none', d: 12 },
  { batch: 2, height: 16, width: 8, region: 8, patch: 2, shiftY: 4, shiftX: 4, prev: 'zero', d: 20 },
  { batch: 1, height: 6, width: 9, region: 3, patch: 1, shiftY: 7, shiftX: 1, prev: 'none', d: 8 },
  { batch: 2, height: 6, width: 12, region: 6, patch: 3, shiftY: 1, prev: 'none', d: 8 },
  { batch: 4, height: 8, width: 16, region: 8, patch: 8, shiftX: 5, prev: 'read', d: 24, xImages: 2 },
  { batch: 2, height: 12, width: 20, region: 8, patch: 2, shiftY: 3, prev: 'read', d: 12 },
  { batch: 1, height: 16, width: 24, region: 16, patch: 4, shiftY: 8, shiftX: 8, prev: 'zero', d: 16 },
  { batch: 2, height: 9, width: 6, region: 6, patch: 3, shiftX: 3, prev: 'none', d: 8 },
];

const tname = (t: (typeof TILINGS)[0]) =>
  `${t.batch}×${t.height}×${t.width} r${t.region} p${t.patch} shift (${t.shiftY ?? 0},${t.shiftX ?? 0}) prev ${t.prev}`;

describe('brick_embed (gather + Linear + GELU + Linear + positions)', () => {
  for (const [i, t] of TILINGS.entries()) {
    it(tname(t), async () => {
      const device = await getTestDevice();
      const rand = rng(40 + i);
      const { d } = t, hw = t.height * t.width, n = tokenCount(t), k = inputChannels(t.prev !== 'none') * t.patch ** 2;
      const xImages = t.xImages ?? t.batch;
      const x = randArray(rand, xImages * 3 * hw), fprev = randArray(rand, t.batch * 3 * hw);
      // c_in of x image i at coef[2 + 4i] (the EDM table layout: c_skip, c_out, c_in, c_noise)
      const coef = randArray(rand, 4 * xImages, 0.1, 2);
      const w = { w1: randArray(rand, d * k, -0.5, 0.5), b1: randArray(rand, d), w2: randArray(rand, d * d, -0.5, 0.5),
        b2: randArray(rand, d), pos: posEmbed2d(t.region / t.patch, d) };
      const { data, at } = pack(rand, [w.w1, w.b1, w.w2, w.b2, w.pos]);
      const bufs = io(device, { tokens: n * d, pack: data, scratchA: n * patchStride(k), scratchB: n * d, x,
        canvas: fprev, coef });
      await runChecked(device, 'brick_embed', () => [prepareBrickEmbed(device, {
        ...t, label: 'test.embed', io: bufs, cinOffset: 2, cinStride: 4,
        fc1: lin(at, 0), fc2: lin(at, 2), pos: at[4] })]);
      const cin = Array.from({ length: xImages }, (_, j) => coef[2 + 4 * j]);
      expectClose(await download(device, bufs.tokens, n * d), brickEmbedRef(t, t.prev, d, x, cin, w, fprev, xImages),
        TOL, `embed ${tname(t)}`);
    });
  }
});

describe('brick_final (LayerNorm + modulate + Linear + fold), and brick_fold where regions overlap', () => {
  for (const [i, t] of TILINGS.entries()) {
    it(tname(t), async () => {
      const device = await getTestDevice();
      const rand = rng(50 + i);
      const { d } = t, hw = t.height * t.width, n = tokenCount(t), m = 3 * t.patch ** 2;
      const tokens = randArray(rand, n * d), mod = { stride: 2 * d + 4, shift: 4, scale: 4 + d };
      const mods = randArray(rand, t.batch * mod.stride);
      const w = randArray(rand, m * d, -0.5, 0.5), b = randArray(rand, m);
      const { data, at } = pack(rand, [w, b]);
      const bufs = io(device, { tokens, mods, pack: data, scratchA: n * d, scratchB: overlaps(t) ? n * m : 4,
        canvas: t.batch * 3 * hw });
      const ops = [prepareBrickFinal(device, { ...t, label: 'test.final', io: bufs, d, eps: 1e-6, mod, linear: lin(at, 0) })];
      if (overlaps(t)) ops.push(prepareBrickFold(device, { ...t, label: 'test.fold', io: bufs }));
      await runChecked(device, 'brick_final', () => ops);
      const p = { d, eps: 1e-6, mod };
      expectClose(await download(device, bufs.canvas, t.batch * 3 * hw), brickFinalRef(t, tokens, mods, w, b, p), TOL,
        `final ${tname(t)}`);
      // Another shift on the same prepared ops (one uniform write each) folds to the shifted grid.
      ops.forEach((op) => setBrickShift(device.queue, op, t, 3, -1));
      await runChecked(device, 'brick_final shifted', () => ops);
      expectClose(await download(device, bufs.canvas, t.batch * 3 * hw),
        brickFinalRef({ ...t, shiftY: 3, shiftX: -1 }, tokens, mods, w, b, p), TOL, `final shifted ${tname(t)}`);
    });
  }
});

describe('a whole brick of fused ops equals the unfused chain', () => {
  it('embed → 2 blocks → final on a 2-image 16×16 canvas (regions 8, patch 2, T 16)', async () => {
    // The engine's order of ops on one set of buffers: scratch reuse between ops must not leak.
    const device = await getTestDevice();
    const rand = rng(60);
    const t: Tiling = { batch: 2, height: 16, width: 16, region: 8, patch: 2, shiftX: 4 };
    const d = 16, heads = 2, hidden = 4 * d, n = tokenCount(t), T = tokensPerRegion(t), k = 5 * 4, hw = 256;
    const x = randArray(rand, 2 * 3 * hw), coef = new Float32Array([0, 0, 0.8, 0, 0, 0, 1.2, 0]);
    const embed = { w1: randArray(rand, d * k, -0.5, 0.5), b1: randArray(rand, d), w2: randArray(rand, d * d, -0.5, 0.5),
      b2: randArray(rand, d), pos: posEmbed2d(t.region / t.patch, d) };
    const blocks = [0, 1].map(() => ({
      qkv: randArray(rand, 3 * d * d, -0.5, 0.5), qb: randArray(rand, 3 * d), proj: randArray(rand, d * d, -0.5, 0.5),
      pb: randArray(rand, d), w1: randArray(rand, hidden * d, -0.5, 0.5), b1: randArray(rand, hidden),
      w2: randArray(rand, d * hidden, -0.25, 0.25), b2: randArray(rand, d) }));
    const fw = randArray(rand, 12 * d, -0.5, 0.5), fb = randArray(rand, 12);
    const stride = 14 * d; // two blocks' 6d, then the final's 2d
    const mods = randArray(rand, 2 * stride);
    const all = pack(rand, [embed.w1, embed.b1, embed.w2, embed.b2, embed.pos,
      ...blocks.flatMap((b) => [b.qkv, b.qb, b.proj, b.pb, b.w1, b.b1, b.w2, b.b2]), fw, fb]);
    const bufs = io(device, { tokens: n * d, mods, pack: all.data, scratchA: n * Math.max(d, patchStride(k)),
      scratchB: n * hidden, x, canvas: 2 * 3 * hw, coef });
    const a = all.at, rows = { n, d, rowsPerImage: n / 2 };
    const ops = [prepareBrickEmbed(device, { ...t, label: 'e', io: bufs, d, prev: 'none', cinOffset: 2, cinStride: 4,
      fc1: lin(a, 0), fc2: lin(a, 2), pos: a[4] })];
    blocks.forEach((_, j) => {
      const o = 5 + 8 * j, base = 6 * d * j;
      ops.push(
        prepareBrickQkv(device, { label: `q${j}`, io: bufs, ...rows, eps: 1e-6,
          mod: { stride, shift: base, scale: base + d }, qkv: lin(a, o) }),
        prepareBrickAttn(device, { label: `a${j}`, io: bufs, ...rows, heads, seqLen: T,
          mod: { stride, gate: base + 2 * d }, proj: lin(a, o + 2) }),
        prepareBrickMlp(device, { label: `m${j}`, io: bufs, ...rows, eps: 1e-6, hidden,
          mod: { stride, shift: base + 3 * d, scale: base + 4 * d, gate: base + 5 * d },
          fc1: lin(a, o + 4), fc2: lin(a, o + 6) }));
    });
    const fmod = { stride, shift: 12 * d, scale: 13 * d };
    ops.push(prepareBrickFinal(device, { ...t, label: 'f', io: bufs, d, eps: 1e-6, mod: fmod, linear: lin(a, 21) }));
    await runChecked(device, 'brick chain', () => ops);

    let tok = brickEmbedRef(t, 'none', d, x, [0.8, 1.2], embed);
    blocks.forEach((b, j) => {
      const base = 6 * d * j;
      const qkv = brickQkvRef(tok, mods, b.qkv, b.qb, { ...rows, eps: 1e-6, mod: { stride, shift: base, scale: base + d } });
      tok = brickAttnRef(tok, qkv, mods, b.proj, b.pb, { ...rows, heads, seqLen: T, mod: { stride, gate: base + 2 * d } });
      tok = brickMlpRef(tok, mods, b, { ...rows, eps: 1e-6, hidden,
        mod: { stride, shift: base + 3 * d, scale: base + 4 * d, gate: base + 5 * d } });
    });
    const ref = brickFinalRef(t, tok, mods, fw, fb, { d, eps: 1e-6, mod: fmod });
    // Errors compound over 7 ops of O(1) values: 3e-4 absolute.
    expectClose(await download(device, bufs.canvas, 2 * 3 * hw), ref, { rtol: 1e-4, atol: 3e-4 }, 'brick chain');
  });
});
