// Saves docs/screenshot.png (for the README): the built app with the shipped model, after a
// generation. Run: npx tsx test/e2e/screenshot.ts ["w=128&h=32&steps=12&…"] (needs public/models/).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildApp, ROOT, serveApp } from '../../tools/app.ts';
import { launchChromium } from '../../tools/chromium.ts';
import { generate, waitPhase } from './page.ts';

const query = process.argv[2] ?? 'w=32&h=32&steps=12&sampler=euler&guidance=2&batch=4&seed=5&category=Smileys+%26+Emotion';
const dist = join(ROOT, 'test-results/screenshot-dist');
await buildApp(dist, {});
const app = await serveApp(dist);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${app.origin}/?${query}`);
  await waitPhase(page, ['ready'], 120_000);
  const st = await generate(page, 1_200_000);
  await page.evaluate(() => (globalThis as any).__lego.session.dismiss('slow'));
  await page.screenshot({ path: join(ROOT, 'docs/screenshot.png'), fullPage: true });
  console.log(`docs/screenshot.png: ${st.result!.stepMs.length} steps in ${(st.result!.totalMs / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await app.stop();
  await rm(dist, { recursive: true, force: true });
}
