// Reader for the safetensors container: u64 header length, JSON header, little-endian tensor data.
import { ModelLoadError } from './errors.ts';

export interface RawTensor {
  dtype: 'F32' | 'F16';
  shape: number[];
  data: Float32Array; // converted to f32
}

export function parseSafetensors(bytes: Uint8Array, what = 'weights'): Map<string, RawTensor> {
  if (bytes.byteLength < 8) {
    throw new ModelLoadError(`${what}: file is ${bytes.byteLength} bytes, too short to be safetensors`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.byteLength - 8) {
    throw new ModelLoadError(`${what}: header length ${headerLen} runs past the end of the file (truncated download?)`);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new ModelLoadError(`${what}: header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + headerLen;
  const out = new Map<string, RawTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32' && t.dtype !== 'F16') {
      throw new ModelLoadError(`${what}: tensor ${name} has dtype ${t.dtype}; only F32 and F16 are supported`);
    }
    const [lo, hi] = t.data_offsets;
    const count = t.shape.reduce((a, b) => a * b, 1);
    const width = t.dtype === 'F32' ? 4 : 2;
    if (hi - lo !== count * width || base + hi > bytes.byteLength) {
      throw new ModelLoadError(`${what}: tensor ${name} data [${lo}, ${hi}) does not fit its shape [${t.shape}] ` +
        'or the file (truncated?)');
    }
    out.set(name, { dtype: t.dtype, shape: t.shape, data: decode(bytes, base + lo, count, t.dtype) });
  }
  return out;
}

function decode(bytes: Uint8Array, offset: number, count: number, dtype: 'F32' | 'F16'): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * (dtype === 'F32' ? 4 : 2));
  const out = new Float32Array(count);
  if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
  return out;
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24; // subnormal
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
