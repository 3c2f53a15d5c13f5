// The benchmark's report: the JSON shape, the derived ratios, and the markdown written to docs/bench.md.
import type { BrickSetting } from '../../src/engine/types.ts';
import { caseKey, FULL_STEPS, priceFullRun, type EngineCase, type EngineTiming, type SkipSetting } from './cases.ts';
import type { IoMeta, PytorchTimings } from './io.ts';

export interface FullRunCheck {
  setting: string;
  width: number;
  height: number;
  batch: number;
  measuredMs: number;
  cpuMs?: number;
  evaluations: number;
}

export interface Versus {
  case: EngineCase;
  engineCheck: { brick: number; maxAbs: number; rms: number }[];
  cpuEngineCheck?: { brick: number; maxAbs: number; rms: number }[]; // our CPU engine on the same inputs
  warmOursMs: number;
  ortCreate: Record<string, { createMs: number; adapter?: string; ortVersion?: string }>;
  ortFirstRunMs: Record<string, number>;
  outputChecks: Record<string, { vsPytorch: number; vsOurs: number | null }>;
  runs: Record<string, number[]>; // ours, cpu (our CPU engine), webgpu, wasm: ms per evaluation of each interleaved round
  cpuRuns: Record<string, number[]>; // the same rounds' CPU ms (the browser's processes) per evaluation
}

/** Our WebGPU engine (node: Dawn, browser: Chromium) and our CPU engine (ORT wasm graphs per brick) on each. */
export type GridPlatform = 'node' | 'browser' | 'node-cpu' | 'browser-cpu';
const GRID_PLATFORMS: GridPlatform[] = ['node', 'browser', 'node-cpu', 'browser-cpu'];

export interface BenchReport {
  date: string;
  mode: 'quick' | 'full';
  argv: string[];
  elapsedS?: number;
  host: { cpus: number; cpuModel: string; node: string; loadAverage: { start: number; end: number } };
  model: { name: string; params: number; sha256: string; bricks: { region: number; patch: number; depth: number }[]; d: number };
  settings: { steps: number; reps: number; rounds: number; cfg: number; fullSteps: number; ortThreads: number };
  skipSettings: SkipSetting[];
  platforms: Partial<Record<'node' | 'browser', { adapter: string; fallback: boolean; runtime: string; crossOriginIsolated?: boolean }>>;
  engine: Partial<Record<GridPlatform, EngineTiming[]>>;
  warmMs: Partial<Record<GridPlatform, Record<string, number>>>; // first 1-step generation per canvas/batch (compiles)
  cpuEngineCreateMs?: number; // browser: building the CPU engine's graphs and ORT sessions from the loaded model
  fullChecks: FullRunCheck[];
  pytorch?: PytorchTimings;
  onnx?: IoMeta;
  versus?: Versus;
  ttfi?: { settings: { width: number; height: number; batch: number; steps: number; sampler: string; cfg: number }; runs: { engine?: string; kind: string; weightsFrom?: string; readyMs: number; firstImageMs: number; generationMs: number }[] };
  flops: Record<string, Record<string, number>>; // canvas → active bricks ("012") → FLOPs per image per evaluation
  summary?: Summary;
}

/** Output check: our f32 engine, ORT and PyTorch compute the same f32 math in other orders. */
export const TOLERANCE = 1e-4; // largest |ΔD| allowed, D in image units ([-1, 1] data, rms ≈ 0.3 here)

export interface Summary {
  versus?: {
    oursMs: number; ortWebgpuMs: number; ortWasmMs: number; pytorchMs?: number; nodeMs?: number;
    oursOverOrtWebgpu: number; oursOverOrtWasm: number; oursOverPytorch?: number; target: string; met: boolean;
    oursCpuMs: number; ortWebgpuCpuMs: number; ortWasmCpuMs: number; oursOverOrtWebgpuCpu: number;
    outputsMatch: boolean; worstAbsError: number;
  };
  cpuEngine?: {
    msPerEval: number; ortWasmMs: number; overOrtWasm: number; webgpuMs: number; fasterThanWebgpu: number;
    targets: { ortWasm: string; webgpu: string }; met: { ortWasm: boolean; webgpu: boolean }; worstAbsError: number;
  };
  fullImage: Record<GridPlatform | 'pytorch', FullImageRow[]>;
}

