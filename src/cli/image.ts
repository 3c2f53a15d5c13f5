// Start images and masks from files for the CLI: PNG (pngjs), JPEG (jpeg-js) and SVG (resvg, as the
// dataset renders its SVGs).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type { Resvg } from '@resvg/resvg-js';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { fitToCanvas, maskFromRgba, type Rgba, svgRenderSize } from '../image/fit.ts';
import { ImageInputError, inspectImage } from '../image/inspect.ts';

/** resvg, a native addon, is loaded only for an SVG: a bundle of the CLI without it (bench/gpu-probe-build.sh,
 * for a GPU machine without node_modules) runs everything else. */
const loadResvg = () => createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');

function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ImageInputError(`${what} ${path} cannot be read: ${why}`);
  }
}

/** Decodes a PNG or JPEG, or renders an SVG for a width×height canvas (at `size(aspect)`). */
function decode(bytes: Uint8Array, name: string, size: (aspect: number) => [number, number]): Rgba {
  const { format } = inspectImage(bytes, name);
  if (format === 'jpeg') {
    try {
      return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    } catch (e) {
      throw new ImageInputError(`${name} is not a readable JPEG: ${(e as Error).message}`);
    }
  }
  if (format === 'png') {
    try {
      const png = PNG.sync.read(Buffer.from(bytes));
      return { width: png.width, height: png.height, data: png.data };
    } catch (e) {
      throw new ImageInputError(`${name} is not a readable PNG: ${(e as Error).message}`);
    }
  }
  // system fonts are not loaded, as for the dataset: the same render on every machine
  let r: Resvg;
  let svg: (fitTo?: { mode: 'width'; value: number }) => Resvg;
  try {
    const resvg = loadResvg();
    svg = (fitTo) => new resvg.Resvg(Buffer.from(bytes), { fitTo, font: { loadSystemFonts: false } });
    r = svg();
  } catch (e) {
    throw new ImageInputError(`${name} is not a readable SVG: ${(e as Error).message}`);
  }
  // through PNG, as the dataset reads its renders: straight (not premultiplied) alpha
  const png = PNG.sync.read(svg({ mode: 'width', value: size(r.width / r.height)[0] }).render().asPng());
  return { width: png.width, height: png.height, data: png.data };
}

/** A start image for a width×height canvas: RGBA8, composited on white and area-resized. */
export function readStartImage(path: string, width: number, height: number): Uint8ClampedArray {
  const img = decode(readBytes(path, '--init-image'), basename(path), (a) => svgRenderSize(a, width, height));
  return fitToCanvas(img, width, height);
}

/** A mask of the canvas's size ([H, W], white = redraw, black or transparent = keep). */
export function readMask(path: string, width: number, height: number): Float32Array {
  const name = basename(path);
  const img = decode(readBytes(path, '--mask'), name, () => [width, height]);
  if (img.width !== width || img.height !== height) {
    throw new ImageInputError(`${name} is ${img.width}×${img.height} pixels, the canvas is ${width}×${height}: ` +
      'a mask must have the canvas\'s size (white = redraw, black = keep)');
  }
  return maskFromRgba(img);
}
