import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelJson } from '../../src/model/load';
import { estimatedCost, paperSkip } from '../../src/ui/bricks';
import { completions } from '../../src/ui/completions';
import { webgpuHelp } from '../../src/ui/notices';
import { defaultSettings, fitToModel, fromQuery, sizePresets, toQuery, validSizes } from '../../src/ui/settings';

const meta = parseModelJson(readFileSync('test/fixtures/tiny/model.json', 'utf8'));

describe('settings in the URL', () => {
  it('round-trips every setting', () => {
    const s = fitToModel({
      ...defaultSettings('/models/tiny/'), width: 64, height: 16, steps: 7, sampler: 'euler', guidance: 3.5, seed: 4294967295,
      batch: 3, category: 'Food', style: 'twitter', prompt: 'red heart', shift: false, engine: 'cpu', strength: 35,
      bricks: [{ enabled: true, skip: null }, { enabled: false, skip: null }, { enabled: true, skip: [0.6, 1] }],
    }, meta);
    expect(fromQuery(toQuery(s))).toEqual(s);
  });

  it('snaps sizes to the largest region and drops labels the model lacks', () => {
    const s = fitToModel(fromQuery('w=37&h=9999&category=Nope&style=google&bricks=000'), meta);
    expect([s.width, s.height]).toEqual([32, 128]);
    expect(s.category).toBeNull();
    expect(s.style).toBe('google');
    expect(s.bricks.map((b) => b.enabled)).toEqual([false, false, true]); // never zero bricks
  });

  it('clamps nonsense', () => {
    const s = fromQuery('steps=999&batch=-3&guidance=abc&seed=-1&sampler=ddim&skip=0.8-0.2,x,0.5-1');
    expect([s.steps, s.batch, s.guidance, s.seed, s.sampler]).toEqual([64, 1, 2, 0, 'heun']);
    expect(fromQuery('engine=tpu').engine).toBe('auto');
    expect(s.bricks.map((b) => b.skip)).toEqual([null, null, [0.5, 1]]);
    expect(fromQuery('guidance=99').guidance).toBe(10); // the engine's LIMITS.guidance
    expect(fromQuery('guidance=0').guidance).toBe(0); // unconditional: allowed by the engine too
    expect([fromQuery('strength=150').strength, fromQuery('strength=-5').strength, fromQuery('strength=x').strength])
      .toEqual([100, 0, 50]); // the page says so (src/ui/start-image.ts strengthInLinkNotice)
  });

  it('offers multiples of the largest region and panoramas', () => {
    expect(validSizes(meta)).toEqual([16, 32, 48, 64, 80, 96, 112, 128]);
    expect(sizePresets(meta).map((p) => [p.width, p.height])).toContainEqual([64, 16]);
  });
});

describe('bricks panel arithmetic', () => {
  it('estimates the compute of a configuration', () => {
    const costs = [0.1, 0.3, 0.6];
    expect(estimatedCost([{ enabled: true }, { enabled: true }, { enabled: true }], costs)).toBeCloseTo(1);
    expect(estimatedCost([{ enabled: true }, { enabled: false }, { enabled: true, skip: [0.5, 1] }], costs)).toBeCloseTo(0.4);
  });

  it('applies the paper\'s rule: a PG stack drops its top brick late', () => {
    const b = paperSkip(meta.architecture.bricks, [{ enabled: true }, { enabled: false }, { enabled: true }]);
    expect(b).toEqual([{ enabled: true }, { enabled: true }, { enabled: true, skip: [0.6, 1] }]);
  });
});

describe('prompt autocomplete', () => {
  it('puts prefix matches first', () => {
    expect(completions('ca', ['scar', 'cat', 'camera', 'face'])).toEqual(['cat', 'camera', 'scar']);
    expect(completions('', ['cat'])).toEqual([]);
  });
});

describe('no-WebGPU help', () => {
  it('says what to do per browser', () => {
    expect(webgpuHelp('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', true).join(' ')).toMatch(/dom\.webgpu\.enabled/);
    expect(webgpuHelp('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', true).join(' ')).toMatch(/enable-unsafe-webgpu/);
    expect(webgpuHelp('Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15', true).join(' ')).toMatch(/Feature Flags/);
    expect(webgpuHelp('curl', false)[0]).toMatch(/https/);
  });
});
