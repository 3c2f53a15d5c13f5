// The browser side of `npm run bench`: our engine and onnxruntime-web on the same page, adapter and
// inputs. bench/run.ts builds this file (esbuild), serves it and calls window.__bench step by step
// through Playwright, so it decides the order (interleaved rounds) and reads every number back.
import * as ort from 'onnxruntime-web/webgpu';
import { acquireDevice, type GpuContext } from '../src/gpu/device.ts';
import { LegoEngine } from '../src/engine/engine.ts';
import { CpuEngine } from '../src/engine-cpu/engine.ts';
import type { BrickSetting } from '../src/engine/types.ts';
import { fetchModel, loadModel } from '../src/model/load.ts';
import { diffStats } from '../tools/close.ts';
import { timeEngine, timeFullRun, warmEngine, type BenchEngine, type Canvas, type EngineCase } from './lib/cases.ts';
import type { IoMeta } from './lib/io.ts';

type Ep = 'webgpu' | 'wasm';
/** Which of our engines a call drives: the WebGPU one (default) or the CPU one (ORT wasm graphs per brick). */
type Which = 'webgpu' | 'cpu';

let ctx: GpuContext;
let engine: LegoEngine;
let cpuEngine: CpuEngine | undefined;
const pick = (which: Which = 'webgpu'): BenchEngine => (which === 'cpu' ? cpuEngine! : engine);
let io: { meta: IoMeta; arrays: Record<string, Float32Array> } | undefined;
const sessions = new Map<Ep, ort.InferenceSession>();
const lastOut = new Map<string, Float32Array>();

const logEl = () => document.getElementById('log')!;
function log(text: string): void {
  logEl().textContent += `${text}\n`;
}

async function loadIo(base: string) {
  if (io) return io;
  const meta = (await (await fetch(`${base}io.json`)).json()) as IoMeta;
  const bin = new Float32Array(await (await fetch(`${base}io.bin`)).arrayBuffer());
  const arrays: Record<string, Float32Array> = {};
  for (const [name, a] of Object.entries(meta.arrays)) arrays[name] = bin.slice(a.offset, a.offset + a.length);
  io = { meta, arrays };
  return io;
}

function feeds(): Record<string, ort.Tensor> {
  const { meta, arrays } = io!;
  return Object.fromEntries(['x', 'sigma', 'labels'].map((k) => [k, new ort.Tensor('float32', arrays[k], meta.arrays[k].shape)]));
}

const api = {
  async init(modelUrl: string, ortThreads: number) {
    const t0 = performance.now();
    ctx = await acquireDevice({ label: 'bench' });
    const { meta, weights } = await fetchModel(modelUrl);
    const model = await loadModel(meta, weights);
    engine = await LegoEngine.create(ctx, model);
    ort.env.wasm.numThreads = ortThreads;
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.logLevel = 'error';
    log(`engine ready on ${ctx.adapterName} in ${(performance.now() - t0).toFixed(0)} ms`);
    return {
      adapter: ctx.adapterName, fallback: ctx.isFallback, userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency,
      features: [...ctx.device.features], weightsBytes: engine.allocatedBytes,
    };
  },

  /** Builds the CPU engine from the same loaded model (ORT's wasm threads as set in init). */
  async cpuInit() {
    const t0 = performance.now();
    cpuEngine = await CpuEngine.create(engine.model, { ort });
    return { createMs: performance.now() - t0 };
  },

  async warm(c: EngineCase, which?: Which) {
    const ms = await warmEngine(pick(which), c);
    log(`warm ${which ?? 'webgpu'} ${JSON.stringify(c)}: ${ms.toFixed(0)} ms`);
    return ms;
  },

  async time(c: EngineCase, steps: number, reps: number, which?: Which) {
    const t = await timeEngine(pick(which), c, steps, reps);
    log(`time ${which ?? 'webgpu'} ${JSON.stringify(c)}: ${t.msPerEval.toFixed(0)} ms/eval`);
    return t;
  },

  async full(canvas: Canvas, batch: number, bricks: BrickSetting[], steps: number, which?: Which) {
    return timeFullRun(pick(which), canvas, batch, bricks, steps);
  },

  /** Our D_k of every brick on the exported inputs, against PyTorch's. */
  async engineCheck(ioBase: string, which: Which = 'webgpu') {
    const { meta, arrays } = await loadIo(ioBase);
    const n = engine.model.meta.architecture.bricks.length;
    const active = Array.from({ length: n }, (_, k) => k);
    const outs = await (which === 'cpu' ? cpuEngine! : engine).evaluate(arrays.x, meta.width, meta.height, [...arrays.sigma], arrays.labels, active);
    if (which === 'webgpu') lastOut.set('ours', outs[n - 1]);
    return outs.map((o, k) => ({ brick: k + 1, ...diffStats(o, arrays[`D${k}`]) }));
  },

  async ortCreate(ep: Ep, ioBase: string) {
    await loadIo(ioBase);
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(`${ioBase}model.onnx`, { executionProviders: [ep], graphOptimizationLevel: 'all' });
    const createMs = performance.now() - t0;
    sessions.set(ep, session);
    let adapter: string | undefined;
    if (ep === 'webgpu') {
      const dev = (await ort.env.webgpu.device) as GPUDevice & { adapterInfo?: GPUAdapterInfo };
      const info = dev.adapterInfo;
      adapter = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') : undefined;
    }
    log(`ort ${ep} session in ${createMs.toFixed(0)} ms`);
    return { createMs, adapter, ortVersion: ort.env.versions?.web };
  },

  /** One ORT run on the exported inputs: wall ms and its output against PyTorch's and ours. */
  async ortRun(ep: Ep) {
    const session = sessions.get(ep)!;
    const t0 = performance.now();
    const res = await session.run(feeds());
    const ms = performance.now() - t0;
    const out = (await res.D.getData()) as Float32Array;
    const ours = lastOut.get('ours');
    log(`ort ${ep} run ${ms.toFixed(0)} ms`);
    return { ms, vsPytorch: diffStats(out, io!.arrays[`D${engine.model.meta.architecture.bricks.length - 1}`]), vsOurs: ours ? diffStats(out, ours) : null };
  },

  release() {
    for (const s of sessions.values()) void s.release();
    sessions.clear();
    engine?.destroy();
    cpuEngine?.destroy();
  },
};

(globalThis as unknown as { __bench: typeof api }).__bench = api;
log('bench page loaded');
