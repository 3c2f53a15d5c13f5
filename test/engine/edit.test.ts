// Edits from a start image in both engines, beyond the fixtures' parity: strength 0 returns the image
// exactly, a repaint leaves every unmasked pixel as it was, the engines agree on the same seed, the
// steps an edit runs (and which of them skip windows, toggles, previews and cancel apply to), and
// bad start images, masks and strengths rejected with the problem named.
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/engine/engine';
import { imageFromRgba } from '../../src/engine/start';
import type { Engine, GenerateOptions, StartImage } from '../../src/engine/types';
import { maxAbsDiff } from '../../tools/close';
import { ENGINE_KINDS, ENGINES } from './engines';
import { loadTinyModel } from './fixture';

const W = 32, H = 16;

/** A start image as the page and the CLI make them (8-bit pixels): a red disc on a blue-to-white ramp. */
function startRgba(): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(4 * W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const disc = (x - 10) ** 2 + (y - 8) ** 2 < 30;
      rgba.set(disc ? [220, 30, 40, 255] : [Math.round(8 * x), Math.round(8 * x), 255, 255], 4 * (y * W + x));
    }
  }
  return rgba;
}

/** 1 over the disc's half-width box, 0 elsewhere. */
const MASK = Float32Array.from({ length: W * H }, (_, i) => (i % W >= 4 && i % W < 16 && i >= 3 * W && i < 13 * W ? 1 : 0));

const base: GenerateOptions = {
  width: W, height: H, steps: 8, sampler: 'heun', guidance: 2, seed: 11, batch: 2, shiftTiling: true,
  labels: { category: 'Food', style: 'twitter', prompt: 'red heart' },
  bricks: [{ enabled: true }, { enabled: true }, { enabled: true }],
};


