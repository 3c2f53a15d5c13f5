// The bundle a GPU window carries (bench/gpu-probe-bundle.sh, for a machine with Node but no node_modules):
// run from a folder holding only `webgpu`, the bundled CLI writes the same PNG bytes as the CLI from source,
// and names what it lacks for an SVG start image (resvg, a native addon, is not bundled).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RED_SQUARE_SVG } from '../images';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'lego-probe-'));
const args = ['--model', 'test/fixtures/tiny', '--size', '32x16', '--steps', '2', '--seed', '9', '--prompt', 'red heart'];

describe('the GPU probe bundle', () => {
  it('runs the CLI without node_modules but webgpu, as the CLI from source does', async () => {
    await run('bash', ['bench/gpu-probe-bundle.sh', dir]);
    expect(existsSync(join(dir, 'kernels.mjs'))).toBe(true);
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(resolve('node_modules/webgpu'), join(dir, 'node_modules/webgpu'));
    await run(process.execPath, [join(dir, 'cli.mjs'), ...args, '--out', join(dir, 'bundle.png')]);
    await run(process.execPath, ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/generate.ts', ...args,
      '--out', join(dir, 'source.png')]);
    expect(readFileSync(join(dir, 'bundle.png')).equals(readFileSync(join(dir, 'source.png')))).toBe(true);

    writeFileSync(join(dir, 'square.svg'), RED_SQUARE_SVG);
    const svg = run(process.execPath, [join(dir, 'cli.mjs'), ...args, '--init-image', join(dir, 'square.svg'),
      '--out', join(dir, 'svg.png')]);
    await expect(svg).rejects.toMatchObject({ stderr: expect.stringMatching(/square\.svg is not a readable SVG: Cannot find module '@resvg\/resvg-js'/) });
  });
});
