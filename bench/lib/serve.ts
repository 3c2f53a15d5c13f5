// The bench page's build (esbuild, WGSL `?raw` imports as strings) and a static localhost server
// for it, onnxruntime-web's dist files, the ONNX export and the model. Cross-origin isolated
// (COOP/COEP), so ORT's wasm backend may use threads.
import { build, type Plugin } from 'esbuild';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, copyFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { ROOT } from '../../tools/app.ts';


const rawPlugin: Plugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -4)), namespace: 'raw' }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
  },
};

/** bench/page.ts + page.html → outDir. */
export async function buildPage(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'bench/page.ts')], outfile: join(outDir, 'page.js'), bundle: true, format: 'esm',
    target: 'es2022', external: ['onnxruntime-web/webgpu'], plugins: [rawPlugin], logLevel: 'warning', sourcemap: false,
  });
  await copyFile(join(ROOT, 'bench/page.html'), join(outDir, 'page.html'));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.wasm': 'application/wasm', '.map': 'application/json',
};

export interface StaticServer {
  origin: string; // http://localhost:PORT
  close(): Promise<void>;
}

/** Serves each URL prefix from its folder ({'/bench/': dir, …}) on 127.0.0.1, any free port. */
export async function serveStatic(mounts: Record<string, string>): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    const prefix = Object.keys(mounts).find((p) => path.startsWith(p));
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
    if (!prefix) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    const base = resolve(mounts[prefix]);
    const file = normalize(join(base, path.slice(prefix.length)));
    if ((file !== base && !file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as { port: number };
  return {
    origin: `http://localhost:${port}`,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
