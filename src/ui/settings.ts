// Generation settings and their place in the page URL (shareable, reproducible links).
import { LIMITS as ENGINE_LIMITS } from '../engine/options.ts';
import { parseSkipWindow } from '../engine/schedule.ts';
import type { BrickSetting, Sampler } from '../engine/types.ts';
import { maxRegion } from '../model/arch.ts';
import { canvasUnit } from '../model/canvas.ts';
import type { ModelJson } from '../model/format.ts';

export interface Settings {
  model: string; // base URL of the model folder
  width: number;
  height: number;
  steps: number;
  sampler: Sampler;
  guidance: number;
  seed: number;
  batch: number;
  category: string | null; // null: any
  style: string | null;
  prompt: string;
  bricks: BrickSetting[];
  shift: boolean; // shifted tiling on odd steps (for canvases larger than a region)
  engine: EngineChoice; // auto: WebGPU on a hardware adapter, else the CPU engine
  strength: number; // 0–100 (%): how much of a start image is redrawn (the image itself is not in the URL)
}

export type EngineChoice = 'auto' | 'webgpu' | 'cpu';

export const DEFAULT_MODEL = `${import.meta.env?.BASE_URL ?? '/'}models/lego-emoji-32/`;
/** The engine's limits, how many multiples of the canvas unit the size picker offers, the longest prompt. */
export const LIMITS = { ...ENGINE_LIMITS, sizeTiles: 8, promptChars: 200 } as const;

export function defaultSettings(model = DEFAULT_MODEL): Settings {
  return {
    model, width: 0, height: 0, steps: 18, sampler: 'heun', guidance: 2, seed: 1, batch: 4,
    category: null, style: null, prompt: '', bricks: [], shift: true, engine: 'auto', strength: 50,
  };
}

/** Valid widths/heights: multiples of the canvas unit, up to LIMITS.sizeTiles of them. */
export function validSizes(meta: ModelJson): number[] {
  const u = canvasUnit(meta.architecture);
  return Array.from({ length: LIMITS.sizeTiles }, (_, i) => (i + 1) * u);
}

/** Presets in canvas units: squares and panoramas. */
export function sizePresets(meta: ModelJson): { label: string; width: number; height: number }[] {
  const u = canvasUnit(meta.architecture);
  return [[1, 1], [2, 2], [4, 1], [8, 2], [1, 4]].map(([w, h]) => ({
    label: `${w * u}×${h * u}${w > h ? ' panorama' : h > w ? ' tall' : ''}`, width: w * u, height: h * u,
  }));
}

/** Makes settings valid for a model: sizes it draws (unset: the largest region, the canvas its top brick sees
 * whole), labels it knows, one setting per brick, at least one on. What it replaces from the URL goes to
 * `problems`, under the URL parameter's name. */
export function fitToModel(s: Settings, meta: ModelJson, problems: UrlProblem[] = []): Settings {
  const sizes = validSizes(meta), top = maxRegion(meta.architecture);
  const u = sizes.includes(top) ? top : sizes[0];
  const size = (key: 'w' | 'h', v: number) => {
    if (!v || sizes.includes(v)) return v || u;
    problems.push({ key, value: String(v), why: `is not a size this model draws (${sizes.join(', ')})`,
      action: useDefault(key, u) });
    return u;
  };
  const label = (key: 'category' | 'style', v: string | null, known: string[]) => {
    if (v === null || known.includes(v)) return v;
    problems.push({ key, value: v, why: `is not a ${key} of this model (${known.join(', ')})`,
      action: useDefault(key, null) });
    return null;
  };
  const n = meta.architecture.bricks.length;
  let bricks = s.bricks;
  if (bricks.length && bricks.length !== n) {
    const given = new URLSearchParams(toQuery(s));
    for (const key of BRICK_KEYS.filter((k) => given.has(k))) {
      problems.push({ key, value: given.get(key)!, why: `is not one per brick of this model's ${n}`,
        action: useDefault(key, null) });
    }
    bricks = [];
  }
  bricks = Array.from({ length: n }, (_, k) => bricks[k] ?? { enabled: true, skip: null });
  if (!bricks.some((b) => b.enabled)) bricks[n - 1] = { ...bricks[n - 1], enabled: true };
  return {
    ...s,
    width: size('w', s.width),
    height: size('h', s.height),
    category: label('category', s.category, meta.labels.categories),
    style: label('style', s.style, meta.labels.styles),
    bricks,
  };
}

