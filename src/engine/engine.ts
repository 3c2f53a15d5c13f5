// The LEGO engine: generates images with a loaded model on a WebGPU device (browser or Node).
// One network evaluation = one command submission; no readback inside a step but the preview.
import { BufferOwner, readFloat32 } from '../gpu/buffers.ts';
import type { DeviceLostError, GpuContext } from '../gpu/device.ts';
import { edmCoefTable, type SamplerKind } from '../kernels/sampler.ts';
import { labelVector } from '../model/labels.ts';
import { brickCostShares } from '../model/arch.ts';
import { bricksOnCanvas, evaluationShifts, rolledShifts } from '../model/canvas.ts';
import type { LoadedModel } from '../model/load.ts';
import { gaussianNoise } from './noise.ts';
import { copyBrickSettings, InvalidOptionsError, validateOptions } from './options.ts';
import { Plan, type PlanKey } from './plan.ts';
import { BrickTimer } from './timer.ts';
import { activeBricks, edmSigmas } from './schedule.ts';
import { firstStep, knownImage, startState } from './start.ts';
import type { BrickSetting, GenerateOptions, GenerateResult, ImageBatch } from './types.ts';
import { checkWeightsFit, GpuWeights } from './weights.ts';

export { InvalidOptionsError, LIMITS } from './options.ts';

export class LegoEngine {
  private readonly weights: GpuWeights;
  private plan: Plan | null = null;
  /** Every buffer of the plan, its ops' uniforms too (Plan.destroy() leaves those to the garbage collector). */
  private planBuffers: BufferOwner | null = null;
  private settings: BrickSetting[];
  private running = false;
  private readonly timer: BrickTimer | null;
  private lostError: DeviceLostError | null = null;

  private constructor(readonly ctx: GpuContext, readonly model: LoadedModel) {
    this.weights = new GpuWeights(ctx.device, model);
    this.settings = model.meta.architecture.bricks.map(() => ({ enabled: true, skip: null }));
    this.timer = ctx.device.features.has('timestamp-query')
      ? new BrickTimer(ctx.device, this.arch.bricks.length)
      : null;
    ctx.lost.then((e) => (this.lostError = e));
  }

  /** Uploads the weights (kept in `model` on the CPU too, so a new device can be served after a loss). */
  static async create(ctx: GpuContext, model: LoadedModel): Promise<LegoEngine> {
    checkWeightsFit(model, ctx.device.limits);
    ctx.device.pushErrorScope('out-of-memory');
    const engine = new LegoEngine(ctx, model);
    const oom = await ctx.device.popErrorScope();
    if (oom) {
      throw new Error(
        `not enough GPU memory for the model's weights (${(engine.weights.bytes / 2 ** 20).toFixed(1)} MiB): ` +
        oom.message);
    }
    return engine;
  }

  private get arch() {
    return this.model.meta.architecture;
  }

  /** Bytes of GPU memory this engine allocated (weights + the current canvas's buffers). */
  get allocatedBytes(): number {
    return this.weights.bytes + (this.planBuffers?.bytes ?? 0) + (this.timer?.bytes ?? 0);
  }

  /** Each brick's share of the FLOPs of one evaluation (sums to 1). */
  brickCost(width: number, height: number): number[] {
    return brickCostShares(this.arch, width, height);
  }

  /** Changes which bricks run; a running generation uses it from its next network evaluation. */
  setBricks(bricks: BrickSetting[]): void {
    this.settings = copyBrickSettings(bricks, this.arch);
  }

  validate(o: GenerateOptions): void {
    validateOptions(o, this.arch);
  }

  private getPlan(key: PlanKey): Plan {
    const p = this.plan;
    if (p && p.key.width === key.width && p.key.height === key.height &&
      p.key.batch === key.batch && p.key.guided === key.guided &&
      p.key.repaint === key.repaint) return p;
    this.dropPlan();
    this.planBuffers = new BufferOwner(this.ctx.device);
    this.plan = this.planBuffers.run(() => new Plan(this.ctx.device, this.arch, this.weights, key));
    return this.plan;
  }

  /** Records an evaluation; ops the plan makes as it records (patch embeddings for a new brick chain) are its. */
  private encode(plan: Plan, ...args: Parameters<Plan['encodeEvaluation']>): number {
    return this.planBuffers!.run(() => plan.encodeEvaluation(...args));
  }

  private dropPlan(): void {
    this.plan?.destroy();
    this.planBuffers?.destroy();
    this.plan = null;
    this.planBuffers = null;
  }

  async generate(o: GenerateOptions): Promise<GenerateResult> {
    if (this.lostError) throw this.lostError;
    if (this.running) throw new InvalidOptionsError('a generation is already running on this engine');
    this.validate(o);
    this.setBricks(o.bricks);
    const labels = labelVector(this.model.meta.labels, o.labels, this.arch.label_dim);
    const guided = o.guidance !== 1;
    this.running = true;
    try {
      return await this.run(o, labels, guided);
    } finally {
      this.running = false;
    }
  }

