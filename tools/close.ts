// Comparing arrays, for tests and the bench alike: the largest difference and where it is, and
// allClose with a tolerance report that names the worst element.

export interface DiffStats {
  maxAbs: number; // largest |a − b|; Infinity if either side has a NaN
  at: number; // index of that element (-1 for empty arrays)
  rms: number; // RMS of b, the reference's scale
  n: number;
}

export function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): DiffStats {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let maxAbs = 0, at = a.length ? 0 : -1, ss = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (maxAbs !== Infinity && !(d <= maxAbs)) [maxAbs, at] = [Number.isNaN(d) ? Infinity : d, i];
    ss += b[i] * b[i];
  }
  return { maxAbs, at, rms: Math.sqrt(ss / Math.max(a.length, 1)), n: a.length };
}

/** max |a − b| (Infinity on a NaN). */
export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => diffStats(a, b).maxAbs;

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
export function expectClose(out: ArrayLike<number>, ref: ArrayLike<number>, tol: { atol?: number; rtol?: number },
  what = ''): void {
  const r = allClose(out, ref, tol);
  if (!r.ok) throw new Error(`${what ? `${what}: ` : ''}${r.message}`);
}
