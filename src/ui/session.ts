// The page's one piece of state that is not a setting: GPU device, model, engine (WebGPU, or the
// CPU engine in a worker), the running generation, notices. A Lit reactive controller: every change
// re-renders the host.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { acquireDevice, type DeviceLostError, NoAdapterError, NoWebGPUError, type GpuContext } from '../gpu/device.ts';
import { loadModel, type LoadedModel } from '../model/load.ts';
import { labelVector } from '../model/labels.ts';
import type { BrickSetting, Engine, GenerateResult, ImageBatch, StartImage, StepInfo } from '../engine/types.ts';
import { editSteps } from '../engine/start.ts';
import { loadModelFiles, removeCachedModel, storageInfo, type StorageInfo } from '../store/weights-cache.ts';
import { LegoEngine } from '../engine/engine.ts';
import { median } from './format.ts';
import { describeError, fallbackAdapterNotice, noWebgpuNotice, type Notice } from './notices.ts';
import type { EngineChoice, Settings } from './settings.ts';

export type Phase = 'starting' | 'downloading' | 'ready' | 'running' | 'recovering' | 'failed';

export interface RunState {
  step: number;
  steps: number;
  stepMs: number[]; // wall time of each step done
  active: number[]; // bricks that ran in the last step
  everyBrick: boolean; // every brick ran at every step so far
  startedAt: number;
  endedAt?: number;
}

const isAbort = (e: unknown) => (e as { name?: string })?.name === 'AbortError';

/** The engine that runs and why (shown on the page). */
export interface EngineInfo {
  kind: 'webgpu' | 'cpu';
  reason: string;
  threads?: number; // CPU engine: wasm threads
  offline?: 'kept' | 'not kept'; // CPU engine: its runtime's files in the offline cache
}

export class Session implements ReactiveController {
  phase: Phase = 'starting';
  notices: Notice[] = [];
  gpu?: GpuContext;
  model?: LoadedModel;
  engine?: Engine;
  engineInfo?: EngineInfo;
  download = { loaded: 0, total: 0, from: undefined as 'cache' | 'network' | undefined };
  storage?: StorageInfo;
  run?: RunState;
  preview?: ImageBatch;
  result?: GenerateResult & { settings: Settings; start?: StartImage };
  /** Median ms per step with every brick on, per canvas/batch/guidance (to show what skipping saves). */
  readonly fullMs = new Map<string, number>();
  private abort?: AbortController;
  private started = false;
  private losses: number[] = [];
  private engineFor?: GpuContext | 'cpu';
  /** Counts engine switches: work begun before the latest one drops what it made (a device, a worker). */
  private epoch = 0;

  constructor(private readonly host: ReactiveControllerHost & HTMLElement, readonly modelUrl: string,
    private choice: EngineChoice = 'auto') {
    host.addController(this);
  }

  hostConnected(): void {
    if (this.started) return;
    this.started = true;
    void this.start();
  }

  private update(): void {
    this.host.requestUpdate();
  }

  notify(n: Notice): void {
    this.notices = [...this.notices.filter((m) => m.id !== n.id), n];
    this.update();
  }

  dismiss(id: string): void {
    this.notices = this.notices.filter((m) => m.id !== id);
    this.update();
  }

  private fail(e: unknown): void {
    this.phase = 'failed';
    this.notify(describeError(e));
  }

  /** Opens a device unless the engine was switched meanwhile (then it returns false). */
  private async openDevice(epoch = this.epoch): Promise<boolean> {
    const ctx = await acquireDevice({ label: 'lego-device' });
    if (epoch !== this.epoch) {
      ctx.device.destroy();
      return false;
    }
    this.gpu = ctx;
    if (ctx.isFallback && this.choice === 'webgpu') this.notify(fallbackAdapterNotice(ctx.adapterName, false));
    void ctx.lost.then((err) => {
      if (this.gpu === ctx) void this.recover(err); // a device we replaced or disposed is no loss
    });
    return true;
  }

