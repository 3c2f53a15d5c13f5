// One brick of the stack as prepared GPU work for one (canvas, batch): patch embedding, DiT blocks,
// final layer and fold. Bind groups are made once; recording a step only re-encodes them.
import { brickInputChannels, tokensPerRegion } from '../model/arch.ts';
import type { BrickSpec } from '../model/format.ts';
import { prepareAttention } from '../kernels/attention.ts';
import { prepareLayerNorm } from '../kernels/layernorm.ts';
import { prepareLinear } from '../kernels/linear.ts';
import { encodeOp, type KernelOp } from '../kernels/op.ts';
import { preparePatchEmbed, preparePatchFold, setPatchShift, tokenCount, type PrevMode } from '../kernels/patch.ts';
import { EDM_COEF } from '../kernels/sampler.ts';
import type { GpuWeights } from './weights.ts';

/** Buffers the bricks share (bricks run one after another) and the per-brick outputs. */
export interface BrickBuffers {
  x: GPUBuffer; // [B, 3, H, W] the network's input canvas (the CFG halves share it)
  coef: GPUBuffer; // per network image i: [c_skip, c_out, c_in, c_noise] at 4i (EDM_COEF)
  mods: GPUBuffer[][]; // [brick][block]: adaLN output [Bt, 6d] of each block, then the final layer's [Bt, 2d]
  outputs: GPUBuffer[]; // per brick: F_k [Bt, 3, H, W]
  patches: GPUBuffer; // [Ntok, Cin·p²]
  tokens: GPUBuffer; // [Ntok, d] the residual stream
  normed: GPUBuffer; // [Ntok, d]
  hidden: GPUBuffer; // [Ntok, max(4d, 3d)] qkv or MLP hidden
  attn: GPUBuffer; // [Ntok, d]
  out: GPUBuffer; // [Ntok, 3·p²]
}

export interface Canvas {
  batch: number; // network images Bt (cond + uncond)
  xImages: number; // images in x (B)
  height: number;
  width: number;
}

/** Floats each scratch buffer needs for a brick on this canvas. */
export function brickScratch(spec: BrickSpec, k: number, d: number, mlpRatio: number, c: Canvas) {
  const n = tokenCount({ ...c, region: spec.region, patch: spec.patch });
  return {
    n, patches: n * brickInputChannels(k) * spec.patch ** 2, tokens: n * d,
    hidden: n * d * Math.max(mlpRatio, 3), out: n * 3 * spec.patch ** 2,
  };
}

export class PreparedBrick {
  private readonly embeds = new Map<PrevMode | number, KernelOp[]>();
  private readonly body: KernelOp[] = [];
  private readonly fold: KernelOp;
  private shift: [number, number] = [0, 0];

