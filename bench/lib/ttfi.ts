// Time to first image in the built app (vite build + vite preview), headless Chromium:
//  cold: a fresh browser context (empty HTTP cache, IndexedDB and service worker): download +
//        SHA-256 + device + engine + the first generation (pipelines compile on it);
//  warm: the same context reloaded: weights from IndexedDB, app shell from the service worker.
// The app is read through its debug handle window.__lego (phase, download source, result).
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildApp, ROOT, serveApp } from '../../tools/app.ts';

export interface TtfiSettings {
  width: number;
  height: number;
  batch: number;
  steps: number;
  sampler: 'heun' | 'euler';
  cfg: number;
  engine: 'webgpu' | 'cpu'; // the page's engine= setting (auto would pick the CPU engine on SwiftShader)
}

export interface TtfiRun {
  engine?: 'webgpu' | 'cpu';
  kind: 'cold' | 'warm';
  weightsFrom: string | undefined; // 'network' | 'cache'
  readyMs: number; // navigation start → model verified and engine built (Generate enabled)
  firstImageMs: number; // navigation start → first image shown (includes the click)
  generationMs: number; // the app's own generation time (pipelines compile inside it)
}

interface Snapshot {
  phase: string;
  from?: string;
  done: boolean;
  totalMs?: number;
  notices: string[];
}

const snapshot = (page: Page): Promise<Snapshot> => page.evaluate(() => {
  type Session = { phase: string; download?: { from: string }; result?: { totalMs: number }; notices?: { title: string; text: string }[] };
  const s = (globalThis as { __lego?: { session?: Session } }).__lego?.session;
  if (!s) return { phase: 'no-app', done: false, notices: [] };
  return {
    phase: s.phase, from: s.download?.from, done: Boolean(s.result), totalMs: s.result?.totalMs,
    notices: (s.notices ?? []).map((n) => `${n.title}: ${n.text}`),
  };
}).catch(() => ({ phase: 'navigating', done: false, notices: [] }));

async function until(page: Page, what: string, ok: (s: Snapshot) => boolean, timeoutMs: number): Promise<Snapshot> {
  const end = Date.now() + timeoutMs;
  let s: Snapshot = { phase: '?', done: false, notices: [] };
  while (Date.now() < end) {
    s = await snapshot(page);
    if (ok(s)) return s;
    if (s.phase === 'failed') throw new Error(`app failed while waiting for ${what}: ${s.notices.join(' | ')}`);
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out waiting for ${what} (phase ${s.phase}; ${s.notices.join(' | ')})`);
}

async function weightsStored(page: Page, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const stored = await page.evaluate(() => new Promise<boolean>((ok) => {
      const open = indexedDB.open('keyval-store');
      open.onerror = () => ok(false);
      open.onsuccess = () => {
        try {
          const keys = open.result.transaction('keyval', 'readonly').objectStore('keyval').getAllKeys();
          keys.onsuccess = () => ok((keys.result as IDBValidKey[]).some((k) => String(k).startsWith('weights/')));
          keys.onerror = () => ok(false);
        } catch {
          ok(false);
        }
      };
    }));
    if (stored) return;
    await page.waitForTimeout(200);
  }
  throw new Error('the app did not store the weights in IndexedDB');
}

async function firstImage(page: Page, load: () => Promise<unknown>, kind: TtfiRun['kind'], timeoutMs: number): Promise<TtfiRun> {
  const t0 = Date.now();
  await load();
  const ready = await until(page, 'the model to be ready', (s) => s.phase === 'ready', timeoutMs);
  const readyMs = Date.now() - t0;
  await page.getByTestId('generate').click();
  const done = await until(page, 'the first image', (s) => s.done && s.phase === 'ready', timeoutMs);
  return { kind, weightsFrom: ready.from, readyMs, firstImageMs: Date.now() - t0, generationMs: done.totalMs ?? NaN };
}

/** Builds the app into bench/out/app with the model under /models/<name>/, then times a cold and a warm visit. */
export async function timeToFirstImage(browser: Browser, modelDir: string, s: TtfiSettings, log: (m: string) => void,
  timeoutMs = 900_000): Promise<TtfiRun[]> {
  const outDir = join(ROOT, 'bench/out/app');
  log('ttfi: building the app (vite build)…');
  const name = basename(modelDir);
  await buildApp(outDir, { [name]: readdirSync(modelDir).map((f) => join(modelDir, f)) });
  const app = await serveApp(outDir);
  const ctx = await browser.newContext();
  try {
    const q = new URLSearchParams({
      model: `/models/${name}/`, w: String(s.width), h: String(s.height), steps: String(s.steps), sampler: s.sampler,
      guidance: String(s.cfg), batch: String(s.batch), seed: '1', engine: s.engine,
    });
    const url = `${app.origin}/?${q}`;
    const page = await ctx.newPage();
    log('ttfi: cold visit…');
    const cold = await firstImage(page, () => page.goto(url), 'cold', timeoutMs);
    await weightsStored(page, 60_000);
    await page.evaluate(() => navigator.serviceWorker?.ready);
    log('ttfi: warm visit…');
    const warm = await firstImage(page, () => page.reload(), 'warm', timeoutMs);
    return [cold, warm].map((r) => ({ ...r, engine: s.engine }));
  } finally {
    await ctx.close();
    await app.stop();
    await rm(outDir, { recursive: true, force: true });
  }
}
