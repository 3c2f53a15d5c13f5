// The page explains every failure: no WebGPU, no adapter (when WebGPU was asked for: by default
// the page runs the CPU engine then, test/e2e/cpu-engine.test.ts), a missing model. Never a blank page.
import { describe, expect, it } from 'vitest';
import { launchChromium } from '../../tools/chromium';
import { TINY_URL } from './harness';
import { useApp } from './use-app';
import { waitNotice } from './page';

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
});
