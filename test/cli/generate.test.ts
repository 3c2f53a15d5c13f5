// The Node CLI as a user runs it: a PNG grid that decodes to the engine's images, identical bytes
// for the same seed, and clear errors for bad flags; start images and masks from PNG and SVG files
// (strength 0 gives the image the dataset would make of the file), and bad image files named.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { LegoEngine } from '../../src/engine/engine';
import { getTestGpu } from '../gpu';
import { loadTinyModel } from '../engine/fixture';
import { gif, animatedPng, datasetDownsample, hugePng, pngFile, RED_SQUARE_SVG } from '../images';
import { maxAbsDiff } from '../../tools/close';

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

describe('npm run generate from a start image', () => {
  const CAT = 'node_modules/emoji-datasource-google/img/google/64/1f431.png';
  const file = (name: string, data: string | Buffer) => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };
  const edit = ['--size', '32x32', '--steps', '3', '--seed', '9', '--guidance', '2', '--style', 'twitter', '--engine', 'cpu'];
  const image = (path: string) => PNG.sync.read(readFileSync(path));
  // 1 over a 12×12 square, 0 elsewhere
  const inMask = (p: number) => p % 32 >= 10 && p % 32 < 22 && p >= 10 * 32 && p < 22 * 32;
  const mask = new Uint8Array(4 * 32 * 32).map((_, i) => (i % 4 === 3 || inMask(i >> 2) ? 255 : 0));

  it('strength 0 writes the start image: the PNG composited on white and area-resized as the dataset does', async () => {
    const res = await cli([...edit, '--init-image', CAT, '--strength', '0', '--out', join(dir, 's0.png')], NO_GPU);
    expect(res.stderr).toMatch(/from .*1f431\.png at strength 0%: the last 0 of 3 steps/);
    const cat = image(CAT), out = image(join(dir, 's0.png'));
    // ties of the 2×2 means may round the other way (test/image/image.test.ts): ≤ 1/255
    expect(maxAbsDiff(out.data, datasetDownsample(cat.data, 32, 32, 2))).toBeLessThanOrEqual(1);
  });

  it('an SVG is rendered at 4× the canvas and area-resized', async () => {
    await cli([...edit, '--init-image', file('square.svg', RED_SQUARE_SVG), '--strength', '0%', '--out', join(dir, 'svg.png')],
      NO_GPU);
    const out = image(join(dir, 'svg.png'));
    for (let p = 0; p < 32 * 32; p++) { // the square covers canvas pixels 8–23 exactly
      const red = p % 32 >= 8 && p % 32 < 24 && p >= 8 * 32 && p < 24 * 32;
      expect([...out.data.subarray(4 * p, 4 * p + 4)], `pixel ${p}`).toEqual(red ? [255, 0, 0, 255] : [255, 255, 255, 255]);
    }
  });

  it('a JPEG is decoded and fitted like the other formats', async () => {
    const orange = new Uint8Array(4 * 48 * 48).map((_, i) => [240, 130, 20, 255][i % 4]);
    const photo = jpeg.encode({ data: orange, width: 48, height: 48 }, 95).data;
    await cli([...edit, '--init-image', file('photo.jpg', photo), '--strength', '0%', '--out', join(dir, 'jpg.png')],
      NO_GPU);
    const out = image(join(dir, 'jpg.png'));
    for (let p = 0; p < 32 * 32; p++) { // JPEG is lossy: a flat colour comes back within a few levels
      expect(maxAbsDiff(out.data.subarray(4 * p, 4 * p + 3), [240, 130, 20]), `pixel ${p}`).toBeLessThanOrEqual(3);
    }
  });

  it('--mask repaints: unmasked pixels stay as they were, and the engines agree within 2/255', async () => {
    const maskPath = file('mask.png', pngFile(mask, 32, 32));
    const start = image(join(dir, 's0.png')); // the start image itself (strength 0 above)
    const outs = [];
    for (const engine of ['cpu', 'webgpu']) {
      const out = join(dir, `repaint-${engine}.png`);
      const res = await cli([...edit, '--engine', engine, '--init-image', CAT, '--strength', '100%', '--mask', maskPath,
        '--out', out]);
      expect(res.stderr).toMatch(/the last 3 of 3 steps, redrawing the .*mask\.png mask/);
      outs.push(image(out));
    }
    for (const out of outs) {
      let changed = 0;
      for (let p = 0; p < 32 * 32; p++) {
        for (let c = 0; c < 3; c++) {
          if (!inMask(p)) expect(out.data[4 * p + c], `pixel ${p}`).toBe(start.data[4 * p + c]);
          else changed += Number(out.data[4 * p + c] !== start.data[4 * p + c]);
        }
      }
      expect(changed).toBeGreaterThan(3 * 144 / 2);
    }
    expect(maxAbsDiff(outs[0].data, outs[1].data)).toBeLessThanOrEqual(2);
  });

  it.each([
    ['notes.txt', 'not an image\n', /notes\.txt is not a PNG, JPEG or SVG image \(it starts with the text "not an image"\)/],
    ['huge.png', hugePng(), /huge\.png is 20,000×20,000 pixels, too large to decode here/],
    ['moving.png', animatedPng(), /moving\.png is an animated PNG \(APNG, 2 frames\): use a still image/],
    ['moving.gif', gif(), /moving\.gif is an animated GIF \(2 frames\)/],
    ['photo.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 32, 0, 32, 3]), /photo\.jpg is not a readable JPEG/],
  ])('rejects --init-image %s, naming the problem, before looking for a GPU', async (name, data, message) => {
    const err = await cli([...edit, '--engine', 'webgpu', '--init-image', file(name, data), '--out', join(dir, 'bad.png')],
      NO_GPU).then(() => null, (e) => e);
    expect(err?.code).toBe(2);
    expect(err.stderr).toMatch(message);
  });

  it.each([
    [['--strength', '1.5'], /--strength "1\.5" must be in 0–1 or 0–100%/],
    [['--strength', '150%'], /--strength "150%" must be in 0–1 or 0–100%/],
    [['--strength', 'half'], /--strength "half" must be in 0–1 or 0–100%/],
    [['--mask', 'small'], /small\.png is 16×16 pixels, the canvas is 32×32: a mask must have the canvas's size/],
    [['--mask', 'missing'], /--mask .*missing\.png cannot be read: ENOENT/],
  ])('rejects %j with a clear message', async (bad, message) => {
    writeFileSync(join(dir, 'small.png'), pngFile(mask.subarray(0, 4 * 16 * 16), 16, 16));
    const args = bad[0] === '--mask' ? ['--mask', join(dir, `${bad[1]}.png`)] : bad;
    const err = await cli([...edit, '--engine', 'webgpu', '--init-image', CAT, ...args, '--out', join(dir, 'bad.png')],
      NO_GPU).then(() => null, (e) => e);
    expect(err?.code).toBe(2);
    expect(err.stderr).toMatch(message);
  });

  it('rejects --strength and --mask without --init-image', async () => {
    const err = await cli([...edit, '--strength', '0.5'], NO_GPU).then(() => null, (e) => e);
    expect(err.stderr).toMatch(/--strength needs --init-image/);
  });
});
