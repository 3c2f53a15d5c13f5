// The engine runs any stack the trainer makes: official-style patches 2/8/2 (a patch-8 middle brick
// of 4 tokens per region, a patch-2 whole-canvas brick of 256) in progressive growth and refinement
// order, against the PyTorch reference (train/fixtures.py STACKS) on a 32×32 canvas (test/fixtures/
// tiny covers non-square canvases of several top regions). Tolerance as in parity.test.ts: max |Δ| ≤ 1e-3 (f32 against PyTorch f32; x spans ±80).
import { beforeAll, describe, expect, it } from 'vitest';
import { LegoEngine } from '../../src/engine/engine';
import type { LoadedModel } from '../../src/model/load';
import { getTestGpu, takeUncapturedErrors } from '../gpu';
import { loadGolden, loadTinyModel, STACK_FIXTURES, type Golden } from './fixture';

const ATOL = 1e-3;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe.each(STACK_FIXTURES)('engine parity on stack $name', ({ dir }) => {
  let golden: Golden, model: LoadedModel, engine: LegoEngine;
  beforeAll(async () => {
    golden = loadGolden(dir);
    model = await loadTinyModel(dir);
    engine = await LegoEngine.create(await getTestGpu(), model);
    return () => engine.destroy();
  });

  it('has a patch-8 brick and a patch-2 whole-canvas brick', () => {
    const bricks = model.meta.architecture.bricks;
    expect(bricks.map((b) => b.patch)).toContain(8);
    expect(bricks.find((b) => b.region === 32)?.patch).toBe(2);
  });

  for (const name of ['all', 'skip_middle', 'skip_top', 'skip_bottom', 'shifted']) {
    it(`every active brick's output: ${name}`, async () => {
      const { meta, tensors } = golden;
      const c = meta.cases[name];
      const [H, W] = meta.canvas;
      const out = await engine.evaluate(tensors.get('x')!, W, H, meta.sigma, tensors.get('labels')!, c.active, c.shift);
      c.outputs.forEach((key, i) => expect(maxAbsDiff(out[i], tensors.get(key)!), key).toBeLessThanOrEqual(ATOL));
      expect(takeUncapturedErrors()).toEqual([]);
    });
  }

  it('a guided 3-step Heun trajectory from fixed noise', async () => {
    const { meta, tensors } = golden;
    const [H, W] = meta.canvas;
    const labels = tensors.get('labels')!;
    const vec = labels.subarray(0, labels.length / meta.batch);
    const spec = model.meta.labels;
    const w0 = spec.groups.words[0];
    const res = await engine.generate({
      width: W, height: H, steps: meta.heun.steps, sampler: 'heun', cfg: meta.heun.cfg, seed: 0, batch: meta.batch,
      noise: tensors.get('heun.noise')!, bricks: model.meta.architecture.bricks.map(() => ({ enabled: true })),
      labels: {
        category: spec.categories[vec.subarray(...spec.groups.category).indexOf(1)],
        style: spec.styles[vec.subarray(...spec.groups.style).indexOf(1)],
        prompt: spec.vocab.filter((_, i) => vec[w0 + i] === 1).join(' '),
      },
    });
    expect(maxAbsDiff(res.raw, tensors.get(meta.heun.trajectory.at(-1)!)!)).toBeLessThanOrEqual(ATOL);
  });
});
