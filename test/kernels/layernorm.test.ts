import { describe, it } from 'vitest';
import { layerNormRef, prepareLayerNorm } from '../../src/kernels/layernorm';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

async function check(seed: number, n: number, d: number, rowsPerImage: number, offset = 0,
  tol = { rtol: 1e-4, atol: 1e-5 }, eps = 1e-6) {
  const device = await getTestDevice();
  const rand = rng(seed);
  const x = randArray(rand, n * d, offset - 1, offset + 1);
  const images = Math.ceil(n / rowsPerImage);
  const p = { n, d, eps, rowsPerImage, modStride: 6 * d, shiftOffset: 3 * d, scaleOffset: 4 * d }; // block's 2nd LN
  const mod = randArray(rand, images * 6 * d);
  const out = upload(device, 'out', n * d);
  await runChecked(device, `layernorm ${n}×${d}`, () => [prepareLayerNorm(device, {
    label: 'test.ln', x: upload(device, 'x', x), mod: upload(device, 'mod', mod), out, ...p })]);
  expectClose(await download(device, out, n * d), layerNormRef(x, mod, p), tol, `layernorm ${n}×${d} offset ${offset}`);
}

describe('layernorm_modulate', () => {
  // Outputs are O(1): f32 sums of ≤ 1024 terms, rsqrt within 2 ulp → 1e-4 relative, 1e-5 absolute
  // for outputs that land near zero.
  for (const [n, d, rpi] of [[1, 1, 1], [3, 3, 1], [5, 67, 2], [9, 192, 4], [2, 1001, 1], [4, 1024, 3], [33, 65, 8]]) {
    it(`N=${n} d=${d} rowsPerImage=${rpi}`, () => check(n * 7 + d, n, d, rpi));
  }
  it('is stable for rows with a large mean (x ≈ 1000 ± 1)', () =>
    // The f32 mean of values near 1000 is off by ~1e-5 (ulp(1000) = 6e-5): x̂ moves by that much.
    check(99, 6, 384, 2, 1000, { rtol: 1e-4, atol: 2e-4 }));
  it('uses the eps it is given (model.json layernorm_eps)', () =>
    // Rows of U(−1, 1) have variance ≈ 1/3: eps 0.1 changes x̂ by ~15%, far outside the tolerance.
    check(5, 4, 96, 2, 0, undefined, 0.1));
});
