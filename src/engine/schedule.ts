// Noise levels of the EDM sampler and which bricks run at each step.
import type { EdmConstants } from '../model/format.ts';
import { InvalidOptionsError } from './options.ts';
import type { BrickSetting } from './types.ts';

/** t_0 … t_{n-1} from σ_max down to σ_min (Karras ρ schedule), then t_n = 0. */
export function edmSigmas(steps: number, e: EdmConstants): number[] {
  const a = e.sigma_max ** (1 / e.rho);
  const b = e.sigma_min ** (1 / e.rho);
  const t = Array.from({ length: steps }, (_, i) => (a + (i / Math.max(steps - 1, 1)) * (b - a)) ** e.rho);
  return [...t, 0];
}

/**
 * Bricks that run at step `step` of `steps`: enabled, outside their skip window, and among `runs` (those
 * that run on the canvas: model/canvas.ts bricksOnCanvas). Throws InvalidOptionsError when none does.
 */
export function activeBricks(settings: readonly BrickSetting[], step: number, steps: number,
  runs: readonly number[]): number[] {
  const frac = step / steps;
  const on = runs.filter((k) => {
    const s = settings[k];
    return s.enabled && !(s.skip != null && frac >= s.skip[0] && frac < s.skip[1]);
  });
  if (!on.length) {
    throw new InvalidOptionsError(`no brick is active at step ${step + 1}: every step needs at least one brick`);
  }
  return on;
}

/** A skip window "START-END" (fractions of the steps, 0 ≤ START < END ≤ 1), e.g. "0.6-1.0"; null if malformed. */
export function parseSkipWindow(text: string): [number, number] | null {
  const m = /^([\d.]+)-([\d.]+)$/.exec(text.trim());
  if (!m) return null;
  const [start, end] = [Number(m[1]), Number(m[2])];
  return start >= 0 && start < end && end <= 1 ? [start, end] : null;
}

/** Parses "3:0.6-1.0": a 1-based brick and its skip window (the CLI's --skip). */
export function parseSkip(text: string, bricks: number): { brick: number; window: [number, number] } {
  const m = /^(\d+):(.*)$/.exec(text.trim());
  const brick = m ? Number(m[1]) : NaN;
  const window = m ? parseSkipWindow(m[2]) : null;
  if (!window || !(brick >= 1 && brick <= bricks)) {
    throw new Error(`--skip "${text}": expected BRICK:START-END with BRICK in 1..${bricks} ` +
      `and 0 ≤ START < END ≤ 1, e.g. ${bricks}:0.6-1.0`);
  }
  return { brick: brick - 1, window };
}
