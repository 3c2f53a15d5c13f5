// Buffer helpers. Every buffer gets a label so validation errors name what failed, and goes to the
// BufferOwner running on its device, if any.

/** A whole buffer or a range of one (offsets must respect minStorageBufferOffsetAlignment). */
export type BufferArg = GPUBuffer | GPUBufferBinding;

export function asBinding(b: BufferArg): GPUBufferBinding {
  return 'buffer' in b ? b : { buffer: b };
}

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Storage buffer holding `data`, or `data` zero floats when given a count. */
export function createStorageBuffer(device: GPUDevice, label: string, data: Float32Array | number,
  extraUsage = 0): GPUBuffer {
  const count = typeof data === 'number' ? data : data.length;
  const size = Math.max(16, Math.ceil((count * 4) / 16) * 16);
  const mappedAtCreation = typeof data !== 'number';
  const buf = owned(device, device.createBuffer({ label, size, usage: STORAGE() | extraUsage, mappedAtCreation }));
  if (typeof data !== 'number') {
    new Float32Array(buf.getMappedRange(), 0, count).set(data);
    buf.unmap();
  }
  return buf;
}

export function createUniformBuffer(device: GPUDevice, label: string, byteSize: number): GPUBuffer {
  return owned(device, device.createBuffer({
    label, size: Math.max(16, Math.ceil(byteSize / 16) * 16),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  }));
}

const running = new WeakMap<GPUDevice, BufferOwner>();

function owned(device: GPUDevice, buffer: GPUBuffer): GPUBuffer {
  running.get(device)?.buffers.push(buffer);
  return buffer;
}

/**
 * The buffers made with the helpers above while `run` is on the stack, to be counted and destroyed
 * together: those of ops made deep inside an owner that cannot list them (each op's uniforms, ops
 * made lazily as it records) included. Buffers made with device.createBuffer directly are not seen.
 */
export class BufferOwner {
  readonly buffers: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {}

  /** Runs fn (synchronous), taking the buffers it makes. */
  run<T>(fn: () => T): T {
    const outer = running.get(this.device);
    running.set(this.device, this);
    try {
      return fn();
    } finally {
      if (outer) running.set(this.device, outer);
      else running.delete(this.device);
    }
  }

  get bytes(): number {
    return this.buffers.reduce((n, b) => n + b.size, 0);
  }

  destroy(): void {
    this.buffers.forEach((b) => b.destroy());
    this.buffers.length = 0;
  }
}

/** Copies `count` floats (default: the whole buffer) from `offsetBytes` to the CPU. */
export async function readFloat32(device: GPUDevice, src: GPUBuffer, count?: number,
  offsetBytes = 0): Promise<Float32Array> {
  const n = count ?? (src.size - offsetBytes) / 4;
  const size = Math.ceil((n * 4) / 4) * 4;
  const staging = device.createBuffer({
    label: `${src.label || 'buffer'}.readback`, size: Math.max(4, size),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder({ label: `${src.label || 'buffer'}.readback` });
  enc.copyBufferToBuffer(src, offsetBytes, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0, n * 4));
  staging.unmap();
  staging.destroy();
  return out;
}