  /**
   * Picks the engine: WebGPU on a hardware adapter; the CPU engine when WebGPU is missing, has no
   * adapter or only a software one (unless WebGPU was asked for), or when the CPU engine was asked for.
   */
  private async chooseEngine(epoch = this.epoch): Promise<void> {
    if (this.choice === 'cpu') {
      this.engineInfo = { kind: 'cpu', reason: 'chosen on this page' };
      return;
    }
    try {
      if (!(await this.openDevice(epoch))) return;
    } catch (e) {
      if (epoch !== this.epoch) return;
      if (this.choice !== 'auto' || !(e instanceof NoWebGPUError || e instanceof NoAdapterError)) throw e;
      const why = e instanceof NoWebGPUError ? 'This browser has no WebGPU' : 'WebGPU has no GPU adapter here';
      this.engineInfo = { kind: 'cpu', reason: why };
      this.notify(noWebgpuNotice(why));
      return;
    }
    const gpu = this.gpu!;
    if (gpu.isFallback && this.choice === 'auto') {
      this.gpu = undefined; // before destroy(): not a loss to recover from
      gpu.device.destroy();
      this.engineInfo = {
        kind: 'cpu', reason: `WebGPU only offers a software adapter (${gpu.adapterName}), slower than the CPU engine`,
      };
      this.notify(fallbackAdapterNotice(gpu.adapterName, true));
      return;
    }
    this.engineInfo = {
      kind: 'webgpu', reason: this.choice === 'webgpu' ? 'chosen on this page' : 'hardware GPU adapter',
    };
  }

  private async start(): Promise<void> {
    try {
      await this.chooseEngine();
      this.phase = 'downloading';
      this.update();
      const files = await loadModelFiles(this.modelUrl, {
        onProgress: (loaded, total) => {
          this.download = { ...this.download, loaded, total };
          this.update();
        },
      });
      this.download = { ...this.download, from: files.from };
      files.notes.forEach((text, i) => this.notify({ id: `store${i}`, level: 'warning', title: 'Offline copy', text }));
      this.model = await loadModel(files.meta, files.weights);
      void this.refreshStorage();
      await this.ensureEngine(); // unless a device loss is being recovered: recover() builds it then
    } catch (e) {
      this.fail(e);
    }
    this.update();
  }

  /** Builds the engine once the model is there: on the device (once per device), or the CPU engine. */
  private async ensureEngine(epoch = this.epoch): Promise<void> {
    const model = this.model;
    if (!model) return;
    if (this.engineInfo?.kind === 'cpu') {
      if (this.engineFor === 'cpu') return;
      this.engineFor = 'cpu';
      const { CpuWorkerEngine } = await import('../engine-cpu/client.ts'); // onnxruntime-web loads only in its worker
      const engine = await CpuWorkerEngine.create(model);
      if (epoch !== this.epoch) return engine.destroy(); // switched meanwhile
      this.engineInfo = { ...this.engineInfo, threads: engine.threads, offline: engine.kept ? 'kept' : 'not kept' };
      return this.ready(engine);
    }
    const gpu = this.gpu;
    if (!gpu || this.engineFor === gpu) return;
    this.engineFor = gpu;
    const engine = await LegoEngine.create(gpu, model);
    if (this.gpu !== gpu) return engine.destroy(); // lost while building: recover() makes another
    this.ready(engine);
  }

  private ready(engine: Engine): void {
    this.engine = engine;
    this.phase = 'ready';
    this.update();
  }

  /** Switches engine (the page's Engine choice): stops a run, drops the engine and device, starts the chosen one. */
  async setEngineChoice(choice: EngineChoice): Promise<void> {
    if (choice === this.choice) return;
    this.choice = choice;
    const epoch = ++this.epoch;
    this.abort?.abort();
    const engine = this.engine, gpu = this.gpu;
    this.engine = undefined;
    this.gpu = undefined;
    this.engineFor = undefined;
    this.engineInfo = undefined; // until chosen: an engine built meanwhile (start()) waits for it
    engine?.destroy();
    gpu?.device.destroy();
    ['slow', 'engine', 'gpu', 'error'].forEach((id) => this.dismiss(id));
    if (this.phase !== 'downloading') this.phase = 'starting';
    this.update();
    try {
      await this.chooseEngine(epoch);
      await this.ensureEngine(epoch);
    } catch (e) {
      if (epoch === this.epoch) this.fail(e);
    }
  }

