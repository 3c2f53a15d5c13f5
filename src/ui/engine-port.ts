// The engine as the UI sees it: one seam between the page and src/engine.
import type { GpuContext } from '../gpu/device.ts';
import type { LoadedModel } from '../model/load.ts';
import { LegoEngine } from '../engine/engine.ts';
import type { BrickSetting, GenerateOptions, GenerateResult } from '../engine/types.ts';

export interface Engine {
  readonly allocatedBytes: number;
  generate(opts: GenerateOptions): Promise<GenerateResult>;
  setBricks(bricks: BrickSetting[]): void;
  brickCost(width: number, height: number): number[];
  destroy(): void;
}

export function createEngine(ctx: GpuContext, model: LoadedModel): Promise<Engine> {
  return LegoEngine.create(ctx, model);
}
