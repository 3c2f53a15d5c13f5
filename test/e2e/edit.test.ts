// Starting from an image in the page, with both engines: a dropped PNG becomes the start image as the
// dataset would make it and is restyled as the Node engine restyles it; a mask painted with the mouse
// (brush, eraser) and with touch is repainted with every other pixel kept; Edit on a result; pasted,
// JPEG and SVG files; and every bad input (not an image, a 20,000×20,000 PNG, animated PNG and GIF,
// strength out of range in the link) named in a notice with the start image and mask left as they were.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../../src/engine-cpu/engine';
import { LegoEngine } from '../../src/engine/engine';
import { imageFromRgba } from '../../src/engine/start';
import type { Engine } from '../../src/engine/types';
import type { LoadedModel } from '../../src/model/load';
import { maxAbsDiff } from '../../tools/close';
import { getTestGpu } from '../gpu';
import { datasetDownsample, gif, hugePng, animatedPng, RED_SQUARE_SVG } from '../images';
import { TINY_URL, tinyImageInNode } from './harness';
import { appState, generate, waitNotice, waitPhase, type AppState } from './page';
import { useApp } from './use-app';

const env = useApp();
const SETTINGS = { w: 32, h: 32, steps: 4, sampler: 'euler', guidance: 1, batch: 1, seed: 7 } as const;
const CAT = 'node_modules/emoji-datasource-google/img/google/64/1f431.png';
const query = (extra: Record<string, string | number> = {}) =>
  new URLSearchParams(Object.entries({ model: TINY_URL, ...SETTINGS, ...extra }).map(([k, v]) => [k, String(v)])).toString();
const image = (st: AppState, i = 0) => Uint8Array.from(st.result!.images[i]);

const NODE: Record<'cpu' | 'webgpu', (m: LoadedModel) => Promise<Engine>> = {
  cpu: (m) => {
    ort.env.wasm.numThreads = 1;
    return CpuEngine.create(m, { ort });
  },
  webgpu: async (m) => LegoEngine.create(await getTestGpu(), m),
};

interface Start { name: string; width: number; height: number; image: number[]; mask: number[] | null }

/** The page's start image and mask (null: none). */
const startOf = (page: Page): Promise<Start | null> => page.evaluate(() => {
  const s = (globalThis as any).__lego.app.start;
  return s && { name: s.source.name, width: s.width, height: s.height, image: Array.from(s.image as Uint8ClampedArray),
    mask: s.mask && Array.from(s.mask as Float32Array) };
});

