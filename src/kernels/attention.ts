// Region attention: softmax(q·kᵀ/√dh)·v per (sequence, head) over packed qkv. Kernel: shaders/attention.wgsl.
import code from '../../shaders/attention.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { WORKGROUP_SIZE as WG } from '../gpu/pipelines';
import { HEAD_DIM } from '../model/arch';
import { assertShape, ceilDiv, createOp, grid2d, UniformWriter, type KernelOp } from './op';

export interface AttentionParams {
  label: string;
  qkv: BufferArg; // [Ntok, 3d], row = [q | k | v], each [heads, dh]
  out: BufferArg; // [Ntok, d], head h at columns h·dh …
  ntok: number; // a multiple of seqLen
  d: number;
  heads: number;
  seqLen: number; // L: tokens per independent sequence (region), consecutive rows
}

export function attentionKey(dh: number): string {
  return `attention_v1_f32_hd${dh}`;
}

export function prepareAttention(device: GPUDevice, p: AttentionParams): KernelOp {
  const dh = p.d / p.heads;
  const { min, max, multiple } = HEAD_DIM;
  assertShape(Number.isInteger(dh) && dh % multiple === 0 && dh >= min && dh <= max, p.label,
    `head dim d/heads = ${p.d}/${p.heads} must be a multiple of ${multiple} in ${min}..${max}`);
  assertShape(p.seqLen > 0 && p.ntok > 0 && p.ntok % p.seqLen === 0, p.label,
    `${p.ntok} tokens are not whole sequences of ${p.seqLen}`);
  const total = p.ntok * p.heads;
  const workgroups = grid2d(ceilDiv(total, WG));
  const uniforms = new UniformWriter(8).u32(0, total).u32(1, p.d / 4).u32(2, p.heads).u32(3, p.seqLen)
    .f32(4, 1 / Math.sqrt(dh)).u32(5, workgroups[0]);
  return createOp(device, {
    key: attentionKey(dh), label: p.label, shader: 'attention', code, entryPoint: 'region_attention',
    constants: { DH: dh }, storage: ['read', 'rw'], buffers: [p.qkv, p.out], uniforms, workgroups,
    flops: 4 * p.ntok * p.seqLen * p.d,
  });
}

/** CPU reference (f64, max-subtracted softmax). */
export function attentionRef(qkv: Float32Array, p: Omit<AttentionParams, 'label' | 'qkv' | 'out'>): Float32Array {
  const { ntok, d, heads, seqLen: L } = p;
  const dh = d / heads, scale = 1 / Math.sqrt(dh);
  const out = new Float32Array(ntok * d);
  const s = new Float64Array(L);
  for (let seq = 0; seq < ntok / L; seq++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < L; i++) {
        const q = (seq * L + i) * 3 * d + h * dh;
        let max = -Infinity;
        for (let j = 0; j < L; j++) {
          const k = (seq * L + j) * 3 * d + d + h * dh;
          let dot = 0;
          for (let c = 0; c < dh; c++) dot += qkv[q + c] * qkv[k + c];
          s[j] = dot * scale;
          max = Math.max(max, s[j]);
        }
        let sum = 0;
        for (let j = 0; j < L; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
        const o = (seq * L + i) * d + h * dh;
        for (let c = 0; c < dh; c++) {
          let acc = 0;
          for (let j = 0; j < L; j++) acc += s[j] * qkv[(seq * L + j) * 3 * d + 2 * d + h * dh + c];
          out[o + c] = acc / sum;
        }
      }
    }
  }
  return out;
}
