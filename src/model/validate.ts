// model.json checked field by field before anything is downloaded or allocated: every field the
// engine relies on, its type and range, each error naming the field ("architecture.bricks[2].depth
// must be an integer ≥ 0, got -3").
import { CHANNELS, HEAD_DIM, MAX_FOURIER_DIM, maxRegion } from './arch.ts';
import { ModelLoadError } from './errors.ts';
import { expectedTensors, type ModelJson } from './format.ts';

type Json = Record<string, unknown>;

const show = (v: unknown) => (v === undefined ? 'nothing (missing)' : JSON.stringify(v));

export function validateModelJson(m: unknown, what: string): ModelJson {
  const fail = (path: string, expected: string, got: unknown): never => {
    throw new ModelLoadError(`${what}: ${path} must be ${expected}, got ${show(got)}`);
  };
  const obj = (v: unknown, path: string): Json =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : fail(path, 'an object', v);
  const int = (o: Json, key: string, path: string, min: number): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      fail(`${path}${key}`, min === 1 ? 'a positive integer' : `an integer ≥ ${min}`, v);
    }
    return v as number;
  };
  const positive = (o: Json, key: string, path: string): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`${path}${key}`, 'a positive number', v);
    return v as number;
  };
  const oneOf = (o: Json, key: string, path: string, allowed: readonly unknown[]) => {
    if (!allowed.includes(o[key])) fail(`${path}${key}`, allowed.map((a) => JSON.stringify(a)).join(' or '), o[key]);
  };
  const strings = (o: Json, key: string, path: string): string[] => {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(`${path}${key}`, 'an array of strings', v);
    return v as string[];
  };

  const root = obj(m, 'model.json');
  oneOf(root, 'format', '', ['lego-diffusion/1']);
  if (typeof root.name !== 'string') fail('name', 'a string', root.name);
  oneOf(root, 'dtype', '', ['F16', 'F32']);

  const a = obj(root.architecture, 'architecture');
  const A = 'architecture.';
  const d = int(a, 'd', A, 4);
  if (d % 4 !== 0) fail(`${A}d`, 'a multiple of 4 (the positional table has 4 parts)', d);
  const heads = int(a, 'heads', A, 1);
  const dh = d / heads;
  if (!Number.isInteger(dh) || dh % HEAD_DIM.multiple !== 0 || dh < HEAD_DIM.min || dh > HEAD_DIM.max) {
    fail(`${A}heads`, `a divisor of d = ${d} leaving a head dimension that is a multiple of ${HEAD_DIM.multiple} in ` +
      `${HEAD_DIM.min}–${HEAD_DIM.max}`, heads);
  }
  int(a, 'mlp_ratio', A, 1);
  oneOf(a, 'channels', A, [CHANNELS]);
  const fourier = int(a, 'fourier_dim', A, 8);
  if (fourier % 8 !== 0 || fourier > MAX_FOURIER_DIM) {
    fail(`${A}fourier_dim`, `a multiple of 8 up to ${MAX_FOURIER_DIM}`, fourier);
  }
  const labelDim = int(a, 'label_dim', A, 0);
  oneOf(a, 'gelu', A, ['tanh']);
  positive(a, 'layernorm_eps', A);
  if (!Array.isArray(a.bricks) || a.bricks.length === 0) fail(`${A}bricks`, 'a non-empty array', a.bricks);
  const bricks = a.bricks as unknown[];
  bricks.forEach((raw, k) => {
    const path = `${A}bricks[${k}].`;
    const b = obj(raw, path.slice(0, -1));
    const region = int(b, 'region', path, 1);
    const patch = int(b, 'patch', path, 1);
    int(b, 'depth', path, 0);
    if (region % patch !== 0) fail(`${path}region`, `a multiple of ${path}patch = ${patch}`, region);
  });
  const specs = bricks as { region: number; patch: number }[];
  const largest = maxRegion({ bricks: specs });
  const unit = a.canvas_unit === undefined ? largest : int(a, 'canvas_unit', A, 1);
  specs.forEach(({ region, patch }, k) => {
    if (region <= unit && unit % region !== 0) {
      fail(`${A}bricks[${k}].region`, `a divisor of the canvas unit ${unit} (canvases are multiples of it) ` +
        'or larger than it', region);
    }
    if (unit % patch !== 0) {
      fail(`${A}canvas_unit`, `a multiple of every patch (bricks[${k}].patch = ${patch}), so patches tile canvases`,
        unit);
    }
  });
  if (!specs.some((b) => b.region === unit)) {
    fail(`${A}canvas_unit`, `the region of one brick (${specs.map((b) => b.region).join(', ')})`, unit);
  }

  const labels = obj(root.labels, 'labels');
  const groups = obj(labels.groups, 'labels.groups');
  for (const [group, list] of [['category', 'categories'], ['style', 'styles'], ['words', 'vocab']] as const) {
    const n = strings(labels, list, 'labels.').length;
    const g = groups[group];
    const ok = Array.isArray(g) && g.length === 2 && g.every(Number.isInteger) && g[0] >= 0 && g[1] - g[0] === n &&
      g[1] <= labelDim;
    if (!ok) {
      const expected = `[start, start + ${n}) (one slot per labels.${list} entry) within label_dim = ${labelDim}`;
      fail(`labels.groups.${group}`, expected, g);
    }
  }
  if (labels.stop_words !== undefined) strings(labels, 'stop_words', 'labels.');
  if (labels.word_categories !== undefined) {
    const rows = labels.word_categories, vocab = (labels.vocab as string[]).length;
    const cats = (labels.categories as string[]).length;
    const counts = (r: unknown) => Array.isArray(r) && r.length === cats && r.every((c) => Number.isInteger(c) && c >= 0);
    if (!Array.isArray(rows) || rows.length !== vocab || !rows.every(counts)) {
      fail('labels.word_categories', `${vocab} rows (one per labels.vocab word) of ${cats} counts (one per category)`,
        Array.isArray(rows) ? `${rows.length} rows` : rows);
    }
  }
  if (root.style_info !== undefined) {
    for (const [style, raw] of Object.entries(obj(root.style_info, 'style_info'))) {
      const info = obj(raw, `style_info.${style}`);
      if (info.preview !== undefined &&
        (typeof info.preview !== 'string' || !/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/.test(info.preview))) {
        fail(`style_info.${style}.preview`, 'a PNG data URL', info.preview);
      }
    }
  }

  const edm = obj(root.edm, 'edm');
  for (const key of ['sigma_data', 'sigma_min', 'sigma_max', 'rho']) positive(edm, key, 'edm.');
  if ((edm.sigma_min as number) >= (edm.sigma_max as number)) {
    fail('edm.sigma_min', `below edm.sigma_max = ${edm.sigma_max}`, edm.sigma_min);
  }

  const weights = obj(root.weights, 'weights');
  if (typeof weights.file !== 'string' || !weights.file) fail('weights.file', 'a file name', weights.file);
  if (typeof weights.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(weights.sha256)) {
    fail('weights.sha256', '64 lower-case hex digits', weights.sha256);
  }

  // The parameter count follows from the architecture: a mismatch means a field above is wrong
  // (e.g. an edited d), caught here before the weights are downloaded.
  const meta = m as ModelJson;
  const size = (shape: number[]) => shape.reduce((p, x) => p * x, 1);
  const params = [...expectedTensors(meta.architecture).values()].reduce((s, shape) => s + size(shape), 0);
  if (root.param_count !== params) {
    fail('param_count', `${params}, the count this architecture has (is a field of architecture wrong?)`,
      root.param_count);
  }
  return meta;
}
