// The LEGO engine: generates images with a loaded model on a WebGPU device (browser or Node).
// One network evaluation = one command submission; no readback inside a step but the preview.
import { readFloat32 } from '../gpu/buffers.ts';
import { DeviceLostError, type GpuContext } from '../gpu/device.ts';
import { edmCoefTable, setStepTimes } from '../kernels/sampler.ts';
import { labelVector } from '../model/labels.ts';
import type { LoadedModel } from '../model/load.ts';
import { PreparedBrick } from './brick.ts';
import { gaussianNoise } from './noise.ts';
import { Plan, type PlanKey, type StepKind } from './plan.ts';
import { BrickTimer } from './timer.ts';
import { activeBricks, edmSigmas } from './schedule.ts';
import type { BrickSetting, GenerateOptions, GenerateResult, ImageBatch } from './types.ts';
import { GpuWeights } from './weights.ts';

export const LIMITS = { steps: [1, 64], batch: [1, 8], maxSide: 1024 } as const;

export class InvalidOptionsError extends Error {
  override name = 'InvalidOptionsError';
}

export class LegoEngine {
  private readonly weights: GpuWeights;
  private plan: Plan | null = null;
  private settings: BrickSetting[];
  private running = false;
  private readonly timer: BrickTimer | null;
  private lostError: DeviceLostError | null = null;

  private constructor(readonly ctx: GpuContext, readonly model: LoadedModel) {
    this.weights = new GpuWeights(ctx.device, model);
    this.settings = model.meta.architecture.bricks.map(() => ({ enabled: true, skip: null }));
    this.timer = ctx.device.features.has('timestamp-query') ? new BrickTimer(ctx.device, this.arch.bricks.length) : null;
    ctx.lost.then((e) => (this.lostError = e));
  }

  /** Uploads the weights (kept in `model` on the CPU too, so a new device can be served after a loss). */
  static async create(ctx: GpuContext, model: LoadedModel): Promise<LegoEngine> {
    ctx.device.pushErrorScope('out-of-memory');
    const engine = new LegoEngine(ctx, model);
    const oom = await ctx.device.popErrorScope();
    if (oom) throw new Error(`not enough GPU memory for the model's weights (${(engine.weights.bytes / 2 ** 20).toFixed(1)} MiB): ${oom.message}`);
    return engine;
  }

  private get arch() {
    return this.model.meta.architecture;
  }

  /** Side that every canvas dimension must be a multiple of. */
  get sizeStep(): number {
    return Math.max(...this.arch.bricks.map((b) => b.region));
  }

  /** Bytes of GPU memory this engine allocated (weights + the current canvas's buffers). */
  get allocatedBytes(): number {
    return this.weights.bytes + (this.plan?.bytes ?? 0) + (this.timer?.bytes ?? 0);
  }

  /** Each brick's share of the multiply-adds of one evaluation (sums to 1). */
  brickCost(width: number, height: number): number[] {
    const f = this.arch.bricks.map((b, k) => PreparedBrick.flopsPerImage(b, k, this.arch.d, this.arch.mlp_ratio, height, width));
    const total = f.reduce((a, b) => a + b, 0);
    return f.map((x) => x / total);
  }

  /** Changes which bricks run; a running generation uses it from its next network evaluation. */
  setBricks(bricks: BrickSetting[]): void {
    if (bricks.length !== this.arch.bricks.length) throw new InvalidOptionsError(`expected ${this.arch.bricks.length} brick settings, got ${bricks.length}`);
    if (!bricks.some((b) => b.enabled)) throw new InvalidOptionsError('at least one brick must be enabled');
    this.settings = bricks.map((b) => ({ enabled: b.enabled, skip: b.skip ? [b.skip[0], b.skip[1]] : null }));
  }

  validate(o: GenerateOptions): void {
    validateOptions(o, this.sizeStep);
  }

  private getPlan(key: PlanKey): Plan {
    const p = this.plan;
    if (p && p.key.width === key.width && p.key.height === key.height && p.key.batch === key.batch && p.key.guided === key.guided) return p;
    p?.destroy();
    this.plan = null;
    this.plan = new Plan(this.ctx.device, this.arch, this.weights, key);
    return this.plan;
  }

  async generate(o: GenerateOptions): Promise<GenerateResult> {
    if (this.lostError) throw this.lostError;
    if (this.running) throw new InvalidOptionsError('a generation is already running on this engine');
    this.validate(o);
    this.setBricks(o.bricks);
    const labels = labelVector(this.model.meta.labels, o.labels, this.arch.label_dim);
    const guided = o.cfg !== 1;
    this.running = true;
    try {
      return await this.run(o, labels, guided);
    } finally {
      this.running = false;
    }
  }

