// The CPU engine (onnxruntime-web wasm) against the PyTorch reference, with the same fixtures and
// tolerance as the WebGPU engine's parity test (test/engine/parity.test.ts): every brick's D_k with
// all bricks on, skipped and shifted, and a guided 3-step Heun run, on every fixture (the tiny stack
// on a non-square 32×16 canvas, the official-style 2/8/2 stacks in PG and PR order).
// Tolerance: max |Δ| ≤ 1e-3 (f32 against PyTorch f32; errors compound over bricks and steps, and x
// spans about ±80 at σ_max).
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuEngine } from '../../src/engine-cpu/engine';
import type { LoadedModel } from '../../src/model/load';
import { diffStats } from '../../tools/close';
import { FIXTURES, labelChoice, loadGolden, loadTinyModel, type Golden } from '../engine/fixture';

const ATOL = 1e-3;

describe.each(FIXTURES)('CPU engine parity with the PyTorch reference: $name', ({ dir }) => {
  let golden: Golden, model: LoadedModel, engine: CpuEngine;
  beforeAll(async () => {
    golden = loadGolden(dir);
    model = await loadTinyModel(dir);
    ort.env.wasm.numThreads = 1;
    engine = await CpuEngine.create(model, { ort });
  });

  for (const name of ['all', 'skip_middle', 'skip_top', 'skip_bottom', 'shifted']) {
    it(`every active brick's output: ${name}`, async () => {
      const { meta, tensors } = golden;
      const c = meta.cases[name];
      const [H, W] = meta.canvas;
      const out = await engine.evaluate(tensors.get('x')!, W, H, meta.sigma, tensors.get('labels')!, c.active, c.shift);
      const errs = c.outputs.map((key, i) => {
        const { maxAbs, at } = diffStats(out[i], tensors.get(key)!);
        expect(maxAbs, `${key}: worst element ${at}`).toBeLessThanOrEqual(ATOL);
        return `${key} ${maxAbs.toExponential(1)}`;
      });
      console.info(`cpu parity max |Δ|: ${errs.join(', ')}`);
    });
  }

  it('a guided 3-step Heun trajectory from fixed noise', async () => {
    const { meta, tensors } = golden;
    const [H, W] = meta.canvas;
    const labels = tensors.get('labels')!;
    const vec = labels.subarray(0, labels.length / meta.batch);
    const res = await engine.generate({
      width: W, height: H, steps: meta.heun.steps, sampler: 'heun', guidance: meta.heun.cfg, seed: 0, batch: meta.batch,
      noise: tensors.get('heun.noise')!, bricks: model.meta.architecture.bricks.map(() => ({ enabled: true })),
      labels: labelChoice(model.meta.labels, vec),
    });
    expect(res.evaluations).toBe(5); // Heun: 2 per step but the last
    const { maxAbs, at } = diffStats(res.raw, tensors.get(meta.heun.trajectory[3])!);
    expect(maxAbs, `worst element ${at}`).toBeLessThanOrEqual(ATOL);
    console.info(`cpu parity max |Δ|: heun x3 ${maxAbs.toExponential(1)}`);
  });
});
