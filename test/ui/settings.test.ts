import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelJson } from '../../src/model/load';
import { estimatedCost, paperSkip } from '../../src/ui/bricks';
import { completions } from '../../src/ui/completions';
import { urlNotice, webgpuHelp } from '../../src/ui/notices';
import {
  defaultSettings, fitToModel, fromQuery, readQuery, sizePresets, toQuery, validSizes, type Settings, type UrlProblem,
} from '../../src/ui/settings';

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

  it('reads a link without problems when every parameter is valid', () => {
    const { settings, problems } = readQuery('model=/models/tiny/&w=64&h=16&steps=7&sampler=euler&guidance=.5&seed=0' +
      '&batch=8&category=Food&style=twitter&prompt=red%20heart&bricks=101&skip=,,0.6-1&shift=0&engine=webgpu');
    expect(problems).toEqual([]);
    const fitted: UrlProblem[] = [];
    expect(fitToModel(settings, meta, fitted)).toEqual({
      ...defaultSettings('/models/tiny/'), width: 64, height: 16, steps: 7, sampler: 'euler', guidance: 0.5, seed: 0,
      batch: 8, category: 'Food', style: 'twitter', prompt: 'red heart', shift: false, engine: 'webgpu',
      bricks: [{ enabled: true, skip: null }, { enabled: false, skip: null }, { enabled: true, skip: [0.6, 1] }],
    });
    expect(fitted).toEqual([]);
  });

  // Each bad value: garbage, negative, huge, fractional where whole, empty. The default replaces it and
  // one problem names the parameter and the value as given.
  const defaults = defaultSettings();
  const cases: [query: string, field: keyof Settings, why: RegExp][] = [
    ['steps=abc', 'steps', /whole number from 1 to 64/],
    ['steps=999', 'steps', /whole number from 1 to 64/],
    ['steps=-3', 'steps', /whole number from 1 to 64/],
    ['steps=2.5', 'steps', /whole number from 1 to 64/],
    ['steps=', 'steps', /whole number from 1 to 64/],
    ['batch=0', 'batch', /whole number from 1 to 8/],
    ['batch=1e3', 'batch', /whole number from 1 to 8/],
    ['guidance=NaN', 'guidance', /number from 0 to 10/],
    ['guidance=-1', 'guidance', /number from 0 to 10/],
    ['guidance=Infinity', 'guidance', /number from 0 to 10/],
    ['guidance=10.5', 'guidance', /number from 0 to 10/],
    ['seed=-1', 'seed', /whole number from 0 to 4294967295/],
    ['seed=4294967296', 'seed', /whole number from 0 to 4294967295/],
    ['seed=99999999999999999999999', 'seed', /whole number from 0 to 4294967295/],
    ['w=-16', 'width', /whole number from 1 to 1024/],
    ['h=1e9', 'height', /whole number from 1 to 1024/],
    ['w=0', 'width', /whole number from 1 to 1024/],
    ['sampler=ddim', 'sampler', /not one of heun, euler/],
    ['engine=tpu', 'engine', /not one of auto, webgpu, cpu/],
    ['shift=maybe', 'shift', /not 0 or 1/],
    ['model=javascript:alert(1)', 'model', /not the address of a model folder/],
    ['model=', 'model', /not the address of a model folder/],
    [`prompt=${'cat '.repeat(30_000)}`, 'prompt', /120000 characters long, over 200/],
    ['bricks=000', 'bricks', /at least one 1/],
    ['bricks=1x1', 'bricks', /one 0 or 1 per brick/],
    ['skip=0.8-0.2,x,0.5-1', 'bricks', /"0\.8-0\.2", "x", not START-END/],
    ['strength=150', 'strength', /whole number from 0 to 100/],
    ['strength=-5', 'strength', /whole number from 0 to 100/],
  ];
  it.each(cases)('replaces %s by the default and says so', (query, field, why) => {
    const { settings, problems } = readQuery(query);
    expect(settings[field]).toEqual(defaults[field]);
    const key = query.slice(0, query.indexOf('='));
    expect(problems).toEqual([{ key, value: query.slice(key.length + 1), why: expect.stringMatching(why),
      action: expect.stringMatching(/^Using the default: .+\.$/) }]);
  });

  it('says which defaults it used in words', () => {
    const action = (q: string) => readQuery(q).problems[0].action;
    expect(action('steps=x')).toBe('Using the default: 18.');
    expect(action('w=x')).toBe('Using the default: the smallest size the model draws.');
    expect(action('shift=x')).toBe('Using the default: 1.');
    expect(action('skip=x')).toBe('Using the default: no skip windows.');
    expect(action('bricks=x')).toBe('Using the default: every brick on.');
  });

  it('ignores unknown keys and repeated ones after the first, and says so', () => {
    const { settings, problems } = readQuery('steps=5&foo=bar&Steps=9&steps=7&=x');
    expect(settings).toEqual({ ...defaults, steps: 5 });
    expect(problems).toEqual([
      { key: 'steps', value: '5 and 7', why: 'is given 2 times', action: 'Using the first: 5.' },
      { key: 'foo', value: 'bar', why: 'is not a setting of this page', action: 'Ignored.' },
      { key: 'Steps', value: '9', why: 'is not a setting of this page (did you mean steps?)', action: 'Ignored.' },
      { key: '', value: 'x', why: 'is not a setting of this page', action: 'Ignored.' },
    ]);
  });

  it('replaces what the model cannot use by the default and says so', () => {
    const problems: UrlProblem[] = [];
    const s = fitToModel(fromQuery('w=37&h=1024&category=Nope&style=google&bricks=11&skip=0-0.5,'), meta, problems);
    expect([s.width, s.height, s.category, s.style]).toEqual([16, 16, null, 'google']);
    expect(s.bricks).toEqual(Array(3).fill({ enabled: true, skip: null }));
    expect(problems.map((p) => `${p.key}=${p.value} ${p.why}. ${p.action}`)).toEqual([
      'bricks=11 is not one per brick of this model\'s 3. Using the default: every brick on.',
      'skip=0-0.5, is not one per brick of this model\'s 3. Using the default: no skip windows.',
      'w=37 is not a size this model draws (16, 32, 48, 64, 80, 96, 112, 128). Using the default: 16.',
      'h=1024 is not a size this model draws (16, 32, 48, 64, 80, 96, 112, 128). Using the default: 16.',
      'category=Nope is not a category of this model (Animals, Food, Flags). Using the default: any category.',
    ]);
  });

  it('keeps at least one brick on when the bricks panel turns the last one off', () => {
    const off = fitToModel({ ...defaults, bricks: Array(3).fill({ enabled: false, skip: null }) }, meta);
    expect(off.bricks.map((b) => b.enabled)).toEqual([false, false, true]);
  });

  it('cuts a long value short in the notice', () => {
    const n = urlNotice(readQuery(`prompt=${'a'.repeat(5000)}`).problems[0]);
    expect(n).toMatchObject({ id: 'url-prompt', level: 'warning', title: 'Link setting "prompt" not used' });
    expect(n.text).toBe(`prompt=${'a'.repeat(60)}… (5000 characters) is 5000 characters long, over 200. ` +
      'Using the default: no prompt.');
  });

  it('offers multiples of the largest region and panoramas', () => {
    expect(validSizes(meta)).toEqual([16, 32, 48, 64, 80, 96, 112, 128]);
    expect(sizePresets(meta).map((p) => [p.width, p.height])).toContainEqual([64, 16]);
  });

  it('with a brick larger than the canvas unit: multiples of the unit, opening on the largest region', () => {
    const cover = parseModelJson(readFileSync('test/fixtures/stacks/cover-16/model.json', 'utf8')); // regions 4, 8, 16
    expect(cover.architecture.canvas_unit).toBe(8);
    expect(validSizes(cover)).toEqual([8, 16, 24, 32, 40, 48, 56, 64]);
    const s = fitToModel(defaultSettings(), cover);
    expect([s.width, s.height]).toEqual([16, 16]);
    const t = fitToModel(fromQuery('w=24&h=8'), cover); // a canvas the 16×16 brick does not fit is still valid
    expect([t.width, t.height]).toEqual([24, 8]);
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
