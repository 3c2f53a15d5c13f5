import { describe, expect, it } from 'vitest';
import { patchFoldRef, patchGatherRef, posEmbed2d, tokenCount, type Tiling } from '../../src/kernels/patch';
import { expectClose, randArray, rng } from '../util';

// The CPU references of the canvas ↔ token mapping are the expectations of the fused brick kernels'
// tests (test/kernels/brick.test.ts), so they are checked here on their own.
describe('patchGatherRef / patchFoldRef', () => {
  it('a 1-image 4×4 canvas, region 4, patch 2, shift (1, 3): hand-built patch rows', () => {
    const t: Tiling = { batch: 1, height: 4, width: 4, region: 4, patch: 2, shiftY: 1, shiftX: 3 };
    const x = Float32Array.from({ length: 3 * 16 }, (_, i) => i); // channel c, pixel y·4 + x holds 16c + 4y + x
    const P = patchGatherRef(t, 'none', x, [0.5]);
    expect(P.length).toBe(tokenCount(t) * 5 * 4);
    // token 1 = (ty 0, tx 1): grid pixels (0..1, 2..3) read source rows (1..2), columns (5..6) mod 4 = (1..2)
    const src = [[1, 1], [1, 2], [2, 1], [2, 2]];
    const want = [
      ...[0, 1, 2].flatMap((c) => src.map(([y, xx]) => 0.5 * (16 * c + 4 * y + xx))),
      ...src.map(([y]) => (2 * y + 1) / 4 - 1), ...src.map(([, xx]) => (2 * xx + 1) / 4 - 1),
    ];
    expect(Array.from(P.subarray(20, 40))).toEqual(want);
  });

  it('gather (F_prev channels) then fold is the identity on a non-square shifted canvas', () => {
    const t: Tiling = { batch: 2, height: 16, width: 24, region: 8, patch: 2, shiftY: 3, shiftX: 13 };
    const hw = t.height * t.width, pp = t.patch ** 2, n = tokenCount(t);
    const canvas = randArray(rng(77), t.batch * 3 * hw);
    const P = patchGatherRef(t, 'read', canvas, [1, 1], canvas);
    const y = new Float32Array(n * 3 * pp); // the F_prev block: the first 3p² entries of each 8p²-long row
    for (let i = 0; i < n; i++) y.set(P.subarray(i * 8 * pp, i * 8 * pp + 3 * pp), i * 3 * pp);
    expect(Array.from(patchFoldRef(t, y))).toEqual(Array.from(canvas));
  });

  it('overlapping regions (a side that is not a multiple of the region): the fold averages them', () => {
    // 4×6, region 4, patch 2: regions at columns 0 and 2 (model/canvas.ts regionOrigins); every patch value
    // of region 0 is 0 and of region 1 is 1, so columns 0–1 fold to 0, 2–3 to the mean 0.5, 4–5 to 1.
    const t: Tiling = { batch: 1, height: 4, width: 6, region: 4, patch: 2 };
    const n = tokenCount(t), row = 3 * 4;
    expect(n).toBe(2 * 4);
    const y = Float32Array.from({ length: n * row }, (_, i) => (Math.floor(i / row) >= 4 ? 1 : 0));
    const want = Array.from({ length: 3 * 24 }, (_, i) => [0, 0, 0.5, 0.5, 1, 1][i % 6]);
    expect(Array.from(patchFoldRef(t, y))).toEqual(want);
  });

  it('gather then fold is the identity with overlapping regions; a covered side ignores its shift', () => {
    const t: Tiling = { batch: 2, height: 16, width: 20, region: 8, patch: 2, shiftY: 3, shiftX: 13 };
    const hw = t.height * t.width, pp = t.patch ** 2, n = tokenCount(t);
    const canvas = randArray(rng(78), t.batch * 3 * hw);
    const P = patchGatherRef(t, 'read', canvas, [1, 1], canvas);
    const y = new Float32Array(n * 3 * pp);
    for (let i = 0; i < n; i++) y.set(P.subarray(i * 8 * pp, i * 8 * pp + 3 * pp), i * 3 * pp);
    expectClose(patchFoldRef(t, y), canvas, { atol: 1e-6 }); // means of equal f32 values
    expect(Array.from(patchGatherRef({ ...t, shiftX: 0 }, 'read', canvas, [1, 1], canvas))).toEqual(Array.from(P));
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

