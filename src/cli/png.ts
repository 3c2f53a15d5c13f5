// PNG grids of generated images (Node), through pngjs.
import { PNG } from 'pngjs';
import type { ImageBatch } from '../engine/types.ts';

/** Lays the batch out in a grid (`cols` wide, 2-pixel white gutters) and encodes it as PNG. */
export function encodeGrid(batch: ImageBatch, cols = Math.ceil(Math.sqrt(batch.images.length)), gutter = 2): Buffer {
  const n = batch.images.length;
  const rows = Math.ceil(n / cols);
  const { width: w, height: h } = batch;
  const png = new PNG({ width: cols * w + (cols - 1) * gutter, height: rows * h + (rows - 1) * gutter });
  png.data.fill(255);
  batch.images.forEach((img, i) => {
    const x0 = (i % cols) * (w + gutter);
    const y0 = Math.floor(i / cols) * (h + gutter);
    for (let y = 0; y < h; y++) {
      png.data.set(img.subarray(y * w * 4, (y + 1) * w * 4), ((y0 + y) * png.width + x0) * 4);
    }
  });
  return PNG.sync.write(png);
}
