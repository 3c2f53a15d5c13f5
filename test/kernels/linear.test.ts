import { describe, expect, it } from 'vitest';
import { geluTanh, linearKey, linearRef, prepareLinear, type LinearVersion } from '../../src/kernels/linear';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

// f32 dot products of length K vs an f64 reference: error grows ~√K·2⁻²⁴·Σ|xw|; with K ≤ 1001
// and entries in [-1, 1] that is well below 1e-4 relative, but cancellation can make single
// outputs near zero, hence the small atol.
const TOL = { rtol: 1e-4, atol: 1e-5 };

async function check(seed: number, n: number, k: number, m: number, version?: LinearVersion) {
  const device = await getTestDevice();
  const rand = rng(seed);
  const x = randArray(rand, n * k), w = randArray(rand, m * k, -0.5, 0.5), b = randArray(rand, m);
  const y = upload(device, 'y', n * m);
  const params = { n, k, m, version };
  await runChecked(device, `linear ${n}×${k}→${m}`, () => [prepareLinear(device, {
    label: 'test.linear', x: upload(device, 'x', x), w: upload(device, 'w', w), b: upload(device, 'b', b), y, ...params })]);
  expectClose(await download(device, y, n * m), linearRef(x, w, b, n, k, m), TOL, `${linearKey(params)} ${n}×${k}→${m}`);
}

describe('linear', () => {
  // Awkward shapes: 1, 3, 67 and 1001 hit every edge of the 4×4 tile and the K mod 4 tail.
  // v3 (16×8 tile) and v2 (4×4) on K % 4 == 0; K % 4 ≠ 0 takes v2's scalar path for both.
  const shapes: [number, number, number][] = [
    [1, 3, 67], [67, 1001, 3], [5, 8, 1], [33, 64, 48], [7, 67, 13], [64, 192, 96], [17, 4, 5],
    [70, 20, 19], [1, 4, 1], [130, 12, 67],
  ];
  for (const version of ['v1_naive', 'v2', 'v3'] as LinearVersion[]) {
    for (const [n, k, m] of shapes) {
      it(`${version} ${n}×${k}→${m}`, () => check(n * 1000 + k + m, n, k, m, version));
    }
  }
  it('random shapes (the default version for each N)', async () => {
    const rand = rng(2024);
    for (let i = 0; i < 6; i++) {
      const [n, k, m] = [1 + Math.floor(rand() * 40), 1 + Math.floor(rand() * 90), 1 + Math.floor(rand() * 40)];
      await check(100 + i, n, k, m);
    }
  });
});

describe('linearRef epilogues (the fused brick kernels\' expectations)', () => {
  it('gelu, gated residual per image, positional rows, add', () => {
    const x = new Float32Array([1, 2, 3, 4]), w = new Float32Array([1, 0, 0, 1]), b = new Float32Array([0.5, -0.5]);
    // x·Wᵀ + b with W = I: rows [1.5, 1.5] and [3.5, 3.5]
    // f32 storage of the f64 value: half an ulp
    expectClose(linearRef(x, w, b, 2, 2, 2, { epilogue: 'gelu' }), [1.5, 1.5, 3.5, 3.5].map(geluTanh), { rtol: 6e-8 });
    const y = new Float32Array([10, 20, 30, 40]), aux = new Float32Array([9, 2, 3, 4, 5]);
    // image of row r = r (1 row per image); its gates at aux[1 + 2r …]
    expect(Array.from(linearRef(x, w, b, 2, 2, 2, { epilogue: 'residual', y, aux, auxOffset: 1, auxStride: 2,
      rowsPerImage: 1 }))).toEqual([10 + 2 * 1.5, 20 + 3 * 1.5, 30 + 4 * 3.5, 40 + 5 * 3.5]);
    expect(Array.from(linearRef(x, w, b, 2, 2, 2, { epilogue: 'posadd', aux: new Float32Array([1, 2]), posRows: 1 })))
      .toEqual([2.5, 3.5, 4.5, 5.5]);
    expect(Array.from(linearRef(x, w, b, 2, 2, 2, { epilogue: 'add', y }))).toEqual([11.5, 21.5, 33.5, 43.5]);
  });
});

describe('linear variant keys', () => {
  it('names the version, load path and workgroup', () => {
    expect(linearKey({ k: 192 })).toBe('linear_v3_16x8_vec4_f32_wg8x8');
    expect(linearKey({ k: 67 })).toBe('linear_v2_4x4_scalar_f32_wg16x4');
    expect(linearKey({ k: 8, version: 'v1_naive' })).toBe('linear_v1_naive_f32_wg64x1');
    // fewer than 16 rows (the adaLN linear over the network images) take v2's 4-row tile
    expect(linearKey({ k: 192, n: 2 })).toBe('linear_v2_4x4_vec4_f32_wg16x4');
    expect(linearKey({ k: 192, n: 16 })).toBe('linear_v3_16x8_vec4_f32_wg8x8');
  });
});
