import { describe, expect, it } from 'vitest';
import { allClose, rng } from './util';

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
  it('seeded PRNG is deterministic', () => {
    const a = rng(7), b = rng(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});