export interface FullImageRow {
  canvas: string;
  batch: number;
  setting: string;
  evaluations: number;
  reducedEvalFraction: number; // evaluations that ran fewer than all bricks
  msPerGeneration: number;
  msPerImage: number;
  msPerEval: number; // average over the generation
  speedup: number; // all bricks ÷ this setting (wall clock)
  cpuSpeedup?: number; // the same priced on CPU ms per evaluation
  flopSpeedup: number; // the same priced on FLOPs: what a perfectly compute-bound runtime would gain
}

const best = (xs: number[] | undefined) => (xs?.length ? Math.min(...xs) : NaN);

function pytorchRow(p: PytorchTimings | undefined, c: { width: number; height: number; batch: number }, active: number[]) {
  return p?.rows.find((r) => r.width === c.width && r.height === c.height && r.batch === 2 * c.batch && r.active.join() === active.join());
}

const pytorchMs = (p: PytorchTimings | undefined, c: { width: number; height: number; batch: number }, active: number[]) => pytorchRow(p, c, active)?.ms;

type Group = { width: number; height: number; batch: number };
type Cost = (g: Group, active: number[]) => number | undefined;

function fullImageRows(msOf: Cost, cpuOf: Cost | null, flopsOf: Cost, groups: Group[], settings: SkipSetting[]): FullImageRow[] {
  const rows: FullImageRow[] = [];
  for (const g of groups) {
    const price = (f: Cost) => settings.map((s) => priceFullRun(s.bricks as BrickSetting[], (a) => f(g, a)));
    const wall = price(msOf), cpu = cpuOf ? price(cpuOf) : null, flops = price(flopsOf);
    settings.forEach((s, i) => {
      const w = wall[i];
      if (!w || !wall[0]) return;
      const c = cpu?.[i], f = flops[i];
      rows.push({
        canvas: `${g.width}×${g.height}`, batch: g.batch, setting: s.name, evaluations: w.evaluations,
        reducedEvalFraction: w.skippedEvalFraction, msPerGeneration: w.ms, msPerImage: w.ms / g.batch,
        msPerEval: w.ms / w.evaluations, speedup: wall[0].ms / w.ms,
        cpuSpeedup: c && cpu?.[0] ? cpu[0].ms / c.ms : undefined, flopSpeedup: f && flops[0] ? flops[0].ms / f.ms : NaN,
      });
    });
  }
  return rows;
}

function groupsOf(timings: EngineTiming[]): Group[] {
  const seen = new Map<string, Group>();
  for (const t of timings) seen.set(`${t.case.width}x${t.case.height}/${t.case.batch}`, { width: t.case.width, height: t.case.height, batch: t.case.batch });
  return [...seen.values()];
}

