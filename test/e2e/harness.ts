// Browser-test harness: the app built once per test run (the first test file to ask builds it into
// the run's folder from test/app-dir.ts, the others wait), with the tiny test model at
// /models/tiny/ (and at /models/tiny-styles/ with the shipped model's style_info), the cover-16 fixture
// at /models/cover-16/, and served by `vite preview` per file.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Engine, Sampler, StartImage } from '../../src/engine/types';
import { loadModel, parseModelJson, type LoadedModel } from '../../src/model/load';
import { buildApp, ROOT, serveApp, type ServedApp } from '../../tools/app';

export { ROOT };
export const ARTIFACTS = join(ROOT, 'test-results');
export const TINY_URL = '/models/tiny/';
/** The tiny model with the shipped model's style_info (previews and credits for its styles). */
export const TINY_STYLES_URL = '/models/tiny-styles/';
const TINY = ['model.json', 'weights.safetensors'].map((f) => join(ROOT, 'test/fixtures/tiny', f));
/** The cover-16 fixture (a 16×16 brick on a stack of canvas unit 8) at /models/cover-16/. */
export const COVER_URL = '/models/cover-16/';
const COVER = ['model.json', 'weights.safetensors'].map((f) => join(ROOT, 'test/fixtures/stacks/cover-16', f));

/** Training emoji per category (Animals, Food, Flags) of each tiny vocab word (cat, face, red, smiling, heart),
 * made up: "cat" and "face" name Animals, "heart" Food; "red" names none (0.4 at most), "smiling" has no counts. */
export const TINY_WORD_CATEGORIES = [[6, 1, 0], [3, 1, 0], [1, 2, 2], [0, 0, 0], [0, 4, 1]];

/** models/tiny-styles/ in the built app: the tiny weights with the shipped model's style_info, and word
 * categories (TINY_WORD_CATEGORIES). */
async function addTinyStyles(dir: string): Promise<void> {
  const out = join(dir, 'models/tiny-styles');
  await mkdir(out, { recursive: true });
  await copyFile(TINY[1], join(out, 'weights.safetensors'));
  const tiny = JSON.parse(await readFile(TINY[0], 'utf8'));
  const shipped = JSON.parse(await readFile(join(ROOT, 'public/models/lego-emoji-32/model.json'), 'utf8'));
  await writeFile(join(out, 'model.json'), JSON.stringify({ ...tiny, name: 'tiny-styles', style_info: shipped.style_info,
    labels: { ...tiny.labels, word_categories: TINY_WORD_CATEGORIES } }));
}

async function builtOnce(): Promise<string> {
  const dir = inject('appDir');
  const done = join(dir, '.built'), failed = join(dir, '.failed');
  await mkdir(ARTIFACTS, { recursive: true });
  try {
    await mkdir(dir); // atomic: exactly one test file of the run gets to build
  } catch {
    while (!existsSync(done)) {
      if (existsSync(failed)) throw new Error(`building the app failed:\n${await readFile(failed, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return dir;
  }
  try {
    await buildApp(dir, { tiny: TINY, 'cover-16': COVER });
    await addTinyStyles(dir);
  } catch (e) {
    await writeFile(failed, String((e as Error).message));
    throw e;
  }
  await writeFile(done, '');
  return dir;
}

export async function startApp(): Promise<ServedApp> {
  return serveApp(await builtOnce());
}

/** The URL settings the browser tests open the page with. */
export interface PageSettings { w: number; h: number; steps: number; sampler: Sampler; guidance: number; batch: number; seed: number }

/** Image 0 of the tiny model with the page's settings (any category, style and words, every brick on; from
 * a start image if given), generated in Node by the engine `create` makes: what the page must match. */
export async function tinyImageInNode(create: (model: LoadedModel) => Promise<Engine>, s: PageSettings,
  start?: StartImage): Promise<Uint8ClampedArray> {
  const meta = parseModelJson(await readFile(TINY[0], 'utf8'));
  const engine = await create(await loadModel(meta, new Uint8Array(await readFile(TINY[1]))));
  try {
    const res = await engine.generate({
      width: s.w, height: s.h, steps: s.steps, sampler: s.sampler, guidance: s.guidance, seed: s.seed, batch: s.batch,
      labels: { category: null, style: null, prompt: '' },
      bricks: meta.architecture.bricks.map(() => ({ enabled: true, skip: null })), shiftTiling: true, start,
    });
    return res.images.images[0];
  } finally {
    engine.destroy();
  }
}
