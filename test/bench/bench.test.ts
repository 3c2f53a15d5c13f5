// The speed benchmark's own logic: which bricks run at each of a full image's evaluations, the
// pricing of skip settings, the ratios and the markdown; plus a smoke run of its engine timing on
// the tiny model (the benchmark itself, npm run bench, is too slow for the test suite).
import { describe, expect, it } from 'vitest';
import { LegoEngine } from '../../src/engine/engine';
import {
  brickSubsets, evalFlops, FULL_STEPS, heunEvaluations, priceFullRun, skipSettings, timeEngine, warmEngine,
  type EngineTiming,
} from '../../bench/lib/cases';
import { renderMarkdown, summarize, type BenchReport } from '../../bench/lib/report';
import { getTestGpu } from '../gpu';
import { loadTinyModel } from '../engine/fixture';

const byName = (n: number) => Object.fromEntries(skipSettings(n).map((s) => [s.name, s.bricks]));

describe('bench cases', () => {
  it('prices a full Heun image as 35 evaluations of the subsets active then', () => {
    const s = byName(3);
    expect(heunEvaluations(s['all bricks'])).toHaveLength(2 * FULL_STEPS - 1);
    const cost = (a: number[]) => a.length; // 1 per brick
    expect(priceFullRun(s['all bricks'], cost)).toEqual({ ms: 3 * 35, evaluations: 35, skippedEvalFraction: 0 });
    // top brick skipped while i/18 ≥ 0.7 (steps 13–17) and ≥ 0.5 (steps 9–17); the last step has one evaluation
    expect(priceFullRun(s['top skipped 30%'], cost)).toEqual({ ms: 3 * 35 - 9, evaluations: 35, skippedEvalFraction: 9 / 35 });
    expect(priceFullRun(s['top skipped 50%'], cost)!.skippedEvalFraction).toBe(17 / 35);
    expect(priceFullRun(s['top skipped 100%'], cost)!.ms).toBe(2 * 35);
    expect(heunEvaluations(s['brick 1 off']).every((a) => a.join() === '1,2')).toBe(true);
    expect(priceFullRun(s['all bricks'], () => undefined)).toBeNull();
    expect(brickSubsets(3)).toEqual([[0, 1, 2], [1, 2], [0, 2], [0, 1]]);
  });
});

