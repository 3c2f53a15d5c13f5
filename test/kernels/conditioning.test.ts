import { describe, it } from 'vitest';
import { fourierRef, prepareFourier, prepareSilu, siluRef } from '../../src/kernels/conditioning';
import { edmCoefTable, EDM_COEF } from '../../src/kernels/sampler';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

describe('fourier embedding', () => {
  it('matches the f32-argument reference over the sampler’s σ range (0.002 … 80)', async () => {
    const device = await getTestDevice();
    const sigmas = [0.002, 0.03, 0.5, 1, 7.3, 80];
    const coef = edmCoefTable(sigmas);
    const out = upload(device, 'emb', sigmas.length * 256);
    await runChecked(device, 'fourier', () => [prepareFourier(device, {
      label: 'test.fourier', coef: upload(device, 'coef', coef), coefOffset: EDM_COEF.cNoise,
      coefStride: EDM_COEF.stride, out, batch: sigmas.length, dim: 256 })]);
    const cNoise = sigmas.map((_, b) => coef[b * EDM_COEF.stride + EDM_COEF.cNoise]);
    // Same f32 argument on both sides; the kernel's own cos/sin (quadrant reduction + Cephes
    // polynomials, ~1e-7) replaces WGSL's, which SwiftShader gets wrong by ~2e-4: 2e-6 absolute.
    expectClose(await download(device, out, sigmas.length * 256), fourierRef(cNoise, 256), { atol: 2e-6 });
  });
  it('other widths (dim 8)', async () => {
    const device = await getTestDevice();
    const out = upload(device, 'emb', 3 * 8);
    const c = new Float32Array([-1.5, 0.2, 1.1]);
    await runChecked(device, 'fourier8', () => [prepareFourier(device, {
      label: 'test.fourier8', coef: upload(device, 'c', c), coefOffset: 0, coefStride: 1, out, batch: 3, dim: 8 })]);
    expectClose(await download(device, out, 24), fourierRef(c, 8), { atol: 2e-6 });
  });
});

describe('silu', () => {
  for (const n of [1, 67, 1001]) {
    it(`${n} elements`, async () => {
      const device = await getTestDevice();
      const x = randArray(rng(n), n, -20, 20);
      const out = upload(device, 'out', n);
      await runChecked(device, 'silu', () => [prepareSilu(device, { label: 'test.silu', x: upload(device, 'x', x), out, count: n })]);
      // exp within a few ulp and one division: 1e-5 relative; 1e-6 absolute for the tiny negatives.
      expectClose(await download(device, out, n), siluRef(x), { rtol: 1e-5, atol: 1e-6 });
    });
  }
});
