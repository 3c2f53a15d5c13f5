// Generation settings and their place in the page URL (shareable, reproducible links).
import { LIMITS as ENGINE_LIMITS } from '../engine/options.ts';
import { parseSkipWindow } from '../engine/schedule.ts';
import type { BrickSetting, Sampler } from '../engine/types.ts';
import { maxRegion } from '../model/arch.ts';
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
/** The engine's limits, and how many multiples of the largest region the size picker offers. */
export const LIMITS = { ...ENGINE_LIMITS, sizeTiles: 8 } as const;

export function defaultSettings(model = DEFAULT_MODEL): Settings {
  return {
    model, width: 0, height: 0, steps: 18, sampler: 'heun', guidance: 2, seed: 1, batch: 4,
    category: null, style: null, prompt: '', bricks: [], shift: true, engine: 'auto', strength: 50,
  };
}

/** Valid widths/heights: multiples of the largest region, up to LIMITS.sizeTiles of them. */
export function validSizes(meta: ModelJson): number[] {
  const u = maxRegion(meta.architecture);
  return Array.from({ length: LIMITS.sizeTiles }, (_, i) => (i + 1) * u);
}

/** Presets in units of the largest region: squares and panoramas. */
export function sizePresets(meta: ModelJson): { label: string; width: number; height: number }[] {
  const u = maxRegion(meta.architecture);
  return [[1, 1], [2, 2], [4, 1], [8, 2], [1, 4]].map(([w, h]) => ({
    label: `${w * u}×${h * u}${w > h ? ' panorama' : h > w ? ' tall' : ''}`, width: w * u, height: h * u,
  }));
}

const clampInt = (v: number, lo: number, hi: number, dflt: number) =>
  Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : dflt;

/** Makes settings valid for a model: sizes snapped to the grid, labels it knows, one setting per brick. */
export function fitToModel(s: Settings, meta: ModelJson): Settings {
  const u = maxRegion(meta.architecture);
  const snap = (v: number) => clampInt(Math.round(v / u) * u, u, u * LIMITS.sizeTiles, u);
  const n = meta.architecture.bricks.length;
  const bricks = Array.from({ length: n }, (_, k) => s.bricks[k] ?? { enabled: true, skip: null });
  if (!bricks.some((b) => b.enabled)) bricks[n - 1] = { ...bricks[n - 1], enabled: true };
  return {
    ...s,
    width: snap(s.width || u),
    height: snap(s.height || u),
    category: s.category && meta.labels.categories.includes(s.category) ? s.category : null,
    style: s.style && meta.labels.styles.includes(s.style) ? s.style : null,
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

export function fromQuery(search: string, base = defaultSettings()): Settings {
  const q = new URLSearchParams(search);
  const num = (k: string, d: number) => (q.has(k) ? Number(q.get(k)) : d);
  const enabled = q.get('bricks') ?? '';
  const skips = (q.get('skip') ?? '').split(',');
  const n = Math.max(enabled.length, q.has('skip') ? skips.length : 0);
  return {
    model: q.get('model') || base.model,
    width: clampInt(num('w', base.width), 0, 1 << 14, base.width),
    height: clampInt(num('h', base.height), 0, 1 << 14, base.height),
    steps: clampInt(num('steps', base.steps), LIMITS.steps[0], LIMITS.steps[1], base.steps),
    sampler: q.get('sampler') === 'euler' ? 'euler' : q.get('sampler') === 'heun' ? 'heun' : base.sampler,
    guidance: Math.min(LIMITS.guidance[1], Math.max(LIMITS.guidance[0],
      Number.isFinite(num('guidance', base.guidance)) ? num('guidance', base.guidance) : base.guidance)),
    seed: clampInt(num('seed', base.seed), 0, 0xffffffff, base.seed),
    batch: clampInt(num('batch', base.batch), LIMITS.batch[0], LIMITS.batch[1], base.batch),
    category: q.get('category') || base.category,
    style: q.get('style') || base.style,
    prompt: q.get('prompt') ?? base.prompt,
    bricks: Array.from({ length: n }, (_, k) =>
      ({ enabled: enabled[k] !== '0', skip: parseSkipWindow(skips[k] ?? '') })),
    shift: q.get('shift') !== '0',
    engine: q.get('engine') === 'cpu' ? 'cpu' : q.get('engine') === 'webgpu' ? 'webgpu' : base.engine,
    strength: clampInt(num('strength', base.strength), 0, 100, base.strength),
  };
}

export const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];
