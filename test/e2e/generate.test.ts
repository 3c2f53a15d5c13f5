// Generating in the page: the image matches the Node engine's for the same seed and settings,
// bricks toggle live during a run, the prompt box validates words, a lost device recovers.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { LegoEngine } from '../../src/engine/engine';
import { parseModelJson } from '../../src/model/load';
import { maxAbsDiff } from '../../tools/close';
import { getTestGpu } from '../gpu';
import { ARTIFACTS, ROOT, TINY_URL, tinyImageInNode } from './harness';
import { useApp } from './use-app';
import { median } from '../../src/ui/format';
import { generate, generateTogglingBrick, waitNotice, waitPhase, type AppState } from './page';

const env = useApp();
let page: Page;
// engine=webgpu: on SwiftShader the page would pick the CPU engine (test/e2e/cpu-engine.test.ts).
const SETTINGS = { w: 16, h: 16, steps: 4, sampler: 'euler', guidance: 1, batch: 1, seed: 7, engine: 'webgpu' } as const;
const query = (extra: Record<string, string | number> = {}) =>
  new URLSearchParams(Object.entries({ model: TINY_URL, ...SETTINGS, ...extra }).map(([k, v]) => [k, String(v)])).toString();

beforeAll(async () => {
  if (env.browser) page = await env.browser.newPage(); // else every test fails with the setup error
});

const image = (st: AppState, i = 0) => Uint8Array.from(st.result!.images[i]);


