import { describe, expect, it } from 'vitest';
import { linearKey, linearRef, prepareLinear, type LinearEpilogue, type LinearVersion } from '../../src/kernels/linear';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

// f32 dot products of length K vs an f64 reference: error grows ~√K·2⁻²⁴·Σ|xw|; with K ≤ 1001
// and entries in [-1, 1] that is well below 1e-4 relative, but cancellation can make single
// outputs near zero, hence the small atol.
const TOL = { rtol: 1e-4, atol: 1e-5 };

async function check(seed: number, n: number, k: number, m: number, epilogue: LinearEpilogue, version?: LinearVersion) {
  const device = await getTestDevice();
  const rand = rng(seed);
  const x = randArray(rand, n * k), w = randArray(rand, m * k, -0.5, 0.5), b = randArray(rand, m);
  const rowsPerImage = Math.max(1, Math.ceil(n / 3)), images = Math.ceil(n / rowsPerImage);
  const auxStride = 3 * m + 5, auxOffset = 7; // gate of image i at aux[7 + i·(3m+5) …]
  const posRows = Math.max(1, Math.min(n, 5));
  const aux = epilogue === 'residual' ? randArray(rand, auxOffset + images * auxStride)
    : epilogue === 'posadd' ? randArray(rand, posRows * m) : undefined;
  const y0 = randArray(rand, n * m);
  const bufs = {
    x: upload(device, 'x', x), w: upload(device, 'w', w), b: upload(device, 'b', b),
    y: upload(device, 'y', y0), aux: aux && upload(device, 'aux', aux),
  };
  const params = { n, k, m, epilogue, rowsPerImage, auxOffset, auxStride, posRows, version };
  await runChecked(device, `linear ${n}×${k}→${m} ${epilogue}`,
    () => [prepareLinear(device, { label: 'test.linear', ...bufs, ...params })]);
  const out = await download(device, bufs.y, n * m);
  const ref = linearRef(x, w, b, n, k, m, { ...params, y: y0, aux });
  expectClose(out, ref, TOL, `${linearKey(params)} ${n}×${k}→${m}`);
}

describe('linear', () => {
  // Awkward shapes: 1, 3, 67 and 1001 hit every edge of the 4×4 tile and the K mod 4 tail.
  // v3 (16×8 tile) and v2 (4×4) on K % 4 == 0; K % 4 ≠ 0 takes v2's scalar path for both.
  const shapes: [number, number, number][] = [
    [1, 3, 67], [67, 1001, 3], [5, 8, 1], [33, 64, 48], [7, 67, 13], [64, 192, 96], [17, 4, 5],
    [70, 20, 19], [1, 4, 1], [130, 12, 67],
  ];
  for (const version of ['v2', 'v3'] as LinearVersion[]) {
    for (const [n, k, m] of shapes) {
      it(`${version} ${n}×${k}→${m} none`, () => check(n * 1000 + k + m, n, k, m, 'none', version));
    }
    for (const epi of ['gelu', 'residual', 'posadd', 'add'] as LinearEpilogue[]) {
      it(`${version} epilogue ${epi} (vec4 and scalar paths)`, async () => {
        await check(11, 37, 24, 21, epi, version);
        await check(12, 10, 13, 6, epi, version);
      });
    }
  }
  it('random shapes', async () => {
    const rand = rng(2024);
    for (let i = 0; i < 6; i++) {
      const [n, k, m] = [1 + Math.floor(rand() * 40), 1 + Math.floor(rand() * 90), 1 + Math.floor(rand() * 40)];
      await check(100 + i, n, k, m, 'none');
    }
  });
  it('the naive v1 kernel matches too', async () => {
    const device = await getTestDevice();
    const rand = rng(5);
    const [n, k, m] = [9, 30, 70];
    const x = randArray(rand, n * k), w = randArray(rand, m * k), b = randArray(rand, m);
    const y = upload(device, 'y', n * m);
    await runChecked(device, 'naive', () => [prepareLinear(device, {
      label: 'naive', x: upload(device, 'x', x), w: upload(device, 'w', w), b: upload(device, 'b', b),
      y, n, k, m, epilogue: 'gelu', version: 'v1_naive' })]);
    expectClose(await download(device, y, n * m), linearRef(x, w, b, n, k, m, { epilogue: 'gelu' }), TOL);
  });
});

describe('linear variant keys', () => {
  it('names the version, epilogue, load path and workgroup', () => {
    expect(linearKey({ k: 192, epilogue: 'gelu' })).toBe('linear_v3_16x8_vec4_gelu_f32_wg8x8');
    expect(linearKey({ k: 67 })).toBe('linear_v2_4x4_scalar_none_f32_wg16x4');
    expect(linearKey({ k: 8, version: 'v1_naive' })).toBe('linear_v1_naive_none_f32_wg64x1');
    // fewer than 16 rows (the adaLN linear over the network images) take v2's 4-row tile
    expect(linearKey({ k: 192, n: 2 })).toBe('linear_v2_4x4_vec4_none_f32_wg16x4');
    expect(linearKey({ k: 192, n: 16 })).toBe('linear_v3_16x8_vec4_none_f32_wg8x8');
  });
});
