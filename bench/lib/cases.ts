// What the speed benchmark measures, shared by the Node run and the browser page: canvases, brick
// subsets, skip settings, and the timing of one engine case through the engine's public API.
import type { LegoEngine } from '../../src/engine/engine.ts';
import { activeBricks } from '../../src/engine/schedule.ts';
import type { BrickSetting } from '../../src/engine/types.ts';
import { brickFlops } from '../../src/model/arch.ts';
import type { Architecture } from '../../src/model/format.ts';

/** What the bench drives: the WebGPU engine or the CPU engine (the same generate API). */
export type BenchEngine = Pick<LegoEngine, 'model' | 'generate' | 'allocatedBytes'>;

export interface Canvas {
  width: number;
  height: number;
}

/** One timed engine configuration: canvas, images per generation (guided: 2× network batch), bricks on. */
export interface EngineCase extends Canvas {
  batch: number;
  active: number[]; // 0-based bricks that run at every step
}

export interface EngineTiming {
  case: EngineCase;
  msPerEval: number; // best over repetitions of (generation wall time ÷ evaluations)
  runs: number[]; // ms per evaluation of every repetition
  cpuMsPerEval?: number; // best over repetitions of CPU ms ÷ evaluations (filled in by the driver, bench/lib/cpu.ts)
  cpuRuns?: number[];
  evaluations: number; // per repetition
  dispatches: number; // per evaluation
  allocatedBytes: number; // engine.allocatedBytes after the run (weights + this canvas's buffers)
}

/** The guidance scale used everywhere: the conditional and unconditional halves run as one batch. */
export const GUIDANCE = 2;
/** The sampler a full image is priced at: EDM Heun, 18 steps = 35 network evaluations (the app's default). */
export const FULL_STEPS = 18;

export function caseKey(c: EngineCase): string {
  return `${c.width}x${c.height}/b${c.batch}/${c.active.map((k) => k + 1).join('')}`;
}

export function bricksFor(n: number, active: readonly number[]): BrickSetting[] {
  return Array.from({ length: n }, (_, k) => ({ enabled: active.includes(k), skip: null }));
}

/** Every brick, then each single brick off: the subsets any skip setting is made of. */
export function brickSubsets(n: number): number[][] {
  const all = Array.from({ length: n }, (_, k) => k);
  return [all, ...all.map((k) => all.filter((j) => j !== k))];
}

export interface SkipSetting {
  name: string;
  bricks: BrickSetting[];
}

/**
 * The settings priced per full image: all bricks; the top brick skipped for the last 30 %, 50 % and
 * 100 % of the steps (the paper's PG rule: drop the whole-image brick at low noise); each single
 * brick off for the whole run.
 */
export function skipSettings(n: number): SkipSetting[] {
  const on = (): BrickSetting[] => Array.from({ length: n }, () => ({ enabled: true, skip: null }));
  const top = (f: number): BrickSetting[] => on().map((b, k) => (k === n - 1 ? { enabled: true, skip: [1 - f, 1] } : b));
  const off = (j: number): BrickSetting[] => on().map((b, k) => (k === j ? { enabled: false, skip: null } : b));
  return [
    { name: 'all bricks', bricks: on() },
    { name: 'top skipped 30%', bricks: top(0.3) },
    { name: 'top skipped 50%', bricks: top(0.5) },
    { name: 'top skipped 100%', bricks: top(1) },
    ...Array.from({ length: n }, (_, j) => ({ name: `brick ${j + 1} off`, bricks: off(j) })),
  ];
}

/** Active bricks of every network evaluation of an EDM Heun run (2 per step but the last). */
export function heunEvaluations(bricks: readonly BrickSetting[], steps = FULL_STEPS): number[][] {
  const evals: number[][] = [];
  for (let i = 0; i < steps; i++) {
    const a = activeBricks(bricks, i, steps, bricks.map((_, k) => k));
    evals.push(a);
    if (i < steps - 1) evals.push(a);
  }
  return evals;
}

/**
 * Price of a full image from measured per-evaluation times of each brick subset: Σ over the 35
 * evaluations of the time of the subset active then. Returns null when a subset was not measured.
 */
export function priceFullRun(bricks: readonly BrickSetting[], msOf: (active: number[]) => number | undefined, steps = FULL_STEPS):
  { ms: number; evaluations: number; skippedEvalFraction: number } | null {
  const evals = heunEvaluations(bricks, steps);
  const n = bricks.length;
  let ms = 0, reduced = 0;
  for (const a of evals) {
    const t = msOf(a);
    if (t === undefined) return null;
    ms += t;
    if (a.length < n) reduced++;
  }
  return { ms, evaluations: evals.length, skippedEvalFraction: reduced / evals.length };
}

/** Multiply-adds ×2 of one evaluation of the given bricks, per image (the engine's own count). */
export function evalFlops(arch: Architecture, canvas: Canvas, active: readonly number[]): number {
  return active.reduce((s, k) => s + brickFlops(arch, k, canvas.height, canvas.width), 0);
}

export const LABELS = { category: null, style: null, prompt: '' };

/** Creates the canvas's buffers and compiles its pipelines (one Euler step); returns its wall ms. */
export async function warmEngine(engine: BenchEngine, c: EngineCase): Promise<number> {
  const n = engine.model.meta.architecture.bricks.length;
  const r = await engine.generate({
    width: c.width, height: c.height, steps: 1, sampler: 'euler', guidance: GUIDANCE, seed: 1, batch: c.batch,
    labels: LABELS, bricks: bricksFor(n, c.active),
  });
  return r.totalMs;
}

/**
 * ms per network evaluation: `steps` Euler steps with guidance (one evaluation each, the last
 * included; each step waits for the GPU as the app does), wall time ÷ evaluations, best of `reps`.
 * Includes the sampler update and the guidance combination the product runs after each evaluation.
 */
export async function timeEngine(engine: BenchEngine, c: EngineCase, steps: number, reps: number): Promise<EngineTiming> {
  const n = engine.model.meta.architecture.bricks.length;
  const runs: number[] = [];
  let evaluations = 0, dispatches = 0;
  for (let r = 0; r < reps; r++) {
    const res = await engine.generate({
      width: c.width, height: c.height, steps, sampler: 'euler', guidance: GUIDANCE, seed: 2 + r, batch: c.batch,
      labels: LABELS, bricks: bricksFor(n, c.active),
    });
    runs.push(res.totalMs / res.evaluations);
    evaluations = res.evaluations;
    dispatches = res.dispatches / res.evaluations;
  }
  return { case: c, msPerEval: Math.min(...runs), runs, evaluations, dispatches, allocatedBytes: engine.allocatedBytes };
}

/** A full generation as the app runs it (Heun, guidance): wall ms, for checking the priced estimate. */
export async function timeFullRun(engine: BenchEngine, canvas: Canvas, batch: number, bricks: BrickSetting[], steps = FULL_STEPS) {
  const res = await engine.generate({
    width: canvas.width, height: canvas.height, steps, sampler: 'heun', guidance: GUIDANCE, seed: 5, batch, labels: LABELS, bricks,
  });
  return { ms: res.totalMs, evaluations: res.evaluations, stepMs: res.stepMs };
}
