// npm run bench — the engine's speed side by side with onnxruntime-web and PyTorch, in one run.
//   npm run bench -- --quick            32×32, 1 image, a few minutes
//   npm run bench                       32×32, 64×64, 128×32 × batch 1, 4 (long on SwiftShader)
// See HELP below and docs/bench.md for what is measured and how.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireNodeDevice } from '../src/gpu/node.ts';
import { LegoEngine } from '../src/engine/engine.ts';
import { createNodeCpuEngine } from '../src/engine-cpu/node.ts';
import type { BrickSetting } from '../src/engine/types.ts';
import { loadModel, parseModelJson } from '../src/model/load.ts';
import { launchChromium } from '../tools/chromium.ts';
import { childrenCpuMs, selfCpuMs, withCpu } from './lib/cpu.ts';
import {
  brickSubsets, caseKey, evalFlops, GUIDANCE, FULL_STEPS, skipSettings, timeEngine, timeFullRun, warmEngine,
  type Canvas, type EngineCase, type EngineTiming,
} from './lib/cases.ts';
import type { IoMeta, PytorchTimings } from './lib/io.ts';
import { renderMarkdown, type BenchReport, type FullRunCheck } from './lib/report.ts';
import { ROOT } from '../tools/app.ts';
import { buildPage, serveStatic } from './lib/serve.ts';
import { timeToFirstImage, type TtfiRun } from './lib/ttfi.ts';

const HELP = `usage: npm run bench -- [options]
  --quick             32×32, batch 1, 2 Euler steps per case, short time-to-first-image
  --model DIR         model folder (default public/models/lego-emoji-32)
  --canvas LIST       canvases, e.g. 32x32,64x64,128x32 (default: those three; quick: 32x32)
  --batch LIST        images per generation (guided: twice that network batch), default 1,4 (quick: 1)
  --steps N           Euler steps timed per case (default 2); ms/eval = wall time ÷ evaluations
  --reps N            repetitions per case, best kept (default 1; quick: 2)
  --rounds N          interleaved rounds of ours / our CPU engine / ORT WebGPU / ORT wasm (default 6: best of each; a shared CPU is noisy)
  --platforms LIST    node,browser (default both)
  --ort-threads N     ORT wasm threads (default 2, as PyTorch)
  --no-ort            skip onnxruntime-web (and the ONNX export)
  --no-pytorch        skip PyTorch CPU timings
  --no-ttfi           skip time to first image in the built app
  --ttfi-steps N      sampling steps of the first image (default ${FULL_STEPS}; quick: 4)
  --ttfi-sampler S    heun | euler for the first image (default heun; quick: euler)
  --check-full        time whole ${FULL_STEPS}-step Heun generations (32×32, 1 image) to check the priced estimate (default in a full run)
  --no-docs           write only bench/out/, not docs/ (full: docs/bench.{md,json}; quick: docs/bench-quick.{md,json})`;

const NET_CASE_BATCH = 1; // the ORT comparison: 1 guided image = network batch 2

function list<T>(s: string, f: (x: string) => T): T[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean).map(f);
}

