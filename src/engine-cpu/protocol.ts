// Messages between the page (client.ts) and the CPU engine's worker (worker.ts).
import type { BrickSetting, GenerateOptions, GenerateResult, StepInfo } from '../engine/types.ts';
import type { ModelJson } from '../model/format.ts';

/** GenerateOptions without what cannot cross to a worker (the signal and the callback). */
export type WorkerOptions = Omit<GenerateOptions, 'signal' | 'onStep'>;

export type ToWorker =
  | { type: 'init'; meta: ModelJson; tensors: Map<string, Float32Array> }
  | { type: 'generate'; id: number; options: WorkerOptions }
  | { type: 'cancel'; id: number }
  | { type: 'bricks'; bricks: BrickSetting[] };

export interface WorkerError {
  name: string;
  message: string;
}

export type FromWorker =
  | { type: 'ready'; allocatedBytes: number; threads: number; crossOriginIsolated: boolean; files: string[] }
  | { type: 'init-error'; error: WorkerError }
  | { type: 'step'; id: number; info: StepInfo }
  | { type: 'done'; id: number; result: GenerateResult }
  | { type: 'error'; id: number; error: WorkerError };
