// Fused brick kernels: patch embedding, the three dispatches of a DiT block (LN+qkv, attention+proj,
// LN+MLP) and the final layer with its fold. Kernel: shaders/brick.wgsl (+ shaders/tile.wgsl).
// CPU references: the plain math of each step (layerNormRef, attentionRef, linearRef, patch refs), composed.
import tile from '../../shaders/tile.wgsl?raw';
import brick from '../../shaders/brick.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { WORKGROUP_SIZE } from '../gpu/pipelines';
import { HEAD_DIM, inputChannels, tokensPerRegion } from '../model/arch';
import { gridShift } from '../model/canvas';
import { linearRef } from './linear';
import { assertShape, createOp, grid2d, UniformWriter, updateUniforms, type KernelOp } from './op';
import { checkTiling, overlaps, patchFoldRef, patchGatherRef, tokenCount, type PrevMode, type Tiling } from './patch';

const code = `${tile}\n${brick}`;
/** Rows of one workgroup tile (shaders/brick.wgsl). */
export const TILE_ROWS = 16;

/** The eight buffers every brick op binds, in binding order (an op ignores those it does not use). */
export interface BrickIO {
  tokens: BufferArg; // [Ntok, d] residual stream
  mods: BufferArg; // adaLN outputs [images, mod stride]
  pack: BufferArg; // the op's weight pack: every weight offset below is in its floats
  scratchA: BufferArg; // normalised rows, attention output [Ntok, d]; embed: patches [Ntok, patchStride(Cin·p²)]
  scratchB: BufferArg; // qkv [Ntok, 3d], MLP hidden [Ntok, hidden]; embed hidden [Ntok, d]
  x: BufferArg; // [xImages, 3, H, W] network input (embed)
  canvas: BufferArg; // embed: F_prev [B, 3, H, W] (prev 'read'); final: F_k (written)
  coef: BufferArg; // embed: c_in of x image i at coef[cinOffset + i·cinStride]
}

/** Floats per patch row in scratch A: Cin·p² rounded up to whole vec4s (zero-padded). */
export function patchStride(k: number): number {
  return Math.ceil(k / 4) * 4;
}

/** Where an op's modulation vectors are in each image's row of `mods` (float offsets). */
export interface ModLayout {
  stride: number; // floats between images
  shift?: number;
  scale?: number;
  gate?: number;
}

/** A linear's weight [out, in] and bias in the pack (float offsets, multiples of 4). */
export interface PackedLinear {
  weight: number;
  bias: number;
}

interface Rows { n: number; d: number; rowsPerImage: number }

/** Uniform slots of Params in shaders/brick.wgsl. */
const SLOT = {
  n: 0, d: 1, rowsPerImage: 2, tilesPerImage: 3, totalTiles: 4, gridX: 5, modStride: 6, shift: 7, scale: 8, gate: 9,
  heads: 10, seqLen: 11, scale1: 12, mA: 13, kIn: 14, wA: 15, bA: 16, wB: 17, bB: 18, pos: 19,
  h: 20, w: 21, region: 22, psize: 23, sy: 24, sx: 25, prev: 26, xImages: 27, cinOffset: 28, cinStride: 29,
  overlap: 30,
} as const;
const SLOTS = 32;
const PREV_ID: Record<PrevMode, number> = { none: 0, read: 1, zero: 2 };

function checkOffsets(label: string, offsets: Record<string, number | undefined>): void {
  for (const [name, v] of Object.entries(offsets)) {
    assertShape(v === undefined || (Number.isInteger(v) && v >= 0 && v % 4 === 0), label,
      `${name} offset ${v} must be a multiple of 4 floats (vec4 loads)`);
  }
}

function rowUniforms(label: string, r: Rows, m?: ModLayout): {
  u: UniformWriter; workgroups: [number, number, number];
} {
  assertShape(r.d > 0 && r.d % 4 === 0, label, `d = ${r.d} must be a positive multiple of 4`);
  assertShape(r.rowsPerImage > 0 && r.n > 0 && r.n % r.rowsPerImage === 0, label,
    `${r.n} rows are not whole images of ${r.rowsPerImage}`);
  if (m) checkOffsets(label, { 'mod stride': m.stride, shift: m.shift, scale: m.scale, gate: m.gate });
  const tilesPerImage = Math.ceil(r.rowsPerImage / TILE_ROWS);
  const totalTiles = (r.n / r.rowsPerImage) * tilesPerImage;
  const workgroups = grid2d(totalTiles);
  const u = new UniformWriter(SLOTS).u32(SLOT.n, r.n).u32(SLOT.d, r.d).u32(SLOT.rowsPerImage, r.rowsPerImage)
    .u32(SLOT.tilesPerImage, tilesPerImage).u32(SLOT.totalTiles, totalTiles).u32(SLOT.gridX, workgroups[0])
    .u32(SLOT.modStride, m?.stride ?? 0).u32(SLOT.shift, m?.shift ?? 0).u32(SLOT.scale, m?.scale ?? 0)
    .u32(SLOT.gate, m?.gate ?? 0);
  return { u, workgroups };
}

