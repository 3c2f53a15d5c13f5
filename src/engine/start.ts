// Starting from an image (docs/model-spec.md, "Starting from an image"): which steps an edit runs,
// its first state and the known image the repaint keeps. Both engines run an edit through these, so
// the same seed gives the same result in each.
import type { GenerateOptions, StartImage } from './types.ts';

/** Steps an edit runs: the last ⌊strength·steps + ½⌋ of the `steps`-step schedule (train/lego.py edit_steps). */
export function editSteps(steps: number, strength: number): number {
  return Math.floor(strength * steps + 0.5);
}

/** Index of the schedule's first step that runs: 0 without a start image. */
export function firstStep(o: Pick<GenerateOptions, 'steps' | 'start'>): number {
  return o.start ? o.steps - editSteps(o.steps, o.start.strength) : 0;
}

/** The first state [B, 3, H, W]: σ·ε, or with a start image y + σ·ε (SDEdit); ε ~ N(0, 1) per image. */
export function startState(noise: Float32Array, sigma: number, start?: StartImage): Float32Array {
  if (!start) return noise.map((v) => v * sigma);
  const y = start.image, per = y.length;
  return noise.map((v, i) => y[i % per] + v * sigma);
}

/** What the repaint reads: [y (3·H·W) | mask (H·W)] (the sampler kernel's KNOWN binding). */
export function knownImage(image: Float32Array, mask: Float32Array): Float32Array {
  const out = new Float32Array(image.length + mask.length);
  out.set(image);
  out.set(mask, image.length);
  return out;
}

/** RGBA8 (row-major, alpha ignored) → [3, H, W] in [-1, 1], as the dataset scales pixels (v/127.5 − 1). */
export function imageFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const n = width * height, out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[c * n + i] = rgba[4 * i + c] / 127.5 - 1;
  }
  return out;
}
