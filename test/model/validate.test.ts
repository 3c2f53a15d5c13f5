// model.json validation: each broken field is rejected with a message naming that field and its
// value, before any weights are read; device limits are checked before anything is allocated.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkWeightsFit } from '../../src/engine/weights';
import { ModelLoadError } from '../../src/model/errors';
import { parseModelJson } from '../../src/model/load';
import { loadTinyModel } from '../engine/fixture';

const TINY = readFileSync('test/fixtures/tiny/model.json', 'utf8');
const SHIPPED = readFileSync('public/models/lego-emoji-32/model.json', 'utf8');

/** The tiny model.json with one edit applied. */
function broken(edit: (m: any) => void): string {
  const m = JSON.parse(TINY);
  edit(m);
  return JSON.stringify(m);
}

function rejects(text: string, message: string) {
  expect(() => parseModelJson(text, 'm.json')).toThrow(ModelLoadError);
  expect(() => parseModelJson(text, 'm.json')).toThrow(`m.json: ${message}`);
}

describe('model.json validation', () => {
  it('accepts the tiny and the shipped model, and a canvas unit below the largest region', () => {
    expect(parseModelJson(TINY).architecture.bricks).toHaveLength(3);
    expect(parseModelJson(SHIPPED).architecture.d).toBe(192);
    expect(parseModelJson(broken((m) => (m.architecture.canvas_unit = 8))).architecture.canvas_unit).toBe(8);
  });

  const cases: [string, (m: any) => void, string][] = [
    ['a negative depth', (m) => (m.architecture.bricks[2].depth = -3),
      'architecture.bricks[2].depth must be an integer ≥ 0, got -3'],
    ['a fractional patch', (m) => (m.architecture.bricks[0].patch = 1.5),
      'architecture.bricks[0].patch must be a positive integer, got 1.5'],
    ['a region not a multiple of its patch', (m) => (m.architecture.bricks[1].patch = 3),
      'architecture.bricks[1].region must be a multiple of architecture.bricks[1].patch = 3, got 8'],
    ['a region that does not divide the largest', (m) => (m.architecture.bricks[1].region = 12),
      'architecture.bricks[1].region must be a divisor of the canvas unit 16 (canvases are multiples of it) or ' +
      'larger than it, got 12'],
    ['a canvas unit that a patch does not divide', (m) => (m.architecture.canvas_unit = 2),
      'architecture.canvas_unit must be a multiple of every patch (bricks[1].patch = 4), so patches tile canvases, ' +
      'got 2'],
    ['a canvas unit that is no brick\'s region', (m) => (m.architecture.canvas_unit = 32),
      'architecture.canvas_unit must be the region of one brick (4, 8, 16), got 32'],
    ['a canvas unit that is not a number', (m) => (m.architecture.canvas_unit = 'x'),
      'architecture.canvas_unit must be a positive integer, got "x"'],
    ['no bricks', (m) => (m.architecture.bricks = []), 'architecture.bricks must be a non-empty array, got []'],
    ['a missing brick field', (m) => delete m.architecture.bricks[0].region,
      'architecture.bricks[0].region must be a positive integer, got nothing (missing)'],
    ['d as a string', (m) => (m.architecture.d = '32'), 'architecture.d must be an integer ≥ 4, got "32"'],
    ['d not a multiple of 4', (m) => (m.architecture.d = 30), 'architecture.d must be a multiple of 4'],
    ['heads leaving an odd head size', (m) => (m.architecture.heads = 3),
      'architecture.heads must be a divisor of d = 32'],
    ['a head size over 64', (m) => { m.architecture.d = 256; m.architecture.heads = 2; },
      'architecture.heads must be a divisor of d = 256'],
    ['a huge d that passes divisibility', (m) => { m.architecture.d = 4096; m.architecture.heads = 64; },
      'param_count must be 1378160712, the count this architecture has (is a field of architecture wrong?), ' +
      'got 103016'],
    ['fourier_dim over the kernel\'s table', (m) => (m.architecture.fourier_dim = 512),
      'architecture.fourier_dim must be a multiple of 8 up to 256, got 512'],
    ['four channels', (m) => (m.architecture.channels = 4), 'architecture.channels must be 3, got 4'],
    ['an unsupported GELU', (m) => (m.architecture.gelu = 'erf'), 'architecture.gelu must be "tanh", got "erf"'],
    ['a negative LayerNorm eps', (m) => (m.architecture.layernorm_eps = -1),
      'architecture.layernorm_eps must be a positive number, got -1'],
    ['label groups that miss a style', (m) => (m.labels.groups.style = [3, 4]),
      'labels.groups.style must be [start, start + 2)'],
    ['label groups past label_dim', (m) => (m.architecture.label_dim = 8), 'labels.groups.words must be'],
    ['word categories for fewer words than the vocabulary', (m) => (m.labels.word_categories = [[1, 0, 0]]),
      'labels.word_categories must be 5 rows (one per labels.vocab word) of 3 counts (one per category), got "1 rows"'],
    ['a negative word count', (m) => (m.labels.word_categories = Array(5).fill([1, -1, 0])),
      'labels.word_categories must be 5 rows'],
    ['σ_min above σ_max', (m) => (m.edm.sigma_min = 100), 'edm.sigma_min must be below edm.sigma_max = 80, got 100'],
    ['a zero ρ', (m) => (m.edm.rho = 0), 'edm.rho must be a positive number, got 0'],
    ['an unknown dtype', (m) => (m.dtype = 'BF16'), 'dtype must be "F16" or "F32", got "BF16"'],
    ['no weights hash', (m) => delete m.weights.sha256,
      'weights.sha256 must be 64 lower-case hex digits, got nothing (missing)'],
    ['a wrong parameter count', (m) => (m.param_count = 5), 'param_count must be 103016'],
    ['another format', (m) => (m.format = 'lego-diffusion/2'),
      'format must be "lego-diffusion/1", got "lego-diffusion/2"'],
  ];
  for (const [what, edit, message] of cases) it(`names the field: ${what}`, () => rejects(broken(edit), message));

  it('says when the file is not JSON or not an object', () => {
    expect(() => parseModelJson('{', 'm.json')).toThrow(/m\.json is not valid JSON/);
    rejects('[1]', 'model.json must be an object, got [1]');
  });
});

describe('device limits', () => {
  it('weights larger than one buffer binding fail before allocation, naming them', async () => {
    const model = await loadTinyModel();
    const limits = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
    expect(() => checkWeightsFit(model, limits)).not.toThrow();
    // The tiny model's largest pack (src/engine/weights.ts): its 7 adaLN linears as one matrix,
    // 4 blocks' [6·32, 32] and 3 final layers' [2·32, 32] f32 = 120 KiB, and their biases (3.75 KiB).
    expect(() => checkWeightsFit(model, { ...limits, maxStorageBufferBindingSize: 16384 }))
      .toThrow(/weights adaln need 123\.8 KiB in one buffer, over this device's largest buffer binding \(16\.0 KiB\)/);
  });
});
