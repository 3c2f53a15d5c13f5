import { describe, expect, it } from 'vitest';
import { linearRef } from '../../src/kernels/linear';
import {
  patchFoldRef, patchGatherRef, posEmbed2d, preparePatchEmbed, preparePatchFold,
  preparePatchGather, setPatchShift, tokenCount, type PrevMode, type Tiling,
} from '../../src/kernels/patch';
import { inputChannels, tokensPerRegion } from '../../src/model/arch';
import { prepareLinear } from '../../src/kernels/linear';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

// The gather only copies, multiplies once (c_in·x, correctly rounded on both sides) and computes
// coordinates (2i+1)/H − 1, whose f32 division WGSL allows 2.5 ulp: 1e-6 absolute covers it.
const GATHER_TOL = { atol: 1e-6 };

const tilings: (Tiling & { prev: PrevMode })[] = [
  { batch: 2, height: 8, width: 8, region: 4, patch: 2, prev: 'read' },
  { batch: 1, height: 12, width: 20, region: 4, patch: 4, shiftY: 2, shiftX: -3, prev: 'none' }, // non-square
  { batch: 2, height: 16, width: 8, region: 8, patch: 2, shiftY: 4, shiftX: 4, prev: 'zero' },
  { batch: 1, height: 6, width: 9, region: 3, patch: 1, shiftY: 7, shiftX: 1, prev: 'read' }, // odd sizes
];

describe('patch gather', () => {
  for (const t of tilings) {
    it(`${t.batch}×${t.height}×${t.width} r${t.region} p${t.patch} shift (${t.shiftY ?? 0},${t.shiftX ?? 0}) prev ${t.prev}`, async () => {
      const device = await getTestDevice();
      const rand = rng(t.height * 31 + t.width);
      const hw = t.height * t.width;
      const x = randArray(rand, t.batch * 3 * hw), fprev = randArray(rand, t.batch * 3 * hw);
      // c_in of image i at coef[2 + 4i] (the EDM table layout: c_skip, c_out, c_in, c_noise)
      const coef = randArray(rand, 4 * t.batch, 0.1, 2);
      const len = tokenCount(t) * inputChannels(t.prev !== 'none') * t.patch ** 2;
      const out = upload(device, 'P', len);
      await runChecked(device, 'gather', () => [preparePatchGather(device, {
        ...t, label: 'test.gather', x: upload(device, 'x', x), fprev: upload(device, 'fprev', fprev),
        coef: upload(device, 'coef', coef), cinOffset: 2, cinStride: 4, out })]);
      const cin = Array.from({ length: t.batch }, (_, i) => coef[2 + 4 * i]);
      expectClose(await download(device, out, len), patchGatherRef(t, t.prev, x, cin, fprev), GATHER_TOL);
    });
  }

  it('CFG batch: images b and b+B read the same x', async () => {
    const device = await getTestDevice();
    const t: Tiling = { batch: 4, height: 4, width: 8, region: 4, patch: 2 };
    const rand = rng(9);
    const x = randArray(rand, 2 * 3 * 32), cin = new Float32Array([0.5, 2]);
    const len = tokenCount(t) * 5 * 4;
    const out = upload(device, 'P', len);
    await runChecked(device, 'gather cfg', () => [preparePatchGather(device, {
      ...t, label: 'test.gather.cfg', prev: 'none', x: upload(device, 'x', x), coef: upload(device, 'cin', cin),
      cinOffset: 0, cinStride: 1, xImages: 2, out })]);
    const got = await download(device, out, len);
    expectClose(got, patchGatherRef(t, 'none', x, cin, undefined, 2), GATHER_TOL);
    expectClose(got.subarray(0, len / 2), got.subarray(len / 2), { atol: 0 });
  });
});

