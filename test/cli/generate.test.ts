// The Node CLI as a user runs it: a PNG grid that decodes to the engine's images, identical bytes
// for the same seed, and clear errors for bad flags.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { LegoEngine } from '../../src/engine/engine';
import { getTestGpu } from '../gpu';
import { loadTinyModel } from '../engine/fixture';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'lego-cli-'));
// As `npm run generate` runs it (tsx and the ?raw hook), without npx's start-up second.
const CLI = ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/generate.ts', '--model', 'test/fixtures/tiny'];
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => run(process.execPath, [...CLI, ...args], { env });
// No Vulkan driver: the CLI must reject bad arguments before it looks for a device.
const NO_GPU = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' };
const args = ['--size', '32x16', '--steps', '3', '--batch', '2', '--seed', '5', '--guidance', '1.5', '--category', 'Food', '--style', 'twitter', '--prompt', 'red heart', '--skip', '3:0.5-1.0'];

describe('npm run generate', () => {
  it('writes a PNG grid equal to the engine images, the same bytes for the same seed', async () => {
    const a = await cli([...args, '--out', join(dir, 'a.png')]);
    await cli([...args, '--out', join(dir, 'b.png')]);
    const bytes = readFileSync(join(dir, 'a.png'));
    expect(bytes.equals(readFileSync(join(dir, 'b.png')))).toBe(true);
    expect(a.stdout).toMatch(/ms\/step/);
    expect(a.stdout).toMatch(/brick 3 \(region 16, patch 2, depth 2\)/);
    expect(a.stderr).toMatch(/step 3\/3/);
    const png = PNG.sync.read(bytes);
    expect([png.width, png.height]).toEqual([2 * 32 + 2, 16]); // two images side by side, 2-pixel gutter
    const engine = await LegoEngine.create(await getTestGpu(), await loadTinyModel());
    const ref = await engine.generate({
      width: 32, height: 16, steps: 3, batch: 2, seed: 5, guidance: 1.5, sampler: 'heun', shiftTiling: true,
      labels: { category: 'Food', style: 'twitter', prompt: 'red heart' },
      bricks: [{ enabled: true }, { enabled: true }, { enabled: true, skip: [0.5, 1] }],
    });
    for (let b = 0; b < 2; b++) {
      for (let y = 0; y < 16; y++) {
        const row = png.data.subarray((y * png.width + b * 34) * 4, (y * png.width + b * 34 + 32) * 4);
        expect(Buffer.from(row).equals(Buffer.from(ref.images.images[b].subarray(y * 128, (y + 1) * 128)))).toBe(true);
      }
    }
  });

  it('--engine cpu draws the same images as the WebGPU engine, within 2/255, for the same seed', async () => {
    const [gpu, cpu] = [join(dir, 'gpu.png'), join(dir, 'cpu.png')];
    await cli([...args, '--engine', 'webgpu', '--out', gpu]);
    const res = await cli([...args, '--engine', 'cpu', '--out', cpu]);
    expect(res.stderr).toMatch(/on the CPU \(onnxruntime-web wasm\)/);
    const [a, b] = [PNG.sync.read(readFileSync(gpu)), PNG.sync.read(readFileSync(cpu))];
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
    expect(worst).toBeLessThanOrEqual(2);
  });

  it.each([
    [['--engine', 'tpu'], /--engine "tpu": expected webgpu or cpu/],
    [['--size', '24x16'], /width 24 is not a valid canvas size: use multiples of 16/],
    [['--skip', '4:0.5-1.0'], /BRICK in 1\.\.3/],
    [['--bricks', '0,1'], /bricks are numbered 1–3/],
    [['--prompt', 'smilng cat'], /unknown word "smilng" \(did you mean "smiling"\?\)/],
    [['--steps', 'many'], /--steps must be an integer/],
    [['--steps', '65'], /steps must be an integer in 1–64, got 65/],
    [['--guidance', '11'], /guidance must be a number in 0–10, got 11/],
    [['--style', 'comic'], /--style "comic": model tiny knows "google", "twitter"/],
    [['--category', 'Plants'], /--category "Plants": model tiny knows "Animals", "Food", "Flags"/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--class', 'Food'], /Unknown option '--class'/],
    [['--cfg', '2'], /Unknown option '--cfg'/],
  ])('rejects %j with a clear message, before looking for a GPU', async (bad, message) => {
    const err = await cli([...bad, '--out', join(dir, 'bad.png')], NO_GPU).then(() => null, (e) => e);
    expect(err?.code).toBe(2);
    expect(err.stderr).toMatch(message);
  });
});
