// Numbers that follow from the architecture alone (no GPU): the one place the engine, UI, CLI and
// bench read them from. docs/model-spec.md defines each.
import { brickFits, regionOrigins } from './canvas.ts';
import type { Architecture, BrickSpec } from './format.ts';

/** Canvas channels (RGB); model.json's `channels` must equal it. */
export const CHANNELS = 3;

/** Largest Fourier embedding the conditioning kernel holds in its uniforms (shaders/conditioning.wgsl). */
export const MAX_FOURIER_DIM = 256;
/** Head dimensions d/heads the attention kernel supports (shaders/brick.wgsl). */
export const HEAD_DIM = { min: 4, max: 64, multiple: 4 } as const;

/** Brick input channels: F_prev (3, bricks above the first), c_in·x (3), then row and col. */
export function inputChannels(hasPrev: boolean): number {
  return (hasPrev ? CHANNELS : 0) + CHANNELS + 2;
}

/** Input channels of brick k (5 for the first, 8 above). */
export function brickInputChannels(k: number): number {
  return inputChannels(k > 0);
}

/** Side of the largest region (train/lego.py `max_region`). */
export function maxRegion(a: { bricks: readonly Pick<BrickSpec, 'region'>[] }): number {
  return Math.max(...a.bricks.map((b) => b.region));
}

/** T: tokens per region, (r/p)². */
export function tokensPerRegion(b: Pick<BrickSpec, 'region' | 'patch'>): number {
  return (b.region / b.patch) ** 2;
}

/** Floating-point operations (2 per multiply-add) of one evaluation of brick k, per network image: the
 * tokens of every region it runs, overlapping ones included; none where it does not fit the canvas. */
export function brickFlops(a: Architecture, k: number, height: number, width: number): number {
  const b = a.bricks[k], d = a.d, pp = b.patch ** 2;
  if (!brickFits(b.region, height, width)) return 0;
  const regions = regionOrigins(height, b.region, b.patch).length * regionOrigins(width, b.region, b.patch).length;
  const tokens = regions * tokensPerRegion(b);
  const embed = tokens * (brickInputChannels(k) * pp * d + d * d);
  const block = tokens * (3 * d * d + d * d + 2 * a.mlp_ratio * d * d) + 2 * tokens * tokensPerRegion(b) * d;
  return 2 * (embed + b.depth * block + tokens * CHANNELS * pp * d);
}

/** Each brick's share of the FLOPs of one evaluation with every brick on (sums to 1; 0 for a brick that
 * does not run on this canvas). */
export function brickCostShares(a: Architecture, width: number, height: number): number[] {
  const f = a.bricks.map((_, k) => brickFlops(a, k, height, width));
  const total = f.reduce((s, x) => s + x, 0);
  return f.map((x) => x / total);
}
