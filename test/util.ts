// Test helpers: GPU round trips, plus the comparisons and seeded inputs of tools/ (shared with the bench).
import { createStorageBuffer, readFloat32 } from '../src/gpu/buffers';
import { withErrorScopes } from '../src/gpu/device';
import { runOps, type KernelOp } from '../src/kernels/op';
import { takeUncapturedErrors } from './gpu';

export { allClose, expectClose } from '../tools/close';
export { randArray, randInt, rng } from '../tools/random';

/** Prepares and runs ops inside error scopes; fails on any validation error. */
export async function runChecked(device: GPUDevice, what: string, prepare: () => KernelOp[]): Promise<void> {
  const ops = await withErrorScopes(device, `${what} (prepare)`, prepare);
  await withErrorScopes(device, `${what} (run)`, () => runOps(device, ops, what));
  const stray = takeUncapturedErrors();
  if (stray.length) throw new Error(`${what}: uncaptured GPU errors: ${stray.join('; ')}`);
}

export function upload(device: GPUDevice, label: string, data: Float32Array | number): GPUBuffer {
  return createStorageBuffer(device, label, data);
}

export function download(device: GPUDevice, buf: GPUBuffer, count: number): Promise<Float32Array> {
  return readFloat32(device, buf, count);
}
