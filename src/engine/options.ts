// Generation options checked without a GPU: the engine checks them again before every run, the CLI
// before it acquires a device, and the UI builds its sliders from the same LIMITS.
import { bricksOnCanvas, canvasUnit } from '../model/canvas.ts';
import type { Architecture } from '../model/format.ts';
import type { BrickSetting, GenerateOptions, StartImage } from './types.ts';

export const LIMITS = { steps: [1, 64], batch: [1, 8], guidance: [0, 10], maxSide: 1024 } as const;

export class InvalidOptionsError extends Error {
  override name = 'InvalidOptionsError';
}

type Checked = Pick<GenerateOptions,
  'width' | 'height' | 'steps' | 'batch' | 'guidance' | 'sampler' | 'seed' | 'bricks' | 'start'>;

/** Throws InvalidOptionsError naming the first option that this architecture or LIMITS rejects. */
export function validateOptions(o: Checked, arch: Architecture): void {
  const r = canvasUnit(arch);
  const sizes = `multiples of ${r} up to ${LIMITS.maxSide} (e.g. ${r}×${r}, ${2 * r}×${2 * r}, ${4 * r}×${r})`;
  for (const [name, v] of [['width', o.width], ['height', o.height]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % r !== 0 || v > LIMITS.maxSide) {
      throw new InvalidOptionsError(`${name} ${v} is not a valid canvas size: use ${sizes}`);
    }
  }
  const range = (name: string, v: number, [lo, hi]: readonly number[], integer = true) => {
    if (!(integer ? Number.isInteger(v) : Number.isFinite(v)) || v < lo || v > hi) {
      const kind = integer ? 'an integer' : 'a number';
      throw new InvalidOptionsError(`${name} must be ${kind} in ${lo}–${hi}, got ${v}`);
    }
  };
  range('steps', o.steps, LIMITS.steps);
  range('batch', o.batch, LIMITS.batch);
  range('guidance', o.guidance, LIMITS.guidance, false);
  if (o.sampler !== 'heun' && o.sampler !== 'euler') {
    throw new InvalidOptionsError(`sampler must be "heun" or "euler", got "${o.sampler}"`);
  }
  range('seed', o.seed, [0, 0xffffffff]);
  validateBricks(o.bricks, arch);
  const runs = bricksOnCanvas(arch, o.height, o.width);
  if (!runs.some((k) => o.bricks[k].enabled)) {
    throw new InvalidOptionsError(`no enabled brick runs on a ${o.width}×${o.height} canvas: enable one of bricks ` +
      `${runs.map((k) => k + 1).join(', ')} (a brick whose regions are larger than the canvas does not run on it)`);
  }
  if (o.start) validateStart(o.start, o.width, o.height);
}

/** The start image, its strength and mask against the canvas (InvalidOptionsError naming the problem). */
export function validateStart(s: StartImage, width: number, height: number): void {
  if (!(Number.isFinite(s.strength) && s.strength >= 0 && s.strength <= 1)) {
    throw new InvalidOptionsError(`strength must be in 0–100% (0–1), got ${fmtStrength(s.strength)}`);
  }
  const pixels = width * height;
  checkPlane('start image', s.image, 3 * pixels, `[3, ${height}, ${width}]`, -1, 1);
  if (s.mask) checkPlane('mask', s.mask, pixels, `${width}×${height}`, 0, 1);
}

const fmtStrength = (v: number) => (Number.isFinite(v) ? `${+(100 * v).toFixed(2)}% (${v})` : String(v));

function checkPlane(name: string, a: Float32Array, length: number, shape: string, lo: number, hi: number): void {
  if (!(a instanceof Float32Array) || a.length !== length) {
    throw new InvalidOptionsError(`the ${name} has ${a?.length ?? 0} values, the canvas needs ${shape} = ${length}: ` +
      `the ${name} must have the canvas's size`);
  }
  const bad = a.findIndex((v) => !(v >= lo && v <= hi));
  if (bad >= 0) {
    throw new InvalidOptionsError(`the ${name} has ${+a[bad].toPrecision(4)} at index ${bad}, outside ${lo}–${hi}`);
  }
}

/** The brick settings an engine keeps: checked against the architecture, copied so a caller's later
 * edits cannot reach a running generation. */
export function copyBrickSettings(bricks: BrickSetting[], arch: Architecture): BrickSetting[] {
  validateBricks(bricks, arch);
  return bricks.map((b) => ({ enabled: b.enabled, skip: b.skip ? [b.skip[0], b.skip[1]] : null }));
}

export function validateBricks(bricks: GenerateOptions['bricks'], arch: Architecture): void {
  if (bricks.length !== arch.bricks.length) {
    throw new InvalidOptionsError(`expected ${arch.bricks.length} brick settings, got ${bricks.length}`);
  }
  if (!bricks.some((b) => b.enabled)) throw new InvalidOptionsError('at least one brick must be enabled');
}