/** Drops (or pastes) a file on the page as a person would, through a DataTransfer. */
async function dropFile(page: Page, name: string, data: Buffer | string, how: 'drop' | 'paste' = 'drop'): Promise<void> {
  await page.evaluate(({ name, b64, how }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    const target = document.querySelector('lego-app')!.shadowRoot!.querySelector('edit-panel')!;
    const init = { bubbles: true, composed: true, cancelable: true };
    if (how === 'paste') document.body.dispatchEvent(new ClipboardEvent('paste', { ...init, clipboardData: dt }));
    else for (const type of ['dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { ...init, dataTransfer: dt }));
  }, { name, b64: Buffer.from(data).toString('base64'), how });
}

async function dropAndWait(page: Page, name: string, data: Buffer | string, how: 'drop' | 'paste' = 'drop'): Promise<Start> {
  await dropFile(page, name, data, how);
  await page.waitForFunction((n) => (globalThis as any).__lego.app.start?.source.name === n, name);
  return (await startOf(page))!;
}

/** A stroke over the mask canvas from (x0, y0) to (x1, y1), in canvas pixels, with the mouse. */
async function stroke(page: Page, [x0, y0]: [number, number], [x1, y1]: [number, number]): Promise<void> {
  const box = (await page.getByTestId('mask-canvas').boundingBox())!;
  const at = (x: number, y: number) => [box.x + (x / SETTINGS.w) * box.width, box.y + (y / SETTINGS.h) * box.height] as const;
  await page.mouse.move(...at(x0, y0));
  await page.mouse.down();
  await page.mouse.move(...at(x1, y1), { steps: 12 });
  await page.mouse.up();
}

const cat = () => readFileSync(CAT);

describe.each(['cpu', 'webgpu'] as const)('editing in the page (%s engine)', (engine) => {
  it('a dropped PNG is the dataset\'s image of it; it is restyled as the Node engine restyles it', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.origin}/?${query({ engine })}`);
    await waitPhase(page, ['ready']);
    const start = await dropAndWait(page, '1f431.png', cat());
    // the browser decodes (and un-premultiplies) the PNG itself: ≤ 2/255 from the dataset's recipe
    expect(maxAbsDiff(start.image, datasetDownsample(PNG.sync.read(cat()).data, 32, 32, 2))).toBeLessThanOrEqual(2);
    await page.getByTestId('strength').fill('75');
    await expect(page.getByTestId('strength-steps').innerText()).resolves.toMatch(/last 3 of 4 steps/);
    expect(new URL(page.url()).searchParams.get('strength')).toBe('75');
    const st = await generate(page);
    expect(st.result!.stepMs).toHaveLength(3);
    const node = await tinyImageInNode(NODE[engine], SETTINGS,
      { image: imageFromRgba(start.image, 32, 32), strength: 0.75 });
    expect(maxAbsDiff(image(st), node)).toBeLessThanOrEqual(2); // f32 both; the browser's builds may round differently
    const before = await page.getByTestId('before').getByTestId('image').count();
    expect(before).toBe(1);
    await expect(page.getByTestId('results').locator('h3').innerText()).resolves.toMatch(/^After/);
    await page.getByTestId('strength').fill('0');
    expect(maxAbsDiff(image(await generate(page)), Uint8Array.from(start.image))).toBe(0); // 0%: the image itself
    await page.close();
  });

  it('paints a mask with the mouse (brush, then eraser) and repaints only under it', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.origin}/?${query({ engine, strength: 100 })}`);
    await waitPhase(page, ['ready']);
    const start = await dropAndWait(page, '1f431.png', cat());
    await stroke(page, [4, 16], [28, 16]); // brush: a band across the middle
    const brushed = (await startOf(page))!.mask!;
    await page.getByTestId('tool-eraser').check();
    await stroke(page, [2, 16], [14, 16]); // eraser over its left half
    const mask = (await startOf(page))!.mask!;
    const at = (m: number[], x: number, y: number) => m[y * 32 + x];
    expect([at(brushed, 8, 16), at(brushed, 24, 16), at(brushed, 16, 4)]).toEqual([1, 1, 0]);
    expect([at(mask, 8, 16), at(mask, 24, 16)]).toEqual([0, 1]);
    await expect(page.getByTestId('edit-mode').innerText()).resolves.toMatch(/Repaint/);
    const st = await generate(page);
    const out = image(st);
    let changed = 0;
    for (let p = 0; p < 32 * 32; p++) {
      for (let c = 0; c < 3; c++) {
        if (mask[p] === 0) expect(out[4 * p + c], `pixel ${p}`).toBe(start.image[4 * p + c]);
        else changed += Number(out[4 * p + c] !== start.image[4 * p + c]);
      }
    }
    expect(changed).toBeGreaterThan(0);
    await page.close();
  });

  it('Edit under a result makes it the start image', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.origin}/?${query({ engine, strength: 40 })}`);
    await waitPhase(page, ['ready']);
    const first = await generate(page);
    await page.getByTestId('results').getByTestId('edit').click();
    await page.waitForFunction(() => (globalThis as any).__lego.app.start?.source.name === 'result 1 (seed 7)');
    expect((await startOf(page))!.image).toEqual(Array.from(image(first)));
    const again = await generate(page);
    expect(again.result!.stepMs).toHaveLength(2); // 40% of 4 steps
    expect(maxAbsDiff(image(again), image(first))).toBeGreaterThan(0);
    await page.close();
  });
});

describe('start images in the page', () => {
  it('paints with touch (pointer events), and keeps the mask through a change of canvas size', async () => {
    const ctx = await env.browser.newContext({ hasTouch: true });
    const page = await ctx.newPage();
    await page.goto(`${env.app.origin}/?${query({ engine: 'cpu' })}`);
    await waitPhase(page, ['ready']);
    await dropAndWait(page, '1f431.png', cat());
    const box = (await page.getByTestId('mask-canvas').boundingBox())!;
    const cdp = await ctx.newCDPSession(page);
    const y = box.y + box.height / 2;
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', x?: number) => cdp.send('Input.dispatchTouchEvent', {
      type, touchPoints: x === undefined ? [] : [{ x, y }],
    });
    await touch('touchStart', box.x + 0.2 * box.width);
    for (let i = 1; i <= 10; i++) await touch('touchMove', box.x + (0.2 + 0.06 * i) * box.width);
    await touch('touchEnd');
    const mask = (await startOf(page))!.mask!;
    expect([mask[16 * 32 + 8], mask[16 * 32 + 20], mask[4 * 32 + 16]]).toEqual([1, 1, 0]);
    await page.getByTestId('width').fill('3'); // 64 px: the mask is scaled to the new canvas, not lost
    await page.waitForFunction(() => (globalThis as any).__lego.app.start?.width === 64);
    const wide = (await startOf(page))!;
    expect(wide.mask![16 * 64 + 40]).toBe(1);
    expect(wide.mask!.reduce((a, b) => a + b, 0)).toBe(2 * mask.reduce((a, b) => a + b, 0));
    await ctx.close();
  });

  it('takes pasted PNGs, JPEGs (decoded by the browser) and SVGs', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.origin}/?${query({ engine: 'cpu' })}`);
    await waitPhase(page, ['ready']);
    expect((await dropAndWait(page, 'cat.png', cat(), 'paste')).width).toBe(32);
    const svg = await dropAndWait(page, 'square.svg', RED_SQUARE_SVG);
    for (let p = 0; p < 32 * 32; p++) { // rendered at 4×, area-resized: the square covers pixels 8–23 exactly
      const red = p % 32 >= 8 && p % 32 < 24 && p >= 8 * 32 && p < 24 * 32;
      expect(svg.image.slice(4 * p, 4 * p + 4), `pixel ${p}`).toEqual(red ? [255, 0, 0, 255] : [255, 255, 255, 255]);
    }
    // a JPEG made by the browser itself from a flat orange canvas
    const jpeg = await page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = c.height = 48;
      const g = c.getContext('2d')!;
      g.fillStyle = 'rgb(240, 130, 20)';
      g.fillRect(0, 0, 48, 48);
      const blob = await new Promise<Blob>((r) => c.toBlob((b) => r(b!), 'image/jpeg', 0.95));
      return btoa(String.fromCharCode(...new Uint8Array(await blob.arrayBuffer())));
    });
    const photo = await dropAndWait(page, 'photo.jpg', Buffer.from(jpeg, 'base64'));
    expect(maxAbsDiff(photo.image.slice(0, 3), [240, 130, 20])).toBeLessThanOrEqual(3); // JPEG is lossy
    await page.close();
  });

  it('names every bad input and leaves the start image and its mask as they were', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.origin}/?${query({ engine: 'cpu', strength: 150 })}`);
    await waitPhase(page, ['ready']);
    expect((await waitNotice(page, 'url-strength')).text)
      .toBe('strength=150 is not a whole number from 0 to 100. Using the default: 50.');
    await dropAndWait(page, '1f431.png', cat());
    await expect(page.getByTestId('strength').inputValue()).resolves.toBe('50');
    await stroke(page, [4, 16], [28, 16]);
    const before = await startOf(page);
    for (const [name, data, message] of [
      ['notes.txt', 'these are my notes\n', /notes\.txt is not a PNG, JPEG or SVG image \(it starts with the text "these are my not"\)/],
      ['huge.png', hugePng(), /huge\.png is 20,000×20,000 pixels, too large to decode here/],
      ['moving.png', animatedPng(), /moving\.png is an animated PNG \(APNG, 2 frames\): use a still image/],
      ['moving.gif', gif(), /moving\.gif is an animated GIF \(2 frames\)/],
      ['broken.png', cat().subarray(0, 200), /broken\.png could not be decoded as PNG .*the file is damaged/],
    ] as const) {
      await page.evaluate(() => (globalThis as any).__lego.session.dismiss('start'));
      await dropFile(page, name, data);
      const n = await waitNotice(page, 'start');
      expect(n.title).toBe('This file cannot be the start image');
      expect(n.text).toMatch(message);
      expect(n.text).toMatch(/Nothing on the page changed\.$/);
      expect(await startOf(page)).toEqual(before);
    }
    expect((await appState(page)).phase).toBe('ready');
    await page.close();
  });
});
