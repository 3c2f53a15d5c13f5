import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { CPU_ENGINE_CACHE, CPU_ENGINE_FILES } from './src/engine-cpu/offline.ts';

// WGSL sources are imported as strings with Vite's built-in `?raw` suffix
// (`import src from '../../shaders/linear.wgsl?raw'`); Node scripts get the same through
// scripts/raw-loader.mjs (`tsx --import ./scripts/raw-loader.mjs …`).
//
// Offline: a Workbox service worker precaches the app shell (HTML, JS, CSS). Model weights are
// not precached: src/store/ keeps them (and model.json) in IndexedDB after the first visit.
// The CPU engine (a worker with onnxruntime-web and its wasm) is not precached either, so a person
// with a GPU never downloads it; when it runs, the service worker caches it for offline use.
//
// Cross-origin isolation (COOP + COEP) lets the CPU engine run multi-threaded wasm
// (SharedArrayBuffer); static hosts need the same two headers (README "Hosting").
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  build: { target: 'es2022' },
  worker: { format: 'es' },
  // served from node_modules as is in dev, so that its wasm sits next to it (import.meta.url)
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  plugins: [
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script',
      manifest: false,
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,ico}'],
        globIgnores: ['models/**', 'assets/worker-*', 'assets/ort*'],
        runtimeCaching: [{
          urlPattern: CPU_ENGINE_FILES,
          handler: 'CacheFirst',
          // ignoreVary: module scripts are requested with an Origin header that the stored copies lack
          options: { cacheName: CPU_ENGINE_CACHE, expiration: { maxEntries: 16 }, matchOptions: { ignoreVary: true } },
        }],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/models\//],
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
