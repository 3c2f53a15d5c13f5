// What every kernel module's prepare…() returns, the one way to make it, and the one way to record it.
import { asBinding, createUniformBuffer, type BufferArg } from '../gpu/buffers';
import { getBindGroupLayout, getComputePipeline } from '../gpu/pipelines';

/** A dispatch ready to be recorded: pipeline, bind group and uniforms created once, reused every step. */
export interface KernelOp {
  /** Variant key of the pipeline (e.g. `linear_v3_gelu_vec4_f32`). */
  readonly key: string;
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  /** This op's own uniform buffer (shapes, offsets, scalars). */
  readonly uniform: GPUBuffer;
  readonly workgroups: readonly [number, number, number];
  /** Floating-point operations of one dispatch (for benchmarks; 0 where meaningless). */
  readonly flops: number;
}

/** Records `op` into a compute pass the caller owns. */
export function encodeOp(pass: GPUComputePassEncoder, op: KernelOp): void {
  pass.setPipeline(op.pipeline);
  pass.setBindGroup(0, op.bindGroup);
  pass.dispatchWorkgroups(op.workgroups[0], op.workgroups[1], op.workgroups[2]);
}

/** Records ops into one pass, submits, and returns when the GPU is done (tests, benchmarks). */
export async function runOps(device: GPUDevice, ops: readonly KernelOp[], label = 'ops'): Promise<void> {
  const enc = device.createCommandEncoder({ label });
  const pass = enc.beginComputePass({ label });
  for (const op of ops) encodeOp(pass, op);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}

export const MAX_WORKGROUPS_PER_DIM = 65535;

/** Spreads `count` workgroups over x and y (each ≤ 65535); shaders rebuild the linear index as
 *  wid.y·gridX + wid.x, where gridX is the returned x (pass it in the uniforms). */
export function grid2d(count: number): [number, number, number] {
  if (count <= MAX_WORKGROUPS_PER_DIM) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / MAX_WORKGROUPS_PER_DIM);
  const x = Math.ceil(count / y);
  return [x, y, 1];
}

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** Uniform block builder: 32-bit slots, each an u32 or an f32, padded to 16 bytes. */
export class UniformWriter {
  readonly data: ArrayBuffer;
  private readonly u: Uint32Array;
  private readonly f: Float32Array;
  constructor(slots: number) {
    this.data = new ArrayBuffer(Math.ceil(slots / 4) * 16);
    this.u = new Uint32Array(this.data);
    this.f = new Float32Array(this.data);
  }
  u32(slot: number, v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`uniform slot ${slot}: ${v} is not a u32`);
    }
    this.u[slot] = v;
    return this;
  }
  f32(slot: number, v: number): this {
    this.f[slot] = v;
    return this;
  }
}

/** Rewrites slots [first, first + count) of an op's uniform buffer from `u` (e.g. between steps). */
export function updateUniforms(queue: GPUQueue, op: KernelOp, u: UniformWriter, first: number, count = 1): void {
  queue.writeBuffer(op.uniform, first * 4, u.data, first * 4, count * 4);
}

/** Everything one dispatch needs; binding 0 is always the op's own uniform buffer. */
export interface OpSpec {
  key: string; // variant key: the pipeline's cache key and label
  label: string; // this op's name in errors ('bricks.0.blocks.1.attn.qkv')
  shader: string; // kernel family (shader module cache key) …
  code: string; // … and its WGSL
  entryPoint: string;
  constants?: Record<string, number>; // override constants besides WG
  storage: readonly ('read' | 'rw')[]; // kinds of bindings 1, 2, …
  buffers: readonly BufferArg[]; // bound at 1, 2, … in order
  uniforms: UniformWriter;
  workgroups: readonly [number, number, number];
  flops?: number;
}

/** Pipeline (cached by key), uniform buffer and bind group of one dispatch. */
export function createOp(device: GPUDevice, s: OpSpec): KernelOp {
  const layout = getBindGroupLayout(device, ['uniform', ...s.storage]);
  const pipeline = getComputePipeline(device,
    { key: s.key, shader: s.shader, code: s.code, entryPoint: s.entryPoint, layout, constants: s.constants });
  const uniform = createUniformBuffer(device, `${s.label}.uniforms`, s.uniforms.data.byteLength);
  device.queue.writeBuffer(uniform, 0, s.uniforms.data);
  const bindGroup = device.createBindGroup({
    label: s.label, layout,
    entries: [{ binding: 0, resource: { buffer: uniform } },
      ...s.buffers.map((b, i) => ({ binding: i + 1, resource: asBinding(b) }))],
  });
  return { key: s.key, label: s.label, pipeline, bindGroup, uniform, workgroups: s.workgroups, flops: s.flops ?? 0 };
}

export function assertShape(cond: boolean, label: string, msg: string): asserts cond {
  if (!cond) throw new RangeError(`${label}: ${msg}`);
}
