// The page's start image: a dropped, pasted or chosen PNG/JPEG/SVG, or a result, fitted to the canvas as
// the dataset makes its images (src/image/fit.ts), with the mask painted over it. Decoding uses the
// browser's own decoders, after src/image/inspect.ts has read the header (size, animation).
import { imageFromRgba } from '../engine/start.ts';
import type { ImageBatch, StartImage } from '../engine/types.ts';
import { fitToCanvas, type Rgba, svgRenderSize } from '../image/fit.ts';
import { checkFileSize, ImageInputError, inspectImage } from '../image/inspect.ts';
import type { Notice } from './notices.ts';

/** An image that can be fitted to any canvas (kept decoded, so a change of canvas size refits it). */
export interface StartSource {
  name: string;
  fit(width: number, height: number): Promise<Uint8ClampedArray>;
}

/** What the page holds: the source, its fit to the current canvas, and the mask painted on it. */
export interface StartState {
  source: StartSource;
  width: number;
  height: number;
  image: Uint8ClampedArray; // RGBA8, opaque, width×height: the "before" image
  mask: Float32Array | null; // [H, W], 1 = redraw; null or all zero: the whole image is redrawn (restyle)
}

function pixels(draw: (ctx: CanvasRenderingContext2D) => void, width: number, height: number): Rgba {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  draw(ctx);
  return { width, height, data: ctx.getImageData(0, 0, width, height).data };
}

/** A PNG/JPEG/SVG file as a start source; ImageInputError (naming the file and the problem) otherwise. */
export async function decodeStartFile(file: File): Promise<StartSource> {
  const name = file.name || 'the pasted image';
  checkFileSize(file.size, name);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const { format } = inspectImage(bytes, name);
  const damaged = (e: unknown) =>
    new ImageInputError(`${name} could not be decoded as ${format.toUpperCase()} (${(e as Error).message}): ` +
      'the file is damaged');
  if (format === 'svg') {
    const url = URL.createObjectURL(new Blob([bytes], { type: 'image/svg+xml' }));
    const img = new Image();
    img.src = url;
    try {
      await img.decode();
    } catch (e) {
      URL.revokeObjectURL(url);
      throw damaged(e);
    }
    const aspect = img.naturalWidth > 0 && img.naturalHeight > 0 ? img.naturalWidth / img.naturalHeight : 1;
    return {
      name,
      fit: async (width, height) => {
        const [rw, rh] = svgRenderSize(aspect, width, height);
        return fitToCanvas(pixels((ctx) => ctx.drawImage(img, 0, 0, rw, rh), rw, rh), width, height);
      },
    };
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes]), { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (e) {
    throw damaged(e);
  }
  return {
    name,
    fit: async (width, height) =>
      fitToCanvas(pixels((ctx) => ctx.drawImage(bitmap, 0, 0), bitmap.width, bitmap.height), width, height),
  };
}

/** Result image i of a batch as a start source. */
export function resultSource(batch: ImageBatch, i: number, name: string): StartSource {
  const rgba = { width: batch.width, height: batch.height, data: batch.images[i] };
  return {
    name,
    fit: async (width, height) => (width === rgba.width && height === rgba.height
      ? new Uint8ClampedArray(rgba.data) : fitToCanvas(rgba, width, height)),
  };
}

/** The source fitted to a canvas; a mask painted for another size is scaled to it (nearest pixel). */
export async function fitStart(source: StartSource, width: number, height: number,
  mask: { mask: Float32Array; width: number; height: number } | null = null): Promise<StartState> {
  const image = await source.fit(width, height);
  let scaled: Float32Array | null = null;
  if (mask) {
    scaled = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sy = Math.floor(((y + 0.5) * mask.height) / height), sx = Math.floor(((x + 0.5) * mask.width) / width);
        scaled[y * width + x] = mask.mask[sy * mask.width + sx];
      }
    }
  }
  return { source, width, height, image, mask: scaled };
}

/** What the engine gets: the image in [-1, 1], the strength (0–1) and the mask, if one is painted. */
export function startImage(s: StartState, strengthPercent: number): StartImage {
  return {
    image: imageFromRgba(s.image, s.width, s.height), strength: strengthPercent / 100,
    mask: s.mask?.some((v) => v > 0) ? s.mask : undefined,
  };
}

/** A file that cannot be a start image: a warning that says nothing on the page changed. */
export function startFileNotice(e: unknown): Notice {
  return {
    id: 'start', level: 'warning', title: 'This file cannot be the start image',
    text: `${(e as Error).message}. Nothing on the page changed.`,
  };
}
