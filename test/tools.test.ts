import { describe, expect, it } from 'vitest';
import { allClose, diffStats } from '../tools/close';
import { rng } from '../tools/random';

describe('allClose', () => {
  it('reports the worst element and its index', () => {
    const r = allClose([1, 2, 3.5, 4], [1, 2, 3, 4.0001], { atol: 1e-3 });
    expect(r.ok).toBe(false);
    expect(r.worst).toBe(2);
    expect(r.message).toContain('[2]');
  });
  it('fails on NaN and on length mismatch, passes within tolerance', () => {
    expect(allClose([NaN], [0], { atol: 1 }).ok).toBe(false);
    expect(allClose([1, 2], [1], { atol: 1 }).ok).toBe(false);
    expect(allClose([100.005], [100], { rtol: 1e-4 }).ok).toBe(true);
  });
});

describe('diffStats', () => {
  it('gives the largest difference, where it is, and the reference RMS', () => {
    expect(diffStats([1, 2, 3], [1, 2.5, 3])).toEqual({ maxAbs: 0.5, at: 1, rms: Math.sqrt((1 + 6.25 + 9) / 3), n: 3 });
    expect(diffStats([0, NaN], [0, 0])).toMatchObject({ maxAbs: Infinity, at: 1 });
    expect(() => diffStats([1], [1, 2])).toThrow(/length/);
  });
});

describe('rng', () => {
  it('is deterministic for a seed', () => {
    const a = rng(7), b = rng(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});