  private async run(o: GenerateOptions, labels: Float32Array, guided: boolean): Promise<GenerateResult> {
    const { device } = this.ctx;
    const plan = this.getPlan({ width: o.width, height: o.height, batch: o.batch, guided });
    const B = o.batch, Bt = guided ? 2 * B : B;
    const edm = this.model.meta.edm;
    const t = edmSigmas(o.steps, edm);
    plan.writeLabels(labels);
    plan.setGuidance(o.cfg);
    const noise = (o.noise ?? gaussianNoise(o.seed, B * plan.perImage)).map((v) => v * t[0]);
    device.queue.writeBuffer(plan.x, 0, noise);
    const shiftable = o.shiftTiling && (o.width > this.sizeStep || o.height > this.sizeStep);
    const half = this.sizeStep / 2;
    this.timer?.reset();
    let dispatches = 0, evaluations = 0;
    const stepMs: number[] = [];
    const start = performance.now();

    const evaluate = (i: number, sigma: number, input: 'x' | 'x_next', kind: StepKind) => {
      const active = activeBricks(this.settings, i, o.steps);
      if (!active.length) throw new InvalidOptionsError(`no brick is active at step ${i + 1}: every step needs at least one brick`);
      plan.writeCoefficients(edmCoefTable(new Float32Array(Bt).fill(sigma), edm.sigma_data));
      setStepTimes(device.queue, plan.stepOps[kind], t[i], t[i + 1]);
      const enc = device.createCommandEncoder({ label: `step${i}.${input}` });
      dispatches += plan.encodeEvaluation(enc, input, active, kind, this.timer?.writesFor(evaluations, active));
      this.timer?.resolve(enc, evaluations);
      device.queue.submit([enc.finish()]);
      evaluations++;
      return active;
    };

    for (let i = 0; i < o.steps; i++) {
      if (o.signal?.aborted) throw new DOMException('generation cancelled', 'AbortError');
      const t0 = performance.now();
      const [sy, sx] = shiftable && i % 2 === 1 ? [half, half] : [0, 0];
      plan.bricks.forEach((b) => b.setShift(sy, sx));
      const heun = o.sampler === 'heun' && t[i + 1] > 0;
      const active = evaluate(i, t[i], 'x', heun ? 'heun-predict' : 'euler');
      if (heun) evaluate(i, t[i + 1], 'x_next', 'heun-correct');
      await this.settle();
      const preview = o.preview ? toImages(await readFloat32(device, plan.denoised, B * plan.perImage), B, o.width, o.height) : undefined;
      stepMs.push(performance.now() - t0);
      o.onStep?.({ step: i + 1, steps: o.steps, sigma: t[i], ms: stepMs[i], active, preview });
    }
    const raw = await readFloat32(device, plan.x, B * plan.perImage);
    const brickMs = this.timer ? await this.timer.read() : undefined;
    return { images: toImages(raw, B, o.width, o.height), raw, totalMs: performance.now() - start, stepMs, evaluations, dispatches, brickMs };
  }

  /**
   * One network evaluation on given canvases, without sampling: D_k of every active brick, in
   * `active` order (parity tests, debugging). x: [B, 3, H, W]; sigmas and labels ([B, L]) per image.
   */
  async evaluate(x: Float32Array, width: number, height: number, sigmas: number[], labels: Float32Array,
    active: number[], shift: [number, number] = [0, 0]): Promise<Float32Array[]> {
    const { device } = this.ctx;
    const plan = this.getPlan({ width, height, batch: sigmas.length, guided: false });
    device.queue.writeBuffer(plan.x, 0, x as Float32Array<ArrayBuffer>);
    plan.writeLabels(labels, true);
    plan.writeCoefficients(edmCoefTable(sigmas, this.model.meta.edm.sigma_data));
    plan.bricks.forEach((b) => b.setShift(shift[0], shift[1]));
    const out: Float32Array[] = [];
    for (const k of active) {
      const enc = device.createCommandEncoder({ label: 'evaluate' });
      plan.encodeEvaluation(enc, 'x', active.filter((j) => j <= k), null);
      plan.encodeDenoise(enc, k);
      device.queue.submit([enc.finish()]);
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
    this.plan?.destroy();
    this.plan = null;
    this.weights.destroy();
    this.timer?.destroy();
  }
}

/** Checks options against the limits; `r`: the side every canvas dimension must be a multiple of. */
export function validateOptions(o: GenerateOptions, r: number): void {
  const sizes = `multiples of ${r} up to ${LIMITS.maxSide} (e.g. ${r}×${r}, ${2 * r}×${2 * r}, ${4 * r}×${r})`;
  for (const [name, v] of [['width', o.width], ['height', o.height]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % r !== 0 || v > LIMITS.maxSide) throw new InvalidOptionsError(`${name} ${v} is not a valid canvas size: use ${sizes}`);
  }
  const range = (name: string, v: number, [lo, hi]: readonly number[]) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new InvalidOptionsError(`${name} must be an integer in ${lo}–${hi}, got ${v}`);
  };
  range('steps', o.steps, LIMITS.steps);
  range('batch', o.batch, LIMITS.batch);
  if (!Number.isFinite(o.cfg) || o.cfg < 0 || o.cfg > 20) throw new InvalidOptionsError(`guidance must be in 0–20, got ${o.cfg}`);
  if (o.sampler !== 'heun' && o.sampler !== 'euler') throw new InvalidOptionsError(`sampler must be "heun" or "euler", got "${o.sampler}"`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new InvalidOptionsError(`seed must be an integer in 0–4294967295, got ${o.seed}`);
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
