// Linear / matmul: Y[N,M] = X[N,K]·W[M,K]ᵀ + b. Kernel: shaders/linear.wgsl. The CPU reference also
// applies the epilogues that the fused brick kernels (shaders/brick.wgsl) put after their linears.
import code from '../../shaders/linear.wgsl?raw';
import type { BufferArg } from '../gpu/buffers';
import { assertShape, ceilDiv, createOp, MAX_WORKGROUPS_PER_DIM, UniformWriter, type KernelOp } from './op';

export type LinearEpilogue = 'none' | 'gelu' | 'residual' | 'posadd' | 'add';

/** Kernel versions in shaders/linear.wgsl (see its header for what each measured). */
export type LinearVersion = 'v1_naive' | 'v2' | 'v3';
/** The version the engine uses: v3 (16×8 tile) where K % 4 == 0, else v2's scalar-load path … */
export const LINEAR_VERSION: LinearVersion = 'v3';
/** … and v2 below 16 rows: v3's tile computes 16 rows whatever N is (the adaLN linear, N = 2 network
 *  images: 22 against 44 CPU-ms on SwiftShader, 12672 outputs of K = 192). */
const FEW_ROWS = 16;

function defaultVersion(n: number | undefined): LinearVersion {
  return n !== undefined && n < FEW_ROWS ? 'v2' : LINEAR_VERSION;
}

interface Variant { entryPoint: string; tag: string; rows: number; cols: number; wgX: number; wgY: number }

function variant(version: LinearVersion, k: number): Variant {
  const vec4 = k % 4 === 0;
  if (version === 'v1_naive') {
    return { entryPoint: 'linear_v1_naive', tag: 'v1_naive', rows: 1, cols: 1, wgX: 64, wgY: 1 };
  }
  if (version === 'v3' && vec4) {
    return { entryPoint: 'linear_v3_vec4', tag: 'v3_16x8_vec4', rows: 16, cols: 8, wgX: 8, wgY: 8 };
  }
  return vec4
    ? { entryPoint: 'linear_v2_vec4', tag: 'v2_4x4_vec4', rows: 4, cols: 4, wgX: 16, wgY: 4 }
    : { entryPoint: 'linear_v2_scalar', tag: 'v2_4x4_scalar', rows: 4, cols: 4, wgX: 16, wgY: 4 };
}

export interface LinearParams {
  label: string;
  x: BufferArg; // [N, K]
  w: BufferArg; // [M, K]
  b: BufferArg; // [M]
  y: BufferArg; // [N, M] (must not alias x)
  n: number;
  k: number;
  m: number;
  version?: LinearVersion;
}

export function linearKey(p: Pick<LinearParams, 'k' | 'version'> & { n?: number }): string {
  const v = variant(p.version ?? defaultVersion(p.n), p.k);
  return `linear_${v.tag}_f32_wg${v.wgX}x${v.wgY}`;
}

export function prepareLinear(device: GPUDevice, p: LinearParams): KernelOp {
  assertShape(p.n > 0 && p.k > 0 && p.m > 0, p.label, `empty shape N=${p.n} K=${p.k} M=${p.m}`);
  const v = variant(p.version ?? defaultVersion(p.n), p.k);
  const workgroups: [number, number, number] =
    [ceilDiv(p.m, v.cols * v.wgX), ceilDiv(p.n, v.rows * v.wgY), 1];
  assertShape(workgroups[0] <= MAX_WORKGROUPS_PER_DIM && workgroups[1] <= MAX_WORKGROUPS_PER_DIM, p.label,
    `N=${p.n}, M=${p.m} need too many workgroups`);
  return createOp(device, {
    key: linearKey(p), label: p.label, shader: 'linear', code, entryPoint: v.entryPoint,
    constants: { WG_X: v.wgX, WG_Y: v.wgY }, storage: ['read', 'read', 'read', 'rw'], buffers: [p.x, p.w, p.b, p.y],
    uniforms: new UniformWriter(4).u32(0, p.n).u32(1, p.k).u32(2, p.m), workgroups, flops: 2 * p.n * p.k * p.m,
  });
}

export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** CPU reference (f64 accumulation). `y` is read for 'residual'/'add' and returned updated. */
export function linearRef(x: Float32Array, w: Float32Array, b: Float32Array, n: number, k: number, m: number,
  opts: { epilogue?: LinearEpilogue; y?: Float32Array; aux?: Float32Array; auxOffset?: number;
    auxStride?: number; rowsPerImage?: number; posRows?: number } = {}): Float32Array {
  const epi = opts.epilogue ?? 'none';
  const y = opts.y ? Float32Array.from(opts.y) : new Float32Array(n * m);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < m; c++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc += x[r * k + i] * w[c * k + i];
      let v = acc + b[c];
      const idx = r * m + c;
      if (epi === 'gelu') v = geluTanh(v);
      else if (epi === 'residual') {
        const img = Math.floor(r / opts.rowsPerImage!);
        v = y[idx] + opts.aux![(opts.auxOffset ?? 0) + img * (opts.auxStride ?? 0) + c] * v;
      } else if (epi === 'posadd') v += opts.aux![(r % opts.posRows!) * m + c];
      else if (epi === 'add') v += y[idx];
      y[idx] = v;
    }
  }
  return y;
}
