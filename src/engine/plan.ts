// Everything one (model, canvas, batch, guidance) needs on the GPU: buffers allocated once, ops
// prepared once, and `encodeEvaluation` recording one network evaluation + sampler update.
import { createStorageBuffer } from '../gpu/buffers.ts';
import { brickFits } from '../model/canvas.ts';
import type { Architecture } from '../model/format.ts';
import { prepareCondEmbed } from '../kernels/conditioning.ts';
import { prepareLinear } from '../kernels/linear.ts';
import { encodeOp, type KernelOp } from '../kernels/op.ts';
import { EDM_COEF, prepareSamplerStep, setGuidance, setSamplerStep, type SamplerStep } from '../kernels/sampler.ts';
import { brickScratch, PreparedBrick, type BrickBuffers, type Canvas } from './brick.ts';
import { adalnLayout, type GpuWeights } from './weights.ts';

/** Largest storage binding the engine allows itself (WebGPU's default maxStorageBufferBindingSize). */
export const MAX_BINDING_BYTES = 128 * 1024 * 1024;

export interface PlanKey {
  width: number;
  height: number;
  batch: number; // B images
  guided: boolean; // runs a [cond B | uncond B] network batch
  repaint: boolean; // holds a start image, its mask and the noise (a repaint's sampler reads them)
}

export class CanvasTooLargeError extends Error {
  override name = 'CanvasTooLargeError';
}

/**
 * The scratch floats of each brick that runs on this canvas; throws CanvasTooLargeError when the largest
 * activation is over MAX_BINDING_BYTES (both engines keep to it, so they accept the same canvases).
 */
export function canvasScratch(arch: Architecture, canvas: Canvas): ReturnType<typeof brickScratch>[] {
  const scratch = arch.bricks.flatMap((b, k) =>
    (brickFits(b.region, canvas.height, canvas.width) ? [brickScratch(b, k, arch.d, arch.mlp_ratio, canvas)] : []));
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
  readonly bricks: (PreparedBrick | null)[]; // null: the brick does not run on this canvas (canvas.ts brickFits)
  readonly bytes: number;
  readonly x: GPUBuffer; // [B, 3, H, W] sampler state x_i
  readonly xNext: GPUBuffer; // Heun's Euler prediction
  readonly denoised: GPUBuffer; // D of the last evaluation (preview)
  readonly perImage: number;
  private readonly noise: GPUBuffer; // ε [B, 3, H, W] of a repaint
  private readonly known: GPUBuffer; // [start image | mask] of a repaint
  private readonly buffers: GPUBuffer[] = [];
  private readonly netX: GPUBuffer;
  private readonly coef: GPUBuffer;
  private readonly labels: GPUBuffer;
  readonly condOps: KernelOp[]; // SiLU(c), then every brick's adaLN linears as one
  private readonly samplerOps: (KernelOp | null)[]; // one per brick whose F may be the output

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
    // without a repaint the sampler never reads these: a minimal binding each
    this.noise = buf('start.noise', key.repaint ? B * img : 1);
    this.known = buf('start.known', key.repaint ? img + img / 3 : 1);
    this.netX = buf('net.x', B * img);
    this.coef = buf('edm.coef', Bt * EDM_COEF.stride);
    this.labels = buf('labels', Bt * arch.label_dim);
    const ad = adalnLayout(arch);
    const fits = bricks.map((b) => brickFits(b.region, key.height, key.width));
    const shared: BrickBuffers = {
      x: this.netX, coef: this.coef, mods: buf('adaln.out', Bt * ad.stride),
      outputs: bricks.map((_, k) => buf(`bricks.${k}.F`, fits[k] ? Bt * img : 1)),
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
    this.bricks = bricks.map((spec, k) => fits[k] ? new PreparedBrick(device, k, spec, w, shared, canvas, d,
      { stride: ad.stride, blocks: ad.blocks[k], final: ad.final[k] }, heads, mlp, arch.layernorm_eps) : null);
    this.samplerOps = bricks.map((_, k) => (fits[k] ? prepareSamplerStep(device, {
      label: `sampler<${k}`, f: shared.outputs[k], coef: this.coef, denoised: this.denoised, x: this.x,
      xNext: this.xNext, deriv, noise: this.noise, known: this.known, batch: B, perImage: img,
      guidance: key.guided ? 1 : undefined,
    }) : null));
    this.bytes = this.buffers.reduce((s, b) => s + b.size, 0);
  }

  setGuidance(w: number): void {
    if (this.key.guided) this.samplerOps.forEach((op) => op && setGuidance(this.device.queue, op, w));
  }

  /** Brick k's prepared work, or an error naming why a brick that does not fit this canvas was asked for. */
  private brick(k: number): { brick: PreparedBrick; sampler: KernelOp } {
    const brick = this.bricks[k], sampler = this.samplerOps[k];
    if (!brick || !sampler) {
      throw new RangeError(`brick ${k + 1} does not run on a ${this.key.width}×${this.key.height} canvas (its regions are larger)`);
    }
    return { brick, sampler };
  }

  /** A repaint's noise ε [B, 3, H, W] and [start image | mask] (docs/model-spec.md). */
  writeRepaint(noise: Float32Array, known: Float32Array): void {
    this.device.queue.writeBuffer(this.noise, 0, noise as Float32Array<ArrayBuffer>);
    this.device.queue.writeBuffer(this.known, 0, known as Float32Array<ArrayBuffer>);
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
   * Records one network evaluation over the active bricks, of x (x_next for Heun's correction), then
   * the sampler's one dispatch with the last active brick's F (`step`: null leaves it out). Returns
   * the dispatch count.
   */
  encodeEvaluation(enc: GPUCommandEncoder, active: readonly number[], step: SamplerStep | null,
    timestamps?: (k: number) => GPUComputePassTimestampWrites | undefined): number {
    const input = step?.kind === 'heun-correct' ? this.xNext : this.x;
    enc.copyBufferToBuffer(input, 0, this.netX, 0, this.x.size);
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
      dispatches += this.brick(k).brick.encode(pass, prev);
      if (tw) {
        pass.end();
        pass = enc.beginComputePass({ label: 'after' });
      }
      prev = k;
    }
    if (step) {
      const op = this.brick(active[active.length - 1]).sampler;
      setSamplerStep(this.device.queue, op, step);
      run([op], pass);
    }
    pass.end();
    return dispatches;
  }

  /** Records D of brick k (its F must be current; x is the network's input) into `denoised`. */
  encodeDenoise(enc: GPUCommandEncoder, k: number): void {
    const pass = enc.beginComputePass({ label: `denoise<${k}` });
    const op = this.brick(k).sampler;
    setSamplerStep(this.device.queue, op, { kind: 'denoise', t: 1, tNext: 0, masked: false });
    encodeOp(pass, op);
    pass.end();
  }

  destroy(): void {
    this.buffers.forEach((b) => b.destroy());
  }
}