function tilingUniforms(u: UniformWriter, t: Tiling): void {
  u.u32(SLOT.h, t.height).u32(SLOT.w, t.width).u32(SLOT.region, t.region).u32(SLOT.psize, t.patch);
  shiftUniforms(u, t, t.shiftY ?? 0, t.shiftX ?? 0);
}

function shiftUniforms(u: UniformWriter, t: Pick<Tiling, 'height' | 'width' | 'region'>, sy: number, sx: number) {
  return u.u32(SLOT.sy, gridShift(sy, t.height, t.region)).u32(SLOT.sx, gridShift(sx, t.width, t.region));
}

type Kernel = 'embed' | 'qkv' | 'attn' | 'qkv_attn' | 'mlp' | 'final' | 'fold';

/** Variant key: kernel, version, workgroup and the overrides that make the pipeline. */
export function brickKey(kernel: Kernel, o: { eps?: number; dh?: number } = {}): string {
  return `brick_${kernel}_v1_f32_wg64${o.dh ? `_hd${o.dh}` : ''}${o.eps ? `_eps${o.eps}` : ''}`;
}

function brickOp(device: GPUDevice, kernel: Kernel, label: string, io: BrickIO, u: UniformWriter,
  workgroups: [number, number, number], flops: number, o: { eps?: number; dh?: number } = {}): KernelOp {
  const constants: Record<string, number> = {};
  if (o.eps !== undefined) {
    assertShape(o.eps > 0 && Number.isFinite(o.eps), label, `eps ${o.eps} must be a positive number`);
    constants.EPS = o.eps;
  }
  if (o.dh !== undefined) constants.DH = o.dh;
  return createOp(device, {
    key: brickKey(kernel, o), label, shader: 'brick', code, entryPoint: `brick_${kernel}`, constants,
    storage: ['rw', 'read', 'read', 'rw', 'rw', 'read', 'rw', 'read'],
    buffers: [io.tokens, io.mods, io.pack, io.scratchA, io.scratchB, io.x, io.canvas, io.coef],
    uniforms: u, workgroups, flops,
  });
}

// ---- embed -------------------------------------------------------------------------------------

export interface BrickEmbedParams extends Tiling {
  label: string;
  io: BrickIO;
  d: number;
  prev: PrevMode;
  xImages?: number; // images in x; network image b reads x image b mod xImages (default batch)
  cinOffset: number;
  cinStride: number;
  fc1: PackedLinear; // patch.0 [d, Cin·p²] (its rows are read a float at a time: the weight may sit anywhere)
  fc2: PackedLinear; // patch.2 [d, d]
  pos: number; // positional table [T, d]
}

/** Gather → Linear(Cin·p², d) + GELU → Linear(d, d) + positional table, into io.tokens. */
export function prepareBrickEmbed(device: GPUDevice, p: BrickEmbedParams): KernelOp {
  checkTiling(p, p.label);
  const xImages = p.xImages ?? p.batch;
  assertShape(xImages > 0 && p.batch % xImages === 0, p.label,
    `batch ${p.batch} is not a multiple of xImages ${xImages}`);
  checkOffsets(p.label, { 'fc1 bias': p.fc1.bias, 'fc2 weight': p.fc2.weight, 'fc2 bias': p.fc2.bias, pos: p.pos });
  const n = tokenCount(p), k = inputChannels(p.prev !== 'none') * p.patch ** 2;
  const { u, workgroups } = rowUniforms(p.label, { n, d: p.d, rowsPerImage: n / p.batch });
  tilingUniforms(u, p);
  u.u32(SLOT.seqLen, tokensPerRegion(p)).u32(SLOT.mA, p.d).u32(SLOT.kIn, k)
    .u32(SLOT.wA, p.fc1.weight).u32(SLOT.bA, p.fc1.bias)
    .u32(SLOT.wB, p.fc2.weight).u32(SLOT.bB, p.fc2.bias).u32(SLOT.pos, p.pos)
    .u32(SLOT.prev, PREV_ID[p.prev]).u32(SLOT.xImages, xImages).u32(SLOT.cinOffset, p.cinOffset)
    .u32(SLOT.cinStride, p.cinStride);
  return brickOp(device, 'embed', p.label, p.io, u, workgroups, 2 * n * (k * p.d + p.d * p.d));
}

