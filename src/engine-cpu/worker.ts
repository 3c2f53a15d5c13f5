// The CPU engine's Web Worker: loads onnxruntime-web (wasm backend) only here, builds the engine
// from the model the page sends, and runs generations, reporting each step; the page stays
// responsive and can toggle bricks or cancel mid-run.
import { CpuEngine } from './engine.ts';
import { loadedEngineFiles } from './offline.ts';
import type { FromWorker, ToWorker, WorkerError } from './protocol.ts';

let engine: CpuEngine | undefined;
const running = new Map<number, AbortController>();
const post = (m: FromWorker, transfer: Transferable[] = []) => postMessage(m, { transfer });
const asError = (e: unknown): WorkerError => ({
  name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e),
});

/** Threads for the wasm backend: several when the page is cross-origin isolated (SharedArrayBuffer). */
function threads(): number {
  return crossOriginIsolated ? Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1)) : 1;
}

async function init(m: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  try {
    const ort = await import('onnxruntime-web/wasm');
    ort.env.wasm.numThreads = threads();
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    engine = await CpuEngine.create({ meta: m.meta, tensors: m.tensors }, { ort });
    post({
      type: 'ready', allocatedBytes: engine.allocatedBytes, threads: ort.env.wasm.numThreads ?? 1,
      crossOriginIsolated, files: loadedEngineFiles(),
    });
  } catch (e) {
    post({ type: 'init-error', error: asError(e) });
  }
}

async function generate(m: Extract<ToWorker, { type: 'generate' }>): Promise<void> {
  const abort = new AbortController();
  running.set(m.id, abort);
  try {
    const result = await engine!.generate({
      ...m.options, signal: abort.signal,
      onStep: (info) => post({ type: 'step', id: m.id, info },
        info.preview ? info.preview.images.map((i) => i.buffer as ArrayBuffer) : []),
    });
    post({ type: 'done', id: m.id, result },
      [result.raw.buffer as ArrayBuffer, ...result.images.images.map((i) => i.buffer as ArrayBuffer)]);
  } catch (e) {
    post({ type: 'error', id: m.id, error: asError(e) });
  } finally {
    running.delete(m.id);
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'init') void init(m);
  else if (m.type === 'generate') void generate(m);
  else if (m.type === 'cancel') running.get(m.id)?.abort();
  else if (m.type === 'bricks') {
    try {
      engine?.setBricks(m.bricks);
    } catch { /* validated on the page side too */ }
  }
};
