// The engine as the UI sees it: one seam, so the UI can be exercised before/without a GPU engine.
import type { GpuContext } from '../gpu/device.ts';
import type { LoadedModel } from '../model/load.ts';
import type { BrickSetting, GenerateOptions, GenerateResult } from '../engine/types.ts';

export interface Engine {
  readonly allocatedBytes: number;
  generate(opts: GenerateOptions): Promise<GenerateResult>;
  setBricks(bricks: BrickSetting[]): void;
  brickCost(width: number, height: number): number[];
  destroy(): void;
}

export async function createEngine(_ctx: GpuContext, _model: LoadedModel): Promise<Engine> {
  throw new Error('The engine is not built yet (src/engine/engine.ts).');
}
