// A model with a brick larger than its canvas unit in the page (the cover-16 fixture: a 16×16 brick on a
// stack of canvas unit 8, as a 64×64 brick on the 32×32 stack): the page opens on the canvas of its
// largest region, the brick panel shows that brick's share there and "not used at this size" on a canvas
// it does not fit, and the images equal the Node CPU engine's, with either engine in the page (the WebGPU
// engine on a canvas of overlapping regions).
import * as ort from 'onnxruntime-web';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuEngine } from '../../src/engine-cpu/engine';
import { maxAbsDiff } from '../../tools/close';
import { COVER_DIR, loadTinyModel } from '../engine/fixture';
import { COVER_URL } from './harness';
import { generate, waitPhase } from './page';
import { useApp } from './use-app';

const env = useApp();
let page: Page;
const SETTINGS = { steps: 3, sampler: 'euler', guidance: 1, batch: 1, seed: 3 } as const;
const query = (extra: Record<string, string | number> = {}) =>
  new URLSearchParams(Object.entries({ model: COVER_URL, ...SETTINGS, ...extra }).map(([k, v]) => [k, String(v)]))
    .toString();

beforeAll(async () => {
  if (env.browser) page = await env.browser.newPage();
});

/** Brick k's row in the panel. */
const brickRow = (k: number) => page.locator('brick-panel').getByTestId(`brick-${k}`);

async function nodeImage(width: number, height: number): Promise<Uint8ClampedArray> {
  ort.env.wasm.numThreads = 1;
  const engine = await CpuEngine.create(await loadTinyModel(COVER_DIR), { ort });
  try {
    const res = await engine.generate({
      ...SETTINGS, width, height, labels: { category: null, style: null, prompt: '' }, shiftTiling: true,
      bricks: [{ enabled: true }, { enabled: true }, { enabled: true }],
    });
    return res.images.images[0];
  } finally {
    engine.destroy();
  }
}

describe('a brick larger than the canvas unit in the page', () => {
  it('opens on the canvas of the largest region, where the large brick runs and has its share', async () => {
    await page.goto(`${env.app.origin}/?${query()}`);
    await waitPhase(page, ['ready']);
    expect(new URL(page.url()).searchParams.get('w')).toBe('16');
    expect(new URL(page.url()).searchParams.get('h')).toBe('16');
    await expect(brickRow(2).innerText()).resolves.toMatch(/16×16 regions.*\d+% of the compute/s);
    const st = await generate(page);
    expect([st.result!.width, st.result!.height]).toEqual([16, 16]);
    expect(maxAbsDiff(Uint8Array.from(st.result!.images[0]), await nodeImage(16, 16))).toBeLessThanOrEqual(2);
  });

  it('on a canvas the brick does not fit, says it is not used, and still lets it be skipped', async () => {
    await page.goto(`${env.app.origin}/?${query({ w: 16, h: 8 })}`);
    await waitPhase(page, ['ready']);
    await expect(brickRow(2).getByTestId('brick-unused-2').innerText()).resolves.toBe('not used at this size');
    const toggle = brickRow(2).getByTestId('brick-toggle-2');
    await toggle.click();
    expect(new URL(page.url()).searchParams.get('bricks')).toBe('110');
    await toggle.click();
    const st = await generate(page);
    expect([st.result!.width, st.result!.height]).toEqual([16, 8]);
    expect(maxAbsDiff(Uint8Array.from(st.result!.images[0]), await nodeImage(16, 8))).toBeLessThanOrEqual(2);
  });

  it('the WebGPU engine draws a canvas the brick covers with overlapping regions, as the CPU engine does', async () => {
    await page.goto(`${env.app.origin}/?${query({ w: 24, h: 16, engine: 'webgpu' })}`);
    await waitPhase(page, ['ready']);
    await expect(page.getByTestId('engine').getAttribute('data-kind')).resolves.toBe('webgpu');
    const st = await generate(page);
    expect([st.result!.width, st.result!.height]).toEqual([24, 16]);
    // f32 in both engines, rounded to 8 bits: 2/255 (as the engines' other page tests).
    expect(maxAbsDiff(Uint8Array.from(st.result!.images[0]), await nodeImage(24, 16))).toBeLessThanOrEqual(2);
  });
});