describe('bench report', () => {
  const timing = (active: number[], ms: number): EngineTiming => ({
    case: { width: 32, height: 32, batch: 1, active }, msPerEval: ms, runs: [ms], cpuMsPerEval: ms / 2, cpuRuns: [ms / 2],
    evaluations: 2, dispatches: 100, allocatedBytes: 2 ** 24,
  });
  const report = (): BenchReport => ({
    date: '2026-01-01T00:00:00Z', mode: 'quick', argv: ['--quick'],
    host: { cpus: 2, cpuModel: 'cpu', node: 'v20', loadAverage: { start: 1, end: 1 } },
    model: { name: 'm', params: 1000, sha256: 'ab'.repeat(32), bricks: [{ region: 4, patch: 2, depth: 1 }, { region: 16, patch: 4, depth: 1 }, { region: 32, patch: 4, depth: 1 }], d: 32 },
    settings: { steps: 2, reps: 1, rounds: 2, cfg: 2, fullSteps: FULL_STEPS, ortThreads: 2 },
    skipSettings: skipSettings(3), platforms: { browser: { adapter: 'swiftshader', fallback: true, runtime: 'Chromium' } },
    engine: { browser: [timing([0, 1, 2], 300), timing([1, 2], 200), timing([0, 2], 250), timing([0, 1], 100)] },
    warmMs: {}, fullChecks: [], flops: { '32x32': { '012': 3, '12': 2, '02': 2, '01': 1 } },
    versus: {
      case: { width: 32, height: 32, batch: 1, active: [0, 1, 2] }, engineCheck: [{ brick: 3, maxAbs: 1e-7, rms: 0.3 }], warmOursMs: 1,
      ortCreate: { webgpu: { createMs: 1 }, wasm: { createMs: 1 } }, ortFirstRunMs: { webgpu: 1, wasm: 1 },
      outputChecks: { webgpu: { vsPytorch: 2e-7, vsOurs: 2e-7 }, wasm: { vsPytorch: 1e-3, vsOurs: 1e-3 } },
      runs: { ours: [320, 300], webgpu: [1500, 1200], wasm: [100, 90] }, cpuRuns: { ours: [150, 160], webgpu: [900, 800], wasm: [100, 100] },
    },
  });

  it('derives skip speedups, ours ÷ ORT and the output check', () => {
    const s = summarize(report());
    const rows = Object.fromEntries(s.fullImage.browser.map((r) => [r.setting, r]));
    expect(rows['all bricks'].speedup).toBe(1);
    expect(rows['top skipped 100%'].speedup).toBeCloseTo(3);
    expect(rows['top skipped 100%'].flopSpeedup).toBeCloseTo(3);
    expect(rows['top skipped 50%'].msPerGeneration).toBe(300 * 18 + 100 * 17);
    expect(s.versus!.oursOverOrtWebgpu).toBeCloseTo(0.25);
    expect(s.versus!.oursOverOrtWebgpuCpu).toBeCloseTo(150 / 800);
    expect(s.versus!.met).toBe(true);
    expect(s.versus!.outputsMatch).toBe(false); // 1e-3 > tolerance
  });

  it('puts our CPU engine against ORT wasm and our WebGPU engine, with its targets', () => {
    const r = report();
    r.versus!.runs.cpu = [40, 100];
    r.versus!.cpuRuns.cpu = [40, 90];
    r.versus!.cpuEngineCheck = [{ brick: 3, maxAbs: 2e-7, rms: 0.3 }];
    const ce = summarize(r).cpuEngine!;
    expect(ce.overOrtWasm).toBeCloseTo(40 / 90); // best of each
    expect(ce.fasterThanWebgpu).toBeCloseTo(300 / 40);
    expect(ce.met).toEqual({ ortWasm: true, webgpu: false }); // 7.5× < 8×
    const md = renderMarkdown(r);
    expect(md).toMatch(/\*\*Our CPU engine\*\*.*\*\*0\.44×\*\* \(target ≤ 1\.3×: \*\*met\*\*\).*\*\*7\.5×\*\* faster.*\*\*not met\*\*/);
    expect(md).toMatch(/\| \*\*our CPU engine\*\* \(ORT wasm, graph per brick, 2 threads\) \| \*\*40\.0\*\* \|/);
  });

  it('renders markdown tables', () => {
    const md = renderMarkdown(report());
    expect(md).toMatch(/## Ours vs onnxruntime-web/);
    expect(md).toMatch(/\| \*\*ours\*\*, WebGPU in Chromium \| \*\*300\*\* \|/);
    expect(md).toMatch(/MISMATCH/);
    expect(md).toMatch(/\| 32×32 \| 1 \| top skipped 100% \| 35\/35 \|/);
  });
});

describe('bench engine timing (tiny model)', () => {
  it('times evaluations through the public API and counts FLOPs', async () => {
    const model = await loadTinyModel();
    const engine = await LegoEngine.create(await getTestGpu(), model);
    const c = { width: 16, height: 16, batch: 1, active: [0, 2] };
    expect(await warmEngine(engine, c)).toBeGreaterThan(0);
    const t = await timeEngine(engine, c, 2, 2);
    expect(t.evaluations).toBe(2);
    expect(t.runs).toHaveLength(2);
    expect(t.msPerEval).toBe(Math.min(...t.runs));
    expect(t.allocatedBytes).toBe(engine.allocatedBytes);
    const arch = model.meta.architecture;
    expect(evalFlops(arch, c, [0, 2])).toBeCloseTo(evalFlops(arch, c, [0]) + evalFlops(arch, c, [2]));
    engine.destroy();
  });
});