describe.each(ENGINE_KINDS)('%s engine: edits from a start image', (kind) => {
  let engine: Engine, rgba: Uint8ClampedArray, start: StartImage;
  beforeAll(async () => {
    engine = await ENGINES[kind](await loadTinyModel());
    rgba = startRgba();
    start = { image: imageFromRgba(rgba, W, H), strength: 0.5 };
    return () => engine.destroy();
  });

  it('strength 0 returns the start image exactly, running no step', async () => {
    let steps = 0;
    const r = await engine.generate({ ...base, start: { ...start, strength: 0 }, onStep: () => steps++ });
    expect([steps, r.evaluations]).toEqual([0, 0]);
    for (let b = 0; b < 2; b++) {
      expect(r.raw.subarray(b * 3 * W * H, (b + 1) * 3 * W * H)).toEqual(start.image);
      expect(r.images.images[b]).toEqual(rgba);
    }
  });

  it('runs the last ⌊strength·steps + ½⌋ steps of the schedule, and strength 1 all of them from σ_max', async () => {
    const sigmas: number[][] = [];
    for (const strength of [0.3, 1]) {
      const seen: number[] = [];
      const r = await engine.generate({ ...base, batch: 1, sampler: 'euler', start: { ...start, strength },
        onStep: (s) => seen.push(s.sigma) });
      expect(r.evaluations).toBe(seen.length);
      sigmas.push(seen);
    }
    expect(sigmas[0]).toHaveLength(2); // ⌊2.4 + ½⌋
    expect(sigmas[1]).toHaveLength(8);
    expect(sigmas[1][0]).toBeCloseTo(80, 10);
    expect(sigmas[0]).toEqual(sigmas[1].slice(6)); // the same noise levels as the last steps of a generation
  });

  it('restyles: the output stays near the start image at low strength and moves away as it grows', async () => {
    const dist = async (strength: number) => {
      const r = await engine.generate({ ...base, start: { ...start, strength } });
      return maxAbsDiff(r.images.images[0], rgba);
    };
    const [low, high] = [await dist(0.25), await dist(1)];
    expect(low).toBeGreaterThan(0); // the model did draw
    expect(low).toBeLessThan(high);
  });

  it('a repaint keeps every unmasked pixel and redraws the masked ones', async () => {
    const r = await engine.generate({ ...base, start: { ...start, strength: 1, mask: MASK } });
    let redrawn = 0;
    for (let b = 0; b < 2; b++) {
      const raw = r.raw.subarray(b * 3 * W * H), img = r.images.images[b];
      for (let p = 0; p < W * H; p++) {
        for (let c = 0; c < 3; c++) {
          if (MASK[p] === 0) {
            expect(raw[c * W * H + p], `image ${b} pixel ${p} channel ${c}`).toBe(start.image[c * W * H + p]);
            expect(img[4 * p + c]).toBe(rgba[4 * p + c]);
          } else redrawn += Number(Math.abs(img[4 * p + c] - rgba[4 * p + c]) > 8);
        }
      }
    }
    expect(redrawn).toBeGreaterThan(0.5 * 2 * 3 * MASK.reduce((a, b) => a + b, 0));
  });

  it('skip windows count the whole schedule; toggles, previews and cancel work as in a generation', async () => {
    const active: number[][] = [], previews: number[] = [];
    // strength 0.5 of 8 steps runs steps 4–7 (fractions 0.5–0.875): a window 0.75–1 skips the top brick in 6 and 7
    await engine.generate({
      ...base, start: { ...start, mask: MASK }, preview: true,
      bricks: [{ enabled: true }, { enabled: true }, { enabled: true, skip: [0.75, 1] }],
      onStep: (s) => {
        active.push(s.active);
        previews.push(s.preview!.images.length);
        if (s.step === 1) engine.setBricks([{ enabled: true }, { enabled: false }, { enabled: true, skip: [0.75, 1] }]);
      },
    });
    // The CPU engine applies a toggle from its next evaluation, as the WebGPU engine does
    expect(active).toEqual([[0, 1, 2], [0, 2], [0], [0]]);
    expect(previews).toEqual([2, 2, 2, 2]);
    const ctrl = new AbortController();
    const run = engine.generate({ ...base, start, signal: ctrl.signal, onStep: (s) => s.step === 2 && ctrl.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects bad start images, masks and strengths, naming the problem', async () => {
    const bad = (s: Partial<StartImage>) => engine.generate({ ...base, start: { ...start, ...s } });
    await expect(bad({ strength: 1.5 })).rejects.toThrow(/strength must be in 0–100% \(0–1\), got 150% \(1\.5\)/);
    await expect(bad({ strength: -0.1 })).rejects.toThrow(InvalidOptionsError);
    await expect(bad({ strength: NaN })).rejects.toThrow(/strength must be in 0–100% \(0–1\), got NaN/);
    await expect(bad({ mask: new Float32Array(16 * 16) })).rejects.toThrow(
      /the mask has 256 values, the canvas needs 32×16 = 512: the mask must have the canvas's size/);
    await expect(bad({ image: new Float32Array(3 * 16 * 16) })).rejects.toThrow(
      /the start image has 768 values, the canvas needs \[3, 16, 32\] = 1536/);
    await expect(bad({ image: start.image.map((v) => 127.5 * (v + 1)) })).rejects.toThrow(
      /the start image has 8 at index 1, outside -1–1/);
    await expect(bad({ mask: MASK.map((v) => 2 * v) })).rejects.toThrow(/the mask has 2 at index 100, outside 0–1/);
  });
});

describe('both engines, the same edit and seed', () => {
  it('restyle and repaint agree within 2/255', async () => {
    const model = await loadTinyModel();
    const [gpu, cpu] = [await ENGINES.webgpu(model), await ENGINES.cpu(model)];
    try {
      const image = imageFromRgba(startRgba(), W, H);
      for (const start of [{ image, strength: 0.6 }, { image, strength: 0.8, mask: MASK }]) {
        const [a, b] = [await gpu.generate({ ...base, start }), await cpu.generate({ ...base, start })];
        // f32 in both, summation orders differ: the engines' 2/255 bound on the 8-bit images
        for (let i = 0; i < 2; i++) expect(maxAbsDiff(a.images.images[i], b.images.images[i])).toBeLessThanOrEqual(2);
      }
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  });
});
