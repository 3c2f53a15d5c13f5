// Patch family: brick-input gather (canvas → patch vectors), the patch MLP + positional embedding
// (through the linear kernel), and the final fold (token outputs → canvas). Kernel: shaders/patch.wgsl.
import code from '../../shaders/patch.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { dummyBuffer, WORKGROUP_SIZE as WG } from '../gpu/pipelines';
import { inputChannels, tokensPerRegion } from '../model/arch';
import { prepareLinear } from './linear';
import { assertShape, ceilDiv, createOp, grid2d, UniformWriter, updateUniforms, type KernelOp } from './op';

/** Canvas tiling of one brick: region r, patch p, canvas H×W (multiples of r), shift (sy, sx). */
export interface Tiling {
  batch: number; // B images
  height: number; // H
  width: number; // W
  region: number; // r
  patch: number; // p (divides r)
  shiftY?: number; // sy, any integer (taken mod H)
  shiftX?: number; // sx, any integer (taken mod W)
}

/** How F_prev enters the brick input: absent (first brick), read from a canvas, or all zero. */
export type PrevMode = 'none' | 'read' | 'zero';
const PREV_ID: Record<PrevMode, number> = { none: 0, read: 1, zero: 2 };

export function tokenCount(t: Tiling): number {
  return t.batch * (t.height / t.region) * (t.width / t.region) * tokensPerRegion(t);
}

