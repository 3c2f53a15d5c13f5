// The page explains every failure: no WebGPU, no adapter (when WebGPU was asked for: by default
// the page runs the CPU engine then, test/e2e/cpu-engine.test.ts), a missing model, a link with bad
// settings. Never a blank page.
import { describe, expect, it } from 'vitest';
import { launchChromium } from '../../tools/chromium';
import { TINY_URL } from './harness';
import { useApp } from './use-app';
import { appState, generate, waitNotice, waitPhase } from './page';

const env = useApp();
const WEBGPU = `${TINY_URL}&engine=webgpu`;

describe('errors a person understands', () => {
  it('says what to do when the browser has no WebGPU', async () => {
    const ctx = await env.browser.newContext();
    await ctx.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
    const page = await ctx.newPage();
    await page.goto(`${env.app.origin}/?model=${WEBGPU}`);
    const n = await waitNotice(page, 'gpu');
    expect(n.title).toMatch(/no WebGPU/);
    await expect(page.getByTestId('notice-gpu').innerText()).resolves.toMatch(/Chrome \/ Edge: update to version 113/);
    await ctx.close();
  });

  it('says so when WebGPU has no adapter', async () => {
    const ctx = await env.browser.newContext();
    await ctx.addInitScript(() => { GPU.prototype.requestAdapter = async () => null; });
    const page = await ctx.newPage();
    await page.goto(`${env.app.origin}/?model=${WEBGPU}`);
    expect((await waitNotice(page, 'gpu')).title).toMatch(/No GPU available/);
    await ctx.close();
  });

  it('shows the message in a browser launched without WebGPU flags', async () => {
    const plain = await launchChromium({ webgpu: false });
    try {
      const page = await plain.newPage();
      await page.goto(`${env.app.origin}/?model=${WEBGPU}`);
      expect((await waitNotice(page, 'gpu')).level).toBe('error');
    } finally {
      await plain.close();
    }
  });

  it('says when the model is missing', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.app.origin}/?model=/models/not-trained-yet/`);
    const n = await waitNotice(page, 'model');
    expect(n.text).toMatch(/No model at \/models\/not-trained-yet\//);
    await page.close();
  });

  it('says which settings of a link it cannot use, and runs with the defaults instead', async () => {
    const bad: [string, string][] = [
      ['w', '37'], ['h', 'abc'], ['steps', '99999'], ['sampler', 'ddim'], ['guidance', 'NaN'], ['seed', '-1'],
      ['batch', '1'], ['batch', '2'], ['category', 'Nope'], ['style', '<img src=x onerror=alert(1)>'],
      ['prompt', 'cat '.repeat(2000)], ['bricks', '2'], ['skip', 'x'], ['shift', 'maybe'], ['engine', 'tpu'],
      ['foo', 'bar'],
    ];
    const page = await env.browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await page.goto(`${env.app.origin}/?model=${TINY_URL}&${new URLSearchParams(bad)}`);
    await waitPhase(page, ['ready']);
    const notices = (await appState(page)).notices.filter((n) => n.id.startsWith('url-'));
    const keys = [...new Set(bad.map(([k]) => k))];
    expect(notices.map((n) => n.id).sort()).toEqual(keys.map((k) => `url-${k}`).sort());
    for (const [key, value] of bad.filter(([k]) => k !== 'batch' && k !== 'prompt')) {
      await expect(page.getByTestId(`notice-url-${key}`).innerText()).resolves.toContain(`${key}=${value} `);
    }
    await expect(page.getByTestId('notice-url-batch').innerText()).resolves.toContain('Using the first: 1.');
    await expect(page.getByTestId('notice-url-prompt').innerText()).resolves.toMatch(/over 200\. Using the default: no prompt/);
    // The settings in use, as the page now links them: the defaults (the tiny model's smallest size).
    const used = Object.fromEntries(new URL(page.url()).searchParams);
    expect(used).toEqual({ model: TINY_URL, w: '16', h: '16', steps: '18', sampler: 'heun', guidance: '2', seed: '1',
      batch: '1', bricks: '111' });
    const done = await generate(page);
    expect(done.result!.images.length).toBe(1);
    expect(done.notices.filter((n) => n.level === 'error')).toEqual([]);
    expect(dialogs).toEqual([]);
    await page.close();
  });
});
