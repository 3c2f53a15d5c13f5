// Vitest global setup: one folder per test run for the app the browser tests build (the first test
// file to need it builds it, the others wait; see test/e2e/harness.ts), removed when the run ends.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT } from '../tools/app';

declare module 'vitest' {
  export interface ProvidedContext {
    appDir: string;
  }
}

export default function setup(project: TestProject) {
  const dir = join(ROOT, 'test-results', `e2e-dist-${process.pid}`);
  project.provide('appDir', dir);
  return () => rm(dir, { recursive: true, force: true });
}
