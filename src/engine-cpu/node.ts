// The CPU engine in Node (CLI, bench): onnxruntime-web's Node build, wasm threads on the cores.
import { availableParallelism } from 'node:os';
import type { LoadedModel } from '../model/load.ts';
import { CpuEngine } from './engine.ts';

/** Threads for the wasm backend: every core, at most 8 (more rarely helps at these sizes). */
export const defaultCpuThreads = () => Math.min(8, availableParallelism());

export async function createNodeCpuEngine(model: LoadedModel, threads = defaultCpuThreads()): Promise<CpuEngine> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  return CpuEngine.create(model, { ort });
}
