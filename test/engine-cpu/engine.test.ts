// The CPU engine beyond the fixtures: any brick stack (checked against the WebGPU engine, an
// independent implementation, on a random 2/8/2-patch stack), live schedule changes, cancellation,
// previews, seeded noise shared with the WebGPU engine, bad options.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuEngine } from '../../src/engine-cpu/engine';
import { InvalidOptionsError, LegoEngine } from '../../src/engine/engine';
import type { GenerateOptions } from '../../src/engine/types';
import { expectedTensors, type BrickSpec } from '../../src/model/format';
import type { LoadedModel } from '../../src/model/load';
import { maxAbsDiff } from '../../tools/close';
import { getTestGpu } from '../gpu';
import { loadTinyModel } from '../engine/fixture';

const base: GenerateOptions = {
  width: 16, height: 16, steps: 4, sampler: 'euler', guidance: 1, seed: 3, batch: 1,
  labels: { category: 'Animals', prompt: 'cat' },
  bricks: [{ enabled: true }, { enabled: true }, { enabled: true }],
};

/** The tiny model's labels and EDM constants with another brick stack and seeded random weights. */
function randomStack(tiny: LoadedModel, bricks: BrickSpec[]): LoadedModel {
  const architecture = { ...tiny.meta.architecture, bricks };
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
  const tensors = new Map<string, Float32Array>();
  for (const [name, shape] of expectedTensors(architecture)) {
    const fanIn = shape.length > 1 ? shape[1] : 1;
    tensors.set(name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (2 * rand()) / Math.sqrt(fanIn)));
  }
  return { meta: { ...tiny.meta, architecture }, tensors };
}

describe('CpuEngine', () => {
  let model: LoadedModel, engine: CpuEngine;
  beforeAll(async () => {
    model = await loadTinyModel();
    ort.env.wasm.numThreads = 1;
    engine = await CpuEngine.create(model, { ort });
  });

  it('runs any brick stack: a random 2/8/2-patch stack matches the WebGPU engine', async () => {
    const stack = randomStack(model, [{ region: 8, patch: 2, depth: 1 }, { region: 16, patch: 8, depth: 2 }, { region: 16, patch: 2, depth: 1 }]);
    const cpu = await CpuEngine.create(stack, { ort });
    const gpu = await LegoEngine.create(await getTestGpu(), stack);
    try {
      const opts = { ...base, width: 32, height: 16, steps: 3, sampler: 'heun' as const, guidance: 2, batch: 1, shiftTiling: true };
      const [a, b] = [await cpu.generate(opts), await gpu.generate(opts)];
      // f32 both; summation orders differ (wasm SIMD GEMM vs WGSL tiles) and grow over 5 evaluations
      // with x up to ±80 at σ_max: the fixtures' tolerance.
      expect(maxAbsDiff(a.raw, b.raw)).toBeLessThanOrEqual(1e-3);
      expect(a.evaluations).toBe(b.evaluations);
    } finally {
      cpu.destroy();
      gpu.destroy();
    }
  });

  it('draws the same seeded noise as the WebGPU engine: one step from the same seed, the same image', async () => {
    const gpu = await LegoEngine.create(await getTestGpu(), model);
    try {
      const opts = { ...base, steps: 1, seed: 77 };
      expect(maxAbsDiff((await engine.generate(opts)).raw, (await gpu.generate(opts)).raw)).toBeLessThanOrEqual(1e-3);
    } finally {
      gpu.destroy();
    }
  });

  it('applies a brick switched off during a run from the next evaluation, like a skip window', async () => {
    const live = await engine.generate({
      ...base,
      onStep: (s) => { if (s.step === 2) engine.setBricks([{ enabled: true }, { enabled: true }, { enabled: false }]); },
    });
    const window = await engine.generate({ ...base, bricks: [{ enabled: true }, { enabled: true }, { enabled: true, skip: [0.5, 1] }] });
    const all = await engine.generate(base);
    expect(maxAbsDiff(live.raw, window.raw)).toBe(0);
    expect(maxAbsDiff(live.raw, all.raw)).toBeGreaterThan(1e-3);
    expect(live.dispatches).toBeLessThan(all.dispatches); // fewer graph runs
  });

  it('reports previews and stops when cancelled', async () => {
    const abort = new AbortController();
    const seen: number[] = [];
    const run = engine.generate({
      ...base, steps: 10, preview: true, signal: abort.signal,
      onStep: (s) => {
        seen.push(s.step);
        expect(s.preview!.images[0].length).toBe(16 * 16 * 4);
        if (s.step === 2) abort.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([1, 2]);
    expect((await engine.generate(base)).stepMs.length).toBe(4); // usable afterwards
  });

  it('rejects bad options with the WebGPU engine\'s messages', async () => {
    await expect(engine.generate({ ...base, width: 24 })).rejects.toThrow(/width 24 is not a valid canvas size: use multiples of 16/);
    await expect(engine.generate({ ...base, bricks: [{ enabled: false }, { enabled: false }, { enabled: false }] })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(engine.generate({ ...base, bricks: [{ enabled: true }] })).rejects.toThrow(/expected 3 brick settings, got 1/);
    await expect(engine.generate({ ...base, noise: new Float32Array(5) })).rejects.toThrow(/noise has 5 values, expected 768/);
    // tiny model (d 32, brick 1: 2×2 patches): 1024×1024, 8 guided images → 16·2¹⁸ tokens × 128 floats = 2 GiB
    await expect(engine.generate({ ...base, width: 1024, height: 1024, batch: 8, guidance: 2 })).rejects.toThrow(/needs a 2048 MiB activation, over the 128 MiB both engines allow/);
  });
});
