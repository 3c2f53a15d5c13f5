// Helpers that read the app's state through its debug handle (window.__lego) and wait on it.
import type { Page } from 'playwright-core';

export interface AppState {
  phase: string;
  from?: string;
  notices: { id: string; level: string; title: string; text: string }[];
  step: number;
  result?: { width: number; height: number; images: number[][]; stepMs: number[]; totalMs: number; dispatches: number };
}

/** A JSON snapshot of the session (images as plain arrays when `images` is set). */
export function appState(page: Page, images = false): Promise<AppState> {
  return page.evaluate((withImages) => {
    const s = (globalThis as any).__lego?.session;
    if (!s) return { phase: 'no-app', notices: [], step: 0 };
    const r = s.result;
    return {
      phase: s.phase, from: s.download.from, step: s.run?.step ?? 0,
      notices: s.notices.map((n: any) => ({ id: n.id, level: n.level, title: n.title, text: n.text })),
      result: r && {
        width: r.images.width, height: r.images.height, stepMs: r.stepMs, totalMs: r.totalMs, dispatches: r.dispatches,
        images: withImages ? r.images.images.map((a: Uint8ClampedArray) => Array.from(a)) : [],
      },
    };
  }, images);
}

/** Waits until the session reaches one of the phases; fails early with the notices shown if it fails. */
export async function waitPhase(page: Page, phases: string[], timeout = 90_000): Promise<AppState> {
  const end = Date.now() + timeout;
  let st: AppState = { phase: '?', notices: [], step: 0 };
  while (Date.now() < end) {
    st = await appState(page).catch(() => st);
    if (phases.includes(st.phase)) return st;
    if (st.phase === 'failed') throw new Error(`app failed: ${JSON.stringify(st.notices)}`);
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for phase ${phases.join('|')}; now ${st.phase}, notices ${JSON.stringify(st.notices)}`);
}

export async function waitNotice(page: Page, id: string, timeout = 60_000): Promise<AppState['notices'][number]> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const n = (await appState(page)).notices.find((x) => x.id === id);
    if (n) return n;
    await page.waitForTimeout(100);
  }
  throw new Error(`notice ${id} did not appear: ${JSON.stringify((await appState(page)).notices)}`);
}

/** Presses Generate and waits for the run to end; returns the final state with images. */
export async function generate(page: Page, timeout = 120_000): Promise<AppState> {
  await page.evaluate(() => { (globalThis as any).__lego.session.result = undefined; });
  await page.getByTestId('generate').click();
  await waitPhase(page, ['running', 'ready'], 10_000);
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const st = await appState(page);
    if (st.phase === 'ready' && st.result) return appState(page, true);
    if (st.phase === 'failed') throw new Error(`generation failed: ${JSON.stringify(st.notices)}`);
    await page.waitForTimeout(100);
  }
  throw new Error('generation did not finish');
}

/** Generates while the page's own checkbox switches brick `brick` (0-based index) off as step `step` ends;
 * returns the result and the bricks each step ran (from the page's lego-step events). */
export async function generateTogglingBrick(page: Page, brick: number, step: number): Promise<{ state: AppState; active: number[][] }> {
  await page.evaluate(([brick, step]) => {
    const w = globalThis as any;
    w.__active = [];
    document.querySelector('lego-app')!.addEventListener('lego-step', (e: Event) => {
      const { step: done, active } = (e as CustomEvent).detail;
      w.__active.push(active);
      if (done !== step) return;
      const panel = document.querySelector('lego-app')!.shadowRoot!.querySelector('brick-panel')!;
      (panel.shadowRoot!.querySelector(`[data-testid="brick-toggle-${brick}"]`) as HTMLInputElement).click();
    });
  }, [brick, step]);
  const state = await generate(page);
  return { state, active: await page.evaluate(() => (globalThis as any).__active as number[][]) };
}
