// Start images from files: what inspectImage says about a file before decoding it, and fitToCanvas
// against the dataset's own recipe (composite on white, mean of f×f blocks), written independently.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { fitToCanvas, maskFromRgba } from '../../src/image/fit';
import { ImageInputError, inspectImage } from '../../src/image/inspect';
import { gif, animatedPng, datasetDownsample, hugePng, RED_SQUARE_SVG } from '../images';

const CAT = 'node_modules/emoji-datasource-google/img/google/64/1f431.png';
const bytes = (b: Buffer | string) => new Uint8Array(typeof b === 'string' ? Buffer.from(b) : b);

/** A JPEG's first bytes: SOI, an APP0 segment, then a baseline frame header of width × height. */
function jpegHeader(width: number, height: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof = [0xff, 0xc0, 0x00, 0x11, 8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...sof, 0xff, 0xd9]);
}

describe('inspectImage', () => {
  it('reads the format and size of PNG and JPEG from their headers, and knows SVG', () => {
    expect(inspectImage(bytes(readFileSync(CAT)), 'cat.png')).toEqual({ format: 'png', width: 64, height: 64 });
    expect(inspectImage(jpegHeader(640, 480), 'photo.jpg')).toEqual({ format: 'jpeg', width: 640, height: 480 });
    expect(inspectImage(bytes(RED_SQUARE_SVG), 'a.svg')).toEqual({ format: 'svg' });
    expect(inspectImage(bytes(`\uFEFF<?xml version="1.0"?>\n<!-- x -->\n${RED_SQUARE_SVG}`), 'b.svg').format).toBe('svg');
  });

  it.each([
    ['huge.png', hugePng(), /huge\.png is 20,000×20,000 pixels, too large to decode here: images up to 8,192 pixels a side/],
    ['wide.jpg', Buffer.from(jpegHeader(9000, 10)), /wide\.jpg is 9,000×10 pixels, too large/],
    ['moving.png', animatedPng(), /moving\.png is an animated PNG \(APNG, 2 frames\): use a still image/],
    ['moving.gif', gif(), /moving\.gif is an animated GIF \(2 frames\): use a still PNG, JPEG or SVG image/],
    ['still.gif', gif(1), /still\.gif is a GIF, which is not supported/],
    ['notes.txt', 'hello, this is text\n', /notes\.txt is not a PNG, JPEG or SVG image \(it starts with the text "hello, this is t"\)/],
    ['blob.bin', Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8]), /blob\.bin is not a PNG, JPEG or SVG image \(it starts with the bytes 00 01 02/],
    ['empty.png', Buffer.alloc(0), /empty\.png is empty/],
    ['cut.png', readFileSync(CAT).subarray(0, 20), /cut\.png is not a valid PNG/],
  ])('rejects %s naming the problem', (name, data, message) => {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    expect(() => inspectImage(bytes(b), name)).toThrow(ImageInputError);
    expect(() => inspectImage(bytes(b), name)).toThrow(message);
  });
});

describe('fitToCanvas', () => {
  const cat = PNG.sync.read(readFileSync(CAT));

  // A block mean of 8-bit values often lands exactly on ½ (in 8-bit units); which way it rounds depends on
  // the order of float additions (the dataset's own float32 sums and round-half-to-even differ again): ≤ 1/255.
  const closeToDataset = (out: Uint8ClampedArray, want: Uint8ClampedArray) => {
    const diff = out.map((v, i) => Math.abs(v - want[i]));
    expect(Math.max(...diff)).toBeLessThanOrEqual(1);
    return diff.filter((d) => d > 0).length / diff.length;
  };

  it('a 64×64 emoji on a 32×32 canvas is the dataset\'s 32×32 image', () => {
    const ties = closeToDataset(fitToCanvas(cat, 32, 32), datasetDownsample(cat.data, 32, 32, 2));
    expect(ties).toBeLessThan(0.02);
  });

  it('on a 32×16 canvas it is centred on white: 4×4 block means between white margins', () => {
    const middle = datasetDownsample(cat.data, 16, 16, 4), want = new Uint8ClampedArray(4 * 32 * 16).fill(255);
    for (let y = 0; y < 16; y++) want.set(middle.subarray(4 * 16 * y, 4 * 16 * (y + 1)), 4 * (32 * y + 8));
    expect(closeToDataset(fitToCanvas(cat, 32, 16), want)).toBeLessThan(0.02);
  });

  it('keeps the mean colour on any ratio (50×30 to 32×32), and a flat colour exactly', () => {
    const w = 50, h = 30, rgba = new Uint8Array(4 * w * h);
    for (let i = 0; i < w * h; i++) rgba.set([(i * 7) % 256, (i * 13) % 256, 90, 255], 4 * i);
    const out = fitToCanvas({ width: w, height: h, data: rgba }, 32, 32);
    for (let c = 0; c < 3; c++) {
      let src = 0, dst = 0;
      for (let i = 0; i < w * h; i++) src += rgba[4 * i + c];
      for (let i = 0; i < 32 * 32; i++) dst += out[4 * i + c];
      // the source covers 32×19.2 of the 32×32 canvas; white fills the rest; ±0.5 per pixel of rounding
      const want = (src / (w * h)) * (19.2 / 32) + 255 * (12.8 / 32);
      expect(Math.abs(dst / 1024 - want)).toBeLessThan(0.5);
    }
    const flat = Uint8Array.from({ length: 4 * 7 * 7 }, (_, i) => (i % 4 === 3 ? 255 : 200));
    expect(fitToCanvas({ width: 7, height: 7, data: flat }, 16, 16).every((v, i) => v === (i % 4 === 3 ? 255 : 200)))
      .toBe(true);
  });

  it('masks: white redraws, black and transparent keep, grey between', () => {
    const m = maskFromRgba({ width: 4, height: 1, data: Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 51, 51, 51, 255]) });
    expect([...m]).toEqual([1, 0, 0, Math.fround(0.2)]);
  });
});
