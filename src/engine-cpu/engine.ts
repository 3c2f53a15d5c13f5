// The CPU engine: the WebGPU engine's interface (GenerateOptions → GenerateResult) on
// onnxruntime-web's wasm backend. One ONNX graph per brick plus one for the conditioning, built
// from the loaded weights; which bricks run is decided per evaluation here, so toggles and skip
// windows apply live. Sampler, guidance and tiling run in TS with the WGSL kernels' f32 math.
import type * as Ort from 'onnxruntime-web';
import { toImages } from '../engine/engine.ts';
import { copyBrickSettings, InvalidOptionsError, validateOptions } from '../engine/options.ts';
import { canvasScratch } from '../engine/plan.ts';
import { gaussianNoise } from '../engine/noise.ts';
import { activeBricks, edmSigmas } from '../engine/schedule.ts';
import { firstStep, startState } from '../engine/start.ts';
import type { BrickSetting, Engine, GenerateOptions, GenerateResult } from '../engine/types.ts';
import { fourierRef } from '../kernels/conditioning.ts';
import {
  EDM_COEF, edmCoefTable, samplerStepRef, type Known, type SamplerKind, type SamplerState,
} from '../kernels/sampler.ts';
import { labelVector } from '../model/labels.ts';
import type { LoadedModel } from '../model/load.ts';
import { brickCostShares } from '../model/arch.ts';
import { bricksOnCanvas, evaluationShifts, rolledShifts } from '../model/canvas.ts';
import { brickGraph, conditioningGraph } from './graphs.ts';
import { foldPatches, gatherPatches, tileMap, type TileMap } from './tiling.ts';

export type OrtModule = typeof Ort;

export interface CpuEngineOptions {
  /** onnxruntime-web, imported by the caller (the browser and Node entry points differ). */
  ort: OrtModule;
}

const abortError = () => new DOMException('generation cancelled', 'AbortError');

/** Per brick, its region-grid shift [sy, sx] (null: none, or a brick that does not run). */
type Shifts = readonly (readonly [number, number] | null)[];

export class CpuEngine implements Engine {
  private settings: BrickSetting[];
  private running = false;
  private readonly maps = new Map<string, TileMap>();
  /**
   * @param allocatedBytes memory the runtime holds for the weights: the bytes of the ONNX graphs
   *   handed to it (the weights, transposed, as f32)
   */
  private constructor(readonly model: LoadedModel, private readonly ort: OrtModule,
    private readonly cond: Ort.InferenceSession, private readonly bricks: Ort.InferenceSession[],
    readonly allocatedBytes: number) {
    this.settings = model.meta.architecture.bricks.map(() => ({ enabled: true, skip: null }));
  }

