import { describe, it } from 'vitest';
import {
  denoiseRef, edmCoefTable, eulerStepRef, heunCorrectRef, heunPredictRef, prepareDenoise,
  prepareEulerStep, prepareHeunCorrect, prepareHeunPredict, setGuidance, setStepTimes,
} from '../../src/kernels/sampler';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

// A handful of f32 multiply-adds per element, same order as the reference (which rounds its
// scalars to f32 as the uniforms do): 1e-5 relative, 1e-6 absolute.
const TOL = { rtol: 1e-5, atol: 1e-6 };

describe('edm_denoise', () => {
  for (const guided of [false, true]) {
    it(guided ? 'with guidance [cond | uncond]' : 'without guidance', async () => {
      const device = await getTestDevice();
      const rand = rng(guided ? 1 : 2);
      const B = 3, per = 3 * 5 * 7;
      const f = randArray(rand, (guided ? 2 : 1) * B * per), x = randArray(rand, B * per, -80, 80);
      const coef = edmCoefTable([80, 1.5, 0.002]);
      const out = upload(device, 'D', B * per);
      const op = prepareDenoise(device, { label: 'test.denoise', f: upload(device, 'F', f), x: upload(device, 'x', x),
        coef: upload(device, 'coef', coef), out, batch: B, perImage: per, guidance: guided ? 3.5 : undefined });
      await runChecked(device, 'denoise', () => [op]);
      expectClose(await download(device, out, B * per), denoiseRef(f, x, coef, B, per, guided ? 3.5 : undefined), TOL);
      if (guided) {
        setGuidance(device.queue, op, 0.25);
        await runChecked(device, 'denoise w=0.25', () => [op]);
        expectClose(await download(device, out, B * per), denoiseRef(f, x, coef, B, per, 0.25), TOL);
      }
    });
  }
});

describe('Euler and Heun updates', () => {
  it('euler_step in place, then new step times through setStepTimes', async () => {
    const device = await getTestDevice();
    const rand = rng(4);
    const n = 1001, x0 = randArray(rand, n, -10, 10), D = randArray(rand, n);
    const x = upload(device, 'x', x0);
    const op = prepareEulerStep(device, { label: 'test.euler', count: n, t: 12.5, tNext: 8.1, x, denoised: upload(device, 'D', D) });
    await runChecked(device, 'euler', () => [op]);
    const x1 = await download(device, x, n);
    expectClose(x1, eulerStepRef(x0, D, 12.5, 8.1), TOL);
    setStepTimes(device.queue, op, 0.5, 0);
    await runChecked(device, 'euler last step', () => [op]);
    expectClose(await download(device, x, n), eulerStepRef(x1, D, 0.5, 0), TOL); // t_next = 0: x' = D
  });

  it('heun_predict then heun_correct equals the EDM Heun step', async () => {
    const device = await getTestDevice();
    const rand = rng(5);
    const n = 67, t = 3.2, tNext = 1.7;
    const x0 = randArray(rand, n, -4, 4), D1 = randArray(rand, n), D2 = randArray(rand, n);
    const x = upload(device, 'x', x0), deriv = upload(device, 'd', n), xNext = upload(device, 'xn', n);
    await runChecked(device, 'heun predict', () => [prepareHeunPredict(device, {
      label: 'test.heun1', count: n, t, tNext, x, denoised: upload(device, 'D1', D1), deriv, xNext })]);
    const pred = heunPredictRef(x0, D1, t, tNext);
    expectClose(await download(device, deriv, n), pred.deriv, TOL);
    expectClose(await download(device, xNext, n), pred.xNext, TOL);
    await runChecked(device, 'heun correct', () => [prepareHeunCorrect(device, {
      label: 'test.heun2', count: n, t, tNext, x, xNext, denoised: upload(device, 'D2', D2), deriv })]);
    expectClose(await download(device, x, n), heunCorrectRef(x0, pred.xNext, D2, pred.deriv, t, tNext), TOL);
  });
});