function checkTiling(t: Tiling, label: string): void {
  assertShape(t.batch > 0 && t.region > 0 && t.patch > 0 && t.region % t.patch === 0, label,
    `region ${t.region} is not a multiple of patch ${t.patch}`);
  assertShape(t.height > 0 && t.width > 0 && t.height % t.region === 0 && t.width % t.region === 0, label,
    `canvas ${t.height}×${t.width} is not a multiple of region ${t.region}`);
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** Uniform slots of Params in shaders/patch.wgsl. */
const SLOT = {
  height: 0, width: 1, region: 2, patch: 3, shiftY: 4, shiftX: 5, prev: 6, xImages: 7, cinOffset: 8, cinStride: 9,
  gridX: 10, total: 11,
} as const;

function tilingUniforms(t: Tiling, total: number): { u: UniformWriter; workgroups: [number, number, number] } {
  const workgroups = grid2d(ceilDiv(total, WG));
  const u = new UniformWriter(12)
    .u32(SLOT.height, t.height).u32(SLOT.width, t.width).u32(SLOT.region, t.region).u32(SLOT.patch, t.patch)
    .u32(SLOT.shiftY, mod(t.shiftY ?? 0, t.height)).u32(SLOT.shiftX, mod(t.shiftX ?? 0, t.width))
    .u32(SLOT.gridX, workgroups[0]).u32(SLOT.total, total);
  return { u, workgroups };
}

export interface PatchGatherParams extends Tiling {
  label: string;
  prev: PrevMode;
  fprev?: BufferArg; // [B, 3, H, W], read when prev === 'read'
  x: BufferArg; // [xImages, 3, H, W] noisy canvases (not yet scaled by c_in)
  /** c_in of x image i at coef[cinOffset + i·cinStride] (e.g. the EDM coefficient table). */
  coef: BufferArg;
  cinOffset: number;
  cinStride: number;
  /** Images in x; output image b reads x image b mod xImages (CFG: [cond B | uncond B] share x). */
  xImages?: number;
  out: BufferArg; // [Ntok, Cin·p²]
}

export function preparePatchGather(device: GPUDevice, p: PatchGatherParams): KernelOp {
  checkTiling(p, p.label);
  assertShape(p.prev !== 'read' || !!p.fprev, p.label, "prev 'read' needs fprev");
  const xImages = p.xImages ?? p.batch;
  assertShape(xImages > 0 && p.batch % xImages === 0, p.label,
    `batch ${p.batch} is not a multiple of xImages ${xImages}`);
  const total = tokenCount(p) * inputChannels(p.prev !== 'none') * p.patch * p.patch;
  const { u, workgroups } = tilingUniforms(p, total);
  u.u32(SLOT.prev, PREV_ID[p.prev]).u32(SLOT.xImages, xImages)
    .u32(SLOT.cinOffset, p.cinOffset).u32(SLOT.cinStride, p.cinStride);
  return createOp(device, {
    key: 'patch_gather_v1_f32', label: p.label, shader: 'patch', code, entryPoint: 'patch_gather',
    storage: ['read', 'read', 'read', 'rw'], buffers: [p.fprev ?? dummyBuffer(device), p.x, p.coef, p.out],
    uniforms: u, workgroups,
  });
}

/** Rewrites the shift of a prepared gather or fold (e.g. half-region shifts on alternate steps). */
export function setPatchShift(queue: GPUQueue, op: KernelOp, t: Pick<Tiling, 'height' | 'width'>,
  shiftY: number, shiftX: number): void {
  const u = new UniformWriter(12).u32(SLOT.shiftY, mod(shiftY, t.height)).u32(SLOT.shiftX, mod(shiftX, t.width));
  updateUniforms(queue, op, u, SLOT.shiftY, 2);
}

export interface PatchFoldParams extends Tiling {
  label: string;
  y: BufferArg; // [Ntok, 3·p²] final linear outputs, (c, py, px) order
  out: BufferArg; // [B, 3, H, W]
}

export function preparePatchFold(device: GPUDevice, p: PatchFoldParams): KernelOp {
  checkTiling(p, p.label);
  const { u, workgroups } = tilingUniforms(p, p.batch * 3 * p.height * p.width);
  return createOp(device, {
    key: 'patch_fold_v1_f32', label: p.label, shader: 'patch', code, entryPoint: 'patch_fold',
    storage: ['read', 'rw'], buffers: [p.y, p.out], uniforms: u, workgroups,
  });
}

export interface PatchEmbedParams extends PatchGatherParams {
  d: number;
  w1: BufferArg; // [d, Cin·p²]  bricks.k.patch.0.weight
  b1: BufferArg; // [d]
  w2: BufferArg; // [d, d]       bricks.k.patch.2.weight
  b2: BufferArg; // [d]
  pos: BufferArg; // [T, d] posEmbed2d(r/p, d)
  hidden: BufferArg; // [Ntok, d] scratch for GELU(Linear1)
  /** `out` of the gather is the patch scratch [Ntok, Cin·p²]; tokens go here: [Ntok, d]. */
  tokens: BufferArg;
}

/** Gather → Linear(Cin·p², d) + GELU → Linear(d, d) + positional table: three ops in order. */
export function preparePatchEmbed(device: GPUDevice, p: PatchEmbedParams): KernelOp[] {
  const n = tokenCount(p), kIn = inputChannels(p.prev !== 'none') * p.patch * p.patch;
  return [
    preparePatchGather(device, { ...p, label: `${p.label}.gather` }),
    prepareLinear(device, { label: `${p.label}.0`, x: p.out, w: p.w1, b: p.b1, y: p.hidden, n, k: kIn, m: p.d,
      epilogue: 'gelu' }),
    prepareLinear(device, { label: `${p.label}.2`, x: p.hidden, w: p.w2, b: p.b2, y: p.tokens, n, k: p.d, m: p.d,
      epilogue: 'posadd', aux: p.pos, posRows: tokensPerRegion(p) }),
  ];
}

/** Fixed 2-D sin-cos table [g·g, d]: token (ty, tx) → [sin(tx·ω) | cos(tx·ω) | sin(ty·ω) | cos(ty·ω)],
 *  ω_j = 10000^(−j/q), q = d/4 (column features first, then row). */
export function posEmbed2d(g: number, d: number): Float32Array {
  if (d % 4 !== 0) throw new RangeError(`posEmbed2d: d = ${d} is not a multiple of 4`);
  const q = d / 4;
  const out = new Float32Array(g * g * d);
  for (let ty = 0; ty < g; ty++) {
    for (let tx = 0; tx < g; tx++) {
      const row = (ty * g + tx) * d;
      for (let j = 0; j < q; j++) {
        const omega = 10000 ** (-j / q);
        out[row + j] = Math.sin(tx * omega);
        out[row + q + j] = Math.cos(tx * omega);
        out[row + 2 * q + j] = Math.sin(ty * omega);
        out[row + 3 * q + j] = Math.cos(ty * omega);
      }
    }
  }
  return out;
}

/** Visits every (token n, patch pixel) of a tiling: calls fn(n, b, py·p+px, source pixel index ys·W+xs). */
function forEachPatchPixel(t: Tiling,
  fn: (n: number, b: number, pix: number, src: number, ys: number, xs: number) => void): void {
  const { height: H, width: W, region: r, patch: p } = t;
  const g = r / p, Ry = H / r, Rx = W / r;
  const sy = mod(t.shiftY ?? 0, H), sx = mod(t.shiftX ?? 0, W);
  let n = 0;
  for (let b = 0; b < t.batch; b++) {
    for (let ry = 0; ry < Ry; ry++) {
      for (let rx = 0; rx < Rx; rx++) {
        for (let ty = 0; ty < g; ty++) {
          for (let tx = 0; tx < g; tx++, n++) {
            for (let py = 0; py < p; py++) {
              for (let px = 0; px < p; px++) {
                const ys = (ry * r + ty * p + py + sy) % H, xs = (rx * r + tx * p + px + sx) % W;
                fn(n, b, py * p + px, ys * W + xs, ys, xs);
              }
            }
          }
        }
      }
    }
  }
}

/** CPU reference of patch_gather. `cin[i]` is c_in of x image i. */
export function patchGatherRef(t: Tiling, prev: PrevMode, x: Float32Array, cin: ArrayLike<number>,
  fprev?: Float32Array, xImages = t.batch): Float32Array {
  const { height: H, width: W, patch: p } = t;
  const cinCount = inputChannels(prev !== 'none'), pp = p * p, hw = H * W;
  const out = new Float32Array(tokenCount(t) * cinCount * pp);
  forEachPatchPixel(t, (n, b, pix, src, ys, xs) => {
    const base = n * cinCount * pp + pix;
    const bx = b % xImages;
    const ch: number[] = [];
    if (prev !== 'none') for (let c = 0; c < 3; c++) ch.push(prev === 'read' ? fprev![(b * 3 + c) * hw + src] : 0);
    for (let c = 0; c < 3; c++) ch.push(cin[bx] * x[(bx * 3 + c) * hw + src]);
    ch.push((2 * ys + 1) / H - 1, (2 * xs + 1) / W - 1);
    ch.forEach((v, c) => { out[base + c * pp] = v; });
  });
  return out;
}

/** CPU reference of patch_fold. */
export function patchFoldRef(t: Tiling, y: Float32Array): Float32Array {
  const pp = t.patch * t.patch, hw = t.height * t.width;
  const out = new Float32Array(t.batch * 3 * hw);
  forEachPatchPixel(t, (n, b, pix, src) => {
    for (let c = 0; c < 3; c++) out[(b * 3 + c) * hw + src] = y[n * 3 * pp + c * pp + pix];
  });
  return out;
}
