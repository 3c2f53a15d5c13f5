// The golden fixtures written by train/fixtures.py: a tiny random model and the reference's outputs.
import { readFileSync } from 'node:fs';
import { loadModel, parseModelJson, type LoadedModel } from '../../src/model/load';
import type { LabelSpec } from '../../src/model/format';
import type { LabelChoice } from '../../src/model/labels';
import { parseSafetensors } from '../../src/model/safetensors';

const DIR = new URL('../fixtures/tiny/', import.meta.url);
const EXPECTED_VERSION = 3;
const REGEN = '/usr/bin/python3 -m train.fixtures';

/** The goldens of one canvas (train/fixtures.py goldens): inputs named without the canvas prefix. */
export interface CanvasGolden {
  canvas: [number, number]; // H, W
  batch: number;
  sigma: number[];
  cases: Record<string, { active: number[]; shift: [number, number] | 'rolled'; outputs: string[] }>;
  heun: { steps: number; cfg: number; trajectory: string[] };
}

/** golden.json and the tensors of golden.safetensors; meta as tiny's and the stacks', or cover-16's. */
export interface Golden<Meta = CanvasGolden & { version: number }> {
  meta: Meta;
  tensors: Map<string, Float32Array>;
}

/** cover-16 (train/fixtures.py COVER): a 16×16 brick on a stack of canvas unit 8, goldens on several canvases
 * (tensor names prefixed with the canvas's, e.g. "24x40.all.D2"). */
export const COVER_DIR = new URL('../fixtures/stacks/cover-16/', import.meta.url);
export type CoverMeta = { version: number; canvases: Record<string, CanvasGolden> };

/** Every golden fixture: tiny, and the other brick stacks the trainer makes (train/fixtures.py STACKS:
 * official-style patches 2/8/2 in progressive growth and refinement order). */
export const FIXTURES = [
  { name: 'tiny', dir: DIR },
  ...['pg-282', 'pr-282'].map((name) => ({ name, dir: new URL(`../fixtures/stacks/${name}/`, import.meta.url) })),
];

/** The label choice (category, style, prompt words) whose vector is `vec`, read through the spec's groups. */
export function labelChoice(spec: LabelSpec, vec: Float32Array): LabelChoice {
  const hot = (group: keyof LabelSpec['groups']) => [...vec.subarray(...spec.groups[group])].flatMap((v, i) => (v === 1 ? [i] : []));
  return {
    category: spec.categories[hot('category')[0]] ?? null,
    style: spec.styles[hot('style')[0]] ?? null,
    prompt: hot('words').map((i) => spec.vocab[i]).join(' '),
  };
}

export function loadGolden<M extends { version: number } = Golden['meta']>(dir = DIR): Golden<M> {
  const meta = JSON.parse(readFileSync(new URL('golden.json', dir), 'utf8'));
  if (meta.version !== EXPECTED_VERSION) throw new Error(`fixtures are v${meta.version}, tests expect v${EXPECTED_VERSION}: run ${REGEN}`);
  const raw = parseSafetensors(readFileSync(new URL('golden.safetensors', dir)), 'golden.safetensors');
  return { meta, tensors: new Map([...raw].map(([k, t]) => [k, t.data])) };
}

/** Edit trajectories of the tiny model (train/fixtures.py generate_edit): edit.json + edit.safetensors. */
export interface EditGolden {
  meta: {
    version: number;
    canvas: [number, number]; // H, W
    batch: number;
    steps: number;
    strength: number;
    edit_steps: number;
    cases: Record<string, { sampler: 'heun' | 'euler'; guidance: number; mask: boolean; trajectory: string[] }>;
  };
  tensors: Map<string, Float32Array>; // start [3, H, W], mask [H, W], noise [B, 3, H, W], labels [L], trajectories
}

const EXPECTED_EDIT_VERSION = 2;

export function loadEditGolden(dir = DIR): EditGolden {
  const meta = JSON.parse(readFileSync(new URL('edit.json', dir), 'utf8'));
  if (meta.version !== EXPECTED_EDIT_VERSION) {
    throw new Error(`edit fixtures are v${meta.version}, tests expect v${EXPECTED_EDIT_VERSION}: run ${REGEN}`);
  }
  const raw = parseSafetensors(readFileSync(new URL('edit.safetensors', dir)), 'edit.safetensors');
  return { meta, tensors: new Map([...raw].map(([k, t]) => [k, t.data])) };
}

export function tinyModelFiles(dir = DIR): { json: string; weights: Uint8Array } {
  return { json: readFileSync(new URL('model.json', dir), 'utf8'), weights: new Uint8Array(readFileSync(new URL('weights.safetensors', dir))) };
}

export async function loadTinyModel(dir = DIR): Promise<LoadedModel> {
  const { json, weights } = tinyModelFiles(dir);
  return loadModel(parseModelJson(json), weights);
}
