// The offline cache race: the CPU engine's files reach the offline cache through two writers, the
// service worker (the requests it sees) and the page (a copy of what the engine loaded). On a first
// visit the service worker may take control only after the engine's worker has loaded its files,
// so the page's copy is the only one; a reload with the network gone must still find the engine.
import { describe, expect, it } from 'vitest';
import { TINY_URL } from './harness';
import { generate, waitPhase } from './page';
import { useApp } from './use-app';

const env = useApp();
const QUERY = `model=${TINY_URL}&w=16&h=16&steps=2&sampler=euler&guidance=1&batch=1&seed=5&engine=cpu`;
const ENGINE_FILE = /\/assets\/(worker|ort)[^/]*\.(js|mjs|wasm)$/;
/** A slow network for the page's copies of the engine's files (fetched again from the page, not by the engine). */
const COPY_LATENCY_MS = 2000;

describe('the CPU engine offline on a first visit', () => {
  it('starts offline after a reload right after its first run', async () => {
    const ctx = await env.browser.newContext();
    // The service worker registers only when the test says (first load only: later loads are controlled).
    await ctx.addInitScript(() => {
      if (navigator.serviceWorker.controller) return;
      const register = ServiceWorkerContainer.prototype.register;
      ServiceWorkerContainer.prototype.register = function (...args) {
        return new Promise((ok) => {
          (globalThis as { registerSw?: () => void }).registerSw = () => ok(register.apply(this, args));
        });
      };
    });
    await ctx.route(ENGINE_FILE, async (route) => {
      const r = route.request();
      const fromPage = r.resourceType() === 'fetch' && !/\/assets\//.test(r.headers().referer ?? '');
      if (fromPage) await new Promise((ok) => setTimeout(ok, COPY_LATENCY_MS));
      await route.continue().catch(() => undefined); // the page may be gone by then
    });
    const page = await ctx.newPage();
    try {
      await page.goto(`${env.app.origin}/?${QUERY}`);
      await waitPhase(page, ['ready']);
      // The engine's files came from the network; now the service worker takes over the page.
      await page.waitForFunction(() => (globalThis as { registerSw?: () => void }).registerSw);
      await page.evaluate(async () => {
        (globalThis as unknown as { registerSw: () => void }).registerSw();
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) {
          await new Promise((ok) => navigator.serviceWorker.addEventListener('controllerchange', ok, { once: true }));
        }
      });
      expect(await page.getByTestId('engine-offline').getAttribute('data-state')).toBe('kept');
      const online = await generate(page);
      await ctx.setOffline(true);
      await page.reload();
      await waitPhase(page, ['ready'], 30_000);
      expect(await page.getByTestId('engine').getAttribute('data-kind')).toBe('cpu');
      expect((await generate(page)).result!.images[0]).toEqual(online.result!.images[0]);
    } finally {
      await ctx.close();
    }
  });
});