  private async run(o: GenerateOptions, labels: Float32Array, guided: boolean): Promise<GenerateResult> {
    const { device } = this.ctx;
    const mask = o.start?.mask;
    const plan = this.getPlan({ width: o.width, height: o.height, batch: o.batch, guided, repaint: !!mask });
    const B = o.batch, Bt = guided ? 2 * B : B;
    const edm = this.model.meta.edm;
    const t = edmSigmas(o.steps, edm);
    plan.writeLabels(labels);
    plan.setGuidance(o.guidance);
    const first = firstStep(o), steps = o.steps - first;
    const noise = o.noise ?? gaussianNoise(o.seed, B * plan.perImage);
    device.queue.writeBuffer(plan.x, 0, startState(noise, t[first], o.start) as Float32Array<ArrayBuffer>);
    if (mask) plan.writeRepaint(noise, knownImage(o.start!.image, mask));
    const rolled = o.shiftTiling ? rolledShifts(this.arch, o.height, o.width) : [];
    const runsHere = bricksOnCanvas(this.arch, o.height, o.width);
    this.timer?.reset();
    let dispatches = 0, evaluations = 0;
    const stepMs: number[] = [];
    const start = performance.now();

    const evaluate = (i: number, sigma: number, kind: SamplerKind) => {
      const active = activeBricks(this.settings, i, o.steps, runsHere);
      plan.writeCoefficients(edmCoefTable(new Float32Array(Bt).fill(sigma), edm.sigma_data));
      const enc = device.createCommandEncoder({ label: `step${i}.${kind}` });
      const step = { kind, t: t[i], tNext: t[i + 1], masked: !!mask };
      dispatches += this.encode(plan, enc, active, step, this.timer?.writesFor(evaluations, active));
      this.timer?.resolve(enc, evaluations);
      device.queue.submit([enc.finish()]);
      evaluations++;
      return active;
    };

    for (let i = first; i < o.steps; i++) {
      if (o.signal?.aborted) throw new DOMException('generation cancelled', 'AbortError');
      const t0 = performance.now();
      plan.bricks.forEach((b, k) => b?.setShift(...((i % 2 === 1 && rolled[k]) || [0, 0])));
      const heun = o.sampler === 'heun' && t[i + 1] > 0;
      const active = evaluate(i, t[i], heun ? 'heun-predict' : 'euler');
      if (heun) evaluate(i, t[i + 1], 'heun-correct');
      await this.settle();
      const preview = o.preview
        ? toImages(await readFloat32(device, plan.denoised, B * plan.perImage), B, o.width, o.height)
        : undefined;
      const x = o.traceX ? await readFloat32(device, plan.x, B * plan.perImage) : undefined;
      stepMs.push(performance.now() - t0);
      o.onStep?.({ step: i - first + 1, steps, sigma: t[i], ms: stepMs[i - first], active, preview, x });
    }
    const raw = await readFloat32(device, plan.x, B * plan.perImage);
    const brickMs = this.timer ? await this.timer.read() : undefined;
    return {
      images: toImages(raw, B, o.width, o.height), raw, totalMs: performance.now() - start,
      stepMs, evaluations, dispatches, brickMs,
    };
  }

  /**
   * One network evaluation on given canvases, without sampling: D_k of every active brick that runs on the
   * canvas, in `active` order (parity tests, debugging). x: [B, 3, H, W]; sigmas and labels ([B, L]) per
   * image. shift: one grid shift for every brick, or 'rolled' (the sampler's odd steps).
   */
  async evaluate(x: Float32Array, width: number, height: number, sigmas: number[], labels: Float32Array,
    active: number[], shift: [number, number] | 'rolled' = [0, 0]): Promise<Float32Array[]> {
    const { device } = this.ctx;
    const plan = this.getPlan({ width, height, batch: sigmas.length, guided: false, repaint: false });
    device.queue.writeBuffer(plan.x, 0, x as Float32Array<ArrayBuffer>);
    plan.writeLabelRows(labels);
    plan.writeCoefficients(edmCoefTable(sigmas, this.model.meta.edm.sigma_data));
    const shifts = evaluationShifts(this.arch, height, width, shift);
    plan.bricks.forEach((b, k) => b?.setShift(...(shifts[k] ?? [0, 0])));
    const runs = active.filter((k) => plan.bricks[k]);
    const enc = device.createCommandEncoder({ label: 'evaluate' });
    this.encode(plan, enc, runs, null); // every brick keeps its own F_k
    device.queue.submit([enc.finish()]);
    const out: Float32Array[] = [];
    for (const k of runs) {
      const dk = device.createCommandEncoder({ label: `evaluate.D${k}` });
      plan.encodeDenoise(dk, k);
      device.queue.submit([dk.finish()]);
      out.push(await readFloat32(device, plan.denoised, x.length));
    }
    return out;
  }

  /** Waits for the queue, failing with DeviceLostError if the device goes away meanwhile. */
  private async settle(): Promise<void> {
    await Promise.race([this.ctx.device.queue.onSubmittedWorkDone(), this.ctx.lost]);
    if (this.lostError) throw this.lostError;
  }

  destroy(): void {
    this.dropPlan();
    this.weights.destroy();
    this.timer?.destroy();
  }
}

/** NCHW f32 in [-1, 1] → RGBA8 images. */
export function toImages(raw: Float32Array, batch: number, width: number, height: number): ImageBatch {
  const n = width * height;
  const images = Array.from({ length: batch }, (_, b) => {
    const rgba = new Uint8ClampedArray(4 * n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) rgba[4 * i + c] = Math.round((raw[(b * 3 + c) * n + i] + 1) * 127.5);
      rgba[4 * i + 3] = 255;
    }
    return rgba;
  });
  return { width, height, images };
}
