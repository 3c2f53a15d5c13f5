// The CPU engine in the page (a Web Worker running onnxruntime-web's wasm backend): chosen when
// WebGPU is missing, chosen over SwiftShader by default with WebGPU one click (and a URL) away,
// its images equal to the Node engines' within 2/255, and a brick toggled mid-run changes the output.
import * as ort from 'onnxruntime-web';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../../src/engine-cpu/engine';
import { maxAbsDiff } from '../../tools/close';
import { TINY_URL, tinyImageInNode } from './harness';
import { appState, generate, generateTogglingBrick, waitNotice, waitPhase, type AppState } from './page';
import { useApp } from './use-app';

const env = useApp();
const SETTINGS = { w: 16, h: 16, steps: 4, sampler: 'euler', guidance: 1, batch: 1, seed: 7 } as const;
const query = (extra: Record<string, string | number> = {}) =>
  new URLSearchParams(Object.entries({ model: TINY_URL, ...SETTINGS, ...extra }).map(([k, v]) => [k, String(v)])).toString();

const image = (st: AppState, i = 0) => Uint8Array.from(st.result!.images[i]);

/** The CPU engine in Node (onnxruntime-web's Node build) on the same model and settings. */
const nodeCpuImage = () => tinyImageInNode((model) => {
  ort.env.wasm.numThreads = 1;
  return CpuEngine.create(model, { ort });
}, SETTINGS);

const engineKind = (page: Page) => page.getByTestId('engine').getAttribute('data-kind');

describe('the CPU engine in the page', () => {
  let cpuImage: Uint8Array;

  it('generates with the CPU engine when the browser has no WebGPU', async () => {
    const ctx = await env.browser.newContext();
    await ctx.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
    const page = await ctx.newPage();
    await page.goto(`${env.app.origin}/?${query()}`);
    await waitPhase(page, ['ready']);
    expect(await engineKind(page)).toBe('cpu');
    await expect(page.getByTestId('engine-reason').innerText()).resolves.toMatch(/no WebGPU/);
    expect((await waitNotice(page, 'engine')).title).toMatch(/No WebGPU: running the CPU engine/);
    const st = await generate(page);
    cpuImage = image(st);
    expect(st.result!.stepMs.length).toBe(SETTINGS.steps);
    // f32 in both; the browser's and Node's wasm builds of the same runtime may round differently: 2/255.
    expect(maxAbsDiff(cpuImage, await nodeCpuImage())).toBeLessThanOrEqual(2);
    await ctx.close();
  });

  it('picks the CPU engine over SwiftShader by default, and WebGPU when asked (in the URL)', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.origin}/?${query()}`);
    await waitPhase(page, ['ready']);
    expect(await engineKind(page)).toBe('cpu');
    await expect(page.getByTestId('engine-reason').innerText()).resolves.toMatch(/software adapter/);
    const slow = (await appState(page)).notices.find((n) => n.id === 'slow');
    expect(slow?.title).toBe('Software GPU: running the CPU engine instead');
    const onCpu = await generate(page);
    expect(maxAbsDiff(image(onCpu), cpuImage)).toBe(0); // same engine, same seed

    await page.getByTestId('engine-choice').selectOption('webgpu');
    await page.waitForFunction(() => (globalThis as any).__lego.session.engineInfo?.kind === 'webgpu');
    await waitPhase(page, ['ready']);
    expect(await engineKind(page)).toBe('webgpu');
    expect(new URL(page.url()).searchParams.get('engine')).toBe('webgpu');
    const onGpu = await generate(page);
    expect(maxAbsDiff(image(onGpu), cpuImage)).toBeLessThanOrEqual(2); // the two engines agree

    await page.reload(); // the choice is in the URL
    await waitPhase(page, ['ready']);
    expect(await engineKind(page)).toBe('webgpu');
    await page.close();
  });

  it('toggling a brick during a run on the CPU engine changes the output', async () => {
    const page = await env.browser.newPage();
    const sized = { w: 32, h: 32, steps: 12, engine: 'cpu' };
    await page.goto(`${env.app.origin}/?${query(sized)}`);
    await waitPhase(page, ['ready']);
    expect(await engineKind(page)).toBe('cpu');
    const full = await generate(page);
    const { state: toggled, active } = await generateTogglingBrick(page, 2, 2);
    // The worker does not wait for the page: by the time the page has seen step 2 and sent the
    // toggle, the worker may have finished a few more steps (how many depends on the machine's
    // load, as CI showed). So: full stack up to the toggle, brick 2 off from some later step to the
    // end, never back on.
    const from = active.findIndex((a) => a.length === 2);
    expect(active.slice(0, 2)).toEqual([[0, 1, 2], [0, 1, 2]]);
    expect(from, `bricks per step: ${JSON.stringify(active)}`).toBeGreaterThanOrEqual(2);
    expect(active.slice(0, from)).toEqual(Array(from).fill([0, 1, 2]));
    expect(active.slice(from)).toEqual(Array(sized.steps - from).fill([0, 1]));
    expect(maxAbsDiff(image(toggled), image(full))).toBeGreaterThan(10);
    expect(page.url()).toMatch(/bricks=110/);
    await page.close();
  });

  it('keeps the CPU engine for offline use once it has run', async () => {
    const ctx = await env.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${env.app.origin}/?${query({ engine: 'cpu' })}`);
    await waitPhase(page, ['ready']);
    const online = image(await generate(page));
    await page.evaluate(() => navigator.serviceWorker.ready);
    // The engine is ready only once it is kept (test/e2e/offline-race.test.ts): the worker script,
    // onnxruntime-web and its wasm must each be in the cache, whole.
    expect(await page.getByTestId('engine-offline').getAttribute('data-state')).toBe('kept');
    const stored = await page.evaluate(async () => {
      const cache = await caches.open('cpu-engine');
      const keys = await cache.keys();
      return Promise.all([/\/worker[^/]*\.js$/, /\/ort[^/]*\.m?js$/, /\/ort[^/]*\.wasm$/].map(async (re) => {
        const r = keys.find((k) => re.test(new URL(k.url).pathname));
        return r ? (await (await cache.match(r, { ignoreVary: true }))?.arrayBuffer())?.byteLength ?? 0 : 0;
      }));
    });
    expect(stored.every((bytes) => bytes > 0), `cached bytes (worker, ort js, ort wasm): ${stored}`).toBe(true);
    await ctx.setOffline(true);
    try {
      await page.reload();
      await waitPhase(page, ['ready']);
      expect(await engineKind(page)).toBe('cpu');
      expect(maxAbsDiff(image(await generate(page)), online)).toBe(0);
    } finally {
      await ctx.setOffline(false);
      await ctx.close();
    }
  });
});
