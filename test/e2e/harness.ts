// Browser-test harness: builds the app, serves it with `vite preview` on a free localhost port with
// the tiny test model at /models/tiny/, and launches Debian's headless Chromium with WebGPU
// (SwiftShader). Missing Chromium is a failure, not a skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-results');
const VITE = join(ROOT, 'node_modules/vite/bin/vite.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const TINY_URL = '/models/tiny/';
/** The tiny model with the shipped model's style_info (previews and credits for its styles). */
export const TINY_STYLES_URL = '/models/tiny-styles/';

/** Runs the project's vite with `args` (build, preview …) and fails with its output. */
export function runVite(args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [VITE, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`vite ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

export async function waitForHttp(url: string, ms: number, server: ChildProcess): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (server.exitCode != null) throw new Error(`vite preview exited with ${server.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

export interface App {
  origin: string; // http://localhost:<port>
  outDir: string;
  stop(): Promise<void>;
}

/** vite build into a fresh folder under test-results/, the tiny model copied in, served by vite preview. */
export async function startApp(): Promise<App> {
  await mkdir(ARTIFACTS, { recursive: true });
  const outDir = await mkdtemp(join(ARTIFACTS, 'e2e-dist-'));
  await runVite(['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn']);
  await mkdir(join(outDir, 'models/tiny'), { recursive: true });
  await mkdir(join(outDir, 'models/tiny-styles'), { recursive: true });
  for (const f of ['model.json', 'weights.safetensors']) {
    await copyFile(join(ROOT, 'test/fixtures/tiny', f), join(outDir, 'models/tiny', f));
  }
  await copyFile(join(ROOT, 'test/fixtures/tiny/weights.safetensors'), join(outDir, 'models/tiny-styles/weights.safetensors'));
  const tiny = JSON.parse(await readFile(join(ROOT, 'test/fixtures/tiny/model.json'), 'utf8'));
  const shipped = JSON.parse(await readFile(join(ROOT, 'public/models/lego-emoji-32/model.json'), 'utf8'));
  await writeFile(join(outDir, 'models/tiny-styles/model.json'), JSON.stringify({ ...tiny, name: 'tiny-styles', style_info: shipped.style_info }));
  const port = await freePort();
  const server = spawn(process.execPath, [VITE, 'preview', '--outDir', outDir, '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
    { cwd: ROOT, stdio: 'ignore' });
  const origin = `http://localhost:${port}`;
  await waitForHttp(`http://127.0.0.1:${port}/`, 30_000, server);
  return {
    origin, outDir,
    stop: async () => {
      if (server.exitCode == null) {
        const exited = new Promise((ok) => server.once('exit', ok));
        server.kill('SIGTERM');
        await exited;
      }
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--host-resolver-rules=MAP localhost 127.0.0.1'];
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

export async function launchBrowser({ webgpu = true } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH. The browser tests need it.`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : [])] });
}
