// EDM sampler elementwise ops: preconditioning (+ classifier-free guidance), Euler and Heun
// updates. Kernel: shaders/sampler.wgsl. Per-image scalars come from the EDM coefficient table,
// step scalars from each op's uniforms (setStepTimes / setGuidance rewrite them between steps).
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

/** Uniform slots of DenoiseParams and StepParams in shaders/sampler.wgsl. */
const DENOISE = {
  total: 0, perImage: 1, guided: 2, coefStride: 3, skipOffset: 4, outOffset: 5, gridX: 6, guidance: 7,
} as const;
const STEP = { total: 0, gridX: 1, t: 2, tNext: 3, h: 4 } as const;

function elementwise(count: number): { workgroups: [number, number, number] } {
  return { workgroups: grid2d(ceilDiv(count, WG)) };
}

export interface DenoiseParams {
  label: string;
  f: BufferArg; // network output F: [B, per] or, guided, [2B, per] = [cond B | uncond B]
  x: BufferArg; // [B, per]
  coef: BufferArg; // EDM coefficient table, image b at b·EDM_COEF.stride
  out: BufferArg; // D [B, per]
  batch: number; // B
  perImage: number; // 3·H·W
  guidance?: number; // w; omitted: no guidance (F has B images)
}

export function prepareDenoise(device: GPUDevice, p: DenoiseParams): KernelOp {
  assertShape(p.batch > 0 && p.perImage > 0, p.label, 'empty');
  const total = p.batch * p.perImage;
  const { workgroups } = elementwise(total);
  const u = new UniformWriter(8).u32(DENOISE.total, total).u32(DENOISE.perImage, p.perImage)
    .u32(DENOISE.guided, p.guidance === undefined ? 0 : 1).u32(DENOISE.coefStride, EDM_COEF.stride)
    .u32(DENOISE.skipOffset, EDM_COEF.cSkip).u32(DENOISE.outOffset, EDM_COEF.cOut).u32(DENOISE.gridX, workgroups[0])
    .f32(DENOISE.guidance, p.guidance ?? 1);
  return createOp(device, {
    key: 'edm_denoise_v1_f32', label: p.label, shader: 'sampler', code, entryPoint: 'edm_denoise',
    storage: ['read', 'read', 'read', 'rw'], buffers: [p.f, p.x, p.coef, p.out], uniforms: u, workgroups,
  });
}

/** Changes w of a guided denoise op. */
export function setGuidance(queue: GPUQueue, op: KernelOp, guidance: number): void {
  updateUniforms(queue, op, new UniformWriter(8).f32(DENOISE.guidance, guidance), DENOISE.guidance);
}

interface StepBase {
  label: string;
  count: number; // elements, B·3·H·W
  t: number; // t_i
  tNext: number; // t_{i+1}
}

function stepUniforms(p: StepBase): { u: UniformWriter; workgroups: [number, number, number] } {
  const { workgroups } = elementwise(p.count);
  const u = new UniformWriter(8).u32(STEP.total, p.count).u32(STEP.gridX, workgroups[0]);
  writeTimes(u, p.t, p.tNext);
  return { u, workgroups };
}

function writeTimes(u: UniformWriter, t: number, tNext: number): void {
  u.f32(STEP.t, t).f32(STEP.tNext, tNext).f32(STEP.h, tNext - t);
}

function prepareStep(device: GPUDevice, p: StepBase, entryPoint: string, storage: ('read' | 'rw')[],
  buffers: BufferArg[]): KernelOp {
  assertShape(p.count > 0 && p.t > 0, p.label, `count ${p.count}, t ${p.t}: need count > 0 and t > 0`);
  const { u, workgroups } = stepUniforms(p);
  return createOp(device, {
    key: `${entryPoint}_v1_f32`, label: p.label, shader: 'sampler', code, entryPoint, storage, buffers, uniforms: u,
    workgroups,
  });
}

/** Rewrites t, t_next (and t_next − t) of a prepared step op. */
export function setStepTimes(queue: GPUQueue, op: KernelOp, t: number, tNext: number): void {
  const u = new UniformWriter(8);
  writeTimes(u, t, tNext);
  updateUniforms(queue, op, u, STEP.t, 3);
}

/** Euler in place: x ← x + (t_next − t)·(x − D)/t. */
export function prepareEulerStep(device: GPUDevice, p: StepBase & { x: BufferArg; denoised: BufferArg }): KernelOp {
  return prepareStep(device, p, 'euler_step', ['rw', 'read'], [p.x, p.denoised]);
}

/** Heun's first stage: d = (x − D)/t, x_next = x + (t_next − t)·d (x unchanged). */
export function prepareHeunPredict(device: GPUDevice,
  p: StepBase & { x: BufferArg; denoised: BufferArg; deriv: BufferArg; xNext: BufferArg }): KernelOp {
  return prepareStep(device, p, 'heun_predict', ['read', 'read', 'rw', 'rw'], [p.x, p.denoised, p.deriv, p.xNext]);
}

/** Heun's correction (for t_next > 0): x ← x + (t_next − t)·½·(d + (x_next − D(x_next))/t_next). */
export function prepareHeunCorrect(device: GPUDevice,
  p: StepBase & { x: BufferArg; xNext: BufferArg; denoised: BufferArg; deriv: BufferArg }): KernelOp {
  assertShape(p.tNext > 0, p.label, 'Heun correction needs t_next > 0 (use the Euler result on the last step)');
  return prepareStep(device, p, 'heun_correct', ['rw', 'read', 'read', 'read'], [p.x, p.xNext, p.denoised, p.deriv]);
}

// ---- CPU references (f32 scalars as the kernels see them) ----

export function denoiseRef(f: Float32Array, x: Float32Array, coef: Float32Array, batch: number, perImage: number,
  guidance?: number): Float32Array {
  const total = batch * perImage, out = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    const b = Math.floor(i / perImage);
    const fg = guidance === undefined ? f[i] : f[total + i] + Math.fround(guidance) * (f[i] - f[total + i]);
    out[i] = coef[b * EDM_COEF.stride + EDM_COEF.cSkip] * x[i] + coef[b * EDM_COEF.stride + EDM_COEF.cOut] * fg;
  }
  return out;
}

export function eulerStepRef(x: Float32Array, denoised: Float32Array, t: number, tNext: number): Float32Array {
  const h = Math.fround(tNext - t), tf = Math.fround(t);
  return x.map((v, i) => v + h * ((v - denoised[i]) / tf));
}

export function heunPredictRef(x: Float32Array, denoised: Float32Array, t: number,
  tNext: number): { deriv: Float32Array; xNext: Float32Array } {
  const h = Math.fround(tNext - t), tf = Math.fround(t);
  const deriv = x.map((v, i) => (v - denoised[i]) / tf);
  return { deriv, xNext: x.map((v, i) => v + h * deriv[i]) };
}

export function heunCorrectRef(x: Float32Array, xNext: Float32Array, denoised: Float32Array, deriv: Float32Array,
  t: number, tNext: number): Float32Array {
  const h = Math.fround(tNext - t), tn = Math.fround(tNext);
  return x.map((v, i) => v + h * 0.5 * (deriv[i] + (xNext[i] - denoised[i]) / tn));
}
