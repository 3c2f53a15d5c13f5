// The built app served on localhost, for the browser tests and the bench: vite build with model
// folders copied in, then vite preview on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
const VITE = join(ROOT, 'node_modules/vite/bin/vite.js');

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

/** vite build into outDir, then each model's files copied to outDir/models/<name>/. */
export async function buildApp(outDir: string, models: Record<string, string[]>): Promise<void> {
  await runVite(['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn']);
  for (const [name, files] of Object.entries(models)) {
    await mkdir(join(outDir, 'models', name), { recursive: true });
    for (const f of files) await copyFile(f, join(outDir, 'models', name, basename(f)));
  }
}

export interface ServedApp {
  origin: string; // http://localhost:<port>
  stop(): Promise<void>;
}

/** vite preview of a built app on a free localhost port. */
export async function serveApp(outDir: string): Promise<ServedApp> {
  const port = await freePort();
  const args = ['preview', '--outDir', outDir, '--port', String(port), '--strictPort', '--host', '127.0.0.1'];
  const server = spawn(process.execPath, [VITE, ...args], { cwd: ROOT, stdio: 'ignore' });
  const stop = async () => {
    if (server.exitCode != null) return;
    const exited = new Promise((ok) => server.once('exit', ok));
    server.kill('SIGTERM');
    await exited;
  };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, 30_000, server);
  } catch (e) {
    await stop();
    throw e;
  }
  return { origin: `http://localhost:${port}`, stop };
}
