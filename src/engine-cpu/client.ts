// The page's handle on the CPU engine: the Engine interface, backed by a Web Worker (worker.ts)
// that alone loads onnxruntime-web. Steps, previews and results come back as messages.
import { InvalidOptionsError } from '../engine/engine.ts';
import type { BrickSetting, Engine, GenerateOptions, GenerateResult, StepInfo } from '../engine/types.ts';
import type { LoadedModel } from '../model/load.ts';
import { brickCostShares } from '../model/arch.ts';
import { keepForOffline } from './offline.ts';
import workerUrl from './worker.ts?worker&url';
import type { FromWorker, ToWorker, WorkerError } from './protocol.ts';

interface Pending {
  resolve: (r: GenerateResult) => void;
  reject: (e: Error) => void;
  onStep?: (info: StepInfo) => void;
}

function toError(e: WorkerError): Error {
  if (e.name === 'AbortError') return new DOMException(e.message, 'AbortError');
  if (e.name === 'InvalidOptionsError') return new InvalidOptionsError(e.message);
  return Object.assign(new Error(e.message), { name: e.name });
}

export class CpuWorkerEngine implements Engine {
  allocatedBytes = 0;
  /** wasm threads the runtime runs (1 unless the page is cross-origin isolated). */
  threads = 1;
  /** Whether the engine's files are stored for offline use (they are before create() resolves, where they can be). */
  kept = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly worker: Worker, readonly model: LoadedModel) {}

  /** Starts the worker and builds the engine there from the weights in memory (no second download); resolves
   * once the engine's files are stored for offline use too (offline.ts: a reload right after must find them). */
  static create(model: LoadedModel): Promise<CpuWorkerEngine> {
    const url = new URL(workerUrl, location.href);
    const worker = new Worker(url, { type: 'module', name: 'lego-cpu-engine' });
    const engine = new CpuWorkerEngine(worker, model);
    return new Promise((resolve, reject) => {
      worker.onerror = (e) =>
        reject(new Error(`the CPU engine's worker failed to start: ${e.message || 'script error'}`));
      worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        if (m.type === 'ready') {
          engine.allocatedBytes = m.allocatedBytes;
          engine.threads = m.threads;
          worker.onmessage = (ev: MessageEvent<FromWorker>) => engine.onMessage(ev.data);
          worker.onerror = (ev) =>
            engine.failAll(new Error(`the CPU engine's worker stopped: ${ev.message || 'unknown error'}`));
          void keepForOffline([url.href, ...m.files]).catch((err) => {
            console.warn(`the CPU engine is not kept for offline use: ${(err as Error).message}`);
            return false;
          }).then((kept) => {
            engine.kept = kept;
            resolve(engine);
          });
        } else if (m.type === 'init-error') {
          worker.terminate();
          reject(new Error(`the CPU engine could not start: ${m.error.message}`));
        }
      };
      engine.send({ type: 'init', meta: model.meta, tensors: model.tensors });
    });
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'ready' || m.type === 'init-error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'step') {
      p.onStep?.(m.info);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === 'done') p.resolve(m.result);
    else p.reject(toError(m.error));
  }

  brickCost(width: number, height: number): number[] {
    return brickCostShares(this.model.meta.architecture, width, height);
  }

  setBricks(bricks: BrickSetting[]): void {
    if (bricks.length !== this.model.meta.architecture.bricks.length) {
      throw new InvalidOptionsError(
        `expected ${this.model.meta.architecture.bricks.length} brick settings, got ${bricks.length}`);
    }
    if (!bricks.some((b) => b.enabled)) throw new InvalidOptionsError('at least one brick must be enabled');
    this.send({ type: 'bricks', bricks: bricks.map((b) => ({ enabled: b.enabled, skip: b.skip ?? null })) });
  }

  generate(o: GenerateOptions): Promise<GenerateResult> {
    const { signal, onStep, ...options } = o;
    if (signal?.aborted) return Promise.reject(new DOMException('generation cancelled', 'AbortError'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onStep });
      signal?.addEventListener('abort', () => this.send({ type: 'cancel', id }), { once: true });
      this.send({ type: 'generate', id, options });
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  destroy(): void {
    this.worker.terminate();
    this.failAll(new DOMException('the CPU engine was closed', 'AbortError'));
  }
}
