// Model weights on the GPU: every tensor uploaded once, plus each brick's positional table.
import { createStorageBuffer } from '../gpu/buffers.ts';
import { tokensPerRegion } from '../model/arch.ts';
import { ModelLoadError } from '../model/errors.ts';
import type { LoadedModel } from '../model/load.ts';
import { posEmbed2d } from '../kernels/patch.ts';

/** Fails, before anything is allocated, if a weight tensor is larger than one buffer binding of this device. */
export function checkWeightsFit(model: LoadedModel,
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): void {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const { d, bricks } = model.meta.architecture;
  const sizes: [string, number][] = [...model.tensors].map(([name, t]) => [name, t.byteLength]);
  bricks.forEach((b, k) => sizes.push([`bricks.${k}.pos`, tokensPerRegion(b) * d * 4]));
  const [name, bytes] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
  if (bytes > limit) {
    const mib = (n: number) => (n < 2 ** 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
    throw new ModelLoadError(`${model.meta.name}: tensor ${name} needs ${mib(bytes)}, over this device's largest ` +
      `buffer binding (${mib(limit)}): the model is too large for this GPU`);
  }
}

export class GpuWeights {
  readonly buffers = new Map<string, GPUBuffer>();
  readonly pos: GPUBuffer[]; // brick k: [T_k, d] sin-cos table of its region's token grid
  readonly bytes: number;

  constructor(device: GPUDevice, model: LoadedModel) {
    let bytes = 0;
    for (const [name, data] of model.tensors) {
      this.buffers.set(name, createStorageBuffer(device, name, data));
      bytes += data.byteLength;
    }
    const { d, bricks } = model.meta.architecture;
    this.pos = bricks.map((b, k) => {
      const table = posEmbed2d(b.region / b.patch, d);
      bytes += table.byteLength;
      return createStorageBuffer(device, `bricks.${k}.pos`, table);
    });
    this.bytes = bytes;
  }

  get(name: string): GPUBuffer {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`weight ${name} is not loaded`);
    return b;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    for (const b of this.pos) b.destroy();
  }
}
