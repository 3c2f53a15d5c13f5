// Bricks on a canvas (src/model/canvas.ts), against hand counts: the same cases as train/tests/test_canvas.py.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brickCostShares, brickFlops } from '../../src/model/arch';
import { bricksOnCanvas, canvasUnit, regionOrigins, rolledShifts } from '../../src/model/canvas';
import type { Architecture } from '../../src/model/format';
import { parseModelJson } from '../../src/model/load';

const shipped = parseModelJson(readFileSync('public/models/lego-emoji-32/model.json', 'utf8')).architecture;
/** lego-s64 (train/train.py): the shipped stack with a brick of 64×64 regions, patch 4, on top. */
const s64: Architecture = { ...shipped, canvas_unit: 32, bricks: [...shipped.bricks, { region: 64, patch: 4, depth: 6 }] };

describe('bricks on a canvas', () => {
  it.each([
    [64, 64, 4, [0]], [128, 64, 4, [0, 64]], [96, 64, 4, [0, 32]], [160, 64, 4, [0, 48, 96]],
    [40, 16, 4, [0, 12, 24]], [24, 16, 4, [0, 8]], [32, 4, 2, [0, 4, 8, 12, 16, 20, 24, 28]],
  ])('side %i, region %i, patch %i: regions from %j', (side, region, patch, origins) => {
    expect(regionOrigins(side, region, patch)).toEqual(origins);
  });

  it('covers every side without gaps, the last region flush with the far edge', () => {
    for (const [region, patch] of [[64, 4], [16, 4], [32, 2]]) {
      for (let side = region; side <= 8 * region; side += patch) {
        const o = regionOrigins(side, region, patch);
        expect(o.at(-1)).toBe(side - region);
        expect(o.every((v, i) => v % patch === 0 && (i === 0 || (v > o[i - 1] && v - o[i - 1] <= region)))).toBe(true);
      }
    }
  });

  it('the canvas unit is the largest region unless model.json declares it', () => {
    expect(canvasUnit(shipped)).toBe(32);
    expect(canvasUnit(s64)).toBe(32);
    expect(bricksOnCanvas(s64, 32, 64)).toEqual([0, 1, 2]);
    expect(bricksOnCanvas(s64, 64, 96)).toEqual([0, 1, 2, 3]);
  });

  it('rolls the tiling as the engines did for the shipped model, never along a side a brick covers', () => {
    // shifting every brick by half the largest region (16) moved only the 32×32 brick: 16 is a multiple of 4 and 16
    expect(rolledShifts(shipped, 64, 64)).toEqual([[0, 0], [0, 0], [16, 16]]);
    expect(rolledShifts(shipped, 32, 32)).toEqual([[0, 0], [0, 0], [0, 0]]);
    expect(rolledShifts(shipped, 32, 64)).toEqual([[0, 0], [0, 0], [0, 16]]); // one row of regions: not rolled
    expect(rolledShifts(s64, 32, 64)).toEqual([[0, 0], [0, 0], [0, 16], null]); // brick 4 does not run
    expect(rolledShifts(s64, 64, 64)).toEqual([[0, 0], [0, 0], [0, 0], [0, 0]]);
    expect(rolledShifts(s64, 64, 128)).toEqual([[0, 0], [0, 0], [0, 0], [0, 32]]);
    expect(rolledShifts(s64, 96, 96)).toEqual([[0, 0], [0, 0], [0, 0], [0, 0]]); // overlapping regions
  });

  it('a brick costs nothing where it does not run and its overlapping regions\' tokens where they overlap', () => {
    expect(brickCostShares(s64, 32, 32)).toEqual([...brickCostShares(shipped, 32, 32), 0]);
    expect(brickFlops(s64, 3, 96, 96)).toBe(4 * brickFlops(s64, 3, 64, 64)); // 2×2 regions of 64
    expect(brickFlops(s64, 3, 64, 128)).toBe(2 * brickFlops(s64, 3, 64, 64));
    const share = brickCostShares(s64, 64, 64)[3]; // train/train.py: 1.70 of 10.48 GFLOP
    expect(share).toBeCloseTo(1.70 / 10.48, 2);
  });
});
