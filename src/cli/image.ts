// Start images and masks from files for the CLI: PNG (pngjs) and SVG (resvg, as the dataset renders
// its SVGs); JPEG is recognised but not decoded (no JPEG decoder is installed for Node).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { fitToCanvas, maskFromRgba, type Rgba } from '../image/fit.ts';
import { ImageInputError, inspectImage } from '../image/inspect.ts';

/** SVGs are rendered at this many pixels per canvas pixel, then area-resized (the dataset: 128 for 32). */
const SVG_SUPERSAMPLE = 4;

function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ImageInputError(`${what} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Decodes a PNG, or renders an SVG to fit a boxW×boxH box (keeping its shape). */
function decode(bytes: Uint8Array, name: string, boxW: number, boxH: number): Rgba {
  const { format } = inspectImage(bytes, name);
  if (format === 'jpeg') {
    throw new ImageInputError(`${name} is a JPEG, which the CLI cannot decode (it has no JPEG decoder): ` +
      'convert it to PNG, or drop it on the page, which reads JPEG');
  }
  if (format === 'png') {
    try {
      const png = PNG.sync.read(Buffer.from(bytes));
      return { width: png.width, height: png.height, data: png.data };
    } catch (e) {
      throw new ImageInputError(`${name} is not a readable PNG: ${(e as Error).message}`);
    }
  }
  let r: Resvg;
  try {
    r = new Resvg(Buffer.from(bytes), { font: { loadSystemFonts: false } });
  } catch (e) {
    throw new ImageInputError(`${name} is not a readable SVG: ${(e as Error).message}`);
  }
  const fit = r.width / r.height > boxW / boxH ? { mode: 'width' as const, value: boxW } : { mode: 'height' as const, value: boxH };
  // through PNG, as the dataset reads its renders: straight (not premultiplied) alpha
  const png = PNG.sync.read(new Resvg(Buffer.from(bytes), { fitTo: fit, font: { loadSystemFonts: false } }).render().asPng());
  return { width: png.width, height: png.height, data: png.data };
}

/** A start image for a width×height canvas: RGBA8, composited on white and area-resized. */
export function readStartImage(path: string, width: number, height: number): Uint8ClampedArray {
  const img = decode(readBytes(path, '--init-image'), basename(path), SVG_SUPERSAMPLE * width, SVG_SUPERSAMPLE * height);
  return fitToCanvas(img, width, height);
}

/** A mask of the canvas's size ([H, W], white = redraw, black or transparent = keep). */
export function readMask(path: string, width: number, height: number): Float32Array {
  const name = basename(path);
  const img = decode(readBytes(path, '--mask'), name, width, height);
  if (img.width !== width || img.height !== height) {
    throw new ImageInputError(`${name} is ${img.width}×${img.height} pixels, the canvas is ${width}×${height}: ` +
      'a mask must have the canvas\'s size (white = redraw, black = keep)');
  }
  return maskFromRgba(img);
}
