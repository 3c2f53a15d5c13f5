// Weights offline: the first visit downloads and stores them; later visits load them from
// IndexedDB with no request for the weights; with the network cut the service worker opens the
// page and the model comes from the cache; a corrupt cache entry is replaced.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { TINY_URL } from './harness';
import { useApp } from './use-app';
import { appState, generate, waitNotice, waitPhase } from './page';

const env = useApp();
let ctx: BrowserContext;
let page: Page;
const weightRequests: string[] = [];
const url = () => `${env.app.origin}/?model=${TINY_URL}&steps=3&sampler=euler&guidance=1&batch=1&seed=3&engine=webgpu`;

beforeAll(async () => {
  if (!env.browser) return; // setup failed: every test fails with its error
  ctx = await env.browser.newContext();
  ctx.on('request', (r) => { if (r.url().endsWith('.safetensors')) weightRequests.push(r.url()); });
  page = await ctx.newPage();
});

/** Waits for the model to be in memory (the engine may still be building). */
async function modelLoaded(p: Page) {
  await p.waitForFunction(() => (globalThis as any).__lego?.session?.model, undefined, { timeout: 60_000 });
  return appState(p);
}

describe('weights offline', () => {
  it('downloads the weights on the first visit and stores them', async () => {
    await page.goto(url());
    const st = await modelLoaded(page);
    expect(st.from).toBe('network');
    expect(weightRequests.length).toBe(1);
    await expect(page.getByTestId('storage').innerText()).resolves.toMatch(/saved for offline use/);
    await page.evaluate(() => navigator.serviceWorker.ready);
  });

  it('loads them from IndexedDB on the next visit, without a request for the weights', async () => {
    weightRequests.length = 0;
    await page.reload();
    const st = await modelLoaded(page);
    expect(st.from).toBe('cache');
    expect(weightRequests).toEqual([]);
    await expect(page.getByTestId('weights-source').innerText()).resolves.toMatch(/offline copy/);
  });

  it('opens with the network cut', async () => {
    await ctx.setOffline(true);
    try {
      await page.reload();
      const st = await modelLoaded(page);
      expect(st.from).toBe('cache');
      expect((await waitNotice(page, 'store0')).text).toMatch(/Offline/);
      await waitPhase(page, ['ready']);
      const done = await generate(page);
      expect(done.result!.images[0].some((v, i) => i % 4 !== 3 && v !== done.result!.images[0][0])).toBe(true);
    } finally {
      await ctx.setOffline(false);
    }
  });

  it('replaces a corrupt cache entry', async () => {
    await page.evaluate(() => new Promise<void>((ok, fail) => {
      const open = indexedDB.open('keyval-store');
      open.onerror = () => fail(open.error);
      open.onsuccess = () => {
        const tx = open.result.transaction('keyval', 'readwrite');
        const store = tx.objectStore('keyval');
        const keys = store.getAllKeys();
        keys.onsuccess = () => {
          const key = (keys.result as string[]).find((k) => k.startsWith('weights/'))!;
          const get = store.get(key);
          get.onsuccess = () => {
            const entry = get.result;
            entry.bytes = entry.bytes.slice();
            entry.bytes[entry.bytes.length >> 1] ^= 0xff;
            store.put(entry, key);
          };
        };
        tx.oncomplete = () => ok();
        tx.onerror = () => fail(tx.error);
      };
    }));
    weightRequests.length = 0;
    await page.reload();
    const st = await modelLoaded(page);
    expect(st.from).toBe('network');
    expect(weightRequests.length).toBe(1);
    expect((await waitNotice(page, 'store0')).text).toMatch(/corrupt/);
    weightRequests.length = 0;
    await page.reload();
    expect((await modelLoaded(page)).from).toBe('cache');
  });

  it('removes the cached model on request', async () => {
    await page.getByTestId('remove-cache').click();
    await waitNotice(page, 'store');
    await expect(page.getByTestId('storage').innerText()).resolves.toMatch(/not saved offline/);
  });
});
