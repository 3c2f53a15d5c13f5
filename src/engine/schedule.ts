// Noise levels of the EDM sampler and which bricks run at each step.
import type { EdmConstants } from '../model/format.ts';
import type { BrickSetting } from './types.ts';

/** t_0 … t_{n-1} from σ_max down to σ_min (Karras ρ schedule), then t_n = 0. */
export function edmSigmas(steps: number, e: EdmConstants): number[] {
  const a = e.sigma_max ** (1 / e.rho);
  const b = e.sigma_min ** (1 / e.rho);
  const t = Array.from({ length: steps }, (_, i) => (a + (i / Math.max(steps - 1, 1)) * (b - a)) ** e.rho);
  return [...t, 0];
}

/** Bricks that run at step `step` of `steps`: enabled and outside their skip window. */
export function activeBricks(settings: readonly BrickSetting[], step: number, steps: number): number[] {
  const frac = step / steps;
  const on: number[] = [];
  settings.forEach((s, k) => {
    const skipped = s.skip != null && frac >= s.skip[0] && frac < s.skip[1];
    if (s.enabled && !skipped) on.push(k);
  });
  return on;
}

/** Parses "3:0.6-1.0" (1-based brick, skip window as fractions of the steps). */
export function parseSkip(text: string, bricks: number): { brick: number; window: [number, number] } {
  const m = /^(\d+):([\d.]+)-([\d.]+)$/.exec(text.trim());
  const err = `--skip "${text}": expected BRICK:START-END with BRICK in 1..${bricks} and 0 ≤ START < END ≤ 1, e.g. ${bricks}:0.6-1.0`;
  if (!m) throw new Error(err);
  const [brick, start, end] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!(brick >= 1 && brick <= bricks && start >= 0 && start < end && end <= 1)) throw new Error(err);
  return { brick: brick - 1, window: [start, end] };
}
