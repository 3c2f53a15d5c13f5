import { describe, expect, it } from 'vitest';
import { condEmbedRef, fourierRef, prepareCondEmbed, siluRef } from '../../src/kernels/conditioning';
import { edmCoefTable, EDM_COEF } from '../../src/kernels/sampler';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

/** Runs cond_embed on random weights; returns the scratch rows and SiLU(c) next to the reference's. */
async function run(seed: number, cNoise: number[], dim: number, d: number, L: number, coefOffset = 0, coefStride = 1) {
  const device = await getTestDevice();
  const rand = rng(seed);
  const n = cNoise.length;
  const coef = new Float32Array(n * coefStride);
  cNoise.forEach((c, b) => { coef[coefOffset + b * coefStride] = c; });
  const w = { t0: randArray(rand, d * dim, -0.2, 0.2), bt0: randArray(rand, d), t2: randArray(rand, d * d, -0.3, 0.3),
    bt2: randArray(rand, d), y: randArray(rand, d * L, -0.3, 0.3), by: randArray(rand, d) };
  // The tensors at multiples of 4 with junk between them, as the engine's pack has padding.
  const parts = [w.t0, w.bt0, w.t2, w.bt2, w.y, w.by];
  const at: number[] = [];
  let len = 4;
  for (const t of parts) { at.push(len); len += Math.ceil(t.length / 4) * 4 + 4; }
  const pack = new Float32Array(len).fill(1e6);
  parts.forEach((t, i) => pack.set(t, at[i]));
  const labels = new Float32Array(n * L).map(() => (rand() < 0.2 ? 1 : 0));
  const scratch = upload(device, 'scratch', n * (dim + d)), out = upload(device, 'out', n * d);
  await runChecked(device, 'cond_embed', () => [prepareCondEmbed(device, {
    label: 'test.cond', coef: upload(device, 'coef', coef), coefOffset, coefStride, labels: upload(device, 'labels', labels),
    pack: upload(device, 'pack', pack), w: { t0: at[0], bt0: at[1], t2: at[2], bt2: at[3], y: at[4], by: at[5] },
    scratch, out, images: n, dim, d, labelDim: L })]);
  return {
    scratch: await download(device, scratch, n * (dim + d)), out: await download(device, out, n * d),
    ref: condEmbedRef(cNoise, labels, w, dim, d),
  };
}

describe('cond_embed (Fourier → Linear → SiLU → Linear + label Linear → SiLU)', () => {
  it('Fourier features over the sampler’s σ range (0.002 … 80), and SiLU(c)', async () => {
    const sigmas = [0.002, 0.03, 0.5, 1, 7.3, 80];
    const table = edmCoefTable(sigmas);
    const cNoise = sigmas.map((_, b) => table[b * EDM_COEF.stride + EDM_COEF.cNoise]);
    const { scratch, out, ref } = await run(1, cNoise, 256, 32, 10);
    const emb = fourierRef(cNoise, 256);
    // Same f32 argument on both sides; the kernel's own cos/sin (quadrant reduction + Cephes
    // polynomials, ~1e-7) replaces WGSL's, which SwiftShader gets wrong by ~2e-4: 2e-6 absolute.
    cNoise.forEach((_, b) => expectClose(scratch.subarray(b * 288, b * 288 + 256), emb.subarray(b * 256, (b + 1) * 256),
      { atol: 2e-6 }, `fourier image ${b}`));
    // Three f32 dot products of ≤ 256 terms of O(1) on top: 1e-4 relative, 1e-5 absolute near zero.
    expectClose(out, ref, { rtol: 1e-4, atol: 1e-5 });
  });
  it('awkward sizes: dim 8, d 4, L 1; d 12, L 597 (the shipped label width), coefficients at a stride', async () => {
    const a = await run(2, [-1.5, 0.2, 1.1], 8, 4, 1);
    expectClose(a.out, a.ref, { rtol: 1e-4, atol: 1e-5 }, 'dim 8 d 4 L 1');
    const b = await run(3, [0.4, -0.9], 16, 12, 597, 3, 4);
    expectClose(b.out, b.ref, { rtol: 1e-4, atol: 1e-5 }, 'd 12 L 597');
  });
  it('refuses a Fourier width that is not a multiple of 8', async () => {
    await expect(run(4, [0], 12, 4, 1)).rejects.toThrow(/dim 12 must be a multiple of 8/);
  });
});

describe('siluRef', () => {
  it('is x·sigmoid(x)', () => {
    expectClose(siluRef(new Float32Array([0, 1, -20])), [0, 1 / (1 + Math.exp(-1)), -20 / (1 + Math.exp(20))],
      { atol: 1e-7 });
  });
});
