// The shared test device: Dawn (npm `webgpu`) on SwiftShader. Fails loudly when there is none.
import { createNodeGpu, NO_ADAPTER_HELP } from '../src/gpu/node';
import { acquireDevice, NoAdapterError, type GpuContext } from '../src/gpu/device';

let ctx: Promise<GpuContext> | undefined;
const uncaptured: string[] = [];

export function getTestGpu(): Promise<GpuContext> {
  ctx ??= (async () => {
    const gpu = await createNodeGpu();
    try {
      return await acquireDevice({
        gpu, label: 'test-device',
        onUncapturedError: (e) => { uncaptured.push(e.message); },
      });
    } catch (e) {
      if (e instanceof NoAdapterError) throw new Error(`${NO_ADAPTER_HELP} (${e.message})`);
      throw e;
    }
  })();
  return ctx;
}

export async function getTestDevice(): Promise<GPUDevice> {
  return (await getTestGpu()).device;
}

/** Errors that no error scope caught since the last call (tests assert this is empty). */
export function takeUncapturedErrors(): string[] {
  return uncaptured.splice(0);
}
