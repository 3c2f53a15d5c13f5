// The two engines the engine tests run side by side (WGSL on WebGPU; the CPU engine on onnxruntime-web
// wasm, one thread as in CI), and the tolerances of both against the PyTorch reference.
import * as ort from 'onnxruntime-web';
import { CpuEngine } from '../../src/engine-cpu/engine';
import { LegoEngine } from '../../src/engine/engine';
import type { LoadedModel } from '../../src/model/load';
import { getTestGpu } from '../gpu';

export const ENGINES = {
  webgpu: async (model: LoadedModel): Promise<LegoEngine | CpuEngine> => LegoEngine.create(await getTestGpu(), model),
  cpu: (model: LoadedModel): Promise<LegoEngine | CpuEngine> => {
    ort.env.wasm.numThreads = 1;
    return CpuEngine.create(model, { ort });
  },
};
export type EngineKind = keyof typeof ENGINES;
export const ENGINE_KINDS = Object.keys(ENGINES) as EngineKind[];

/** D_k is O(1): f32 kernels against PyTorch f32, errors compounding over bricks: max |Δ| ≤ 1e-3. */
export const ATOL = 1e-3;
/** Each Heun state inherits the rounding of x0 = 80·noise (±300, f32 ulp 3e-5) through h·(x − D)/t:
 * measured 4.6e-4 on x1, 3.3e-4 on x2 and x3; the same 1e-3 absolute bound. */
export const STATE_TOL = { atol: 1e-3 };
