// Headless Debian Chromium with WebGPU on SwiftShader (the adapter Dawn uses in Node), for the
// browser tests and the bench. Missing Chromium is an error, never a skip.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const BASE_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--host-resolver-rules=MAP localhost 127.0.0.1',
  // A hidden tab must not be throttled while it computes.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
];
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

export async function launchChromium({ webgpu = true } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) ` +
      'or set CHROMIUM_PATH');
  }
  const args = [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : [])];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}
