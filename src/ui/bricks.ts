// Brick-configuration arithmetic for the bricks panel.
import type { BrickSetting } from '../engine/types.ts';
import type { BrickSpec } from '../model/format.ts';

/** Expected share of the all-bricks compute: each brick's share × the fraction of steps it runs. */
export function estimatedCost(bricks: readonly BrickSetting[], costs: readonly number[]): number {
  const share = (b: BrickSetting, k: number) => (costs[k] ?? 0) * (1 - (b.skip ? b.skip[1] - b.skip[0] : 0));
  return bricks.reduce((sum, b, k) => sum + (b.enabled ? share(b, k) : 0), 0);
}

/** The paper's rule: PG stacks skip the top (whole-image) brick late, PR stacks skip the top (local) brick early. */
export function paperSkip(specs: readonly BrickSpec[], bricks: readonly BrickSetting[]): BrickSetting[] {
  const top = specs.length - 1;
  const pg = specs[top].region >= specs[0].region;
  return bricks.map((b, k) => (k === top ? { enabled: true, skip: pg ? [0.6, 1] : [0, 0.4] }
    : { ...b, enabled: true }));
}
