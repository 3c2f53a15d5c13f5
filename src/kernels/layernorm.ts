// LayerNorm (no affine; eps from model.json, 1e-6) fused with adaLN modulate.
// Kernel: shaders/layernorm.wgsl.
import code from '../../shaders/layernorm.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { WORKGROUP_SIZE as WG } from '../gpu/pipelines';
import { assertShape, createOp, grid2d, UniformWriter, type KernelOp } from './op';

export interface LayerNormParams {
  label: string;
  x: BufferArg; // [N, d]
  out: BufferArg; // [N, d] (must not alias x)
  /** Modulation buffer, e.g. the adaLN linear's output [images, 6d]. */
  mod: BufferArg;
  n: number;
  d: number;
  eps: number; // added to the variance (architecture.layernorm_eps)
  rowsPerImage: number; // token rows per image: image of row n is floor(n / rowsPerImage)
  modStride: number; // elements between images in mod (6d for a block's adaLN)
  shiftOffset: number; // element offset of image 0's shift vector (block: 0 or 3d; final: 0)
  scaleOffset: number; // element offset of image 0's scale vector (block: d or 4d; final: d)
}

export function prepareLayerNorm(device: GPUDevice, p: LayerNormParams): KernelOp {
  assertShape(p.n > 0 && p.d > 0 && p.rowsPerImage > 0, p.label, `bad shape N=${p.n} d=${p.d}`);
  assertShape(p.eps > 0 && Number.isFinite(p.eps), p.label, `eps ${p.eps} must be a positive number`);
  const workgroups = grid2d(p.n);
  const uniforms = new UniformWriter(8).u32(0, p.n).u32(1, p.d).u32(2, p.rowsPerImage).u32(3, p.modStride)
    .u32(4, p.shiftOffset).u32(5, p.scaleOffset).u32(6, workgroups[0]);
  return createOp(device, {
    key: `layernorm_modulate_v1_f32_wg${WG}_eps${p.eps}`, label: p.label, shader: 'layernorm', code,
    entryPoint: 'layernorm_modulate', constants: { EPS: p.eps }, storage: ['read', 'read', 'rw'],
    buffers: [p.x, p.mod, p.out], uniforms, workgroups,
  });
}

/** CPU reference (f64, two-pass). */
export function layerNormRef(x: Float32Array, mod: Float32Array,
  p: Omit<LayerNormParams, 'label' | 'x' | 'out' | 'mod'>): Float32Array {
  const { n, d } = p;
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / d + p.eps);
    const mb = Math.floor(r / p.rowsPerImage) * p.modStride;
    for (let i = 0; i < d; i++) {
      out[r * d + i] = (x[r * d + i] - mean) * rstd * (1 + mod[mb + p.scaleOffset + i]) + mod[mb + p.shiftOffset + i];
    }
  }
  return out;
}
