// Bricks on a canvas (docs/model-spec.md "Canvases"): which bricks run on it, where their regions lie,
// and the rolled tiling of the sampler's odd steps. train/lego.py's fits, region_origins and
// rolled_shifts; both engines, the options check and the UI read them from here.
import type { BrickSpec } from './format.ts';

type Regions = { bricks: readonly Pick<BrickSpec, 'region'>[]; canvas_unit?: number };

/** Every canvas side is a multiple of it: model.json's `canvas_unit`, or the largest region when absent. */
export function canvasUnit(a: Regions): number {
  return a.canvas_unit ?? Math.max(...a.bricks.map((b) => b.region));
}

/** Whether a brick of this region runs on an H×W canvas: one longer than a side is inactive there, as if
 * skipped at every step (it was never trained on such a token grid). */
export function brickFits(region: number, height: number, width: number): boolean {
  return region <= height && region <= width;
}

/** The bricks that run on an H×W canvas, in stack order. */
export function bricksOnCanvas(a: Regions, height: number, width: number): number[] {
  return a.bricks.flatMap((b, k) => (brickFits(b.region, height, width) ? [k] : []));
}

/**
 * First pixel of each region along one canvas side: ⌈side/region⌉ regions spread evenly from 0 to
 * side − region (the last flush with the far edge), at multiples of the patch. On a multiple of the region
 * this is plain tiling (i·region); otherwise neighbours overlap and the fold averages them.
 */
export function regionOrigins(side: number, region: number, patch: number): number[] {
  const n = Math.ceil(side / region);
  const span = (side - region) / patch; // patches from the first origin to the last (an integer)
  return Array.from({ length: n }, (_, i) => (n > 1 ? patch * Math.floor((i * span) / (n - 1)) : 0));
}

/**
 * Per brick, its region-grid shift [sy, sx] on the sampler's odd steps on an H×W canvas (null where it is
 * inactive). Along a side longer than U, the largest region that runs on this canvas, every brick that
 * tiles that side exactly shifts by U/2 modulo its own region; a brick whose regions cover the side (one
 * region, or overlapping ones) never shifts along it, and no brick shifts along a side of U or less.
 */
export function rolledShifts(a: Regions, height: number, width: number): ([number, number] | null)[] {
  const top = Math.max(...bricksOnCanvas(a, height, width).map((k) => a.bricks[k].region));
  const along = (side: number, region: number) => (side > top && side % region === 0 ? (top / 2) % region : 0);
  return a.bricks.map((b) =>
    brickFits(b.region, height, width) ? [along(height, b.region), along(width, b.region)] : null);
}

/** Per brick, the grid shift of an evaluation (the engines' `evaluate`): one shift for every brick, or 'rolled'
 * for each brick's own (rolledShifts). */
export function evaluationShifts(a: Regions, height: number, width: number,
  shift: [number, number] | 'rolled'): (readonly [number, number] | null)[] {
  return shift === 'rolled' ? rolledShifts(a, height, width) : a.bricks.map(() => shift);
}

/** The grid shift along one side, in [0, side): `shift` mod side where the regions tile the side exactly;
 * 0 where they overlap (a covered side never shifts). */
export function gridShift(shift: number, side: number, region: number): number {
  return side % region === 0 ? ((shift % side) + side) % side : 0;
}
