// Image files for the start-image tests (CLI and page): real PNGs, and the bad inputs a user may
// drop: a 20,000×20,000 PNG (valid: 1-bit grey compresses it to ~60 KB), an animated PNG, an
// animated GIF, a text file.
import { crc32, deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';

/** RGBA8 as a PNG file (pngjs). */
export function pngFile(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  png.data.set(rgba);
  return PNG.sync.write(png);
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(width: number, height: number, depth: number, colour: number): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(width, 0);
  b.writeUInt32BE(height, 4);
  b.set([depth, colour, 0, 0, 0], 8);
  return chunk('IHDR', b);
}

/** A valid black 1-bit greyscale PNG of any size (rows of zeros deflate to almost nothing). */
export function hugePng(width = 20_000, height = 20_000): Buffer {
  const row = 1 + Math.ceil(width / 8);
  const idat = deflateSync(Buffer.alloc(row * height), { level: 9 });
  return Buffer.concat([SIGNATURE, ihdr(width, height, 1, 0), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** A valid 2-frame animated PNG (APNG) of 8×8 RGBA: a red frame, then a blue one. */
export function animatedPng(): Buffer {
  const w = 8, h = 8;
  const frame = (rgba: number[]) => {
    const raw = Buffer.alloc(h * (1 + 4 * w));
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(rgba, y * (1 + 4 * w) + 1 + 4 * x);
    return deflateSync(raw);
  };
  const fctl = (seq: number) => {
    const b = Buffer.alloc(26);
    b.writeUInt32BE(seq, 0);
    b.writeUInt32BE(w, 4);
    b.writeUInt32BE(h, 8);
    b.writeUInt16BE(1, 20); // delay 1/10 s
    b.writeUInt16BE(10, 22);
    return chunk('fcTL', b);
  };
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(2, 0); // frames
  const seq2 = Buffer.alloc(4);
  seq2.writeUInt32BE(2, 0);
  return Buffer.concat([SIGNATURE, ihdr(w, h, 8, 6), chunk('acTL', actl), fctl(0), chunk('IDAT', frame([255, 0, 0, 255])),
    fctl(1), chunk('fdAT', Buffer.concat([seq2, frame([0, 0, 255, 255])])), chunk('IEND', Buffer.alloc(0))]);
}

/** A valid GIF of 1×1 pixel, animated with 2 frames unless asked for 1. */
export function gif(frames = 2): Buffer {
  const frame = [0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00, // graphic control: 1/10 s
    0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00]; // descriptor, LZW data
  return Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
    ...Array.from({ length: frames }, () => frame).flat(), 0x3b]);
}

/** An SVG of a red square on a transparent background, covering the middle half of a square view box. */
export const RED_SQUARE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<rect x="4" y="4" width="8" height="8" fill="#ff0000"/></svg>';

/** What the dataset does to an RGBA8 image of f·W × f·H (train/dataset.py composite + area_down):
 * composite on white in float, mean over f×f blocks, round. An independent reference for fitToCanvas. */
export function datasetDownsample(rgba: Uint8Array, width: number, height: number, f: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) {
          for (let dx = 0; dx < f; dx++) {
            const p = 4 * ((f * y + dy) * f * width + f * x + dx), a = rgba[p + 3] / 255;
            sum += (rgba[p + c] / 255) * a + (1 - a);
          }
        }
        out[4 * (y * width + x) + c] = Math.round((sum / (f * f)) * 255);
      }
      out[4 * (y * width + x) + 3] = 255;
    }
  }
  return out;
}
