// The CPU engine (onnxruntime-web wasm) against the PyTorch reference, with the same fixtures and
// tolerance as the WebGPU engine's parity test (test/engine/parity.test.ts): every brick's D_k with
// all bricks on, skipped and shifted, and a guided 3-step Heun run, on a non-square 32×16 canvas.
// Tolerance: max |Δ| ≤ 1e-3 (f32 against PyTorch f32; errors compound over bricks and steps, and x
// spans about ±80 at σ_max).
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuEngine } from '../../src/engine-cpu/engine';
import type { LoadedModel } from '../../src/model/load';
import { loadGolden, loadTinyModel, type Golden } from '../engine/fixture';

const ATOL = 1e-3;

function maxAbsDiff(a: Float32Array, b: Float32Array): { max: number; at: number } {
  expect(a.length).toBe(b.length);
  let max = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) [max, at] = [d, i];
  }
  return { max, at };
}

describe('CPU engine parity with the PyTorch reference', () => {
  let golden: Golden, model: LoadedModel, engine: CpuEngine;
  beforeAll(async () => {
    golden = loadGolden();
    model = await loadTinyModel();
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
        const { max, at } = maxAbsDiff(out[i], tensors.get(key)!);
        expect(max, `${key}: worst element ${at}`).toBeLessThanOrEqual(ATOL);
        return `${key} ${max.toExponential(1)}`;
      });
      console.info(`cpu parity max |Δ|: ${errs.join(', ')}`);
    });
  }

  it('a guided 3-step Heun trajectory from fixed noise', async () => {
    const { meta, tensors } = golden;
    const [H, W] = meta.canvas;
    const labels = tensors.get('labels')!;
    const vec = labels.subarray(0, labels.length / meta.batch);
    const spec = model.meta.labels;
    const res = await engine.generate({
      width: W, height: H, steps: meta.heun.steps, sampler: 'heun', guidance: meta.heun.cfg, seed: 0, batch: meta.batch,
      noise: tensors.get('heun.noise')!, bricks: [{ enabled: true }, { enabled: true }, { enabled: true }],
      labels: {
        category: spec.categories[vec.indexOf(1)],
        style: spec.styles[vec.subarray(3, 5).indexOf(1)],
        prompt: spec.vocab.filter((_, i) => vec[5 + i] === 1).join(' '),
      },
    });
    expect(res.evaluations).toBe(5); // Heun: 2 per step but the last
    const { max, at } = maxAbsDiff(res.raw, tensors.get(meta.heun.trajectory[3])!);
    expect(max, `worst element ${at}`).toBeLessThanOrEqual(ATOL);
    console.info(`cpu parity max |Δ|: heun x3 ${max.toExponential(1)}`);
  });
});