describe('patch fold', () => {
  for (const t of tilings) {
    it(`${t.batch}×${t.height}×${t.width} r${t.region} p${t.patch} shift (${t.shiftY ?? 0},${t.shiftX ?? 0})`, async () => {
      const device = await getTestDevice();
      const rand = rng(t.width * 17 + t.height);
      const len = tokenCount(t) * 3 * t.patch ** 2;
      const y = randArray(rand, len);
      const out = upload(device, 'F', t.batch * 3 * t.height * t.width);
      await runChecked(device, 'fold', () => [preparePatchFold(device, { ...t, label: 'test.fold', y: upload(device, 'y', y), out })]);
      // A pure permutation: exact.
      expectClose(await download(device, out, t.batch * 3 * t.height * t.width), patchFoldRef(t, y), { atol: 0 });
    });
  }

  it('gather → select F_prev channels → fold is the identity on a non-square shifted canvas', async () => {
    const device = await getTestDevice();
    const t: Tiling = { batch: 2, height: 16, width: 24, region: 8, patch: 2, shiftY: 3, shiftX: 13 };
    const rand = rng(77);
    const hw = t.height * t.width, pp = t.patch ** 2, n = tokenCount(t);
    const canvas = randArray(rand, t.batch * 3 * hw);
    // Linear [3p², 8p²] picking the F_prev block (the first 3p² entries of each patch vector).
    const sel = new Float32Array(3 * pp * 8 * pp);
    for (let i = 0; i < 3 * pp; i++) sel[i * 8 * pp + i] = 1;
    const P = upload(device, 'P', n * 8 * pp), Y = upload(device, 'Y', n * 3 * pp), F = upload(device, 'F', t.batch * 3 * hw);
    const gather = preparePatchGather(device, { ...t, label: 'rt.gather', prev: 'read', fprev: upload(device, 'A', canvas),
      x: upload(device, 'x', canvas), coef: upload(device, 'cin', new Float32Array([1, 1])), cinOffset: 0, cinStride: 1, out: P });
    const fold = preparePatchFold(device, { ...t, label: 'rt.fold', y: Y, out: F });
    await runChecked(device, 'roundtrip', () => [gather,
      prepareLinear(device, { label: 'rt.select', x: P, w: upload(device, 'sel', sel), b: upload(device, 'zero', 3 * pp), y: Y, n, k: 8 * pp, m: 3 * pp }),
      fold]);
    expectClose(await download(device, F, canvas.length), canvas, { atol: 0 }); // ×1 and +0 only: exact
    // A different shift on the same prepared ops (one uniform write each) still round-trips.
    setPatchShift(device.queue, gather, t, 5, 1);
    setPatchShift(device.queue, fold, t, 5, 1);
    await runChecked(device, 'roundtrip shifted', () => [gather,
      prepareLinear(device, { label: 'rt.select2', x: P, w: upload(device, 'sel', sel), b: upload(device, 'zero', 3 * pp), y: Y, n, k: 8 * pp, m: 3 * pp }),
      fold]);
    expectClose(await download(device, F, canvas.length), canvas, { atol: 0 });
  });
});

describe('patch embed (gather → Linear+GELU → Linear + pos)', () => {
  it('matches the CPU composition', async () => {
    const device = await getTestDevice();
    const t: Tiling = { batch: 2, height: 8, width: 16, region: 8, patch: 2, shiftY: 4, shiftX: 4 };
    const d = 16, rand = rng(3);
    const hw = t.height * t.width, n = tokenCount(t), kIn = 8 * t.patch ** 2, T = tokensPerRegion(t);
    const x = randArray(rand, t.batch * 3 * hw), fprev = randArray(rand, t.batch * 3 * hw);
    const w1 = randArray(rand, d * kIn, -0.3, 0.3), b1 = randArray(rand, d);
    const w2 = randArray(rand, d * d, -0.3, 0.3), b2 = randArray(rand, d);
    const pos = posEmbed2d(t.region / t.patch, d), cin = new Float32Array([0.7, 1.3]);
    const tokens = upload(device, 'tokens', n * d);
    await runChecked(device, 'embed', () => preparePatchEmbed(device, {
      ...t, label: 'test.patch', prev: 'read', x: upload(device, 'x', x), fprev: upload(device, 'fprev', fprev),
      coef: upload(device, 'cin', cin), cinOffset: 0, cinStride: 1, out: upload(device, 'P', n * kIn),
      d, w1: upload(device, 'w1', w1), b1: upload(device, 'b1', b1), w2: upload(device, 'w2', w2), b2: upload(device, 'b2', b2),
      pos: upload(device, 'pos', pos), hidden: upload(device, 'h', n * d), tokens }));
    const P = patchGatherRef(t, 'read', x, cin, fprev);
    const h = linearRef(P, w1, b1, n, kIn, d, { epilogue: 'gelu' });
    const ref = linearRef(h, w2, b2, n, d, d, { epilogue: 'posadd', aux: pos, posRows: T });
    // Two chained f32 linears (K ≤ 32) and a tanh: 1e-4 relative, 1e-5 absolute near zero.
    expectClose(await download(device, tokens, n * d), ref, { rtol: 1e-4, atol: 1e-5 });
  });
});

describe('posEmbed2d', () => {
  it('is [sin(tx·ω) | cos(tx·ω) | sin(ty·ω) | cos(ty·ω)] with ω_j = 10000^(−j/q)', () => {
    const g = 3, d = 8, pe = posEmbed2d(g, d); // q = 2, ω = [1, 0.01]
    expect(pe.length).toBe(g * g * d);
    const row = (ty: number, tx: number) => Array.from(pe.subarray((ty * g + tx) * d, (ty * g + tx + 1) * d));
    expect(row(0, 0)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    const r = row(2, 1);
    const want = [Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01), Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02)];
    expectClose(r, want, { atol: 1e-7 }); // f32 storage of f64 values
  });
});