const fmtSkip = (b: BrickSetting) => (b.skip ? `${b.skip[0]}-${b.skip[1]}` : '');

export function toQuery(s: Settings): string {
  const q = new URLSearchParams();
  if (s.model !== DEFAULT_MODEL) q.set('model', s.model);
  q.set('w', String(s.width));
  q.set('h', String(s.height));
  q.set('steps', String(s.steps));
  q.set('sampler', s.sampler);
  q.set('guidance', String(s.guidance));
  q.set('seed', String(s.seed));
  q.set('batch', String(s.batch));
  if (s.category) q.set('category', s.category);
  if (s.style) q.set('style', s.style);
  if (s.prompt) q.set('prompt', s.prompt);
  if (s.bricks.length) q.set('bricks', s.bricks.map((b) => (b.enabled ? '1' : '0')).join(''));
  if (s.bricks.some((b) => b.skip)) q.set('skip', s.bricks.map(fmtSkip).join(','));
  if (!s.shift) q.set('shift', '0');
  if (s.engine !== 'auto') q.set('engine', s.engine);
  if (s.strength !== defaultSettings().strength) q.set('strength', String(s.strength));
  return q.toString();
}

/** A URL parameter the page did not use as given: which, its value, why not, and what it did instead. */
export interface UrlProblem {
  key: string;
  value: string;
  why: string; // "is not a whole number from 1 to 64"
  action: string; // "Using the default: 18."
}

/** A value read from the URL, or why it cannot be used. */
type Read<T> = { value: T } | { why: string };
type Reader<T> = (v: string) => Read<T>;

const whole = ([lo, hi]: readonly [number, number]): Reader<number> => (v) =>
  /^\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi
    ? { value: Number(v) } : { why: `is not a whole number from ${lo} to ${hi}` };
const decimal = ([lo, hi]: readonly [number, number]): Reader<number> => (v) =>
  /^\d*\.?\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi
    ? { value: Number(v) } : { why: `is not a number from ${lo} to ${hi}` };
const oneOf = <T extends string>(...values: T[]): Reader<T> => (v) =>
  (values as string[]).includes(v) ? { value: v as T } : { why: `is not one of ${values.join(', ')}` };
const labelName: Reader<string | null> = (v) => ({ value: v || null }); // checked against the model in fitToModel
const modelUrl: Reader<string> = (v) => {
  try {
    if (v && /^https?:$/.test(new URL(v, 'https://page.invalid/').protocol)) return { value: v };
  } catch { /* not a URL at all */ }
  return { why: 'is not the address of a model folder (a path such as /models/<name>/, or an http(s) URL)' };
};
const prompt: Reader<string> = (v) => v.length <= LIMITS.promptChars
  ? { value: v } : { why: `is ${v.length} characters long, over ${LIMITS.promptChars}` };
const shift: Reader<boolean> = (v) => (v === '0' || v === '1' ? { value: v === '1' } : { why: 'is not 0 or 1' });
const brickFlags: Reader<boolean[]> = (v) => /^[01]*1[01]*$/.test(v)
  ? { value: [...v].map((c) => c === '1') } : { why: 'is not one 0 or 1 per brick with at least one 1' };
