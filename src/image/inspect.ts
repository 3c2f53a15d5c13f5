// What kind of image a file is, and its size, from its first bytes: before anything decodes it, so a
// file that is not an image, an animated one or one too large to decode safely gets a clear message.
// Used by the page and the CLI alike.

/** A file that cannot be a start image or a mask; the message names the file and the problem. */
export class ImageInputError extends Error {
  override name = 'ImageInputError';
}

export type ImageFormat = 'png' | 'jpeg' | 'svg';

/** Largest image either side accepts: a phone photo fits; a 20,000×20,000 PNG (1.6 GB decoded) does not. */
export const IMAGE_LIMITS = { maxSide: 8192, maxPixels: 25_000_000, maxBytes: 64 * 2 ** 20 } as const;

export interface ImageHeader {
  format: ImageFormat;
  width?: number; // undefined for SVG: it is rendered at the size asked for
  height?: number;
}

const SUPPORTED = 'PNG, JPEG or SVG';

/** Files over IMAGE_LIMITS.maxBytes are refused before they are read. */
export function checkFileSize(bytes: number, name: string): void {
  if (bytes > IMAGE_LIMITS.maxBytes) {
    throw new ImageInputError(`${name} is ${(bytes / 2 ** 20).toFixed(0)} MB, over the ` +
      `${IMAGE_LIMITS.maxBytes / 2 ** 20} MB an image may have`);
  }
}

const be32 = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const be16 = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

/** Format and size of an image file from its bytes; throws ImageInputError naming `name` and the problem. */
export function inspectImage(bytes: Uint8Array, name: string): ImageHeader {
  const fail = (why: string): never => {
    throw new ImageInputError(`${name} ${why}`);
  };
  if (bytes.length === 0) fail('is empty');
  checkFileSize(bytes.length, name);
  const header = ((): ImageHeader => {
    if (be32(bytes, 0) === 0x89504e47 && be32(bytes, 4) === 0x0d0a1a0a) return png(bytes, fail);
    if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpeg(bytes, fail);
    if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') {
      const frames = gifFrames(bytes);
      return fail(frames > 1
        ? `is an animated GIF (${frames} frames): use a still ${SUPPORTED} image`
        : `is a GIF, which is not supported: use a ${SUPPORTED} image`);
    }
    if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') {
      return fail(`is a WebP image, which is not supported: use a ${SUPPORTED} image`);
    }
    if (isSvg(bytes)) return { format: 'svg' };
    return fail(`is not a ${SUPPORTED} image (${describe(bytes)})`);
  })();
  const { width: w, height: h } = header;
  if (w !== undefined && h !== undefined) {
    if (w === 0 || h === 0) fail(`says it is ${w}×${h} pixels: the file is damaged`);
    if (w > IMAGE_LIMITS.maxSide || h > IMAGE_LIMITS.maxSide || w * h > IMAGE_LIMITS.maxPixels) {
      fail(`is ${w.toLocaleString('en')}×${h.toLocaleString('en')} pixels, too large to decode here: ` +
        `images up to ${IMAGE_LIMITS.maxSide.toLocaleString('en')} pixels a side and ` +
        `${IMAGE_LIMITS.maxPixels / 1e6} megapixels can be used`);
    }
  }
  return header;
}

/** PNG: IHDR's size; an acTL chunk before the image data makes it an animated PNG (APNG). */
function png(b: Uint8Array, fail: (why: string) => never): ImageHeader {
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') fail('is not a valid PNG (no IHDR chunk): the file is damaged');
  const header: ImageHeader = { format: 'png', width: be32(b, 16), height: be32(b, 20) };
  for (let i = 8; i + 8 <= b.length;) {
    const len = be32(b, i), type = ascii(b, i + 4, 4);
    if (type === 'acTL') fail(`is an animated PNG (APNG, ${be32(b, i + 8)} frames): use a still image`);
    if (type === 'IDAT' || type === 'IEND') break;
    i += 12 + len;
  }
  return header;
}

/** JPEG: the size from the first start-of-frame marker (SOF0–SOF15 but DHT, JPG and DAC). */
function jpeg(b: Uint8Array, fail: (why: string) => never): ImageHeader {
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) fail('is not a valid JPEG (a marker is missing): the file is damaged');
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: 'jpeg', width: be16(b, i + 7), height: be16(b, i + 5) };
    }
    i += 2 + be16(b, i + 2);
  }
  return fail('is not a valid JPEG (no frame header): the file is damaged');
}

/** Image descriptors of a GIF (frames), walking its blocks. */
function gifFrames(b: Uint8Array): number {
  let i = 13 + (b[10] & 0x80 ? 3 << ((b[10] & 7) + 1) : 0), frames = 0;
  const skipSubBlocks = () => {
    while (i < b.length && b[i] !== 0) i += b[i] + 1;
    i++;
  };
  while (i < b.length && b[i] !== 0x3b) {
    if (b[i] === 0x21) {
      i += 2;
      skipSubBlocks();
    } else if (b[i] === 0x2c) {
      frames++;
      const local = b[i + 9];
      i += 10 + (local & 0x80 ? 3 << ((local & 7) + 1) : 0) + 1; // descriptor, local colour table, LZW size
      skipSubBlocks();
    } else break;
  }
  return frames;
}

function isSvg(b: Uint8Array): boolean {
  const head = new TextDecoder().decode(b.subarray(0, 4096)).replace(/^\uFEFF/, '');
  return /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i.test(head);
}

/** What the bytes look like, for the message: text, or their first bytes in hex. */
function describe(b: Uint8Array): string {
  const head = b.subarray(0, 16);
  const text = head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127));
  if (text) return `it starts with the text "${ascii(head, 0, head.length).trim()}"`;
  return `it starts with the bytes ${[...head.subarray(0, 8)].map((c) => c.toString(16).padStart(2, '0')).join(' ')}`;
}
