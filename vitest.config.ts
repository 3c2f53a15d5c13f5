import { defineConfig, mergeConfig } from 'vitest/config';
import viteConfig from './vite.config.ts';

export default mergeConfig(viteConfig, defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup-gpu.ts'],
    globalSetup: ['test/app-dir.ts'],
    // SwiftShader runs compute on the CPU: GPU tests take seconds, not milliseconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}));
