// The shared test device: Dawn (npm `webgpu`) on SwiftShader. Fails loudly when there is none.
import type { GpuContext } from '../src/gpu/device';
import { acquireNodeDevice } from '../src/gpu/node';

let ctx: Promise<GpuContext> | undefined;
const uncaptured: string[] = [];

export function getTestGpu(): Promise<GpuContext> {
  ctx ??= acquireNodeDevice({ label: 'test-device', onUncapturedError: (e) => { uncaptured.push(e.message); } });
  return ctx;
}

export async function getTestDevice(): Promise<GPUDevice> {
  return (await getTestGpu()).device;
}

/** Errors that no error scope caught since the last call (tests assert this is empty). */
export function takeUncapturedErrors(): string[] {
  return uncaptured.splice(0);
}
