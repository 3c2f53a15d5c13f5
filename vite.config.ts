import { defineConfig } from 'vite';

// WGSL sources are imported as strings with Vite's built-in `?raw` suffix
// (`import src from '../../shaders/linear.wgsl?raw'`); Node scripts get the same through
// scripts/raw-loader.mjs (`tsx --import ./scripts/raw-loader.mjs …`).
export default defineConfig({
  build: { target: 'es2022' },
});
