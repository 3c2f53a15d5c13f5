// One brick of the stack as prepared GPU work for one (canvas, batch): patch embedding, DiT blocks
// (2 or 3 fused dispatches each) and the final layer with its fold (shaders/brick.wgsl). Bind groups are
// made once; recording a step only re-encodes them.
import { brickInputChannels, tokensPerRegion } from '../model/arch.ts';
import type { BrickSpec } from '../model/format.ts';
import {
  patchStride, prepareBrickAttn, prepareBrickEmbed, prepareBrickFinal, prepareBrickFold, prepareBrickMlp, prepareBrickQkv,
  prepareBrickQkvAttn, regionsFitTiles, setBrickShift, type BrickIO, type PackedLinear,
} from '../kernels/brick.ts';
import { encodeOp, type KernelOp } from '../kernels/op.ts';
import { overlaps, tokenCount, type PrevMode } from '../kernels/patch.ts';
import { EDM_COEF } from '../kernels/sampler.ts';
import type { GpuWeights } from './weights.ts';

/** Buffers the bricks share (bricks run one after another) and the per-brick outputs. */
export interface BrickBuffers {
  x: GPUBuffer; // [B, 3, H, W] the network's input canvas (the CFG halves share it)
  coef: GPUBuffer; // per network image i: [c_skip, c_out, c_in, c_noise] at 4i (EDM_COEF)
  mods: GPUBuffer; // every adaLN output [Bt, stride] (weights.ts adalnLayout)
  outputs: GPUBuffer[]; // per brick: F_k [Bt, 3, H, W]
  tokens: GPUBuffer; // [Ntok, d] the residual stream
  scratchA: GPUBuffer; // [Ntok, max(d, patch row)] normalised rows, attention output, patches
  scratchB: GPUBuffer; // [Ntok, max(3d, mlp·d)] qkv, MLP and patch-MLP hidden
}

/** Where this brick's adaLN vectors are in each image's row of `mods` (weights.ts adalnLayout). */
export interface BrickMods {
  stride: number;
  blocks: number[]; // block j: shift1, scale1, gate1, shift2, scale2, gate2 from blocks[j]
  final: number; // shift, scale
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
    n, tokens: n * d, scratchA: n * Math.max(d, patchStride(brickInputChannels(k) * spec.patch ** 2)),
    scratchB: n * Math.max(d * Math.max(mlpRatio, 3), 3 * spec.patch ** 2), // + the fold's patch values
  };
}

export class PreparedBrick {
  private readonly embeds = new Map<PrevMode | number, KernelOp>();
  private readonly body: KernelOp[] = [];
  private readonly final: KernelOp[]; // final layer, and the fold where regions overlap
  private shift: [number, number] = [0, 0];

  constructor(
    private readonly device: GPUDevice,
    readonly k: number,
    readonly spec: BrickSpec,
    private readonly w: GpuWeights,
    private readonly buf: BrickBuffers,
    private readonly c: Canvas,
    readonly d: number,
    mods: BrickMods,
    heads: number,
    mlpRatio: number,
    eps: number,
  ) {
    const name = `bricks.${k}`;
    const n = tokenCount(this.tiling());
    const rows = { n, d, rowsPerImage: n / c.batch }, stride = mods.stride;
    const T = tokensPerRegion(spec);
    for (let j = 0; j < spec.depth; j++) {
      const b = `${name}.blocks.${j}`;
      const io = this.io(b, buf.outputs[k]);
      const at = mods.blocks[j]; // shift1, scale1, gate1, shift2, scale2, gate2
      const attn = {
        io, ...rows, eps, heads, seqLen: T, qkv: this.linear(`${b}.attn.qkv`), proj: this.linear(`${b}.attn.proj`),
      };
      const mod = { stride, shift: at, scale: at + d, gate: at + 2 * d };
      this.body.push(
        ...(regionsFitTiles(T)
          ? [prepareBrickQkvAttn(device, { ...attn, label: `${b}.attn`, mod })]
          : [prepareBrickQkv(device, { ...attn, label: `${b}.qkv`, mod }),
            prepareBrickAttn(device, { ...attn, label: `${b}.attn`, mod })]),
        prepareBrickMlp(device, { label: `${b}.mlp`, io, ...rows, eps, hidden: mlpRatio * d,
          mod: { stride, shift: at + 3 * d, scale: at + 4 * d, gate: at + 5 * d },
          fc1: this.linear(`${b}.mlp.0`), fc2: this.linear(`${b}.mlp.2`) }),
      );
    }
    const finalIo = this.io(`${name}.final`, buf.outputs[k]);
    this.final = [prepareBrickFinal(device, {
      label: `${name}.final`, io: finalIo, ...this.tiling(), d, eps,
      mod: { stride, shift: mods.final, scale: mods.final + d }, linear: this.linear(`${name}.final.linear`),
    })];
    if (overlaps(this.tiling())) this.final.push(prepareBrickFold(device, { label: `${name}.fold`, io: finalIo, ...this.tiling() }));
  }

