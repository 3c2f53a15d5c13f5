// Engine behaviour beyond parity: skipping, live schedule changes, cancellation and reuse,
// determinism, bad options, device loss. Tiny random model, tiny canvases (SwiftShader is slow).
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError, LegoEngine } from '../../src/engine/engine';
import type { GenerateOptions } from '../../src/engine/types';
import { DeviceLostError } from '../../src/gpu/device';
import { acquireNodeDevice } from '../../src/gpu/node';
import { UnknownWordError } from '../../src/model/labels';
import type { LoadedModel } from '../../src/model/load';
import { maxAbsDiff } from '../../tools/close';
import { getTestGpu } from '../gpu';
import { loadTinyModel } from './fixture';

const base: GenerateOptions = {
  width: 16, height: 16, steps: 4, sampler: 'euler', guidance: 1, seed: 3, batch: 1,
  labels: { category: 'Animals', prompt: 'cat' },
  bricks: [{ enabled: true }, { enabled: true }, { enabled: true }],
};


describe('LegoEngine', () => {
  let model: LoadedModel, engine: LegoEngine;
  beforeAll(async () => {
    model = await loadTinyModel();
    engine = await LegoEngine.create(await getTestGpu(), model);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const a = await engine.generate(base);
    const b = await engine.generate(base);
    const c = await engine.generate({ ...base, seed: 4 });
    expect(maxAbsDiff(a.raw, b.raw)).toBe(0);
    expect(maxAbsDiff(a.raw, c.raw)).toBeGreaterThan(0.1);
    expect(a.images.images[0].length).toBe(16 * 16 * 4);
  });

  it('a prompt changes the output, under guidance as without', async () => {
    for (const guidance of [1, 3]) {
      const plain = await engine.generate({ ...base, guidance, labels: { category: 'Animals' } });
      const worded = await engine.generate({ ...base, guidance, labels: { category: 'Animals', prompt: 'smiling, red-heart' } });
      expect(maxAbsDiff(plain.raw, worded.raw)).toBeGreaterThan(1e-3);
    }
  });

  it('skipping a brick changes the output and records fewer dispatches', async () => {
    const all = await engine.generate(base);
    const skipped = await engine.generate({ ...base, bricks: [{ enabled: true }, { enabled: true }, { enabled: true, skip: [0.5, 1] }] });
    const off = await engine.generate({ ...base, bricks: [{ enabled: true }, { enabled: false }, { enabled: true }] });
    expect(maxAbsDiff(all.raw, skipped.raw)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(all.raw, off.raw)).toBeGreaterThan(1e-3);
    expect(skipped.dispatches).toBeLessThan(all.dispatches);
    expect(off.dispatches).toBeLessThan(all.dispatches);
  });

  it('applies a schedule changed during a run from the next evaluation', async () => {
    const steps: number[][] = [];
    const live = await engine.generate({
      ...base,
      onStep: (s) => {
        steps.push(s.active);
        if (s.step === 2) engine.setBricks([{ enabled: true }, { enabled: true }, { enabled: false }]);
      },
    });
    expect(steps).toEqual([[0, 1, 2], [0, 1, 2], [0, 1], [0, 1]]);
    const planned = await engine.generate({ ...base, bricks: [{ enabled: true }, { enabled: true }, { enabled: true, skip: [0.5, 1] }] });
    expect(maxAbsDiff(live.raw, planned.raw)).toBeLessThan(1e-6); // same as skipping the top brick for the last half
  });

  it('cancels with an AbortSignal and stays usable', async () => {
    const ctrl = new AbortController();
    let seen = 0;
    const run = engine.generate({ ...base, steps: 8, signal: ctrl.signal, onStep: (s) => { seen = s.step; if (s.step === 2) ctrl.abort(); } });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(2);
    const after = await engine.generate(base);
    const fresh = await engine.generate(base);
    expect(maxAbsDiff(after.raw, fresh.raw)).toBe(0);
  });

  it('guided Heun on a non-square canvas with batch 2, with previews each step', async () => {
    const previews: number[] = [];
    const r = await engine.generate({ ...base, width: 32, height: 16, sampler: 'heun', guidance: 2.5, batch: 2, preview: true,
      onStep: (s) => previews.push(s.preview!.images.length) });
    expect(r.evaluations).toBe(2 * base.steps - 1);
    expect(previews).toEqual([2, 2, 2, 2]);
    expect(r.images.width).toBe(32);
    expect(maxAbsDiff(r.raw.subarray(0, 3 * 512), r.raw.subarray(3 * 512))).toBeGreaterThan(0.1); // two different images
    expect(engine.allocatedBytes).toBeGreaterThan(model.meta.param_count * 4);
  });

  it('uses the LayerNorm eps of model.json', async () => {
    // Token rows have variance O(1): eps 0.5 instead of 1e-6 changes every LayerNorm visibly.
    const arch = { ...model.meta.architecture, layernorm_eps: 0.5 };
    const other = await LegoEngine.create(await getTestGpu(), { ...model, meta: { ...model.meta, architecture: arch } });
    try {
      expect(maxAbsDiff((await engine.generate(base)).raw, (await other.generate(base)).raw)).toBeGreaterThan(1e-2);
    } finally {
      other.destroy();
    }
  });

  it('rejects bad options with a message naming the valid range', async () => {
    await expect(engine.generate({ ...base, width: 24 })).rejects.toThrow(/multiples of 16/);
    await expect(engine.generate({ ...base, steps: 0 })).rejects.toThrow(/steps must be an integer in 1–64/);
    await expect(engine.generate({ ...base, batch: 9 })).rejects.toThrow(/batch must be an integer in 1–8/);
    await expect(engine.generate({ ...base, labels: { prompt: 'smilng' } })).rejects.toThrow(UnknownWordError);
    await expect(engine.generate({ ...base, labels: { prompt: 'smilng' } })).rejects.toThrow(/did you mean "smiling"/);
    await expect(engine.generate({ ...base, bricks: [{ enabled: false }, { enabled: false }, { enabled: false }] })).rejects.toThrow(InvalidOptionsError);
    await expect(engine.generate({ ...base, bricks: [{ enabled: true, skip: [0, 1] }, { enabled: false }, { enabled: false }] })).rejects.toThrow(/no brick is active at step 1/);
    expect((await engine.generate(base)).images.images.length).toBe(1); // still fine afterwards
  });

  it('reports a lost device, and a new engine serves the same weights without reloading', async () => {
    const ctx = await acquireNodeDevice({ label: 'doomed', onUncapturedError: () => undefined });
    const doomed = await LegoEngine.create(ctx, model);
    const ok = await doomed.generate(base);
    const run = doomed.generate({ ...base, steps: 8, onStep: (s) => { if (s.step === 1) ctx.device.destroy(); } });
    await expect(run).rejects.toBeInstanceOf(DeviceLostError);
    await expect(doomed.generate(base)).rejects.toBeInstanceOf(DeviceLostError);
    const ctx2 = await acquireNodeDevice({ label: 'replacement' });
    const again = await (await LegoEngine.create(ctx2, model)).generate(base);
    expect(maxAbsDiff(ok.raw, again.raw)).toBe(0);
    ctx2.device.destroy();
  });

  it('holds exactly the GPU buffers it declares, and frees a canvas\'s buffers when the canvas changes', async () => {
    const ctx = await acquireNodeDevice({ label: 'ledger' });
    // Every buffer and query set (8 bytes a query) made on the device and not destroyed, with its bytes.
    const live = new Map<GPUBuffer | GPUQuerySet, number>();
    const track = <T extends GPUBuffer | GPUQuerySet>(o: T, bytes: number): T => {
      const destroy = o.destroy.bind(o);
      live.set(o, bytes);
      o.destroy = () => { live.delete(o); destroy(); };
      return o;
    };
    const { createBuffer, createQuerySet } = ctx.device;
    ctx.device.createBuffer = (d) => track(createBuffer.call(ctx.device, d), d.size);
    ctx.device.createQuerySet = (d) => track(createQuerySet.call(ctx.device, d), 8 * d.count);
    // Nothing beyond what the engine declares.
    const undeclared = () => [...live.values()].reduce((n, b) => n + b, 0) - e.allocatedBytes;
    const e = await LegoEngine.create(ctx, model);
    try {
      for (const o of [
        base,
        { ...base, width: 32, height: 16, sampler: 'heun', guidance: 2.5, batch: 2 }, // another plan
        { ...base, onStep: (s) => { if (s.step === 1) e.setBricks([{ enabled: false }, { enabled: true }, { enabled: true }]); } },
        base,
      ] as GenerateOptions[]) {
        await e.generate(o);
        expect(undeclared()).toBe(0);
      }
    } finally {
      e.destroy();
    }
    expect([...live.keys()].map((o) => o.label)).toEqual([]);
    ctx.device.destroy();
  });
});

