// The EDM sampler's work after each network evaluation, as one dispatch: classifier-free guidance,
// D = c_skip·x + c_out·F, the Euler or Heun update and the repaint blend. Kernel: shaders/sampler.wgsl.
// Per-image scalars come from the EDM coefficient table; the step's kind and noise levels from the
// op's uniforms (setSamplerStep rewrites them before each evaluation, setGuidance once per run).
import code from '../../shaders/sampler.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { WORKGROUP_SIZE as WG } from '../gpu/pipelines';
import { assertShape, ceilDiv, createOp, grid2d, UniformWriter, updateUniforms, type KernelOp } from './op';

/** Layout of the per-image EDM coefficient table [images, 4] that kernels read scalars from. */
export const EDM_COEF = { stride: 4, cSkip: 0, cOut: 1, cIn: 2, cNoise: 3 } as const;

/** [c_skip, c_out, c_in, c_noise] per image for noise levels σ_b (EDM preconditioning; docs/model-spec.md). */
export function edmCoefTable(sigmas: ArrayLike<number>, sigmaData = 0.5): Float32Array {
  const out = new Float32Array(sigmas.length * EDM_COEF.stride);
  for (let b = 0; b < sigmas.length; b++) {
    const s = sigmas[b], s2 = s * s + sigmaData * sigmaData;
    out.set([sigmaData * sigmaData / s2, s * sigmaData / Math.sqrt(s2), 1 / Math.sqrt(s2), Math.log(s) / 4],
      b * EDM_COEF.stride);
  }
  return out;
}

/** Uniform slots of StepParams in shaders/sampler.wgsl. */
const SLOT = {
  total: 0, perImage: 1, pixels: 2, guided: 3, kind: 4, masked: 5, coefStride: 6, skipOffset: 7, outOffset: 8,
  gridX: 9, guidance: 10, t: 11, tNext: 12, h: 13,
} as const;
const SLOTS = 16;

/** What follows an evaluation: D only (parity tests), an Euler step, or one of Heun's two stages. */
export type SamplerKind = 'denoise' | 'euler' | 'heun-predict' | 'heun-correct';
const KIND_CODE: Record<SamplerKind, number> = { denoise: 0, euler: 1, 'heun-predict': 2, 'heun-correct': 3 };

export interface SamplerStepParams {
  label: string;
  f: BufferArg; // network output F: [B, per] or, guided, [2B, per] = [cond B | uncond B]
  coef: BufferArg; // EDM coefficient table, image b at b·EDM_COEF.stride
  denoised: BufferArg; // D [B, per] (the preview)
  x: BufferArg; // state x_i [B, per]; the network's input but when correcting
  xNext: BufferArg; // Heun's prediction [B, per]: written by the predict stage, the input of the correction
  deriv: BufferArg; // Heun's first slope [B, per]
  noise: BufferArg; // ε [B, per]: the start image's trajectory is y + t·ε (repaint)
  known: BufferArg; // [y (per) | mask (pixels)] (repaint)
  batch: number; // B
  perImage: number; // 3·H·W
  guidance?: number; // w; omitted: no guidance (F has B images)
}

export function prepareSamplerStep(device: GPUDevice, p: SamplerStepParams): KernelOp {
  assertShape(p.batch > 0 && p.perImage > 0 && p.perImage % 3 === 0, p.label,
    `batch ${p.batch}, per image ${p.perImage}: need both > 0 and 3 channels`);
  const total = p.batch * p.perImage;
  const workgroups = grid2d(ceilDiv(total, WG));
  const u = new UniformWriter(SLOTS).u32(SLOT.total, total).u32(SLOT.perImage, p.perImage)
    .u32(SLOT.pixels, p.perImage / 3).u32(SLOT.guided, p.guidance === undefined ? 0 : 1)
    .u32(SLOT.coefStride, EDM_COEF.stride).u32(SLOT.skipOffset, EDM_COEF.cSkip).u32(SLOT.outOffset, EDM_COEF.cOut)
    .u32(SLOT.gridX, workgroups[0]).f32(SLOT.guidance, p.guidance ?? 1);
  writeStep(u, { kind: 'denoise', t: 1, tNext: 0, masked: false });
  return createOp(device, {
    key: 'edm_step_v2_f32', label: p.label, shader: 'sampler', code, entryPoint: 'edm_step',
    storage: ['read', 'read', 'rw', 'rw', 'rw', 'rw', 'read', 'read'],
    buffers: [p.f, p.coef, p.denoised, p.x, p.xNext, p.deriv, p.noise, p.known], uniforms: u, workgroups,
  });
}