export function summarize(r: BenchReport): Summary {
  const fullImage: Summary['fullImage'] = { node: [], browser: [], 'node-cpu': [], 'browser-cpu': [], pytorch: [] };
  const flopsOf: Cost = (g, a) => r.flops[`${g.width}x${g.height}`]?.[a.join('')];
  for (const p of GRID_PLATFORMS) {
    const t = r.engine[p];
    if (!t) continue;
    const find = (g: Group, a: number[]) => t.find((x) => x.case.width === g.width && x.case.height === g.height && x.case.batch === g.batch && x.case.active.join() === a.join());
    fullImage[p] = fullImageRows((g, a) => find(g, a)?.msPerEval, (g, a) => find(g, a)?.cpuMsPerEval, flopsOf, groupsOf(t), r.skipSettings);
  }
  if (r.pytorch) {
    const groups = [...new Map(r.pytorch.rows.map((x) => [`${x.width}x${x.height}/${x.batch}`, { width: x.width, height: x.height, batch: x.batch / 2 }])).values()];
    const hasCpu = r.pytorch.rows.every((x) => x.cpu_ms !== undefined);
    fullImage.pytorch = fullImageRows((g, a) => pytorchMs(r.pytorch, g, a), hasCpu ? (g, a) => pytorchRow(r.pytorch, g, a)?.cpu_ms : null, flopsOf, groups, r.skipSettings);
  }
  const s: Summary = { fullImage };
  const v = r.versus;
  if (v) {
    const oursMs = best(v.runs.ours), ortWebgpuMs = best(v.runs.webgpu), ortWasmMs = best(v.runs.wasm);
    const oursCpuMs = best(v.cpuRuns?.ours), ortWebgpuCpuMs = best(v.cpuRuns?.webgpu), ortWasmCpuMs = best(v.cpuRuns?.wasm);
    const pt = pytorchMs(r.pytorch, v.case, v.case.active);
    const nodeMs = r.engine.node?.find((t) => caseKey(t.case) === caseKey(v.case))?.msPerEval;
    const errs = [...v.engineCheck.map((c) => c.maxAbs), ...Object.values(v.outputChecks).flatMap((c) => [c.vsPytorch, c.vsOurs ?? 0])];
    const worst = Math.max(...errs);
    s.versus = {
      oursMs, ortWebgpuMs, ortWasmMs, pytorchMs: pt, nodeMs,
      oursOverOrtWebgpu: oursMs / ortWebgpuMs, oursOverOrtWasm: oursMs / ortWasmMs, oursOverPytorch: pt ? oursMs / pt : undefined,
      oursCpuMs, ortWebgpuCpuMs, ortWasmCpuMs, oursOverOrtWebgpuCpu: oursCpuMs / ortWebgpuCpuMs,
      target: 'ours ÷ ORT WebGPU ≤ 0.5 (at least 2× faster)', met: oursMs / ortWebgpuMs <= 0.5,
      outputsMatch: worst <= TOLERANCE, worstAbsError: worst,
    };
  }
  if (v?.runs.cpu?.length) {
    const msPerEval = best(v.runs.cpu), ortWasmMs = best(v.runs.wasm), webgpuMs = best(v.runs.ours);
    const worst = Math.max(...(v.cpuEngineCheck ?? []).map((c) => c.maxAbs));
    s.cpuEngine = {
      msPerEval, ortWasmMs, overOrtWasm: msPerEval / ortWasmMs, webgpuMs, fasterThanWebgpu: webgpuMs / msPerEval,
      targets: { ortWasm: 'CPU engine ÷ ORT wasm single graph ≤ 1.3', webgpu: 'at least 8× faster than our WebGPU engine on this adapter' },
      met: { ortWasm: msPerEval / ortWasmMs <= 1.3, webgpu: webgpuMs / msPerEval >= 8 }, worstAbsError: worst,
    };
  }
  return s;
}

// ---- markdown ----

const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const x2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)}`;
const sci = (x: number) => x.toExponential(1);

function table(head: string[], rows: (string | number)[][]): string {
  const numeric = head.map((_, i) => rows.every((r) => /^[\d*–.,/ ()×e+-]+$/.test(String(r[i] ?? ''))));
  return [`| ${head.join(' | ')} |`, `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const bricksLabel = (active: number[], n: number) => (active.length === n ? 'all' : `${active.map((k) => k + 1).join('+')} (brick ${[...Array(n).keys()].filter((k) => !active.includes(k)).map((k) => k + 1).join(',')} off)`);

