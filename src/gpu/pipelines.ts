// Per-device caches for shader modules, bind-group layouts and compute pipelines, keyed by readable
// variant keys (e.g. `linear_v3_gelu_vec4_f32`) that benchmarks and error messages print too.
// Every module starts with shaders/common.wgsl (the 1-D launch helpers and the WG override).
import common from '../../shaders/common.wgsl?raw';

/** Threads per 1-D workgroup: the `WG` override of shaders/common.wgsl, set on every pipeline. */
export const WORKGROUP_SIZE = 64;

interface DeviceCaches {
  modules: Map<string, GPUShaderModule>;
  layouts: Map<string, GPUBindGroupLayout>;
  pipelines: Map<string, GPUComputePipeline>;
}

const caches = new WeakMap<GPUDevice, DeviceCaches>();

function cachesFor(device: GPUDevice): DeviceCaches {
  let c = caches.get(device);
  if (!c) {
    c = { modules: new Map(), layouts: new Map(), pipelines: new Map() };
    caches.set(device, c);
  }
  return c;
}

export function getShaderModule(device: GPUDevice, name: string, code: string): GPUShaderModule {
  const c = cachesFor(device);
  let m = c.modules.get(name);
  if (!m) {
    m = device.createShaderModule({ label: `shader:${name}`, code: `${common}\n${code}` });
    c.modules.set(name, m);
  }
  return m;
}

export type BindingKind = 'uniform' | 'read' | 'rw';

/** A bind-group layout for compute made of bindings 0..n-1 of the given kinds (one per distinct list). */
export function getBindGroupLayout(device: GPUDevice, kinds: readonly BindingKind[]): GPUBindGroupLayout {
  const c = cachesFor(device);
  const name = kinds.join(',');
  let l = c.layouts.get(name);
  if (!l) {
    const type = { uniform: 'uniform', read: 'read-only-storage', rw: 'storage' } as const;
    l = device.createBindGroupLayout({
      label: `bgl:${name}`,
      entries: kinds.map((k, binding) => ({
        binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: type[k] },
      })),
    });
    c.layouts.set(name, l);
  }
  return l;
}

export interface PipelineSpec {
  /** Variant key; also the pipeline's label. */
  key: string;
  /** Shader family name (module cache key) and its WGSL source. */
  shader: string;
  code: string;
  entryPoint: string;
  layout: GPUBindGroupLayout;
  constants?: Record<string, number>;
}

export function getComputePipeline(device: GPUDevice, spec: PipelineSpec): GPUComputePipeline {
  const c = cachesFor(device);
  let p = c.pipelines.get(spec.key);
  if (!p) {
    p = device.createComputePipeline({
      label: spec.key,
      layout: device.createPipelineLayout({ label: `layout:${spec.key}`, bindGroupLayouts: [spec.layout] }),
      compute: {
        module: getShaderModule(device, spec.shader, spec.code),
        entryPoint: spec.entryPoint,
        constants: { WG: WORKGROUP_SIZE, ...spec.constants },
      },
    });
    c.pipelines.set(spec.key, p);
  }
  return p;
}
