// Both engines (WGSL on WebGPU, and the CPU engine on onnxruntime-web wasm) against the PyTorch
// reference (train/fixtures.py), with the same tolerances: every brick's D_k with all
// bricks on, with bricks skipped and with a shifted region grid, and every step of a guided 3-step
// Heun run; on the tiny stack (non-square 32×16 canvas of two top regions) and on official-style
// 2/8/2-patch stacks in PG and PR order (32×32: a patch-8 brick of 4 tokens per region, a patch-2
// whole-canvas brick of 256). On the tiny stack, every step of edits from a start image: restyled,
// and repainted under a mask (Heun with guidance, Euler without).
import { beforeAll, describe, expect, it } from 'vitest';
import type { CpuEngine } from '../../src/engine-cpu/engine';
import type { LegoEngine } from '../../src/engine/engine';
import type { LoadedModel } from '../../src/model/load';
import { allClose, diffStats } from '../../tools/close';
import { takeUncapturedErrors } from '../gpu';
import { ATOL, ENGINE_KINDS, ENGINES, STATE_TOL } from './engines';
import { FIXTURES, labelChoice, loadEditGolden, loadGolden, loadTinyModel, type Golden } from './fixture';

// An edit starts at σ = 0.97 (states up to ±5, f32 ulp 5e-7): measured ≤ 2e-5 on both engines.
const EDIT_TOL = { atol: 1e-4 };

const CASES = ENGINE_KINDS.flatMap((engine) => FIXTURES.map((f) => ({ ...f, engine })));

describe.each(CASES)('$engine engine parity with the PyTorch reference: $name', ({ dir, engine: kind }) => {
  let golden: Golden, model: LoadedModel, engine: LegoEngine | CpuEngine;
  beforeAll(async () => {
    golden = loadGolden(dir);
    model = await loadTinyModel(dir);
    engine = await ENGINES[kind](model);
    return () => engine.destroy();
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
      console.info(`parity max |Δ|: ${errs.join(', ')}`);
      expect(takeUncapturedErrors()).toEqual([]);
    });
  }

  it('every step of a guided 3-step Heun trajectory from fixed noise', async () => {
    const { meta, tensors } = golden;
    const [H, W] = meta.canvas;
    const labels = tensors.get('labels')!;
    const vec = labels.subarray(0, labels.length / meta.batch); // the reference uses image 0's labels for all
    const states: Float32Array[] = [];
    const res = await engine.generate({
      width: W, height: H, steps: meta.heun.steps, sampler: 'heun', guidance: meta.heun.cfg, seed: 0, batch: meta.batch,
      noise: tensors.get('heun.noise')!, bricks: model.meta.architecture.bricks.map(() => ({ enabled: true })),
      labels: labelChoice(model.meta.labels, vec),
      traceX: true,
      onStep: (s) => states.push(s.x!),
    });
    expect(res.evaluations).toBe(5); // Heun: 2 per step but the last
    expect(states).toHaveLength(meta.heun.steps);
    const errs = meta.heun.trajectory.slice(1).map((key, i) => {
      const r = allClose(states[i], tensors.get(key)!, STATE_TOL);
      expect(r.ok, `${key}: ${r.message}`).toBe(true);
      return `${key} ${r.absErr.toExponential(1)}`;
    });
    expect(res.raw).toEqual(states[states.length - 1]);
    console.info(`parity worst |Δ|: ${errs.join(', ')}`);
  });

  if (dir === FIXTURES[0].dir) {
    it.each(['restyle', 'repaint', 'repaint_euler'])('every step of an edit from a start image: %s', async (name) => {
      const { meta, tensors } = loadEditGolden(dir);
      const c = meta.cases[name];
      const [H, W] = meta.canvas;
      const states: Float32Array[] = [];
      const res = await engine.generate({
        width: W, height: H, steps: meta.steps, sampler: c.sampler, guidance: c.guidance, seed: 0, batch: meta.batch,
        noise: tensors.get('noise')!, shiftTiling: true,
        start: { image: tensors.get('start')!, strength: meta.strength, mask: c.mask ? tensors.get('mask')! : undefined },
        bricks: model.meta.architecture.bricks.map(() => ({ enabled: true })),
        labels: labelChoice(model.meta.labels, tensors.get('labels')!), traceX: true,
        onStep: (s) => states.push(s.x!),
      });
      expect(states).toHaveLength(meta.edit_steps);
      expect(res.evaluations).toBe(c.sampler === 'heun' ? 2 * meta.edit_steps - 1 : meta.edit_steps);
      const errs = c.trajectory.slice(1).map((key, i) => {
        const r = allClose(states[i], tensors.get(key)!, EDIT_TOL);
        expect(r.ok, `${key}: ${r.message}`).toBe(true);
        return `${key} ${r.absErr.toExponential(1)}`;
      });
      console.info(`edit parity worst |Δ|: ${errs.join(', ')}`);
    });
  }
});
