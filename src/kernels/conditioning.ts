// Conditioning: Fourier embedding of c_noise and SiLU. Kernel: shaders/conditioning.wgsl.
// c = Linear(d,d)(SiLU(Linear(256,d)(fourier))) + Linear(L,d)(labels): the linears use linear.ts
// (the second one with the 'add' epilogue onto y_emb), then SiLU(c) feeds every adaLN linear.
import code from '../../shaders/conditioning.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { WORKGROUP_SIZE as WG } from '../gpu/pipelines';
import { MAX_FOURIER_DIM } from '../model/arch';
import { assertShape, ceilDiv, createOp, grid2d, UniformWriter, type KernelOp } from './op';

/** f_i = exp(−ln(10000)·i/half) for i < half, rounded to f32 (PyTorch computes it in f32). */
export function fourierFreqs(dim: number): Float32Array {
  const half = dim / 2;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
}

export interface FourierParams {
  label: string;
  /** c_noise of image b at coef[coefOffset + b·coefStride] (e.g. the EDM coefficient table). */
  coef: BufferArg;
  coefOffset: number;
  coefStride: number;
  out: BufferArg; // [B, dim]: cos half, then sin half
  batch: number;
  dim: number; // architecture.fourier_dim: a multiple of 8, ≤ MAX_FOURIER_DIM
}

export function prepareFourier(device: GPUDevice, p: FourierParams): KernelOp {
  const dim = p.dim;
  assertShape(dim > 0 && dim % 8 === 0 && dim <= MAX_FOURIER_DIM && p.batch > 0, p.label,
    `dim ${dim} must be a multiple of 8, ≤ ${MAX_FOURIER_DIM}`);
  const uniforms = new UniformWriter(4 + MAX_FOURIER_DIM / 2)
    .u32(0, p.batch).u32(1, dim / 2).u32(2, p.coefOffset).u32(3, p.coefStride);
  fourierFreqs(dim).forEach((f, i) => uniforms.f32(4 + i, f));
  return createOp(device, {
    key: 'fourier_embed_v1_f32', label: p.label, shader: 'conditioning', code, entryPoint: 'fourier_embed',
    storage: ['read', 'rw'], buffers: [p.coef, p.out], uniforms, workgroups: [ceilDiv(p.batch * dim / 2, WG), 1, 1],
  });
}

/** CPU reference, rounding the argument to f32 as the kernel and PyTorch do. */
export function fourierRef(cNoise: ArrayLike<number>, dim: number): Float32Array {
  const half = dim / 2, f = fourierFreqs(dim);
  const out = new Float32Array(cNoise.length * dim);
  for (let b = 0; b < cNoise.length; b++) {
    const c1000 = Math.fround(1000 * Math.fround(cNoise[b]));
    for (let i = 0; i < half; i++) {
      const a = Math.fround(c1000 * f[i]);
      out[b * dim + i] = Math.cos(a);
      out[b * dim + half + i] = Math.sin(a);
    }
  }
  return out;
}

export interface SiluParams {
  label: string;
  x: BufferArg; // [count]
  out: BufferArg; // [count] (must not alias x)
  count: number;
}

export function prepareSilu(device: GPUDevice, p: SiluParams): KernelOp {
  assertShape(p.count > 0, p.label, 'empty');
  const workgroups = grid2d(ceilDiv(p.count, WG));
  return createOp(device, {
    key: 'silu_v1_f32', label: p.label, shader: 'conditioning', code, entryPoint: 'silu', storage: ['read', 'rw'],
    buffers: [p.x, p.out], uniforms: new UniformWriter(4).u32(0, p.count).u32(1, workgroups[0]), workgroups,
  });
}

export function siluRef(x: Float32Array): Float32Array {
  return x.map((v) => v / (1 + Math.exp(-v)));
}