const skipWindows: Reader<([number, number] | null)[]> = (v) => {
  const parts = v.split(',');
  const windows = parts.map((w) => (w ? parseSkipWindow(w) : null));
  const bad = parts.filter((w, k) => w && !windows[k]);
  return bad.length
    ? { why: `has ${bad.map((w) => `"${w}"`).join(', ')}, not START-END with 0 ≤ START < END ≤ 1` }
    : { value: windows };
};

/** The URL parameter of each setting and how it is read (bricks and skip, one setting, are read below). */
const READERS: { [F in Exclude<keyof Settings, 'bricks'>]: [key: string, read: Reader<Settings[F]>] } = {
  model: ['model', modelUrl],
  width: ['w', whole([1, ENGINE_LIMITS.maxSide])], // the model's sizes are checked in fitToModel
  height: ['h', whole([1, ENGINE_LIMITS.maxSide])],
  steps: ['steps', whole(LIMITS.steps)],
  sampler: ['sampler', oneOf('heun', 'euler')],
  guidance: ['guidance', decimal(LIMITS.guidance)],
  seed: ['seed', whole([0, 0xffffffff])],
  batch: ['batch', whole(LIMITS.batch)],
  category: ['category', labelName],
  style: ['style', labelName],
  prompt: ['prompt', prompt],
  shift: ['shift', shift],
  engine: ['engine', oneOf('auto', 'webgpu', 'cpu')],
  strength: ['strength', whole([0, 100])],
};
const BRICK_KEYS = ['bricks', 'skip'];

/** What the page does instead of a parameter's bad value: use the default, said in words. */
function useDefault(key: string, v: unknown): string {
  const words = key === 'w' || key === 'h' ? `${v || 'the smallest size the model draws'}`
    : key === 'bricks' ? 'every brick on' : key === 'skip' ? 'no skip windows'
    : v === null ? `any ${key}` : v === '' ? `no ${key}` : typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  return `Using the default: ${words}.`;
}

/** Settings from the page's query string: each parameter that is malformed, out of range, repeated or
 * unknown is reported, and the default used in its place. */
export function readQuery(search: string, base = defaultSettings()): { settings: Settings; problems: UrlProblem[] } {
  const q = new URLSearchParams(search);
  const problems: UrlProblem[] = [];
  const out: Settings = { ...base, bricks: [...base.bricks] };
  const known = new Set([...Object.values(READERS).map(([key]) => key), ...BRICK_KEYS]);
  for (const key of new Set(q.keys())) {
    const all = q.getAll(key), value = all[0];
    if (!known.has(key)) {
      const near = [...known].find((k) => k.toLowerCase() === key.toLowerCase());
      const why = `is not a setting of this page${near ? ` (did you mean ${near}?)` : ''}`;
      problems.push({ key, value, why, action: 'Ignored.' });
    } else if (all.length > 1) {
      problems.push({ key, value: all.join(' and '), why: `is given ${all.length} times`, action: `Using the first: ${value}.` });
    }
  }
  const read = <T>(key: string, reader: Reader<T>, fallback: T): T => {
    const v = q.get(key);
    if (v === null) return fallback;
    const r = reader(v);
    if ('value' in r) return r.value;
    problems.push({ key, value: v, why: r.why, action: useDefault(key, fallback) });
    return fallback;
  };
  for (const [field, [key, reader]] of Object.entries(READERS)) {
    const f = field as keyof typeof READERS;
    (out as unknown as Record<string, unknown>)[f] = read(key, reader as Reader<unknown>, base[f]);
  }
  const enabled = read('bricks', brickFlags, []);
  const skips = read('skip', skipWindows, []);
  out.bricks = Array.from({ length: Math.max(enabled.length, skips.length) },
    (_, k) => ({ enabled: enabled[k] ?? true, skip: skips[k] ?? null }));
  return { settings: out, problems };
}

export function fromQuery(search: string, base = defaultSettings()): Settings {
  return readQuery(search, base).settings;
}

export const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];
