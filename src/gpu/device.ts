// Device acquisition for the browser and Node, with every failure turned into a typed error whose
// message a person understands.

export class NoWebGPUError extends Error {
  override name = 'NoWebGPUError';
  constructor(message = 'This browser has no WebGPU (navigator.gpu is missing). Use a recent ' +
    'Chrome, Edge or Safari, or Firefox with WebGPU enabled; pages must be served over https or ' +
    'from localhost.') {
    super(message);
  }
}

export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
  constructor(message = 'WebGPU is present but no GPU adapter is available (the GPU may be ' +
    'blocklisted or disabled; check chrome://gpu).') {
    super(message);
  }
}

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(readonly reason: GPUDeviceLostReason | 'unknown', detail: string) {
    super(`The GPU device was lost (${reason}): ${detail || 'no detail'}`);
  }
}

export interface GpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** A software/CPU adapter (SwiftShader, WARP, lavapipe): works, but slowly. */
  readonly isFallback: boolean;
  /** One line naming the adapter, e.g. "google swiftshader (vulkan)". */
  readonly adapterName: string;
  /** Resolves when the device is lost (never rejects). */
  readonly lost: Promise<DeviceLostError>;
}

export interface AcquireOptions {
  /** The GPU object; defaults to navigator.gpu (pass createNodeGpu()'s result in Node). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  label?: string;
  /** Called for every error nobody captured with an error scope. Default: console.error. */
  onUncapturedError?: (error: GPUError) => void;
  /** Called once when the device is lost (not for an explicit destroy()). */
  onLost?: (error: DeviceLostError) => void;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|microsoft basic render|warp/i;

export function describeAdapter(adapter: GPUAdapter): { name: string; isFallback: boolean } {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean);
  const name = parts.join(' ') || 'unknown adapter';
  const legacyFlag = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const isFallback = Boolean(info?.isFallbackAdapter || legacyFlag || SOFTWARE_ADAPTER.test(name));
  return { name, isFallback };
}

export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new NoWebGPUError();
  const adapter = await gpu.requestAdapter(
    opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  if (!adapter) throw new NoAdapterError();
  const { name, isFallback } = describeAdapter(adapter);
  let device: GPUDevice;
  try {
    // Per-brick GPU timing where the adapter can; every kernel runs without any optional feature.
    const requiredFeatures = (['timestamp-query'] as const).filter((f) => adapter.features.has(f));
    device = await adapter.requestDevice({ label: opts.label ?? 'lego-device', requiredFeatures });
  } catch (e) {
    throw new NoAdapterError(`The GPU adapter (${name}) refused to create a device: ${String(e)}`);
  }
  const onError = opts.onUncapturedError ?? ((err: GPUError) => console.error(`WebGPU error: ${err.message}`));
  device.addEventListener('uncapturederror', (ev) => onError((ev as GPUUncapturedErrorEvent).error));
  const lost = device.lost.then((info) => {
    const err = new DeviceLostError(info.reason ?? 'unknown', info.message);
    if (info.reason !== 'destroyed') opts.onLost?.(err);
    return err;
  });
  return { adapter, device, isFallback, adapterName: name, lost };
}

/** Runs fn inside validation + out-of-memory error scopes and throws the first error raised. */
export async function withErrorScopes<T>(device: GPUDevice, what: string, fn: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  // A GPU error explains a failure of fn better than fn's own error: it wins.
  let settled: { value: T } | { error: unknown };
  try {
    settled = { value: await fn() };
  } catch (error) {
    settled = { error };
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  const err = validation ?? oom;
  if (err) throw new Error(`${what}: ${err.constructor.name}: ${err.message}`);
  if ('error' in settled) throw settled.error;
  return settled.value;
}
