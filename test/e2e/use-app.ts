// Per-file setup for the browser tests: the built app served on localhost and a Chromium with
// WebGPU. A setup failure (no Chromium, build error) fails every test, rather than skipping them.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ServedApp } from '../../tools/app';
import { launchChromium } from '../../tools/chromium';
import { startApp } from './harness';

export function useApp(): { app: ServedApp; browser: Browser } {
  const env = {} as { app: ServedApp; browser: Browser };
  let failure: unknown;
  beforeAll(async () => {
    try {
      env.app = await startApp();
      env.browser = await launchChromium();
    } catch (e) {
      failure = e;
    }
  }, 180_000);
  beforeEach(() => {
    if (failure) throw failure;
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.app?.stop();
  });
  return env;
}
