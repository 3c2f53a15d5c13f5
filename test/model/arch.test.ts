// Numbers derived from the architecture, against hand counts on the tiny model (d 32, heads 2,
// mlp 4; bricks r4/p2/N1, r8/p4/N1, r16/p2/N2).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brickCostShares, brickFlops, brickInputChannels, maxRegion, tokensPerRegion } from '../../src/model/arch';
import { parseModelJson } from '../../src/model/load';

const arch = parseModelJson(readFileSync('test/fixtures/tiny/model.json', 'utf8')).architecture;

describe('architecture numbers', () => {
  it('input channels, largest region, tokens per region', () => {
    expect([0, 1, 2].map(brickInputChannels)).toEqual([5, 8, 8]); // c_in·x + row, col; F_prev above the first
    expect(maxRegion(arch)).toBe(16);
    expect(arch.bricks.map(tokensPerRegion)).toEqual([4, 4, 64]);
  });

  it('FLOPs of brick 0 on 16×16: 64 tokens of a 2×2 patch', () => {
    const embed = 64 * (5 * 4 * 32 + 32 * 32); // Linear(Cin·p², d) + Linear(d, d)
    const block = 64 * (3 * 32 * 32 + 32 * 32 + 2 * 4 * 32 * 32) + 2 * 64 * 4 * 32; // qkv, proj, MLP; q·kᵀ and a·v over T = 4
    const final = 64 * 32 * 3 * 4; // Linear(d, 3p²)
    expect(brickFlops(arch, 0, 16, 16)).toBe(2 * (embed + block + final));
  });

  it('cost shares sum to 1 and grow with the costlier brick', () => {
    const s = brickCostShares(arch, 32, 16);
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(s[2]).toBeGreaterThan(s[0]);
  });
});
