// Each brick's share of an evaluation's multiply-adds, as LegoEngine.brickCost reports it.
import { PreparedBrick } from '../engine/brick.ts';
import type { Architecture } from '../model/format.ts';

export function brickCostShares(a: Architecture, width: number, height: number): number[] {
  const f = a.bricks.map((b, k) => PreparedBrick.flopsPerImage(b, k, a.d, a.mlp_ratio, height, width));
  const total = f.reduce((x, y) => x + y, 0);
  return f.map((x) => x / total);
}
