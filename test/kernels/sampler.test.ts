import { describe, expect, it } from 'vitest';
import {
  edmCoefTable, prepareSamplerStep, type SamplerState, type SamplerStep, samplerStepRef, setGuidance, setSamplerStep,
} from '../../src/kernels/sampler';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

// A handful of f32 multiply-adds per element, in the reference's order (which rounds its scalars to
// f32 as the uniforms do, but adds in f64): 1e-5 relative; x − D cancels on states up to ±80 (σ_max),
// whose f32 ulp is 7.6e-6, so 2e-5 absolute.
const TOL = { rtol: 1e-5, atol: 2e-5 };

// Awkward sizes: 3 images of 5×7 (105 floats each, 315 in all: not a multiple of the workgroup), each
// image at its own σ, so every per-image index is exercised.
const B = 3, H = 5, W = 7, PIXELS = H * W, PER = 3 * PIXELS, N = B * PER;
const SIGMAS = [80, 1.5, 0.002];
// Heun's two stages from t = 3.2 to 1.7, then the last step (Euler to t = 0).
const STEPS: SamplerStep[] = [
  { kind: 'denoise', t: 1, tNext: 0, masked: false },
  { kind: 'heun-predict', t: 3.2, tNext: 1.7, masked: false },
  { kind: 'heun-correct', t: 3.2, tNext: 1.7, masked: false },
  { kind: 'euler', t: 1.7, tNext: 0, masked: false },
];

describe('edm_step: guidance, D, the update and the repaint blend in one dispatch', () => {
  for (const guided of [false, true]) {
    for (const masked of [false, true]) {
      it(`${guided ? 'guided' : 'unguided'}, ${masked ? 'repaint' : 'no mask'}: each kind as the CPU reference`,
        async () => {
          const device = await getTestDevice();
          const rand = rng(10 + 2 * Number(guided) + Number(masked));
          const f = randArray(rand, (guided ? 2 : 1) * N), coef = edmCoefTable(SIGMAS);
          const noise = randArray(rand, N, -3, 3), image = randArray(rand, PER, -1, 1);
          // a mask of 0s, 1s and blends
          const mask = Float32Array.from({ length: PIXELS }, (_, p) => [0, 1, 0.3][p % 3]);
          const ref: SamplerState = {
            x: randArray(rand, N, -80, 80), xNext: new Float32Array(N), deriv: new Float32Array(N),
            denoised: new Float32Array(N),
          };
          const gpu = {
            x: upload(device, 'x', ref.x), xNext: upload(device, 'xn', N), deriv: upload(device, 'd', N),
            denoised: upload(device, 'D', N),
          };
          const fBuf = upload(device, 'F', f);
          const known = new Float32Array([...image, ...mask]);
          const op = prepareSamplerStep(device, {
            label: 'test.step', f: fBuf, coef: upload(device, 'coef', coef), ...gpu, noise: upload(device, 'eps', noise),
            known: upload(device, 'known', known), batch: B, perImage: PER, guidance: guided ? 3.5 : undefined,
          });
          for (const [n, step] of STEPS.entries()) {
            const s = { ...step, masked: masked && step.kind !== 'denoise' };
            if (n === 2) { // the correction sees another F, as it does after the second evaluation
              f.set(randArray(rand, f.length));
              device.queue.writeBuffer(fBuf, 0, f as Float32Array<ArrayBuffer>);
            }
            setSamplerStep(device.queue, op, s);
            await runChecked(device, s.kind, () => [op]);
            samplerStepRef(ref, f, coef, B, PER, s, guided ? 3.5 : undefined,
              masked ? { image, mask, noise } : undefined);
            for (const k of ['x', 'xNext', 'deriv', 'denoised'] as const) {
              expectClose(await download(device, gpu[k], N), ref[k], TOL);
            }
          }
          if (masked) { // the last step lands on t = 0: unmasked pixels are the start image, exactly
            const x = await download(device, gpu.x, N);
            for (let i = 0; i < N; i++) {
              if (mask[(i % PER) % PIXELS] === 0) expect(x[i]).toBe(image[i % PER]);
            }
          }
        });
    }
  }

  it('setGuidance changes w of a prepared op', async () => {
    const device = await getTestDevice();
    const rand = rng(20);
    const f = randArray(rand, 2 * N), x = randArray(rand, N, -5, 5), coef = edmCoefTable(SIGMAS);
    const out = upload(device, 'D', N), xBuf = upload(device, 'x', x);
    const op = prepareSamplerStep(device, {
      label: 'test.w', f: upload(device, 'F', f), coef: upload(device, 'coef', coef), denoised: out, x: xBuf,
      xNext: upload(device, 'xn', N), deriv: upload(device, 'd', N), noise: upload(device, 'eps', N), known: upload(device, 'k', PER + PIXELS),
      batch: B, perImage: PER, guidance: 2,
    });
    setGuidance(device.queue, op, 0.25);
    setSamplerStep(device.queue, op, STEPS[0]);
    await runChecked(device, 'w = 0.25', () => [op]);
    const ref = { x, xNext: x, deriv: x, denoised: new Float32Array(N) };
    samplerStepRef(ref, f, coef, B, PER, STEPS[0], 0.25);
    expectClose(await download(device, out, N), ref.denoised, TOL);
  });

  it('refuses steps the sampler never takes', async () => {
    const device = await getTestDevice();
    const b = upload(device, 'b', N);
    const op = prepareSamplerStep(device, {
      label: 'test.bad', f: b, coef: upload(device, 'coef', edmCoefTable(SIGMAS)), denoised: b, x: b, xNext: b, deriv: b,
      noise: b, known: b, batch: B, perImage: PER,
    });
    expect(() => setSamplerStep(device.queue, op, { kind: 'euler', t: 0, tNext: 0, masked: false })).toThrow(/t > 0/);
    expect(() => setSamplerStep(device.queue, op, { kind: 'heun-correct', t: 1, tNext: 0, masked: false }))
      .toThrow(/t_next > 0/);
  });
});