function spread(rgba: Uint8Array): number {
  let lo = 255, hi = 0;
  rgba.forEach((v, i) => { if (i % 4 !== 3) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
  return hi - lo;
}

const TINY_DIR = join(ROOT, 'test/fixtures/tiny');
const tiny = parseModelJson(readFileSync(join(TINY_DIR, 'model.json'), 'utf8'));

/** The Node engine (Dawn on SwiftShader) on the same model and settings. */
const nodeImage = () => tinyImageInNode(async (model) => LegoEngine.create(await getTestGpu(), model), SETTINGS);

let first: AppState;

describe('generating in the browser', () => {
  it('generates an image that is not blank and equals the Node engine\'s', async () => {
    await page.goto(`${env.app.origin}/?${query()}`);
    await waitPhase(page, ['ready']);
    first = await generate(page);
    expect(first.notices.find((n) => n.id === 'slow')?.text).toMatch(/software adapter.*slow/); // SwiftShader
    expect(first.result!.stepMs.length).toBe(SETTINGS.steps);
    const img = image(first);
    expect(img.length).toBe(16 * 16 * 4);
    expect(spread(img)).toBeGreaterThan(30);
    // Both sides run SwiftShader in f32; different builds may round differently: allow 2/255.
    expect(maxAbsDiff(img, await nodeImage())).toBeLessThanOrEqual(2);
    await expect(page.getByTestId('step').innerText()).resolves.toBe(`Step ${SETTINGS.steps} / ${SETTINGS.steps}`);
    await expect(page.getByTestId('download').count()).resolves.toBe(1);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'screenshot.png'), fullPage: true });
  });

  it('keeps every setting in the URL, and the same URL reproduces the image', async () => {
    const url = page.url();
    expect(url).toMatch(/seed=7/);
    expect(url).toMatch(/bricks=111/);
    expect(url).toMatch(/engine=webgpu/);
    await page.goto(url);
    await waitPhase(page, ['ready']);
    expect(maxAbsDiff(image(await generate(page)), image(first))).toBe(0);
  });

  it('downloads a PNG', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    expect(download.suggestedFilename()).toBe(`lego-${SETTINGS.seed}-0.png`);
    const path = join(ARTIFACTS, 'download.png');
    await download.saveAs(path);
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
  });

  it('toggles a brick during a run: the output and the GPU work change', async () => {
    const sized = { w: 32, h: 32, steps: 8 };
    await page.goto(`${env.app.origin}/?${query(sized)}`);
    await waitPhase(page, ['ready']);
    const full = await generate(page);
    // Switch the top brick (the costliest) off through its checkbox as step 2 ends.
    const { state: toggled, active } = await generateTogglingBrick(page, 2, 2);
    expect(active).toEqual([[0, 1, 2], [0, 1, 2], ...Array(sized.steps - 2).fill([0, 1])]);
    expect(maxAbsDiff(image(toggled), image(full))).toBeGreaterThan(10);
    const later = (st: AppState) => median(st.result!.stepMs.slice(2));
    console.log(`ms/step after step 2: all bricks ${later(full).toFixed(1)}, top brick off ${later(toggled).toFixed(1)}`);
    // The top brick's dispatches per evaluation (shaders/brick.wgsl): patch embedding (1), 3 per block
    // (LN + qkv, attention + proj, LN + MLP: its 64-token regions are larger than a 16-row tile) and
    // the final layer (1); skipped on the 6 Euler steps after step 2. (Every brick's adaLN is one
    // dispatch for all bricks.)
    const { depth } = tiny.architecture.bricks[2];
    expect(full.result!.dispatches - toggled.result!.dispatches).toBe((sized.steps - 2) * (1 + 3 * depth + 1));
    expect(page.url()).toMatch(/bricks=110/);
    await expect(page.getByTestId('brick-summary').innerText()).resolves.toMatch(/saves \d+%/);
  });

  it('validates prompt words: unknown ones are reported with suggestions, never dropped', async () => {
    await page.goto(`${env.app.origin}/?${query()}`);
    await waitPhase(page, ['ready']);
    const input = page.getByTestId('prompt-input');
    await input.fill('hea');
    await expect(page.getByTestId('completions').innerText()).resolves.toMatch(/heart/);
    await input.press('Enter');
    await input.pressSequentially('the smilng ');
    const chips = await page.getByTestId('chip').evaluateAll((els) => els.map((e) => e.getAttribute('data-word')));
    expect(chips).toEqual(['heart', 'smilng']); // "the" is a stop word: said so, not a chip
    await expect(page.getByTestId('unknown-word').innerText()).resolves.toMatch(/does not know “smilng”/);
    await page.getByTestId('generate').click();
    expect((await waitNotice(page, 'prompt')).text).toMatch(/unknown word "smilng" \(did you mean "smiling"\?\)/);
    await page.getByTestId('suggestion').first().click();
    await expect(page.getByTestId('unknown-word').count()).resolves.toBe(0);
    expect(new URL(page.url()).searchParams.get('prompt')).toBe('heart smiling');
    const worded = await generate(page);
    expect(maxAbsDiff(image(worded), image(first))).toBeGreaterThan(0);
  });

  it('cancels a run', async () => {
    await page.goto(`${env.app.origin}/?${query({ steps: 30 })}`);
    await waitPhase(page, ['ready']);
    await page.getByTestId('generate').click();
    await page.waitForFunction(() => (globalThis as any).__lego.session.run?.step >= 1);
    await page.getByTestId('preview').getByTestId('image').waitFor(); // the live preview of step 1
    await page.getByTestId('cancel').click();
    expect((await waitNotice(page, 'run')).title).toBe('Cancelled');
    expect((await waitPhase(page, ['ready'])).step).toBeLessThan(30);
  });

  it('recovers from a lost device and generates again', async () => {
    await page.goto(`${env.app.origin}/?${query()}`);
    await waitPhase(page, ['ready']);
    await page.evaluate(() => (globalThis as any).__lego.session.gpu.device.destroy());
    await waitNotice(page, 'lost'); // a warning at first; recovery can replace it before the poll sees it
    const st = await waitPhase(page, ['ready']);
    expect(st.notices.find((n) => n.id === 'lost')?.title).toBe('Recovered from a GPU reset');
    expect(maxAbsDiff(image(await generate(page)), image(first))).toBe(0);
  });

  it('recovers when the device is lost in the middle of a run', async () => {
    await page.evaluate(() => {
      const w = globalThis as any;
      document.querySelector('lego-app')!.addEventListener('lego-step', (e: Event) => {
        if ((e as CustomEvent).detail.step === 2 && !w.__destroyed) {
          w.__destroyed = true;
          w.__lego.session.gpu.device.destroy();
        }
      });
    });
    await page.getByTestId('generate').click();
    await waitNotice(page, 'lost');
    const st = await waitPhase(page, ['ready']);
    expect(st.notices.find((n) => n.id === 'lost')?.title).toBe('Recovered from a GPU reset');
    expect(maxAbsDiff(image(await generate(page)), image(first))).toBe(0);
  });
});
