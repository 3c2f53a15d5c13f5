import { describe, it } from 'vitest';
import { attentionRef, prepareAttention } from '../../src/kernels/attention';
import { getTestDevice } from '../gpu';
import { download, expectClose, randArray, rng, runChecked, upload } from '../util';

async function check(seed: number, seqs: number, L: number, heads: number, dh: number, range = 1,
  tol = { rtol: 1e-4, atol: 1e-5 }) {
  const device = await getTestDevice();
  const rand = rng(seed);
  const d = heads * dh, ntok = seqs * L;
  const qkv = randArray(rand, ntok * 3 * d, -range, range);
  const out = upload(device, 'out', ntok * d);
  const p = { ntok, d, heads, seqLen: L };
  await runChecked(device, `attention L=${L} h=${heads} dh=${dh}`, () => [prepareAttention(device, {
    label: 'test.attn', qkv: upload(device, 'qkv', qkv), out, ...p })]);
  expectClose(await download(device, out, ntok * d), attentionRef(qkv, p), tol, `attention L=${L} h=${heads} dh=${dh}`);
}

describe('region attention', () => {
  // Outputs are convex combinations of v entries in [-1, 1]: f32 exp/sums over L keys stay well
  // within 1e-4 relative; 1e-5 absolute for outputs that average out near zero.
  for (const [seqs, L, heads, dh] of [
    [3, 4, 2, 16], [2, 16, 3, 32], [1, 64, 1, 64], [5, 9, 2, 24], [2, 7, 4, 4], [1, 1, 1, 16],
  ]) {
    it(`${seqs} sequences, L=${L}, heads=${heads}, dh=${dh}`, () => check(seqs * L + dh, seqs, L, heads, dh));
  }
  it('peaked scores (|q|,|k| up to 4): the online softmax rescales without overflow', () =>
    check(5, 2, 32, 2, 32, 4, { rtol: 1e-4, atol: 2e-5 }));
  it('L = 1024 (one sequence, one head, dh 16)', () =>
    // Sums of 1024 terms: 1e-4 relative and a slightly larger 3e-5 absolute floor.
    check(1024, 1, 1024, 1, 16, 1, { rtol: 1e-4, atol: 3e-5 }));
});