  static async create(model: LoadedModel, { ort }: CpuEngineOptions): Promise<CpuEngine> {
    // 'basic': the graphs already use fused ops (LayerNormalization, Gelu); 'all' ran no faster and
    // took 3× longer to create the sessions (measured on the shipped model).
    const opts: Ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'basic' };
    let bytes = 0;
    const session = async (graph: Uint8Array) => {
      bytes += graph.byteLength;
      return ort.InferenceSession.create(graph, opts);
    };
    const cond = await session(conditioningGraph(model));
    const bricks: Ort.InferenceSession[] = [];
    for (let k = 0; k < model.meta.architecture.bricks.length; k++) bricks.push(await session(brickGraph(model, k)));
    return new CpuEngine(model, ort, cond, bricks, bytes);
  }

  private get arch() {
    return this.model.meta.architecture;
  }

  brickCost(width: number, height: number): number[] {
    return brickCostShares(this.arch, width, height);
  }

  setBricks(bricks: BrickSetting[]): void {
    this.settings = copyBrickSettings(bricks, this.arch);
  }

  /** The WebGPU engine's checks, and the same largest activation (so both accept the same canvases). */
  validate(o: GenerateOptions): void {
    validateOptions(o, this.arch);
    canvasScratch(this.arch, {
      batch: o.guidance !== 1 ? 2 * o.batch : o.batch, xImages: o.batch, height: o.height, width: o.width,
    });
  }

  private map(k: number, height: number, width: number, sy: number, sx: number): TileMap {
    const key = `${k}:${height}x${width}:${sy},${sx}`;
    let m = this.maps.get(key);
    if (!m) {
      if (this.maps.size > 64) this.maps.clear();
      const b = this.arch.bricks[k];
      m = tileMap(height, width, b.region, b.patch, sy, sx);
      this.maps.set(key, m);
    }
    return m;
  }

  /** SiLU(c) [Bt, d] for the network images' noise levels and labels ([Bt, L]). */
  private async conditioning(coef: Float32Array, labels: Float32Array, batch: number): Promise<Ort.Tensor> {
    const cNoise = Array.from({ length: batch }, (_, b) => coef[b * EDM_COEF.stride + EDM_COEF.cNoise]);
    const { Tensor } = this.ort;
    const L = labels.length / batch;
    const res = await this.cond.run({
      fourier: new Tensor('float32', fourierRef(cNoise, this.arch.fourier_dim), [batch, this.arch.fourier_dim]),
      labels: new Tensor('float32', labels, [batch, L]),
    });
    return res.silu_c as Ort.Tensor;
  }

  /**
   * One network evaluation: F_k [Bt, 3, H, W] of the active bricks (in order; each must run on the canvas)
   * on x ([xImages, 3, H, W], network image b reads x image b mod xImages), brick k's grid shifted by
   * shifts[k].
   */
  private async network(
    x: Float32Array, xImages: number, batch: number, height: number, width: number, coef: Float32Array,
    labels: Float32Array, active: readonly number[], shifts: Shifts, signal?: AbortSignal,
  ): Promise<Float32Array[]> {
    const siluC = await this.conditioning(coef, labels, batch);
    const cin = Array.from({ length: batch }, (_, b) => coef[b * EDM_COEF.stride + EDM_COEF.cIn]);
    const outs: Float32Array[] = [];
    let prev: Float32Array | null = null;
    for (const k of active) {
      if (signal?.aborted) throw abortError();
      const [sy, sx] = shifts[k] ?? [0, 0];
      const m = this.map(k, height, width, sy, sx);
      const patches = gatherPatches(m, batch, x, xImages, cin, k === 0 ? 'none' : prev ?? 'zero');
      const res = await this.bricks[k].run({
        patches: new this.ort.Tensor(
          'float32', patches, [batch, m.regions, m.tokens, patches.length / (batch * m.regions * m.tokens)]),
        silu_c: siluC,
      });
      const out = res.out as Ort.Tensor;
      prev = foldPatches(m, batch, out.data as Float32Array);
      out.dispose();
      outs.push(prev);
    }
    siluC.dispose();
    return outs;
  }

  async generate(o: GenerateOptions): Promise<GenerateResult> {
    if (this.running) throw new InvalidOptionsError('a generation is already running on this engine');
    this.validate(o);
    this.setBricks(o.bricks);
    const label = labelVector(this.model.meta.labels, o.labels, this.arch.label_dim);
    this.running = true;
    try {
      return await this.run(o, label);
    } finally {
      this.running = false;
    }
  }

  private async run(o: GenerateOptions, label: Float32Array): Promise<GenerateResult> {
    const guided = o.guidance !== 1;
    const B = o.batch, Bt = guided ? 2 * B : B, perImage = 3 * o.width * o.height;
    const L = Math.max(this.arch.label_dim, 1); // y_embed reads one zero for an unconditional model
    const labels = new Float32Array(Bt * L);
    for (let b = 0; b < B; b++) labels.set(label, b * L); // the unconditional half stays zero
    const edm = this.model.meta.edm;
    const t = edmSigmas(o.steps, edm);
    if (o.noise && o.noise.length !== B * perImage) {
      throw new InvalidOptionsError(`noise has ${o.noise.length} values, expected ${B * perImage}`);
    }
    const first = firstStep(o), steps = o.steps - first;
    const noise = o.noise ?? gaussianNoise(o.seed, B * perImage);
    const n = B * perImage;
    const s: SamplerState = {
      x: startState(noise, t[first], o.start), xNext: new Float32Array(n), deriv: new Float32Array(n),
      denoised: new Float32Array(n),
    };
    const known: Known | undefined = o.start?.mask && { image: o.start.image, mask: o.start.mask, noise };
    const runsHere = bricksOnCanvas(this.arch, o.height, o.width);
    const plain: Shifts = this.arch.bricks.map(() => null);
    const rolled = o.shiftTiling ? rolledShifts(this.arch, o.height, o.width) : plain;
    let evaluations = 0, runs = 0;
    const stepMs: number[] = [];
    const start = performance.now();

    /** One network evaluation and the sampler's update after it (the WGSL sampler kernel's math). */
    const evaluate = async (i: number, kind: SamplerKind, active: number[], shifts: Shifts) => {
      const sigma = kind === 'heun-correct' ? t[i + 1] : t[i];
      const input = kind === 'heun-correct' ? s.xNext : s.x;
      const coef = edmCoefTable(new Float32Array(Bt).fill(sigma), edm.sigma_data);
      const f = await this.network(input, B, Bt, o.height, o.width, coef, labels, active, shifts, o.signal);
      evaluations++;
      runs += 1 + active.length;
      const step = { kind, t: t[i], tNext: t[i + 1], masked: !!known };
      samplerStepRef(s, f[f.length - 1], coef, B, perImage, step, guided ? o.guidance : undefined, known);
    };
    const activeAt = (i: number) => activeBricks(this.settings, i, o.steps, runsHere);

    for (let i = first; i < o.steps; i++) {
      if (o.signal?.aborted) throw abortError();
      const t0 = performance.now();
      const shift = i % 2 === 1 ? rolled : plain;
      const heun = o.sampler === 'heun' && t[i + 1] > 0;
      const active = activeAt(i);
      await evaluate(i, heun ? 'heun-predict' : 'euler', active, shift);
      if (heun) await evaluate(i, 'heun-correct', activeAt(i), shift);
      const preview = o.preview ? toImages(s.denoised, B, o.width, o.height) : undefined;
      stepMs.push(performance.now() - t0);
      o.onStep?.({
        step: i - first + 1, steps, sigma: t[i], ms: stepMs[i - first], active, preview,
        x: o.traceX ? s.x.slice() : undefined, // the sampler updates x in place
      });
      await yieldToEvents(); // lets brick toggles and cancels in
    }
    return {
      images: toImages(s.x, B, o.width, o.height), raw: s.x, totalMs: performance.now() - start,
      stepMs, evaluations, dispatches: runs,
    };
  }

  /** D_k of every active brick that runs on the canvas, for given canvases (parity tests): as
   * LegoEngine.evaluate. shift: one grid shift for every brick, or 'rolled' (the sampler's odd steps). */
  async evaluate(x: Float32Array, width: number, height: number, sigmas: number[], labels: Float32Array,
    active: number[], shift: [number, number] | 'rolled' = [0, 0]): Promise<Float32Array[]> {
    const B = sigmas.length, perImage = 3 * width * height;
    const coef = edmCoefTable(sigmas, this.model.meta.edm.sigma_data);
    const runsHere = bricksOnCanvas(this.arch, height, width);
    const runs = active.filter((k) => runsHere.includes(k));
    const shifts = evaluationShifts(this.arch, height, width, shift);
    const f = await this.network(x, B, B, height, width, coef, labels, runs, shifts);
    return f.map((fk) => {
      const s = { x, xNext: x, deriv: x, denoised: new Float32Array(B * perImage) };
      samplerStepRef(s, fk, coef, B, perImage, { kind: 'denoise', t: 1, tNext: 0, masked: false });
      return s.denoised;
    });
  }

  destroy(): void {
    for (const s of [this.cond, ...this.bricks]) void s.release();
  }
}

/** A macrotask turn, so that messages (worker) and timers queued during a step run before the next. */
const yieldToEvents = () => new Promise<void>((r) => setTimeout(r, 0));