  constructor(
    private readonly device: GPUDevice,
    readonly k: number,
    readonly spec: BrickSpec,
    private readonly w: GpuWeights,
    private readonly buf: BrickBuffers,
    private readonly c: Canvas,
    readonly d: number,
    heads: number,
    mlpRatio: number,
    eps: number,
  ) {
    const name = `bricks.${k}`;
    const tiling = { batch: c.batch, height: c.height, width: c.width, region: spec.region, patch: spec.patch };
    const n = tokenCount(tiling);
    const T = tokensPerRegion(spec);
    const rowsPerImage = n / c.batch;
    const mods = buf.mods[k];
    const lin = (label: string, x: GPUBuffer, y: GPUBuffer, kIn: number, m: number, extra: object = {}) =>
      prepareLinear(device, {
        label: `${name}.${label}`, x, y, n, k: kIn, m,
        w: w.get(`${name}.${label}.weight`), b: w.get(`${name}.${label}.bias`), ...extra,
      });
    const ln = (label: string, mod: GPUBuffer, modStride: number, shiftOffset: number) =>
      prepareLayerNorm(device, {
        label: `${name}.${label}`, x: buf.tokens, out: buf.normed, mod, n, d, eps, rowsPerImage,
        modStride, shiftOffset, scaleOffset: shiftOffset + d,
      });
    const gate = (mod: GPUBuffer, offset: number) =>
      ({ epilogue: 'residual' as const, aux: mod, auxOffset: offset, auxStride: 6 * d, rowsPerImage });
    for (let j = 0; j < spec.depth; j++) {
      const b = `blocks.${j}`;
      const m = mods[j]; // per image: shift1, scale1, gate1, shift2, scale2, gate2
      this.body.push(
        ln(`${b}.norm1`, m, 6 * d, 0),
        lin(`${b}.attn.qkv`, buf.normed, buf.hidden, d, 3 * d),
        prepareAttention(device, {
          label: `${name}.${b}.attn`, qkv: buf.hidden, out: buf.attn, ntok: n, d, heads, seqLen: T,
        }),
        lin(`${b}.attn.proj`, buf.attn, buf.tokens, d, d, gate(m, 2 * d)),
        ln(`${b}.norm2`, m, 6 * d, 3 * d),
        lin(`${b}.mlp.0`, buf.normed, buf.hidden, d, mlpRatio * d, { epilogue: 'gelu' }),
        lin(`${b}.mlp.2`, buf.hidden, buf.tokens, mlpRatio * d, d, gate(m, 5 * d)),
      );
    }
    this.body.push(
      ln('final.norm', mods[spec.depth], 2 * d, 0),
      lin('final.linear', buf.normed, buf.out, d, 3 * spec.patch ** 2),
    );
    this.fold = preparePatchFold(device, { label: `${name}.fold`, ...tiling, y: buf.out, out: buf.outputs[k] });
  }

  /** Patch embedding reading F_prev from brick `prev` (a number), zeros, or nothing (brick 0). */
  private embed(prev: PrevMode | number): KernelOp[] {
    let ops = this.embeds.get(prev);
    if (!ops) {
      const { device, k, spec, w, buf, c, d } = this;
      const name = `bricks.${k}`;
      ops = preparePatchEmbed(device, {
        label: `${name}.patch${typeof prev === 'number' ? `<${prev}` : `:${prev}`}`,
        batch: c.batch, height: c.height, width: c.width, region: spec.region, patch: spec.patch,
        prev: typeof prev === 'number' ? 'read' : prev, fprev: typeof prev === 'number' ? buf.outputs[prev] : undefined,
        x: buf.x, xImages: c.xImages, coef: buf.coef, cinOffset: EDM_COEF.cIn, cinStride: EDM_COEF.stride,
        out: buf.patches,
        d, w1: w.get(`${name}.patch.0.weight`), b1: w.get(`${name}.patch.0.bias`),
        w2: w.get(`${name}.patch.2.weight`), b2: w.get(`${name}.patch.2.bias`), pos: w.pos[k],
        hidden: buf.normed, tokens: buf.tokens,
      });
      ops.forEach((op) => this.applyShift(op));
      this.embeds.set(prev, ops);
    }
    return ops;
  }

  private applyShift(op: KernelOp) {
    if (op.key.startsWith('patch_')) setPatchShift(this.device.queue, op, this.c, this.shift[0], this.shift[1]);
  }

  /** Region-grid shift for the next recordings (written to the ops' uniforms before submit). */
  setShift(sy: number, sx: number): void {
    if (sy === this.shift[0] && sx === this.shift[1]) return;
    this.shift = [sy, sx];
    for (const ops of this.embeds.values()) ops.forEach((op) => this.applyShift(op));
    this.applyShift(this.fold);
  }

  /** Records the brick: F_k = brick(F_prev, c_in·x, coords). Returns the dispatches recorded. */
  encode(pass: GPUComputePassEncoder, prev: number | null): number {
    const ops = [...this.embed(this.k === 0 ? 'none' : prev ?? 'zero'), ...this.body, this.fold];
    for (const op of ops) encodeOp(pass, op);
    return ops.length;
  }
}