export interface SamplerStep {
  kind: SamplerKind;
  t: number; // t_i (the update's; unused by 'denoise')
  tNext: number; // t_{i+1}
  masked: boolean; // blend onto the start image's trajectory (repaint)
}

function writeStep(u: UniformWriter, s: SamplerStep): UniformWriter {
  return u.u32(SLOT.kind, KIND_CODE[s.kind]).u32(SLOT.masked, s.masked ? 1 : 0)
    .f32(SLOT.t, s.t).f32(SLOT.tNext, s.tNext).f32(SLOT.h, s.tNext - s.t);
}

/** Sets what the next dispatch of a prepared op does (before each evaluation's submit). */
export function setSamplerStep(queue: GPUQueue, op: KernelOp, s: SamplerStep): void {
  if (s.kind !== 'denoise' && !(s.t > 0)) throw new RangeError(`${op.label}: a ${s.kind} step needs t > 0, got ${s.t}`);
  if (s.kind === 'heun-correct' && !(s.tNext > 0)) {
    throw new RangeError(`${op.label}: Heun's correction needs t_next > 0 (the last step is an Euler step)`);
  }
  const u = writeStep(new UniformWriter(SLOTS), s);
  updateUniforms(queue, op, u, SLOT.kind, 2);
  updateUniforms(queue, op, u, SLOT.t, 3);
}

/** Changes w of a guided op. */
export function setGuidance(queue: GPUQueue, op: KernelOp, guidance: number): void {
  updateUniforms(queue, op, new UniformWriter(SLOTS).f32(SLOT.guidance, guidance), SLOT.guidance);
}

// ---- CPU reference (f32 scalars as the kernel sees them; the CPU engine runs it) ----

/** The sampler's buffers, updated in place as the kernel updates them. */
export interface SamplerState {
  x: Float32Array;
  xNext: Float32Array;
  deriv: Float32Array;
  denoised: Float32Array;
}

/** What a repaint keeps: the start image y [per], its mask [pixels] and the noise ε [B, per]. */
export interface Known {
  image: Float32Array;
  mask: Float32Array;
  noise: Float32Array;
}

/** The kernel's math on the CPU; `known` is read when `step.masked`. */
export function samplerStepRef(s: SamplerState, f: Float32Array, coef: Float32Array, batch: number,
  perImage: number, step: SamplerStep, guidance?: number, known?: Known): void {
  if (step.masked && !known) throw new RangeError('a masked sampler step needs the known image');
  const total = batch * perImage, pixels = perImage / 3;
  const t = Math.fround(step.t), tNext = Math.fround(step.tNext), h = Math.fround(step.tNext - step.t);
  const w = guidance === undefined ? 0 : Math.fround(guidance);
  const k = step.masked ? known : undefined;
  for (let i = 0; i < total; i++) {
    const b = Math.floor(i / perImage), j = i - b * perImage;
    const fg = guidance === undefined ? f[i] : f[total + i] + w * (f[i] - f[total + i]);
    const xIn = step.kind === 'heun-correct' ? s.xNext[i] : s.x[i];
    const d = coef[b * EDM_COEF.stride + EDM_COEF.cSkip] * xIn + coef[b * EDM_COEF.stride + EDM_COEF.cOut] * fg;
    const m = k ? k.mask[j % pixels] : 1;
    const keep = (v: number) => (k ? m * v + (1 - m) * (k.image[j] + tNext * k.noise[i]) : v);
    s.denoised[i] = k ? m * d + (1 - m) * k.image[j] : d;
    if (step.kind === 'euler') s.x[i] = keep(s.x[i] + h * ((s.x[i] - d) / t));
    else if (step.kind === 'heun-predict') {
      s.deriv[i] = (s.x[i] - d) / t;
      s.xNext[i] = keep(s.x[i] + h * s.deriv[i]);
    } else if (step.kind === 'heun-correct') {
      s.x[i] = keep(s.x[i] + h * 0.5 * (s.deriv[i] + (xIn - d) / tNext));
    }
  }
}
