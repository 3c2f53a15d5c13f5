// What model.json takes from the dataset, in the page: the style picker and the data credits (every style
// the loaded model knows, with the preview image model.json ships for it; a model exported before
// style_info shows just its style names), and the category a prompt's words name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ROOT, TINY_STYLES_URL, TINY_URL } from './harness';
import { maxAbsDiff } from '../../tools/close';
import { generate, waitPhase } from './page';
import { useApp } from './use-app';

const env = useApp();
let page: Page;
const shipped = JSON.parse(readFileSync(join(ROOT, 'public/models/lego-emoji-32/model.json'), 'utf8'));
const open = async (model: string, extra = '') => {
  await page.goto(`${env.app.origin}/?model=${model}&w=16&h=16&steps=2&sampler=euler&guidance=1&batch=1${extra}`);
  await waitPhase(page, ['ready']);
};
/** Each style option: its style name and its image (src, decoded width), from inside the shadow roots. */
const options = () => page.getByTestId('style-option').evaluateAll((els) => els.map((e) => {
  const img = e.querySelector('img');
  return { style: e.getAttribute('data-style'), src: img?.getAttribute('src') ?? null, width: img?.naturalWidth ?? 0 };
}));

beforeAll(async () => {
  if (env.browser) page = await env.browser.newPage();
});

describe('style picker and credits', () => {
  it('shows each style with its real preview image and credits its set', async () => {
    await open(TINY_STYLES_URL);
    const opts = await options();
    expect(opts.map((o) => o.style)).toEqual(['', 'google', 'twitter']);
    for (const o of opts.slice(1)) {
      expect(o.src).toBe(shipped.style_info[o.style!].preview);
      expect(o.width).toBe(32); // the PNG decoded
    }
    const credits = await page.getByTestId('credits').innerText();
    expect(credits).toMatch(/google: Noto Emoji by Google, Apache-2\.0/);
    expect(credits).toMatch(/twitter: Twemoji by Twitter, Inc and other contributors, CC-BY-4\.0/);
    await page.locator('[data-testid="style-option"][data-style="twitter"]').click();
    expect(new URL(page.url()).searchParams.get('style')).toBe('twitter');
  });

  it('loads a model without style_info: its style names, no previews, and it generates', async () => {
    await open(`${TINY_URL}`);
    const opts = await options();
    expect(opts.map((o) => o.style)).toEqual(['', 'google', 'twitter']);
    expect(opts.every((o) => o.src === null)).toBe(true);
    expect(await page.getByTestId('credits').innerText()).toMatch(/names no source for google, twitter/);
    await page.locator('[data-testid="style-option"][data-style="google"]').click();
    expect(new URL(page.url()).searchParams.get('style')).toBe('google');
    const st = await generate(page);
    expect(st.result!.images[0].length).toBe(16 * 16 * 4);
  });
});

describe('the category a prompt names', () => {
  const anyOption = () => page.getByTestId('category').locator('option').first().innerText();
  const image = async () => Uint8Array.from((await generate(page)).result!.images[0]);

  it('is shown in the category picker and sent with the words when no category is picked', async () => {
    await open(TINY_STYLES_URL, '&prompt=cat&seed=4');
    await expect(anyOption()).resolves.toBe('from the prompt: Animals');
    const named = await image();
    await open(TINY_STYLES_URL, '&prompt=cat&seed=4&category=Animals');
    expect(maxAbsDiff(await image(), named)).toBe(0); // the same labels, engine and seed
    await open(TINY_STYLES_URL, '&prompt=cat&seed=4&category=Food');
    expect(maxAbsDiff(await image(), named)).toBeGreaterThan(0); // a picked category overrides it
    await open(TINY_STYLES_URL, '&prompt=red+smiling&seed=4');
    await expect(anyOption()).resolves.toBe('any'); // words that name no category clearly
  });
});
