import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

// WGSL sources are imported as strings with Vite's built-in `?raw` suffix
// (`import src from '../../shaders/linear.wgsl?raw'`); Node scripts get the same through
// scripts/raw-loader.mjs (`tsx --import ./scripts/raw-loader.mjs …`).
//
// Offline: a Workbox service worker precaches the app shell (HTML, JS, CSS). Model weights are
// not precached: src/store/ keeps them (and model.json) in IndexedDB after the first visit.
export default defineConfig({
  build: { target: 'es2022' },
  plugins: [
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script',
      manifest: false,
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,ico}'],
        globIgnores: ['models/**'],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/models\//],
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
