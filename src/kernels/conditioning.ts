// Conditioning: SiLU(c), c = Linear(d,d)(SiLU(Linear(256,d)(fourier(c_noise)))) + Linear(L,d)(labels),
// in one dispatch; SiLU(c) then feeds every adaLN linear. Kernel: shaders/conditioning.wgsl.
import code from '../../shaders/conditioning.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { MAX_FOURIER_DIM } from '../model/arch';
import { linearRef } from './linear';
import { assertShape, createOp, MAX_WORKGROUPS_PER_DIM, UniformWriter, type KernelOp } from './op';

/** f_i = exp(−ln(10000)·i/half) for i < half, rounded to f32 (PyTorch computes it in f32). */
export function fourierFreqs(dim: number): Float32Array {
  const half = dim / 2;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
}

export interface CondEmbedParams {
  label: string;
  /** c_noise of image b at coef[coefOffset + b·coefStride] (e.g. the EDM coefficient table). */
  coef: BufferArg;
  coefOffset: number;
  coefStride: number;
  labels: BufferArg; // [images, L]
  /** Weight pack and the float offsets (multiples of 4) of its tensors. */
  pack: BufferArg;
  w: { t0: number; bt0: number; t2: number; bt2: number; y: number; by: number };
  scratch: BufferArg; // [images, dim + d]: each image's Fourier features, then its hidden vector
  out: BufferArg; // SiLU(c) [images, d]
  images: number;
  dim: number; // architecture.fourier_dim: a multiple of 8, ≤ MAX_FOURIER_DIM
  d: number; // a multiple of 4
  labelDim: number;
}

/** SiLU(c) of every network image: c = t_embed.2(SiLU(t_embed.0(fourier(c_noise)))) + y_embed(labels). */
export function prepareCondEmbed(device: GPUDevice, p: CondEmbedParams): KernelOp {
  const { dim, d } = p;
  assertShape(dim > 0 && dim % 8 === 0 && dim <= MAX_FOURIER_DIM, p.label,
    `dim ${dim} must be a multiple of 8, ≤ ${MAX_FOURIER_DIM}`);
  assertShape(d > 0 && d % 4 === 0 && p.labelDim > 0 && p.images > 0 && p.images <= MAX_WORKGROUPS_PER_DIM, p.label,
    `bad shape: d ${d} (a multiple of 4), L ${p.labelDim}, ${p.images} images`);
  for (const [name, v] of Object.entries(p.w)) {
    assertShape(Number.isInteger(v) && v >= 0 && v % 4 === 0, p.label, `${name} offset ${v} is not a multiple of 4`);
  }
  const u = new UniformWriter(12 + MAX_FOURIER_DIM / 2)
    .u32(0, dim / 2).u32(1, d).u32(2, p.labelDim).u32(3, p.coefOffset).u32(4, p.coefStride)
    .u32(5, p.w.t0).u32(6, p.w.bt0).u32(7, p.w.t2).u32(8, p.w.bt2).u32(9, p.w.y).u32(10, p.w.by);
  fourierFreqs(dim).forEach((f, i) => u.f32(12 + i, f));
  return createOp(device, {
    key: 'cond_embed_v2_f32', label: p.label, shader: 'conditioning', code, entryPoint: 'cond_embed',
    storage: ['read', 'read', 'read', 'rw', 'rw'], buffers: [p.coef, p.labels, p.pack, p.scratch, p.out],
    uniforms: u, workgroups: [p.images, 1, 1], flops: 2 * p.images * d * (dim + d + p.labelDim),
  });
}

/** The conditioning weights, PyTorch layout ([out, in]). */
export interface CondWeights {
  t0: Float32Array; // [d, dim]
  bt0: Float32Array;
  t2: Float32Array; // [d, d]
  bt2: Float32Array;
  y: Float32Array; // [d, L]
  by: Float32Array;
}

/** CPU reference of cond_embed: SiLU(c) [images, d] for c_noise per image and label rows [images, L]. */
export function condEmbedRef(cNoise: ArrayLike<number>, labels: Float32Array, w: CondWeights, dim: number,
  d: number): Float32Array {
  const n = cNoise.length, L = labels.length / n;
  const t = siluRef(linearRef(fourierRef(cNoise, dim), w.t0, w.bt0, n, dim, d));
  const y = linearRef(labels, w.y, w.by, n, L, d);
  return siluRef(linearRef(t, w.t2, w.bt2, n, d, d, { epilogue: 'add', y }));
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

export function siluRef(x: Float32Array): Float32Array {
  return x.map((v) => v / (1 + Math.exp(-v)));
}