  /** The device was lost: drop it and the engine, make new ones from the weights in memory. */
  private async recover(err: DeviceLostError): Promise<void> {
    const now = performance.now();
    this.losses = [...this.losses.filter((t) => now - t < 60_000), now];
    this.abort?.abort();
    this.notify(describeError(err));
    const engine = this.engine;
    this.engine = undefined;
    this.gpu = undefined;
    this.phase = 'recovering';
    this.update();
    try {
      engine?.destroy();
    } catch { /* the device is gone already */ }
    if (this.losses.length > 3) {
      this.fail(new Error(`the GPU device was lost ${this.losses.length} times in a minute (${err.message}). ` +
        'Reload the page; try a smaller canvas or batch.'));
      return;
    }
    try {
      await this.openDevice();
      await this.ensureEngine(); // without a model yet, start() builds it when the model is in
      if (this.engine) {
        this.notify({
          id: 'lost', level: 'info', title: 'Recovered from a GPU reset',
          text: 'A new GPU device is running from the weights already in memory. Press Generate to run again.',
        });
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Starts a generation (from a start image, if given); resolves when it ends (done, cancelled or failed). */
  async generate(s: Settings, start?: StartImage): Promise<void> {
    const engine = this.engine;
    if (!engine || !this.model || this.phase !== 'ready') return;
    const labels = { category: s.category, style: s.style, prompt: s.prompt };
    try {
      labelVector(this.model.meta.labels, labels, this.model.meta.architecture.label_dim);
    } catch (e) {
      return this.notify(describeError(e));
    }
    ['prompt', 'run', 'lost'].forEach((id) => this.dismiss(id));
    const abort = (this.abort = new AbortController());
    this.phase = 'running';
    this.preview = undefined;
    const run: RunState = (this.run = {
      step: 0, steps: start ? editSteps(s.steps, start.strength) : s.steps, stepMs: [], active: [], everyBrick: true,
      startedAt: performance.now(),
    });
    this.update();
    try {
      const res = await engine.generate({
        width: s.width, height: s.height, steps: s.steps, sampler: s.sampler, guidance: s.guidance, seed: s.seed,
        batch: s.batch, labels, bricks: s.bricks, shiftTiling: s.shift, preview: true, signal: abort.signal, start,
        onStep: (info) => this.onStep(run, info),
      });
      run.endedAt = performance.now();
      this.result = { ...res, settings: s, start };
      if (run.everyBrick) this.fullMs.set(costKey(s), median(res.stepMs));
    } catch (e) {
      run.endedAt = performance.now();
      if (this.engine !== engine) return; // the device was lost; recover() reports it
      if (isAbort(e)) {
        this.notify({
          id: 'run', level: 'info', title: 'Cancelled', text: `Stopped after step ${run.step} of ${run.steps}.`,
        });
      }
      else this.notify(describeError(e));
    } finally {
      if (this.abort === abort) this.abort = undefined;
      if (this.engine === engine && this.phase === 'running') this.phase = 'ready';
      this.update();
    }
  }

  private onStep(run: RunState, info: StepInfo): void {
    run.step = info.step;
    run.stepMs.push(info.ms);
    run.active = info.active;
    run.everyBrick &&= info.active.length === this.model?.meta.architecture.bricks.length;
    if (info.preview) this.preview = info.preview;
    this.update();
    const { preview: _, ...detail } = info;
    this.host.dispatchEvent(new CustomEvent('lego-step', { detail, bubbles: true, composed: true }));
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** Live: a running generation uses these from its next network evaluation. */
  setBricks(bricks: BrickSetting[]): void {
    if (this.phase === 'running') this.engine?.setBricks(bricks);
  }

  async refreshStorage(): Promise<void> {
    this.storage = await storageInfo();
    this.update();
  }

  async removeCache(): Promise<void> {
    if (!this.model) return;
    let notice: Notice;
    try {
      const n = await removeCachedModel(this.model.meta.name);
      notice = {
        id: 'store', level: 'info', title: 'Cached model removed',
        text: n
          ? 'The model stays in memory for this visit and will be downloaded again next time.'
          : 'There was no saved copy.',
      };
    } catch (e) {
      notice = describeError(e);
    }
    await this.refreshStorage(); // the storage line shows the removal by the time the notice says it
    this.notify(notice);
  }
}

export const costKey = (s: Settings) =>
  `${s.width}x${s.height}x${s.batch}x${s.guidance !== 1 ? 'guided' : 'unguided'}x${s.sampler}x${s.steps}`;