/** Rewrites the region-grid shift of a prepared embed, final or fold op (the rolled tiling of odd steps). */
export function setBrickShift(queue: GPUQueue, op: KernelOp, t: Pick<Tiling, 'height' | 'width' | 'region'>,
  shiftY: number, shiftX: number): void {
  updateUniforms(queue, op, shiftUniforms(new UniformWriter(SLOTS), t, shiftY, shiftX), SLOT.sy, 2);
}

/** Two chained linears, PyTorch layout: w1 [hidden, in], w2 [out, hidden]. */
export interface TwoLinears {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export interface EmbedWeights extends TwoLinears {
  pos: Float32Array; // [T, d]
}

/** CPU reference of brick_embed: tokens [Ntok, d]. `cin[i]` is c_in of x image i. */
export function brickEmbedRef(t: Tiling, prev: PrevMode, d: number, x: Float32Array, cin: ArrayLike<number>,
  w: EmbedWeights, fprev?: Float32Array, xImages = t.batch): Float32Array {
  const n = tokenCount(t), k = inputChannels(prev !== 'none') * t.patch ** 2;
  const patches = patchGatherRef(t, prev, x, cin, fprev, xImages);
  const hidden = linearRef(patches, w.w1, w.b1, n, k, d, { epilogue: 'gelu' });
  return linearRef(hidden, w.w2, w.b2, n, d, d, { epilogue: 'posadd', aux: w.pos, posRows: tokensPerRegion(t) });
}

// ---- DiT block ---------------------------------------------------------------------------------

export interface BrickRowsParams extends Rows {
  label: string;
  io: BrickIO;
  mod: ModLayout;
}

export interface BrickQkvParams extends BrickRowsParams {
  eps: number;
  qkv: PackedLinear; // [3d, d]
}

export interface BrickAttnParams extends BrickRowsParams {
  heads: number;
  seqLen: number; // T: tokens per region (consecutive rows)
  proj: PackedLinear; // [d, d]
}

function qkvUniforms(u: UniformWriter, p: BrickQkvParams): void {
  checkOffsets(p.label, { 'qkv weight': p.qkv.weight, 'qkv bias': p.qkv.bias });
  u.u32(SLOT.mA, 3 * p.d).u32(SLOT.wA, p.qkv.weight).u32(SLOT.bA, p.qkv.bias);
}

function attnUniforms(u: UniformWriter, p: BrickAttnParams): number {
  const dh = p.d / p.heads;
  const { min, max, multiple } = HEAD_DIM;
  assertShape(Number.isInteger(dh) && dh % multiple === 0 && dh >= min && dh <= max, p.label,
    `head dim d/heads = ${p.d}/${p.heads} must be a multiple of ${multiple} in ${min}..${max}`);
  assertShape(p.seqLen > 0 && p.rowsPerImage % p.seqLen === 0, p.label,
    `${p.rowsPerImage} rows per image are not whole regions of ${p.seqLen}`);
  checkOffsets(p.label, { 'proj weight': p.proj.weight, 'proj bias': p.proj.bias });
  u.u32(SLOT.heads, p.heads).u32(SLOT.seqLen, p.seqLen).f32(SLOT.scale1, 1 / Math.sqrt(dh))
    .u32(SLOT.wB, p.proj.weight).u32(SLOT.bB, p.proj.bias);
  return dh;
}

const qkvFlops = (p: Rows) => 2 * p.n * p.d * 3 * p.d;
const attnFlops = (p: Rows & { seqLen: number }) => 4 * p.n * p.seqLen * p.d + 2 * p.n * p.d * p.d;

/** io.scratchB = qkv linear of LN(tokens)·(1 + scale) + shift: [Ntok, 3d]. */
export function prepareBrickQkv(device: GPUDevice, p: BrickQkvParams): KernelOp {
  const { u, workgroups } = rowUniforms(p.label, p, p.mod);
  qkvUniforms(u, p);
  return brickOp(device, 'qkv', p.label, p.io, u, workgroups, qkvFlops(p), { eps: p.eps });
}

/** Attention of each row's region over io.scratchB (qkv) → proj → tokens += gate ⊙ … */
export function prepareBrickAttn(device: GPUDevice, p: BrickAttnParams): KernelOp {
  const { u, workgroups } = rowUniforms(p.label, p, p.mod);
  const dh = attnUniforms(u, p);
  return brickOp(device, 'attn', p.label, p.io, u, workgroups, attnFlops(p), { dh });
}

/** Whether brick_qkv_attn applies: every region of T rows lies inside one 16-row tile. */
export function regionsFitTiles(seqLen: number): boolean {
  return TILE_ROWS % seqLen === 0;
}

/** prepareBrickQkv and prepareBrickAttn in one dispatch, for regions that fit the tiles (regionsFitTiles). */
export function prepareBrickQkvAttn(device: GPUDevice, p: BrickQkvParams & BrickAttnParams): KernelOp {
  assertShape(regionsFitTiles(p.seqLen), p.label, `regions of ${p.seqLen} rows do not fit ${TILE_ROWS}-row tiles`);
  const { u, workgroups } = rowUniforms(p.label, p, p.mod);
  qkvUniforms(u, p);
  const dh = attnUniforms(u, p);
  return brickOp(device, 'qkv_attn', p.label, p.io, u, workgroups, qkvFlops(p) + attnFlops(p), { eps: p.eps, dh });
}

export interface BrickMlpParams extends BrickRowsParams {
  eps: number;
  hidden: number; // mlp_ratio·d
  fc1: PackedLinear; // mlp.0 [hidden, d]
  fc2: PackedLinear; // mlp.2 [d, hidden]
}

/** tokens += gate ⊙ Linear(hidden, d)(GELU(Linear(d, hidden)(LN(tokens)·(1 + scale) + shift))). */
export function prepareBrickMlp(device: GPUDevice, p: BrickMlpParams): KernelOp {
  checkOffsets(p.label, { hidden: p.hidden, 'fc1 weight': p.fc1.weight, 'fc1 bias': p.fc1.bias,
    'fc2 weight': p.fc2.weight, 'fc2 bias': p.fc2.bias });
  const { u, workgroups } = rowUniforms(p.label, p, p.mod);
  u.u32(SLOT.mA, p.hidden).u32(SLOT.wA, p.fc1.weight).u32(SLOT.bA, p.fc1.bias).u32(SLOT.wB, p.fc2.weight)
    .u32(SLOT.bB, p.fc2.bias);
  return brickOp(device, 'mlp', p.label, p.io, u, workgroups, 4 * p.n * p.d * p.hidden, { eps: p.eps });
}

// ---- final layer -------------------------------------------------------------------------------

export interface BrickFinalParams extends Tiling {
  label: string;
  io: BrickIO;
  d: number;
  eps: number;
  mod: ModLayout;
  linear: PackedLinear; // final.linear [3p², d]
}

/**
 * io.canvas = fold(LN(tokens)·(1 + scale) + shift → Linear(d, 3p²)): the brick's output F_k. Where regions
 * overlap (`overlaps`) it writes the patch values [Ntok, 3p²] to io.scratchB instead, for prepareBrickFold.
 */
export function prepareBrickFinal(device: GPUDevice, p: BrickFinalParams): KernelOp {
  checkTiling(p, p.label);
  checkOffsets(p.label, { weight: p.linear.weight, bias: p.linear.bias });
  const n = tokenCount(p), m = 3 * p.patch ** 2;
  const { u, workgroups } = rowUniforms(p.label, { n, d: p.d, rowsPerImage: n / p.batch }, p.mod);
  tilingUniforms(u, p);
  u.u32(SLOT.mA, m).u32(SLOT.wA, p.linear.weight).u32(SLOT.bA, p.linear.bias).u32(SLOT.overlap, overlaps(p) ? 1 : 0);
  return brickOp(device, 'final', p.label, p.io, u, workgroups, 2 * n * p.d * m, { eps: p.eps });
}

/** io.canvas = the mean of the patch values in io.scratchB that cover each pixel (after brick_final, where
 * regions overlap). */
export function prepareBrickFold(device: GPUDevice, p: Tiling & { label: string; io: BrickIO }): KernelOp {
  checkTiling(p, p.label);
  assertShape(overlaps(p), p.label, `regions of ${p.region} tile a ${p.height}×${p.width} canvas: brick_final folds`);
  const outputs = p.batch * 3 * p.height * p.width;
  const workgroups = grid2d(Math.ceil(outputs / WORKGROUP_SIZE));
  const u = new UniformWriter(SLOTS).u32(SLOT.gridX, workgroups[0]).u32(SLOT.mA, 3 * p.patch ** 2)
    .u32(SLOT.overlap, outputs);
  tilingUniforms(u, p);
  return brickOp(device, 'fold', p.label, p.io, u, workgroups, outputs);
}

// ---- CPU references ----------------------------------------------------------------------------

/** LayerNorm (no affine, f64, two-pass) + adaLN modulate: LN(x[n])·(1 + scale[img]) + shift[img], img = n div
 *  rowsPerImage, image i's shift and scale at mod[i·modStride + shiftOffset …] and mod[… + scaleOffset …]. */
export function layerNormRef(x: Float32Array, mod: Float32Array, p: { n: number; d: number; eps: number;
  rowsPerImage: number; modStride: number; shiftOffset: number; scaleOffset: number }): Float32Array {
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

/** Region attention, f64 with a max-subtracted softmax: out[t, h·dh …] = softmax(q_t·Kᵀ/√dh)·V over the L
 *  tokens of t's sequence (consecutive rows), per head h; qkv rows are [q | k | v], each [heads, dh]. */
export function attentionRef(qkv: Float32Array,
  p: { ntok: number; d: number; heads: number; seqLen: number }): Float32Array {
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

interface LnRef extends Rows { eps: number; mod: ModLayout }

function lnRef(tokens: Float32Array, mods: Float32Array, p: LnRef, shift: number, scale: number): Float32Array {
  return layerNormRef(tokens, mods, { n: p.n, d: p.d, eps: p.eps, rowsPerImage: p.rowsPerImage,
    modStride: p.mod.stride, shiftOffset: shift, scaleOffset: scale });
}

/** CPU reference of brick_qkv: qkv [Ntok, 3d]. */
export function brickQkvRef(tokens: Float32Array, mods: Float32Array, w: Float32Array, b: Float32Array,
  p: LnRef): Float32Array {
  return linearRef(lnRef(tokens, mods, p, p.mod.shift ?? 0, p.mod.scale ?? 0), w, b, p.n, p.d, 3 * p.d);
}

/** CPU reference of brick_attn: the updated tokens. */
export function brickAttnRef(tokens: Float32Array, qkv: Float32Array, mods: Float32Array, w: Float32Array,
  b: Float32Array, p: Rows & { heads: number; seqLen: number; mod: ModLayout }): Float32Array {
  const attn = attentionRef(qkv, { ntok: p.n, d: p.d, heads: p.heads, seqLen: p.seqLen });
  return linearRef(attn, w, b, p.n, p.d, p.d, { epilogue: 'residual', y: tokens, aux: mods,
    auxOffset: p.mod.gate ?? 0, auxStride: p.mod.stride, rowsPerImage: p.rowsPerImage });
}

/** CPU reference of brick_mlp: the updated tokens. */
export function brickMlpRef(tokens: Float32Array, mods: Float32Array, w: TwoLinears,
  p: LnRef & { hidden: number }): Float32Array {
  const h = linearRef(lnRef(tokens, mods, p, p.mod.shift ?? 0, p.mod.scale ?? 0), w.w1, w.b1, p.n, p.d, p.hidden,
    { epilogue: 'gelu' });
  return linearRef(h, w.w2, w.b2, p.n, p.hidden, p.d, { epilogue: 'residual', y: tokens, aux: mods,
    auxOffset: p.mod.gate ?? 0, auxStride: p.mod.stride, rowsPerImage: p.rowsPerImage });
}

/** CPU reference of brick_final: the canvas F [B, 3, H, W]. */
export function brickFinalRef(t: Tiling, tokens: Float32Array, mods: Float32Array, w: Float32Array,
  b: Float32Array, p: { d: number; eps: number; mod: ModLayout }): Float32Array {
  const n = tokenCount(t);
  const normed = lnRef(tokens, mods, { n, d: p.d, rowsPerImage: n / t.batch, eps: p.eps, mod: p.mod },
    p.mod.shift ?? 0, p.mod.scale ?? 0);
  return patchFoldRef(t, linearRef(normed, w, b, n, p.d, 3 * t.patch ** 2));
}
