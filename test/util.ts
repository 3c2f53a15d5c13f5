// Shared test helpers: seeded PRNG, allClose with a worst-element report, GPU round trips.
import { createStorageBuffer, readFloat32 } from '../src/gpu/buffers';
import { withErrorScopes } from '../src/gpu/device';
import { runOps, type KernelOp } from '../src/kernels/op';
import { takeUncapturedErrors } from './gpu';

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform floats in [lo, hi). */
export function randArray(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

export interface CloseReport {
  ok: boolean;
  worst: number; // index of the element with the largest |out − ref| / (atol + rtol·|ref|)
  out: number;
  ref: number;
  absErr: number;
  message: string;
}

/** |out − ref| ≤ atol + rtol·|ref| for every element; NaN anywhere fails. */
export function allClose(out: ArrayLike<number>, ref: ArrayLike<number>,
  { atol = 0, rtol = 0 }: { atol?: number; rtol?: number }): CloseReport {
  if (out.length !== ref.length) {
    return { ok: false, worst: -1, out: NaN, ref: NaN, absErr: NaN, message: `length ${out.length} ≠ ${ref.length}` };
  }
  let worst = -1, worstRatio = -1, bad = 0;
  for (let i = 0; i < out.length; i++) {
    const err = Math.abs(out[i] - ref[i]);
    const ratio = err / (atol + rtol * Math.abs(ref[i]) || Number.MIN_VALUE);
    const nan = Number.isNaN(out[i]) || Number.isNaN(ref[i]);
    if (nan || ratio > 1) bad++;
    if (nan ? worstRatio !== Infinity : ratio > worstRatio) { worstRatio = nan ? Infinity : ratio; worst = i; }
  }
  const o = worst >= 0 ? out[worst] : NaN, r = worst >= 0 ? ref[worst] : NaN;
  const absErr = Math.abs(o - r);
  const message = `${bad}/${out.length} elements off; worst [${worst}]: got ${o}, want ${r} ` +
    `(|err| ${absErr.toExponential(2)}, ${worstRatio.toFixed(2)}× the tolerance atol ${atol} rtol ${rtol})`;
  return { ok: bad === 0, worst, out: o, ref: r, absErr, message };
}

/** Throws with allClose's report unless close. */
export function expectClose(out: ArrayLike<number>, ref: ArrayLike<number>, tol: { atol?: number; rtol?: number }, what = ''): void {
  const r = allClose(out, ref, tol);
  if (!r.ok) throw new Error(`${what ? `${what}: ` : ''}${r.message}`);
}

/** Prepares and runs ops inside error scopes; fails on any validation error. */
export async function runChecked(device: GPUDevice, what: string, prepare: () => KernelOp[]): Promise<void> {
  const ops = await withErrorScopes(device, `${what} (prepare)`, prepare);
  await withErrorScopes(device, `${what} (run)`, () => runOps(device, ops, what));
  const stray = takeUncapturedErrors();
  if (stray.length) throw new Error(`${what}: uncaptured GPU errors: ${stray.join('; ')}`);
}

export function upload(device: GPUDevice, label: string, data: Float32Array | number): GPUBuffer {
  return createStorageBuffer(device, label, data);
}

export function download(device: GPUDevice, buf: GPUBuffer, count: number): Promise<Float32Array> {
  return readFloat32(device, buf, count);
}
