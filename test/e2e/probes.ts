// What a long browser session holds, measured from outside the app: GPU memory and devices (a ledger
// of the WebGPU calls the page makes), the page's JS heap after a forced collection, its event
// listeners and DOM nodes, its live workers (Chrome DevTools Protocol), and the CPU engine worker's
// heap.
import type { BrowserContext, CDPSession, Page } from 'playwright-core';

/** Page init script: counts the bytes of every GPU buffer and query set (8 bytes a query) the page
 * creates until it destroys them (a destroyed device takes its own with it), and the live devices. */
export function gpuLedger(): void {
  if (!('GPUDevice' in globalThis)) return;
  const live = new Map<GPUBuffer | GPUQuerySet, { device: GPUDevice; bytes: number }>();
  const devices = new Set<GPUDevice>();
  const track = <T extends GPUBuffer | GPUQuerySet>(o: T, device: GPUDevice, bytes: number): T => {
    live.set(o, { device, bytes });
    return o;
  };
  const { createBuffer, createQuerySet, destroy: destroyDevice } = GPUDevice.prototype;
  GPUDevice.prototype.createBuffer = function (d) { return track(createBuffer.call(this, d), this, d.size); };
  GPUDevice.prototype.createQuerySet = function (d) { return track(createQuerySet.call(this, d), this, 8 * d.count); };
  for (const proto of [GPUBuffer.prototype, GPUQuerySet.prototype]) {
    const destroy = proto.destroy;
    proto.destroy = function (this: GPUBuffer | GPUQuerySet) {
      live.delete(this);
      return destroy.call(this);
    };
  }
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (d) {
    const device = await requestDevice.call(this, d);
    devices.add(device);
    return device;
  };
  GPUDevice.prototype.destroy = function () {
    devices.delete(this);
    for (const [o, e] of live) if (e.device === this) live.delete(o);
    return destroyDevice.call(this);
  };
  (globalThis as { gpuLedger?: () => GpuLedger }).gpuLedger = () => {
    let bytes = 0;
    for (const e of live.values()) bytes += e.bytes;
    return { devices: devices.size, objects: live.size, bytes };
  };
}

/** Live GPU devices, and buffers and query sets neither destroyed nor on a destroyed device. */
export interface GpuLedger {
  devices: number;
  objects: number;
  bytes: number;
}

export interface PageMemory {
  heapBytes: number; // V8 heap in use after a full collection
  backingBytes: number; // ArrayBuffer backing stores (images, weights) outside the V8 heap
  listeners: number; // JS event listeners
  nodes: number; // DOM nodes
  workers: number; // live dedicated workers, nested ones (onnxruntime-web's threads) included
}

export interface WorkerMemory {
  heapBytes: number;
  backingBytes: number;
}

type HeapUsage = { usedSize: number; backingStorageSize?: number };
const WORKER_SETTLE_MS = 3000;

/** DevTools Protocol probes of one page and the CPU engine's worker (attached as it starts). */
export class Probes {
  private engineWorker?: string; // session id of the CPU engine's worker
  private nextId = 1;
  private readonly replies = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();

  private constructor(private readonly cdp: CDPSession, private readonly context: string) {}

  static async attach(page: Page, ctx: BrowserContext): Promise<Probes> {
    const cdp = await ctx.newCDPSession(page);
    const { targetInfo } = await cdp.send('Target.getTargetInfo');
    const probes = new Probes(cdp, targetInfo.browserContextId!);
    cdp.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type === 'worker' && e.targetInfo.title === 'lego-cpu-engine') probes.engineWorker = e.sessionId;
    });
    cdp.on('Target.detachedFromTarget', (e) => {
      if (e.sessionId === probes.engineWorker) probes.engineWorker = undefined;
    });
    cdp.on('Target.receivedMessageFromTarget', (e) => {
      const m = JSON.parse(e.message);
      probes.replies.get(m.id)?.(m);
      probes.replies.delete(m.id);
    });
    // Not flattened: this session talks to the workers through Target.sendMessageToTarget, beside
    // Playwright's own (flattened) session.
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    return probes;
  }

  private async workerCount(): Promise<number> {
    const { targetInfos } = await this.cdp.send('Target.getTargets');
    return targetInfos.filter((t) => t.type === 'worker' && t.browserContextId === this.context).length;
  }

  /** Live workers once the count holds still: a worker running onnxruntime-web's threads lingers for
   * up to ~2 s after terminate() (measured: 1.7–1.9 s; without threads it ends at once). */
  private async settledWorkers(): Promise<number> {
    const end = Date.now() + 15_000;
    let n = await this.workerCount(), since = Date.now();
    while (Date.now() - since < WORKER_SETTLE_MS && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      const m = await this.workerCount();
      if (m !== n) [n, since] = [m, Date.now()];
    }
    return n;
  }

  async page(): Promise<PageMemory> {
    const workers = await this.settledWorkers();
    await this.cdp.send('HeapProfiler.collectGarbage');
    const heap = (await this.cdp.send('Runtime.getHeapUsage')) as HeapUsage;
    const dom = await this.cdp.send('Memory.getDOMCounters');
    return {
      heapBytes: heap.usedSize, backingBytes: heap.backingStorageSize ?? 0,
      listeners: dom.jsEventListeners, nodes: dom.nodes, workers,
    };
  }

  private ask<T>(sessionId: string, method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    const reply = new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${method}: no answer from the worker in 30 s`)), 30_000);
      this.replies.set(id, (m) => {
        clearTimeout(timer);
        if (m.error) fail(new Error(`${method}: ${m.error.message}`));
        else ok(m.result as T);
      });
    });
    void this.cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    return reply;
  }

  /** The CPU engine worker's JS heap after a full collection; undefined when no CPU engine runs. (Its
   * wasm memory is out of reach: Runtime.queryObjects crashes the worker.) */
  async engineWorkerMemory(): Promise<WorkerMemory | undefined> {
    const s = this.engineWorker;
    if (!s) return undefined;
    await this.ask(s, 'HeapProfiler.collectGarbage');
    const heap = await this.ask<HeapUsage>(s, 'Runtime.getHeapUsage');
    return { heapBytes: heap.usedSize, backingBytes: heap.backingStorageSize ?? 0 };
  }

  async detach(): Promise<void> {
    await this.cdp.detach();
  }
}
