// Browser-test harness: the app built once per vitest run (the first test file to ask builds, the
// others wait for it), with the tiny test model at /models/tiny/, served by `vite preview` per file.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildApp, ROOT, serveApp, type ServedApp } from '../../tools/app';

export { ROOT };
export const ARTIFACTS = join(ROOT, 'test-results');
export const TINY_URL = '/models/tiny/';
const TINY = ['model.json', 'weights.safetensors'].map((f) => join(ROOT, 'test/fixtures/tiny', f));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** test-results/e2e-dist-<vitest pid>: built by whichever worker creates the folder first. */
async function builtOnce(): Promise<string> {
  const run = process.ppid; // the vitest process all test files of this run share
  const dir = join(ARTIFACTS, `e2e-dist-${run}`);
  const done = join(dir, '.built'), failed = join(dir, '.failed');
  await mkdir(ARTIFACTS, { recursive: true });
  try {
    await mkdir(dir);
  } catch {
    while (!existsSync(done)) {
      if (existsSync(failed)) throw new Error(`building the app failed:\n${await readFile(failed, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return dir;
  }
  for (const old of readdirSync(ARTIFACTS)) {
    const pid = Number(/^e2e-dist-(\d+)$/.exec(old)?.[1]);
    if (pid && pid !== run && !alive(pid)) await rm(join(ARTIFACTS, old), { recursive: true, force: true });
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
