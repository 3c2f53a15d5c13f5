// The engine's public shapes: what the UI and the CLI pass in and get back.
import type { LabelChoice } from '../model/labels.ts';

/** One brick's place in a generation: off, or on except over a window of the sampling steps. */
export interface BrickSetting {
  enabled: boolean;
  /** Skipped while the step's fraction i/steps lies in [start, end); null: never skipped. */
  skip?: [number, number] | null;
}

export type Sampler = 'heun' | 'euler';

/**
 * An image to start from instead of noise (docs/model-spec.md, "Starting from an image"). Without a
 * mask the image is noised to the σ that `strength` picks and the rest of the schedule runs (SDEdit);
 * with one, only the masked pixels are redrawn and the others end exactly as in the image (RePaint).
 */
export interface StartImage {
  image: Float32Array; // [3, H, W] in [-1, 1], the canvas's size; the same for every image of the batch
  /** 0–1: the share of the steps that run, ⌊strength·steps + ½⌋ (0 returns the image, 1 starts from σ_max). */
  strength: number;
  mask?: Float32Array; // [H, W] in [0, 1]: 1 = redraw, 0 = keep (between: a blend)
}

export interface GenerateOptions {
  width: number; // any multiple of the canvas unit (model/canvas.ts)
  height: number;
  steps: number; // 1–64
  sampler: Sampler;
  guidance: number; // classifier-free guidance scale w; 1 = none (no unconditional half)
  seed: number; // uint32
  /** Initial N(0, 1) noise [batch, 3, H, W] instead of the seeded draw (parity tests, reproductions). */
  noise?: Float32Array;
  /** Start from this image (restyle, variations) and, with its mask, repaint part of it. */
  start?: StartImage;
  batch: number; // 1–8
  labels: LabelChoice;
  bricks: BrickSetting[]; // one per brick of the stack; may change while running (setBricks)
  /** The rolled tiling on odd steps (larger canvases): each brick's grid shifted by model/canvas.ts rolledShifts. */
  shiftTiling?: boolean;
  /** Read back the denoised estimate after each step for a live preview. */
  preview?: boolean;
  /** Read back the sampler state x after each step (StepInfo.x; parity tests). */
  traceX?: boolean;
  signal?: AbortSignal;
  onStep?: (info: StepInfo) => void;
}

/** RGBA8 images of one size, row-major. */
export interface ImageBatch {
  width: number;
  height: number;
  images: Uint8ClampedArray[];
}

export interface StepInfo {
  step: number; // 1-based, steps done
  steps: number; // steps this run makes (an edit runs the last of them: see StartImage.strength)
  sigma: number; // noise level this step started from
  ms: number; // wall time of this step
  active: number[]; // bricks that ran this step
  preview?: ImageBatch;
  x?: Float32Array; // with traceX: x_{step} [B, 3, H, W]
}

export interface GenerateResult {
  images: ImageBatch;
  /** Final canvases as f32 NCHW in [-1, 1] (unclamped), for parity checks. */
  raw: Float32Array;
  totalMs: number;
  stepMs: number[];
  evaluations: number; // network evaluations (Heun: 2 per step but the last)
  dispatches: number; // compute dispatches recorded in all
  brickMs?: number[]; // per-brick GPU time from timestamp queries, when the adapter has them
}

/** What the app and the CLI drive: the WebGPU engine (engine.ts) or the CPU engine (src/engine-cpu/). */
export interface Engine {
  generate(o: GenerateOptions): Promise<GenerateResult>;
  /** Changes which bricks run; a running generation uses it from its next network evaluation. */
  setBricks(bricks: BrickSetting[]): void;
  /** Each brick's share of the multiply-adds of one evaluation (sums to 1). */
  brickCost(width: number, height: number): number[];
  /** Bytes the engine holds for weights and buffers (GPU memory, or the CPU runtime's). */
  readonly allocatedBytes: number;
  destroy(): void;
}
