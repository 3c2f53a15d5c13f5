// Dispatches per network evaluation of the shipped model, counted by the engine as it records them
// (nothing is submitted): on a real GPU a generation is bound by this count (docs/bench-gpu.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Plan } from '../../src/engine/plan';
import { GpuWeights } from '../../src/engine/weights';
import { loadModel, parseModelJson } from '../../src/model/load';
import { ROOT } from '../../tools/app';
import { getTestDevice } from '../gpu';

describe('dispatches per evaluation of the shipped model (lego-s: depths 2, 2, 6)', () => {
  it('2 for conditioning and adaLN; per brick its embed, 2 per block of small regions or 3, its final', async () => {
    const device = await getTestDevice();
    const dir = `${ROOT}/public/models/lego-emoji-32`;
    const meta = parseModelJson(readFileSync(`${dir}/model.json`, 'utf8'));
    const model = await loadModel(meta, new Uint8Array(readFileSync(`${dir}/${meta.weights.file}`)));
    const weights = new GpuWeights(device, model);
    const plan = new Plan(device, meta.architecture, weights, { width: 32, height: 32, batch: 1, guided: true, repaint: false });
    const euler = { kind: 'euler', t: 1, tNext: 0.5, masked: false } as const;
    const count = (active: number[], step: typeof euler | null = null) =>
      plan.encodeEvaluation(device.createCommandEncoder(), active, step);
    // bricks 1 and 2 have 4-token regions (2 dispatches per block), brick 3 256-token ones (3 per block)
    const brick = [1 + 2 * 2 + 1, 1 + 2 * 2 + 1, 1 + 3 * 6 + 1];
    expect(count([0, 1, 2])).toBe(2 + brick[0] + brick[1] + brick[2]);
    expect(count([1, 2])).toBe(2 + brick[1] + brick[2]);
    expect(count([0, 2])).toBe(2 + brick[0] + brick[2]);
    expect(count([0, 1])).toBe(2 + brick[0] + brick[1]);
    expect(count([0, 1, 2], euler)).toBe(2 + brick[0] + brick[1] + brick[2] + 1); // the sampler: one dispatch
    expect(count([0, 1, 2], euler)).toBeLessThanOrEqual(40); // issue 21's target, the sampler update included
    plan.destroy();
    weights.destroy();
  });
});