export function renderMarkdown(r: BenchReport): string {
  const s = (r.summary = summarize(r));
  const n = r.model.bricks.length;
  const out: string[] = [];
  const arch = r.model.bricks.map((b) => `${b.region}/${b.patch}/${b.depth}`).join(', ');
  out.push(`# Speed benchmark (\`npm run bench${r.argv.length ? ` -- ${r.argv.join(' ')}` : ''}\`)`, '');
  out.push(`Generated ${r.date} by \`bench/run.ts\` (${r.mode} run, ${ms(r.elapsedS)} s). Model \`${r.model.name}\`: ${r.model.params.toLocaleString('en-US')} params, ` +
    `d ${r.model.d}, bricks (region/patch/depth) ${arch}, weights sha256 ${r.model.sha256.slice(0, 12)}…. ` +
    `Host: ${r.host.cpus} × ${r.host.cpuModel}, ${r.host.node}; load average ${r.host.loadAverage.start.toFixed(1)} at the start, ${r.host.loadAverage.end.toFixed(1)} at the end ` +
    `(the CPU is shared with a training run and other jobs: absolute times are noisy; ratios come from the same run, interleaved where stated).`, '');
  for (const [p, i] of Object.entries(r.platforms)) out.push(`- ${p}: ${i.runtime} on **${i.adapter}**${i.fallback ? ' (software adapter: the GPU is emulated on the CPU)' : ''}${i.crossOriginIsolated ? ', cross-origin isolated' : ''}`);
  out.push('', `Every time uses classifier-free guidance (cfg ${r.settings.cfg}): one image = a network batch of 2. *ms/eval* = wall time of ${r.settings.steps} Euler steps ÷ evaluations ` +
    `(each step waits for the GPU as the app does; includes the guidance combination and the sampler update), best of ${r.settings.reps}. ` +
    `*Full image* = EDM Heun, ${FULL_STEPS} steps = ${2 * FULL_STEPS - 1} evaluations, priced from the measured ms/eval of the brick subset active at each evaluation.`, '');

  const v = s.versus;
  out.push('## Headline', '');
  if (v) {
    out.push(`- **Ours vs onnxruntime-web WebGPU** (same Chromium page, same SwiftShader adapter, same inputs, 1 guided image at ${r.versus!.case.width}×${r.versus!.case.height}): ` +
      `${ms(v.oursMs)} ms against ${ms(v.ortWebgpuMs)} ms per evaluation: ours ÷ theirs = **${x2(v.oursOverOrtWebgpu)}** wall (${(1 / v.oursOverOrtWebgpu).toFixed(1)}× faster), ` +
      `${x2(v.oursOverOrtWebgpuCpu)} CPU clock. Target ≤ 0.5×: **${v.met ? 'met' : 'not met'}**. Outputs agree with PyTorch to ${sci(v.worstAbsError)} (tolerance ${sci(TOLERANCE)}).`);
    out.push(`- **Behind**: on this software adapter the "GPU" is CPU threads, and CPU-native runtimes beat both WebGPU runtimes: ORT wasm (${r.settings.ortThreads} threads) takes ` +
      `${ms(v.ortWasmMs)} ms (ours ÷ it ${x2(v.oursOverOrtWasm)}), PyTorch eager ${ms(v.pytorchMs)} ms (ours ÷ it ${x2(v.oursOverPytorch)}).`);
  }
  const ce = s.cpuEngine;
  if (ce) {
    const img = s.fullImage['browser-cpu'].find((x) => x.setting === 'all bricks');
    out.push(`- **Our CPU engine** (onnxruntime-web wasm, ${r.settings.ortThreads} threads, one graph per brick + conditioning, same page and inputs): ${ms(ce.msPerEval)} ms per evaluation; ` +
      `÷ ORT wasm running the single exported graph = **${x2(ce.overOrtWasm)}** (target ≤ 1.3×: **${ce.met.ortWasm ? 'met' : 'not met'}**); ` +
      `**${ce.fasterThanWebgpu.toFixed(1)}×** faster than our WebGPU engine on this adapter (target ≥ 8×: **${ce.met.webgpu ? 'met' : 'not met'}**)` +
      `${img ? `; a full ${FULL_STEPS}-step Heun ${img.canvas} image ≈ **${(img.msPerImage / 1000).toFixed(1)} s**` : ''}. Outputs agree with PyTorch to ${sci(ce.worstAbsError)}.`);
  }
  const head = s.fullImage.browser.length ? s.fullImage.browser : s.fullImage.node;
  const g0 = head[0];
  if (g0) {
    const same = head.filter((x) => x.canvas === g0.canvas && x.batch === g0.batch && x.setting !== 'all bricks');
    out.push(`- **Skip speedups** per full image (${s.fullImage.browser.length ? 'browser' : 'node'}, ${g0.canvas}, ${g0.batch} image${g0.batch > 1 ? 's' : ''}; wall / CPU clock / FLOPs): ` +
      same.map((x) => `${x.setting} ${x2(x.speedup)} / ${x2(x.cpuSpeedup)} / ${x2(x.flopSpeedup)}`).join('; ') + '.');
    out.push(`- **ms per evaluation** (all bricks, ${g0.canvas}, ${g0.batch} image): ${ms(g0.msPerEval)} ms; a full ${FULL_STEPS}-step Heun image ≈ ${(g0.msPerImage / 1000).toFixed(1)} s.`);
  }
  out.push('');
  if (v && r.versus) {
    const vc = r.versus.case;
    out.push(`## Ours vs onnxruntime-web (same page, adapter and inputs: ${vc.width}×${vc.height}, network batch ${2 * vc.batch}, all bricks)`, '');
    const ort = r.versus.ortCreate;
    const cpu = (xs: number[] | undefined) => ms(best(xs));
    out.push(table(['runtime', 'ms / evaluation (best)', 'rounds (ms)', 'ours ÷ it', 'CPU ms / eval', 'ours ÷ it (CPU)', 'first run ms', 'session/setup ms'], [
      ['**ours**, WebGPU in Chromium', `**${ms(v.oursMs)}**`, r.versus.runs.ours.map(ms).join(', '), '1.00×', cpu(r.versus.cpuRuns?.ours), '1.00×', `${ms(r.versus.warmOursMs)} (1 step, compiles)`, '–'],
      ...(r.versus.runs.cpu?.length ? [[`**our CPU engine** (ORT wasm, graph per brick, ${r.settings.ortThreads} threads)`, `**${ms(best(r.versus.runs.cpu))}**`, r.versus.runs.cpu.map(ms).join(', '),
        x2(v.oursMs / best(r.versus.runs.cpu)), cpu(r.versus.cpuRuns?.cpu), x2(v.oursCpuMs / best(r.versus.cpuRuns?.cpu)), '–', ms(r.cpuEngineCreateMs)]] : []),
      [`ORT-Web ${ort.webgpu?.ortVersion ?? ''} WebGPU EP (adapter: ${ort.webgpu?.adapter ?? '?'})`, ms(v.ortWebgpuMs), r.versus.runs.webgpu.map(ms).join(', '), `**${x2(v.oursOverOrtWebgpu)}**`,
        cpu(r.versus.cpuRuns?.webgpu), x2(v.oursOverOrtWebgpuCpu), ms(r.versus.ortFirstRunMs.webgpu), ms(ort.webgpu?.createMs)],
      [`ORT-Web wasm EP (CPU, ${r.settings.ortThreads} threads)`, ms(v.ortWasmMs), r.versus.runs.wasm.map(ms).join(', '), x2(v.oursOverOrtWasm),
        cpu(r.versus.cpuRuns?.wasm), x2(v.oursCpuMs / v.ortWasmCpuMs), ms(r.versus.ortFirstRunMs.wasm), ms(ort.wasm?.createMs)],
      [`PyTorch ${r.pytorch?.torch ?? ''} eager, CPU, ${r.pytorch?.threads ?? '?'} threads (native)`, ms(v.pytorchMs), '–', x2(v.oursOverPytorch), '–', '–', '–', '–'],
      ['ours in Node (Dawn), from the grid above', ms(v.nodeMs), '–', v.nodeMs ? x2(v.oursMs / v.nodeMs) : '–', '–', '–', '–', '–'],
    ]), '');
    out.push(`Rounds interleave ours, our CPU engine, ORT WebGPU and ORT wasm (${r.settings.rounds} rounds); each column keeps its best. *CPU ms* = CPU time of all the ` +
      'browser\'s processes during the call (SwiftShader runs the "GPU" on CPU threads; this clock moves less than wall time with the load of other jobs, though contention still inflates it). ' +
      `Target ${v.target}: **${v.met ? 'met' : 'not met'}** — ours takes ${x2(v.oursOverOrtWebgpu)} the wall time of ORT WebGPU (${(1 / v.oursOverOrtWebgpu).toFixed(1)}× faster), ` +
      `${x2(v.oursOverOrtWebgpuCpu)} its CPU time.`, '');
    const oc = r.versus.outputChecks;
    out.push(`Output check on the exported inputs (σ = 1, conditional + unconditional rows), largest |ΔD| against PyTorch (f32): ` +
      `ours ${r.versus.engineCheck.map((c) => `D${c.brick} ${sci(c.maxAbs)}`).join(', ')}; ORT WebGPU ${sci(oc.webgpu?.vsPytorch ?? NaN)} (vs ours ${sci(oc.webgpu?.vsOurs ?? NaN)}); ` +
      `ORT wasm ${sci(oc.wasm?.vsPytorch ?? NaN)} (vs ours ${sci(oc.wasm?.vsOurs ?? NaN)}). Tolerance ${sci(TOLERANCE)} (D has rms ${(r.versus.engineCheck.at(-1)?.rms ?? NaN).toFixed(2)}): ` +
      `**${v.outputsMatch ? 'all match' : 'MISMATCH'}**. ONNX: opset ${r.onnx?.opset}, ${((r.onnx?.onnx_bytes ?? 0) / 2 ** 20).toFixed(1)} MiB (f32 weights), exported by PyTorch ${r.onnx?.torch} (LayerNorm given explicit ones/zeros weights).`, '');
  }

  const grid = r.engine.browser ?? r.engine.node ?? [];
  if (grid.length) {
    out.push('## ms per network evaluation, by canvas, batch and bricks', '');
    const rows = grid.map((t) => {
      const nodeT = r.engine.node?.find((x) => caseKey(x.case) === caseKey(t.case));
      const brT = r.engine.browser?.find((x) => caseKey(x.case) === caseKey(t.case));
      const pt = pytorchMs(r.pytorch, t.case, t.case.active);
      const gf = (r.flops[`${t.case.width}x${t.case.height}`]?.[t.case.active.join('')] ?? NaN) * 2 * t.case.batch / 1e9;
      return [`${t.case.width}×${t.case.height}`, `${t.case.batch} (${2 * t.case.batch})`, bricksLabel(t.case.active, n), gf.toFixed(2),
        ms(brT?.msPerEval), ms(brT?.cpuMsPerEval), ms(nodeT?.msPerEval), ms(nodeT?.cpuMsPerEval),
        brT && nodeT ? x2(brT.msPerEval / nodeT.msPerEval) : '–', ms(pt), brT && pt ? x2(brT.msPerEval / pt) : '–', Math.round(t.dispatches), mib(t.allocatedBytes)];
    });
    out.push(table(['canvas', 'images (net batch)', 'bricks', 'GFLOP', 'browser ms', 'browser CPU ms', 'node ms', 'node CPU ms', 'browser ÷ node', 'PyTorch CPU ms', 'browser ÷ PyTorch', 'dispatches', 'GPU MiB'], rows), '');
    out.push('*ms* = wall ms per evaluation, *CPU ms* = CPU ms per evaluation (browser: all its processes; node: the whole process, SwiftShader threads included), ' +
      `best of ${r.settings.reps}, brick subsets interleaved. *GFLOP* = 2 × multiply-adds of one evaluation of the network batch. ` +
      '*GPU MiB* = `engine.allocatedBytes` after the case: weights (f32) + that canvas/batch\'s buffers.', '');
    const warm = r.warmMs.browser ?? r.warmMs.node;
    if (warm) out.push(`First 1-step generation per canvas/batch (buffers + pipeline compile), ${r.warmMs.browser ? 'browser' : 'node'}: ${Object.entries(warm).map(([k, v]) => `${k} ${ms(v)} ms`).join(', ')}.`, '');
  }

  const cpuGrid = r.engine['browser-cpu'] ?? r.engine['node-cpu'] ?? [];
  if (cpuGrid.length) {
    out.push('## Our CPU engine: ms per network evaluation, by canvas, batch and bricks', '');
    const find = (p: GridPlatform, c: EngineCase) => r.engine[p]?.find((x) => caseKey(x.case) === caseKey(c));
    out.push(table(['canvas', 'images (net batch)', 'bricks', 'CPU engine, browser ms', 'CPU engine, node ms', 'WebGPU engine, browser ms', 'WebGPU ÷ CPU engine'],
      cpuGrid.map((t) => {
        const b = find('browser-cpu', t.case), nd = find('node-cpu', t.case), w = find('browser', t.case) ?? find('node', t.case);
        return [`${t.case.width}×${t.case.height}`, `${t.case.batch} (${2 * t.case.batch})`, bricksLabel(t.case.active, n), ms(b?.msPerEval), ms(nd?.msPerEval), ms(w?.msPerEval),
          w && (b ?? nd) ? x2(w.msPerEval / (b ?? nd)!.msPerEval) : '–'];
      })), '');
  }

  for (const p of ['browser', 'node', 'browser-cpu', 'node-cpu', 'pytorch'] as const) {
    const rows = s.fullImage[p];
    if (!rows.length) continue;
    const what = p === 'pytorch' ? 'PyTorch eager CPU (for reference)' : p.endsWith('cpu') ? `our CPU engine, ${p.slice(0, -4)}` : `ours (WebGPU), ${p}`;
    out.push(`## Full image (Heun ${FULL_STEPS} steps, cfg ${r.settings.cfg}), ${what}`, '');
    out.push(table(['canvas', 'images', 'setting', 'evals with fewer bricks', 'ms / generation', 'ms / image', 'avg ms / eval', 'speedup vs all', 'speedup (CPU clock)', 'speedup in FLOPs'],
      rows.map((x) => [x.canvas, x.batch, x.setting, `${x.reducedEvalFraction === 0 ? '0' : `${Math.round(x.reducedEvalFraction * x.evaluations)}/${x.evaluations}`}`,
        ms(x.msPerGeneration), ms(x.msPerImage), ms(x.msPerEval), `**${x2(x.speedup)}**`, x2(x.cpuSpeedup), x2(x.flopSpeedup)])), '');
  }
  out.push(`Skip windows: "top skipped f" skips brick ${n} (the whole-canvas brick) while the step fraction i/${FULL_STEPS} ≥ 1 − f (the last steps, at low noise), ` +
    `so f = 0.3 and 0.5 skip it on ${Math.round(FULL_STEPS - Math.ceil(FULL_STEPS * 0.7))} and ${FULL_STEPS - Math.ceil(FULL_STEPS * 0.5)} of ${FULL_STEPS} steps; "brick k off" removes brick k for the whole run.`, '');

  if (r.fullChecks.length) {
    out.push('### Check: whole generations against the priced estimate (browser)', '');
    const rows = r.fullChecks.map((c) => {
      const priced = s.fullImage.browser.find((x) => x.setting === c.setting && x.canvas === `${c.width}×${c.height}` && x.batch === c.batch);
      return [c.setting, `${c.width}×${c.height}`, c.batch, c.evaluations, ms(c.measuredMs), ms(priced?.msPerGeneration), priced ? x2(c.measuredMs / priced.msPerGeneration) : '–', ms(c.cpuMs)];
    });
    out.push(table(['setting', 'canvas', 'images', 'evals', 'measured ms', 'priced ms', 'measured ÷ priced', 'measured CPU ms'], rows), '');
    const [a, b] = r.fullChecks;
    if (a && b) out.push(`Measured skip speedup (${b.setting}): ${x2(a.measuredMs / b.measuredMs)} wall, ${a.cpuMs && b.cpuMs ? x2(a.cpuMs / b.cpuMs) : '–'} CPU. ` +
      'A whole Heun run also pays the Heun update kernels and one GPU wait per step, which the Euler-priced estimate leaves out.', '');
  }

  if (r.ttfi) {
    const t = r.ttfi.settings;
    out.push('## Time to first image in the built app (vite build + vite preview, headless Chromium)', '');
    out.push(`Settings from the URL: ${t.width}×${t.height}, ${t.batch} image, ${t.sampler} ${t.steps} steps, cfg ${t.cfg}. *Ready* = page open → weights ` +
      'downloaded (or read from IndexedDB), SHA-256 checked, device and engine built; *first image* = page open → the image is shown (the click included); ' +
      '*generation* = the app\'s own generation time (the pipelines compile inside the first generation of a page).', '');
    out.push(table(['engine', 'visit', 'weights from', 'ready ms', 'generation ms', 'first image ms'],
      r.ttfi.runs.map((x) => [x.engine === 'cpu' ? 'CPU (wasm, worker)' : 'WebGPU', x.kind === 'cold' ? 'cold (empty cache)' : 'warm (reload, cached)', x.weightsFrom ?? '?', ms(x.readyMs), ms(x.generationMs), ms(x.firstImageMs)])), '');
    out.push('The CPU engine\'s cold visit also downloads onnxruntime-web and its wasm (about 3.7 MB compressed, 14 MB raw) and builds its ONNX graphs from the weights; ' +
      'the warm visit takes them from the service worker\'s cache.', '');
  }
  out.push('## How to run', '',
    '`npm run bench -- --quick` (32×32, 1 image; a few minutes) or `npm run bench` (32×32, 64×64, 128×32 × 1 and 4 images, whole-generation check; ' +
    'about half an hour on a shared 2-core SwiftShader machine); `npm run bench -- --help` lists the flags (canvases, batches, steps, repetitions, platforms, ' +
    'and --no-ort / --no-pytorch / --no-ttfi). It needs Debian\'s `chromium` and `python3-torch`. `bench/export_onnx.py` regenerates ' +
    '`bench/out/onnx/model.onnx` and the shared inputs whenever the weights change; every run also leaves its JSON in `bench/out/`. ' +
    'Driven pieces: `bench/run.ts` (Node side, Playwright), `bench/page.ts` (the browser page: engine, onnxruntime-web), `bench/lib/`.', '');
  return `${out.join('\n')}\n`;
}
