// Browser-test harness: the app built once per test run (the first test file to ask builds it into
// the run's folder from test/app-dir.ts, the others wait), with the tiny test model at
// /models/tiny/, and served by `vite preview` per file.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { buildApp, ROOT, serveApp, type ServedApp } from '../../tools/app';

export { ROOT };
export const ARTIFACTS = join(ROOT, 'test-results');
export const TINY_URL = '/models/tiny/';
const TINY = ['model.json', 'weights.safetensors'].map((f) => join(ROOT, 'test/fixtures/tiny', f));

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
    await buildApp(dir, { tiny: TINY });
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
