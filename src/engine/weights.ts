// Model weights on the GPU: every tensor uploaded once, plus each brick's positional table.
import { createStorageBuffer } from '../gpu/buffers.ts';
import type { LoadedModel } from '../model/load.ts';
import { posEmbed2d } from '../kernels/patch.ts';

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
