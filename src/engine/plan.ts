// Everything one (model, canvas, batch, guidance) needs on the GPU: buffers allocated once, ops
// prepared once, and `encodeEvaluation` recording one network evaluation + sampler update.
import { createStorageBuffer } from '../gpu/buffers.ts';
import type { Architecture } from '../model/format.ts';
import { prepareCondEmbed } from '../kernels/conditioning.ts';
import { prepareLinear } from '../kernels/linear.ts';
import { encodeOp, type KernelOp } from '../kernels/op.ts';
import {
  EDM_COEF, prepareDenoise, setGuidance, prepareEulerStep, prepareHeunCorrect, prepareHeunPredict,
} from '../kernels/sampler.ts';
import { brickScratch, PreparedBrick, type BrickBuffers, type Canvas } from './brick.ts';
import { adalnLayout, type GpuWeights } from './weights.ts';

/** Largest storage binding the engine allows itself (WebGPU's default maxStorageBufferBindingSize). */
export const MAX_BINDING_BYTES = 128 * 1024 * 1024;

export interface PlanKey {
  width: number;
  height: number;
  batch: number; // B images
  guided: boolean; // runs a [cond B | uncond B] network batch
}

/** The sampler update that follows an evaluation. */
export type StepKind = 'euler' | 'heun-predict' | 'heun-correct';

export class CanvasTooLargeError extends Error {
  override name = 'CanvasTooLargeError';
}

/**
 * Each brick's scratch floats on this canvas; throws CanvasTooLargeError when the largest activation
 * is over MAX_BINDING_BYTES (both engines keep to it, so they accept the same canvases).
 */
export function canvasScratch(arch: Architecture, canvas: Canvas): ReturnType<typeof brickScratch>[] {
  const scratch = arch.bricks.map((b, k) => brickScratch(b, k, arch.d, arch.mlp_ratio, canvas));
  const largest = 4 * Math.max(...scratch.map((s) => Math.max(s.tokens, s.scratchA, s.scratchB)));
  if (largest > MAX_BINDING_BYTES) {
    const guided = canvas.batch > canvas.xImages;
    throw new CanvasTooLargeError(
      `a ${canvas.width}×${canvas.height} canvas with batch ${canvas.xImages}${guided ? ' and guidance' : ''} ` +
      `needs a ${Math.round(largest / 2 ** 20)} MiB activation, over the ${MAX_BINDING_BYTES / 2 ** 20} MiB ` +
      'both engines allow (WebGPU\'s per-binding limit): use a smaller canvas or batch');
  }
  return scratch;
}

export class Plan {
  readonly bricks: PreparedBrick[];
  readonly bytes: number;
  readonly x: GPUBuffer; // [B, 3, H, W] sampler state x_i
  readonly xNext: GPUBuffer; // Heun's Euler prediction
  readonly denoised: GPUBuffer; // D of the last evaluation (preview)
  readonly perImage: number;
  private readonly buffers: GPUBuffer[] = [];
  private readonly netX: GPUBuffer;
  private readonly coef: GPUBuffer;
  private readonly labels: GPUBuffer;
  readonly condOps: KernelOp[]; // SiLU(c), then every brick's adaLN linears as one
  private readonly denoiseOps: KernelOp[]; // one per brick whose F may be the output
  readonly stepOps: Record<StepKind, KernelOp>;