  /** Where the weight and bias of linear `prefix` are in its pack. */
  private linear(prefix: string): PackedLinear {
    return { weight: this.w.offset(`${prefix}.weight`), bias: this.w.offset(`${prefix}.bias`) };
  }

  private tiling() {
    const { c, spec } = this;
    return { batch: c.batch, height: c.height, width: c.width, region: spec.region, patch: spec.patch };
  }

  /** The buffers of an op reading weight pack `pack`; `canvas` is F_prev (embed) or this brick's F (final). */
  private io(pack: string, canvas: GPUBuffer): BrickIO {
    const { buf } = this;
    return {
      tokens: buf.tokens, mods: buf.mods, pack: this.w.pack(pack), scratchA: buf.scratchA, scratchB: buf.scratchB,
      x: buf.x, canvas, coef: buf.coef,
    };
  }

  /** Patch embedding reading F_prev from brick `prev` (a number), zeros, or nothing (brick 0). */
  private embed(prev: PrevMode | number): KernelOp {
    let op = this.embeds.get(prev);
    if (!op) {
      const { k, w, buf, c } = this;
      const name = `bricks.${k}`;
      op = prepareBrickEmbed(this.device, {
        label: `${name}.patch${typeof prev === 'number' ? `<${prev}` : `:${prev}`}`, ...this.tiling(), d: this.d,
        io: this.io(`${name}.patch`, typeof prev === 'number' ? buf.outputs[prev] : buf.outputs[k]),
        prev: typeof prev === 'number' ? 'read' : prev, xImages: c.xImages,
        cinOffset: EDM_COEF.cIn, cinStride: EDM_COEF.stride,
        fc1: this.linear(`${name}.patch.0`), fc2: this.linear(`${name}.patch.2`), pos: w.offset(`${name}.pos`),
      });
      this.applyShift(op);
      this.embeds.set(prev, op);
    }
    return op;
  }

  private applyShift(op: KernelOp) {
    setBrickShift(this.device.queue, op, this.tiling(), this.shift[0], this.shift[1]);
  }

  /** Region-grid shift for the next recordings (written to the ops' uniforms before submit). */
  setShift(sy: number, sx: number): void {
    if (sy === this.shift[0] && sx === this.shift[1]) return;
    this.shift = [sy, sx];
    for (const op of [...this.embeds.values(), ...this.final]) this.applyShift(op);
  }

  /** The dispatches of F_k = brick(F_prev, c_in·x, coords), F_prev from brick `prev` (none: zeros). */
  ops(prev: number | null): KernelOp[] {
    return [this.embed(this.k === 0 ? 'none' : prev ?? 'zero'), ...this.body, ...this.final];
  }

  /** Records the brick. Returns the dispatches recorded. */
  encode(pass: GPUComputePassEncoder, prev: number | null): number {
    const ops = this.ops(prev);
    for (const op of ops) encodeOp(pass, op);
    return ops.length;
  }
}