function parseCanvas(s: string): Canvas {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`--canvas "${s}": expected WxH, e.g. 64x64`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function parse() {
  const { values: v } = parseArgs({
    args: process.argv.slice(2), strict: true, options: {
      quick: { type: 'boolean' }, model: { type: 'string', default: 'public/models/lego-emoji-32' },
      canvas: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string', default: '2' },
      reps: { type: 'string' }, rounds: { type: 'string', default: '6' },
      platforms: { type: 'string', default: 'node,browser' }, 'ort-threads': { type: 'string', default: '2' },
      'no-ort': { type: 'boolean' }, 'no-pytorch': { type: 'boolean' }, 'no-ttfi': { type: 'boolean' },
      'ttfi-steps': { type: 'string' }, 'ttfi-sampler': { type: 'string' }, 'check-full': { type: 'boolean' }, 'no-docs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const quick = Boolean(v.quick);
  return {
    help: v.help, quick, model: resolve(v.model!),
    canvases: list(v.canvas ?? (quick ? '32x32' : '32x32,64x64,128x32'), parseCanvas),
    batches: list(v.batch ?? (quick ? '1' : '1,4'), Number),
    steps: Number(v.steps), reps: Number(v.reps ?? (quick ? 2 : 1)), rounds: Number(v.rounds),
    platforms: list(v.platforms!, (p) => {
      if (p !== 'node' && p !== 'browser') throw new Error(`--platforms: unknown "${p}"`);
      return p as 'node' | 'browser';
    }),
    ortThreads: Number(v['ort-threads']), ort: !v['no-ort'], pytorch: !v['no-pytorch'], ttfi: !v['no-ttfi'],
    ttfiSteps: Number(v['ttfi-steps'] ?? (quick ? 4 : FULL_STEPS)),
    ttfiSampler: (v['ttfi-sampler'] ?? (quick ? 'euler' : 'heun')) === 'euler' ? 'euler' as const : 'heun' as const,
    checkFull: !quick || Boolean(v['check-full']), docs: !v['no-docs'],
  };
}

const t0 = Date.now();
function log(m: string): void {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
}

/** Runs bench/export_onnx.py: exports model.onnx + io (if stale) and times PyTorch on the given settings. */
function python(modelDir: string, outDir: string, timeSettings: string[], reps: number): void {
  const args = ['bench/export_onnx.py', '--model', modelDir, '--out', outDir, '--batch', String(2 * NET_CASE_BATCH)];
  if (timeSettings.length) args.push('--time', timeSettings.join(','), '--reps', String(reps));
  const r = spawnSync(process.env.PYTHON ?? '/usr/bin/python3', args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  const err = (r.stderr ?? '').split('\n').filter((l) => !/TracerWarning|^\s+(assert|q, k, v|a = torch)/.test(l) && l.trim()).join('\n');
  if (err) process.stderr.write(`${err}\n`);
  if (r.status !== 0) throw new Error(`bench/export_onnx.py failed (exit ${r.status})`);
}

/** Where an engine grid ran: our WebGPU engine in Node/Chromium, or our CPU engine (ORT wasm graphs per brick) there. */
type Platform = 'node' | 'browser' | 'node-cpu' | 'browser-cpu';
interface EngineDriver {
  warm(c: EngineCase): Promise<number>;
  time(c: EngineCase, steps: number, reps: number): Promise<EngineTiming>;
  full(canvas: Canvas, batch: number, bricks: BrickSetting[], steps: number): Promise<{ ms: number; evaluations: number }>;
}

/**
 * The engine grid on one platform: warm each canvas/batch, then time every brick subset, the
 * subsets interleaved over the repetitions (so that a burst of load on the shared CPU hits them
 * alike); each keeps its best wall and best CPU ms per evaluation.
 */
async function engineGrid(p: Platform, d: EngineDriver, o: ReturnType<typeof parse>, nBricks: number, cpu: () => number) {
  const timings: EngineTiming[] = [];
  const warmMs: Record<string, number> = {};
  for (const canvas of o.canvases) {
    for (const batch of o.batches) {
      const subsets = brickSubsets(nBricks);
      const key = `${canvas.width}x${canvas.height}/b${batch}`;
      warmMs[key] = await d.warm({ ...canvas, batch, active: subsets[0] });
      const got: EngineTiming[] = [];
      for (let r = 0; r < o.reps; r++) {
        for (const [i, active] of subsets.entries()) {
          const c: EngineCase = { ...canvas, batch, active };
          const { value: t, cpuMs } = await withCpu(cpu, () => d.time(c, o.steps, 1));
          const cpuPerEval = cpuMs / t.evaluations;
          const g = (got[i] ??= { ...t, runs: [], cpuRuns: [] });
          g.runs.push(t.msPerEval);
          g.cpuRuns!.push(cpuPerEval);
          g.msPerEval = Math.min(...g.runs);
          g.cpuMsPerEval = Math.min(...g.cpuRuns!);
          g.allocatedBytes = t.allocatedBytes;
          log(`${p} ${caseKey(c)}: ${t.msPerEval.toFixed(0)} ms/eval (CPU ${cpuPerEval.toFixed(0)} ms), ${(t.allocatedBytes / 2 ** 20).toFixed(1)} MiB`);
        }
      }
      timings.push(...got);
    }
  }
  return { timings, warmMs };
}

async function main() {
  const o = parse();
  if (o.help) return console.log(HELP);
  const modelJsonPath = join(o.model, 'model.json');
  if (!existsSync(modelJsonPath)) throw new Error(`no model at ${o.model} (model.json missing): export one with \`python3 -m train.export\` or pass --model`);
  const meta = parseModelJson(readFileSync(modelJsonPath, 'utf8'), modelJsonPath);
  const model = await loadModel(meta, new Uint8Array(readFileSync(join(o.model, meta.weights.file))));
  const nBricks = meta.architecture.bricks.length;
  const outDir = join(ROOT, 'bench/out');
  const onnxDir = join(outDir, 'onnx');
  mkdirSync(outDir, { recursive: true });
  const load0 = os.loadavg()[0];
  log(`model ${meta.name}: ${meta.param_count.toLocaleString()} params, ${nBricks} bricks; ${o.quick ? 'quick' : 'full'} run; load average ${load0.toFixed(1)} on ${os.cpus().length} CPUs`);

  const report: BenchReport = {
    date: new Date().toISOString(), mode: o.quick ? 'quick' : 'full', argv: process.argv.slice(2),
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', node: process.version, loadAverage: { start: load0, end: NaN } },
    model: { name: meta.name, params: meta.param_count, sha256: meta.weights.sha256, bricks: meta.architecture.bricks, d: meta.architecture.d },
    settings: { steps: o.steps, reps: o.reps, rounds: o.rounds, cfg: GUIDANCE, fullSteps: FULL_STEPS, ortThreads: o.ortThreads },
    skipSettings: skipSettings(nBricks), engine: {}, warmMs: {}, fullChecks: [], platforms: {},
    flops: Object.fromEntries(o.canvases.map((c) => [`${c.width}x${c.height}`,
      Object.fromEntries(brickSubsets(nBricks).map((a) => [a.join(''), evalFlops(meta.architecture, c, a)]))])),
  };

  // 1. PyTorch (and the ONNX export the browser needs), before anything else loads the CPU.
  if (o.ort || o.pytorch) {
    const settings = o.pytorch ? o.canvases.flatMap((c) => o.batches.map((b) => `${c.width}x${c.height}x${2 * b}`)) : [];
    if (o.pytorch && !settings.includes(`32x32x${2 * NET_CASE_BATCH}`)) settings.unshift(`32x32x${2 * NET_CASE_BATCH}`);
    log(`python: ONNX export${o.pytorch ? ` and PyTorch eager timings (${settings.join(', ')})` : ''}…`);
    python(o.model, onnxDir, settings, Math.max(2, o.reps));
    if (o.pytorch) report.pytorch = JSON.parse(readFileSync(join(onnxDir, 'pytorch.json'), 'utf8')) as PytorchTimings;
    report.onnx = JSON.parse(readFileSync(join(onnxDir, 'io.json'), 'utf8')) as IoMeta;
  }

  // 2. Node: Dawn on SwiftShader.
  if (o.platforms.includes('node')) {
    const ctx = await acquireNodeDevice({ label: 'bench' });
    report.platforms.node = { adapter: ctx.adapterName, fallback: ctx.isFallback, runtime: `Node ${process.version}, Dawn (npm webgpu)` };
    const engine = await LegoEngine.create(ctx, model);
    const d: EngineDriver = {
      warm: (c) => warmEngine(engine, c), time: (c, s, r) => timeEngine(engine, c, s, r),
      full: (c, b, br, s) => timeFullRun(engine, c, b, br, s),
    };
    const g = await engineGrid('node', d, o, nBricks, selfCpuMs);
    report.engine.node = g.timings;
    report.warmMs.node = g.warmMs;
    engine.destroy();
    ctx.device.destroy();

    const cpu = await createNodeCpuEngine(model, o.ortThreads);
    const dc: EngineDriver = {
      warm: (c) => warmEngine(cpu, c), time: (c, s, r) => timeEngine(cpu, c, s, r), full: (c, b, br, s) => timeFullRun(cpu, c, b, br, s),
    };
    const gc = await engineGrid('node-cpu', dc, o, nBricks, selfCpuMs);
    report.engine['node-cpu'] = gc.timings;
    report.warmMs['node-cpu'] = gc.warmMs;
    cpu.destroy();
  }

  // 3. Browser: our engine, then ours / ORT WebGPU / ORT wasm interleaved, then the app's first image.
  let ttfi: TtfiRun[] | undefined;
  if (o.platforms.includes('browser') || o.ort || o.ttfi) {
    const pageDir = join(outDir, 'page');
    await buildPage(pageDir);
    const server = await serveStatic({
      '/bench/': pageDir, '/ort/': join(ROOT, 'node_modules/onnxruntime-web/dist'), '/onnx/': onnxDir, '/model/': o.model,
    });
    const browser = await launchChromium();
    try {
      if (o.platforms.includes('browser') || o.ort) {
        const page = await browser.newPage();
        page.on('pageerror', (e) => log(`page error: ${e.message}`));
        page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) log(`page console: ${m.text()}`); });
        await page.goto(`${server.origin}/bench/page.html`);
        await page.waitForFunction(() => (globalThis as { __bench?: unknown }).__bench, undefined, { timeout: 60_000 });
        const call = <T>(fn: string, ...args: unknown[]): Promise<T> => page.evaluate(([f, a]) =>
          (globalThis as unknown as { __bench: Record<string, (...x: unknown[]) => unknown> }).__bench[f as string](...(a as unknown[])), [fn, args] as const) as Promise<T>;
        const info = await call<Record<string, unknown>>('init', '/model/', o.ortThreads);
        report.platforms.browser = {
          adapter: String(info.adapter), fallback: Boolean(info.fallback), runtime: String(info.userAgent).replace(/^.*(HeadlessChrome\/\S+).*$/, 'Chromium $1'),
          crossOriginIsolated: Boolean(info.crossOriginIsolated),
        };
        if (o.platforms.includes('browser')) {
          const d: EngineDriver = {
            warm: (c) => call('warm', c), time: (c, s, r) => call('time', c, s, r), full: (c, b, br, s) => call('full', c, b, br, s),
          };
          const g = await engineGrid('browser', d, o, nBricks, childrenCpuMs);
          report.engine.browser = g.timings;
          report.warmMs.browser = g.warmMs;
          if (o.checkFull) report.fullChecks = await checkFull(d, nBricks);
        }
        report.cpuEngineCreateMs = (await call<{ createMs: number }>('cpuInit')).createMs;
        if (o.platforms.includes('browser')) {
          const dc: EngineDriver = {
            warm: (c) => call('warm', c, 'cpu'), time: (c, s, r) => call('time', c, s, r, 'cpu'), full: (c, b, br, s) => call('full', c, b, br, s, 'cpu'),
          };
          const g = await engineGrid('browser-cpu', dc, o, nBricks, childrenCpuMs);
          report.engine['browser-cpu'] = g.timings;
          report.warmMs['browser-cpu'] = g.warmMs;
        }
        if (o.ort) report.versus = await versus(call, o, nBricks);
        await call('release');
        await page.close();
      }
      if (o.ttfi) {
        const s = { width: 32, height: 32, batch: 1, steps: o.ttfiSteps, sampler: o.ttfiSampler, cfg: GUIDANCE };
        ttfi = [];
        for (const engine of ['webgpu', 'cpu'] as const) ttfi.push(...await timeToFirstImage(browser, o.model, { ...s, engine }, log));
        report.ttfi = { settings: s, runs: ttfi };
        for (const r of ttfi) log(`ttfi ${r.engine} ${r.kind}: ready ${r.readyMs} ms, first image ${r.firstImageMs} ms (weights from ${r.weightsFrom})`);
      }
    } finally {
      await browser.close();
      await server.close();
    }
  }

  report.host.loadAverage.end = os.loadavg()[0];
  report.elapsedS = (Date.now() - t0) / 1000;
  const md = renderMarkdown(report);
  const json = `${JSON.stringify(report, null, 1)}\n`;
  writeFileSync(join(outDir, `bench-${Date.now()}.json`), json);
  const docName = o.quick ? 'bench-quick' : 'bench';
  if (o.docs) {
    writeFileSync(join(ROOT, `docs/${docName}.json`), json);
    writeFileSync(join(ROOT, `docs/${docName}.md`), md);
  }
  console.log(md);
  log(`done in ${report.elapsedS.toFixed(0)} s${o.docs ? `; wrote docs/${docName}.md and docs/${docName}.json` : ''}`);
}

/** Whole Heun generations (32×32, 1 image) for all bricks and the top brick skipped for half the steps. */
async function checkFull(d: EngineDriver, nBricks: number): Promise<FullRunCheck[]> {
  const out: FullRunCheck[] = [];
  const settings = skipSettings(nBricks).filter((s) => s.name === 'all bricks' || s.name === 'top skipped 50%');
  for (const s of settings) {
    const { value: r, cpuMs } = await withCpu(childrenCpuMs, () => d.full({ width: 32, height: 32 }, 1, s.bricks, FULL_STEPS));
    out.push({ setting: s.name, width: 32, height: 32, batch: 1, measuredMs: r.ms, cpuMs, evaluations: r.evaluations });
    log(`browser full run ${s.name}: ${r.ms.toFixed(0)} ms (${r.evaluations} evaluations)`);
  }
  return out;
}

/** Ours against ORT WebGPU and ORT wasm on the exported canvas, interleaved rounds, best of each. */
async function versus(call: <T>(fn: string, ...args: unknown[]) => Promise<T>, o: ReturnType<typeof parse>, nBricks: number) {
  const io = JSON.parse(readFileSync(join(ROOT, 'bench/out/onnx/io.json'), 'utf8')) as IoMeta;
  const c: EngineCase = { width: io.width, height: io.height, batch: io.batch / 2, active: Array.from({ length: nBricks }, (_, k) => k) };
  log('versus: our output against PyTorch on the exported inputs…');
  const check = await call<{ brick: number; maxAbs: number; rms: number }[]>('engineCheck', '/onnx/');
  const cpuCheck = await call<{ brick: number; maxAbs: number; rms: number }[]>('engineCheck', '/onnx/', 'cpu');
  const warmOurs = await call<number>('warm', c);
  await call<number>('warm', c, 'cpu');
  const eps = ['webgpu', 'wasm'] as const;
  const create: Record<string, { createMs: number; adapter?: string; ortVersion?: string }> = {};
  const first: Record<string, number> = {};
  const outChecks: Record<string, { vsPytorch: number; vsOurs: number | null }> = {};
  for (const ep of eps) {
    log(`versus: ORT ${ep} session + first run…`);
    create[ep] = await call('ortCreate', ep, '/onnx/');
    const r = await call<{ ms: number; vsPytorch: { maxAbs: number }; vsOurs: { maxAbs: number } | null }>('ortRun', ep);
    first[ep] = r.ms;
    outChecks[ep] = { vsPytorch: r.vsPytorch.maxAbs, vsOurs: r.vsOurs?.maxAbs ?? null };
  }
  const runs: Record<string, number[]> = { ours: [], cpu: [], webgpu: [], wasm: [] };
  const cpuRuns: Record<string, number[]> = { ours: [], cpu: [], webgpu: [], wasm: [] };
  for (let r = 0; r < o.rounds; r++) {
    for (const which of ['webgpu', 'cpu'] as const) {
      const ours = await withCpu(childrenCpuMs, () => call<EngineTiming>('time', c, o.steps, 1, which));
      const key = which === 'webgpu' ? 'ours' : 'cpu';
      runs[key].push(ours.value.msPerEval);
      cpuRuns[key].push(ours.cpuMs / ours.value.evaluations);
    }
    for (const ep of eps) {
      const t = await withCpu(childrenCpuMs, () => call<{ ms: number }>('ortRun', ep));
      runs[ep].push(t.value.ms);
      cpuRuns[ep].push(t.cpuMs);
    }
    log(`versus round ${r + 1}: ours ${runs.ours[r].toFixed(0)} ms, our CPU engine ${runs.cpu[r].toFixed(0)} ms, ORT WebGPU ${runs.webgpu[r].toFixed(0)} ms, ORT wasm ${runs.wasm[r].toFixed(0)} ms per evaluation ` +
      `(CPU ${cpuRuns.ours[r].toFixed(0)}, ${cpuRuns.webgpu[r].toFixed(0)}, ${cpuRuns.wasm[r].toFixed(0)} ms)`);
  }
  return { case: c, engineCheck: check, cpuEngineCheck: cpuCheck, warmOursMs: warmOurs, ortCreate: create, ortFirstRunMs: first, outputChecks: outChecks, runs, cpuRuns };
}

main().then(() => process.exit(0), (e) => {
  console.error(`error: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