  constructor(private readonly device: GPUDevice, arch: Architecture, w: GpuWeights, readonly key: PlanKey) {
    const { d, bricks, mlp_ratio: mlp, heads } = arch;
    const B = key.batch, Bt = key.guided ? 2 * B : B;
    const canvas = { batch: Bt, xImages: B, height: key.height, width: key.width };
    this.perImage = 3 * key.height * key.width;
    const scratch = canvasScratch(arch, canvas);
    const most = (f: (s: (typeof scratch)[0]) => number) => Math.max(...scratch.map(f));
    const buf = (label: string, floats: number) => {
      const b = createStorageBuffer(device, label, floats);
      this.buffers.push(b);
      return b;
    };
    const img = this.perImage;
    this.x = buf('x', B * img);
    this.xNext = buf('x_next', B * img);
    this.denoised = buf('denoised', B * img);
    const deriv = buf('deriv', B * img);
    this.netX = buf('net.x', B * img);
    this.coef = buf('edm.coef', Bt * EDM_COEF.stride);
    this.labels = buf('labels', Bt * arch.label_dim);
    const ad = adalnLayout(arch);
    const shared: BrickBuffers = {
      x: this.netX, coef: this.coef, mods: buf('adaln.out', Bt * ad.stride),
      outputs: bricks.map((_, k) => buf(`bricks.${k}.F`, Bt * img)),
      tokens: buf('brick.tokens', most((s) => s.tokens)),
      scratchA: buf('brick.scratch_a', most((s) => s.scratchA)),
      scratchB: buf('brick.scratch_b', most((s) => s.scratchB)),
    };
    const siluC = buf('cond.silu_c', Bt * d);
    const o = (t: string) => w.offset(t);
    this.condOps = [
      prepareCondEmbed(device, {
        label: 'cond', coef: this.coef, coefOffset: EDM_COEF.cNoise, coefStride: EDM_COEF.stride, labels: this.labels,
        pack: w.pack('cond'), w: { t0: o('t_embed.0.weight'), bt0: o('t_embed.0.bias'), t2: o('t_embed.2.weight'),
          bt2: o('t_embed.2.bias'), y: o('y_embed.weight'), by: o('y_embed.bias') },
        scratch: buf('cond.scratch', Bt * (arch.fourier_dim + d)), out: siluC,
        images: Bt, dim: arch.fourier_dim, d, labelDim: arch.label_dim,
      }),
      prepareLinear(device, {
        label: 'adaln', x: siluC, y: shared.mods, n: Bt, k: d, m: ad.stride,
        w: w.get('adaln.weight'), b: w.get('adaln.bias'),
      }),
    ];
    this.bricks = bricks.map((spec, k) => new PreparedBrick(device, k, spec, w, shared, canvas, d,
      { stride: ad.stride, blocks: ad.blocks[k], final: ad.final[k] }, heads, mlp, arch.layernorm_eps));
    this.denoiseOps = bricks.map((_, k) => prepareDenoise(device, {
      label: `denoise<${k}`, f: shared.outputs[k], x: this.netX, coef: this.coef, out: this.denoised,
      batch: B, perImage: img, guidance: key.guided ? 1 : undefined,
    }));
    const step = { count: B * img, t: 1, tNext: 0.5 };
    this.stepOps = {
      euler: prepareEulerStep(device, { ...step, label: 'euler', x: this.x, denoised: this.denoised }),
      'heun-predict': prepareHeunPredict(device, {
        ...step, label: 'heun.predict', x: this.x, denoised: this.denoised, deriv, xNext: this.xNext,
      }),
      'heun-correct': prepareHeunCorrect(device, {
        ...step, label: 'heun.correct', x: this.x, xNext: this.xNext, denoised: this.denoised, deriv,
      }),
    };
    this.bytes = this.buffers.reduce((s, b) => s + b.size, 0);
  }

  setGuidance(w: number): void {
    if (this.key.guided) this.denoiseOps.forEach((op) => setGuidance(this.device.queue, op, w));
  }

  /** One label vector [L] for every image of the batch; the unconditional half stays zero. */
  writeLabels(labels: Float32Array): void {
    for (let b = 0; b < this.key.batch; b++) this.writeLabelRows(labels, b);
  }

  /** Label rows [n, L] from image `first` on (one per image). */
  writeLabelRows(rows: Float32Array, first = 0): void {
    this.device.queue.writeBuffer(this.labels, first * rows.byteLength, rows as Float32Array<ArrayBuffer>);
  }

  writeCoefficients(table: Float32Array): void {
    this.device.queue.writeBuffer(this.coef, 0, table as Float32Array<ArrayBuffer>);
  }

  /**
   * Records one network evaluation at the canvas `input` (x or x_next), over the active bricks,
   * then D from the last active brick and the sampler update. Returns the dispatch count.
   */
  encodeEvaluation(enc: GPUCommandEncoder, input: 'x' | 'x_next', active: readonly number[], step: StepKind | null,
    timestamps?: (k: number) => GPUComputePassTimestampWrites | undefined): number {
    enc.copyBufferToBuffer(input === 'x' ? this.x : this.xNext, 0, this.netX, 0, this.x.size);
    let dispatches = 0;
    const run = (ops: readonly KernelOp[], pass: GPUComputePassEncoder) => {
      ops.forEach((op) => encodeOp(pass, op));
      dispatches += ops.length;
    };
    let pass = enc.beginComputePass({ label: 'conditioning' });
    run(this.condOps, pass);
    let prev: number | null = null;
    for (const k of active) {
      const tw = timestamps?.(k);
      if (tw) {
        pass.end();
        pass = enc.beginComputePass({ label: `brick${k}`, timestampWrites: tw });
      }
      dispatches += this.bricks[k].encode(pass, prev);
      if (tw) {
        pass.end();
        pass = enc.beginComputePass({ label: 'after' });
      }
      prev = k;
    }
    if (step) run([this.denoiseOps[active[active.length - 1]], this.stepOps[step]], pass);
    pass.end();
    return dispatches;
  }

  /** Records D of brick k (its F must be current) into `denoised`. */
  encodeDenoise(enc: GPUCommandEncoder, k: number): void {
    const pass = enc.beginComputePass({ label: `denoise<${k}` });
    encodeOp(pass, this.denoiseOps[k]);
    pass.end();
  }

  destroy(): void {
    this.buffers.forEach((b) => b.destroy());
  }
}
