// Bricks on canvases other than their training size, against the PyTorch reference (train/fixtures.py
// cover-16: a 16×16 brick of patch 4 on a 4/8 stack of canvas unit 8): on 8×16 the brick does not fit and
// is inactive, on 16×32 it tiles two regions, on 24×40 and 24×32 its regions overlap (the fold averages
// them); every active brick's D_k with bricks skipped and with the rolled tiling, and a guided 3-step Heun
// run with the rolled tiling on its odd step, on each canvas, in both engines.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CpuEngine } from '../../src/engine-cpu/engine';
import type { LegoEngine } from '../../src/engine/engine';
import type { LoadedModel } from '../../src/model/load';
import { allClose, diffStats } from '../../tools/close';
import { takeUncapturedErrors } from '../gpu';
import { ATOL, ENGINE_KINDS, ENGINES, STATE_TOL } from './engines';
import { COVER_DIR, type CoverMeta, type Golden, labelChoice, loadGolden, loadTinyModel } from './fixture';


describe.each(ENGINE_KINDS)('%s engine on canvases the top brick does not tile', (kind) => {
  let golden: Golden<CoverMeta>, model: LoadedModel, engine: LegoEngine | CpuEngine;
  beforeAll(async () => {
    golden = loadGolden<CoverMeta>(COVER_DIR);
    model = await loadTinyModel(COVER_DIR);
    engine = await ENGINES[kind](model);
    return () => engine.destroy();
  });

  const canvases = ['8x16', '16x32', '24x40', '24x32'];
  for (const name of canvases) {
    it(`${name}: every active brick's output, with bricks skipped and with the rolled tiling`, async () => {
      const g = golden.meta.canvases[name];
      const t = (key: string) => golden.tensors.get(`${name}.${key}`)!;
      const [H, W] = g.canvas;
      const errs: string[] = [];
      for (const [caseName, c] of Object.entries(g.cases)) {
        const out = await engine.evaluate(t('x'), W, H, g.sigma, t('labels'), c.active, c.shift);
        expect(out, `${caseName}: the bricks that ran`).toHaveLength(c.outputs.length);
        c.outputs.forEach((key, i) => {
          const { maxAbs, at } = diffStats(out[i], golden.tensors.get(key)!);
          expect(maxAbs, `${key}: worst element ${at}`).toBeLessThanOrEqual(ATOL);
          errs.push(`${key} ${maxAbs.toExponential(1)}`);
        });
      }
      console.info(`parity max |Δ|: ${errs.join(', ')}`);
      expect(takeUncapturedErrors()).toEqual([]);
    });

    it(`${name}: every step of a guided 3-step Heun run with the rolled tiling`, async () => {
      const g = golden.meta.canvases[name];
      const t = (key: string) => golden.tensors.get(`${name}.${key}`)!;
      const [H, W] = g.canvas;
      const labels = t('labels');
      const states: Float32Array[] = [];
      await engine.generate({
        width: W, height: H, steps: g.heun.steps, sampler: 'heun', guidance: g.heun.cfg, seed: 0, batch: g.batch,
        noise: t('heun.noise'), bricks: model.meta.architecture.bricks.map(() => ({ enabled: true })),
        labels: labelChoice(model.meta.labels, labels.subarray(0, labels.length / g.batch)), shiftTiling: true,
        traceX: true, onStep: (s) => states.push(s.x!),
      });
      g.heun.trajectory.slice(1).forEach((key, i) => {
        const r = allClose(states[i], golden.tensors.get(key)!, STATE_TOL);
        expect(r.ok, `${key}: ${r.message}`).toBe(true);
      });
    });
  }

  it('8x16: the 16×16 brick reports no share of the compute and does not run', async () => {
    expect(engine.brickCost(16, 8)[2]).toBe(0);
    const steps: number[][] = [];
    await engine.generate({
      width: 16, height: 8, steps: 2, sampler: 'euler', guidance: 1, seed: 1, batch: 1,
      labels: { category: null, style: null, prompt: '' }, bricks: [{ enabled: true }, { enabled: true }, { enabled: true }],
      onStep: (s) => steps.push(s.active),
    });
    expect(steps).toEqual([[0, 1], [0, 1]]);
    await expect(engine.generate({
      width: 16, height: 8, steps: 2, sampler: 'euler', guidance: 1, seed: 1, batch: 1,
      labels: { category: null, style: null, prompt: '' }, bricks: [{ enabled: false }, { enabled: false }, { enabled: true }],
    })).rejects.toThrow(/no enabled brick runs on a 16×8 canvas: enable one of bricks 1, 2/);
  });
});
