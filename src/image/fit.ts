// A decoded image made into a start image for a W×H canvas as the dataset makes its images
// (train/dataset.py): composited on white, then area-resized (each canvas pixel the mean of the
// source area it covers), rounded to 8 bits. A source of another shape is centred on white padding of
// the canvas's shape first, as the dataset pads non-square icons to a square. Masks come from images too.

/** SVGs are rendered at this many pixels per canvas pixel, then area-resized (the dataset: 128 for 32). */
export const SVG_SUPERSAMPLE = 4;

/** Render size of an SVG of aspect w/h for a width×height canvas: SVG_SUPERSAMPLE× the canvas, its shape kept. */
export function svgRenderSize(aspect: number, width: number, height: number): [number, number] {
  const [bw, bh] = [SVG_SUPERSAMPLE * width, SVG_SUPERSAMPLE * height];
  return aspect > bw / bh ? [bw, Math.max(1, Math.round(bw / aspect))] : [Math.max(1, Math.round(bh * aspect)), bh];
}

/** Straight-alpha RGBA8, row-major. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Weights of source index j in output index o along one axis: the overlap of [o·s, (o+1)·s) with the
 * source pixel [off + j, off + j + 1), over s (s = source pixels per output pixel). */
function axisWeights(src: number, out: number, scale: number, off: number): { first: number; w: number[] }[] {
  return Array.from({ length: out }, (_, o) => {
    const lo = o * scale - off, hi = (o + 1) * scale - off;
    const first = Math.max(0, Math.floor(lo)), last = Math.min(src, Math.ceil(hi));
    const w: number[] = [];
    for (let j = first; j < last; j++) w.push((Math.min(hi, j + 1) - Math.max(lo, j)) / scale);
    return { first, w };
  });
}

/** The start image for a width×height canvas: RGBA8, opaque. */
export function fitToCanvas(img: Rgba, width: number, height: number): Uint8ClampedArray {
  const { width: sw, height: sh, data } = img;
  // source pixels per canvas pixel, and the padding (in source pixels) that gives the canvas's shape
  const scale = Math.max(sw / width, sh / height);
  const wx = axisWeights(sw, width, scale, (width * scale - sw) / 2);
  const wy = axisWeights(sh, height, scale, (height * scale - sh) / 2);
  // composite on white in float: rgb·a + (1 − a), then the horizontal pass per source row
  const rows = new Float64Array(sh * width * 3);
  for (let y = 0; y < sh; y++) {
    for (let o = 0; o < width; o++) {
      const { first, w } = wx[o];
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++) {
        const p = 4 * (y * sw + first + k), a = data[p + 3] / 255, white = 1 - a;
        r += w[k] * (data[p] / 255 * a + white);
        g += w[k] * (data[p + 1] / 255 * a + white);
        b += w[k] * (data[p + 2] / 255 * a + white);
      }
      rows.set([r, g, b], 3 * (y * width + o));
    }
  }
  const out = new Uint8ClampedArray(4 * width * height);
  for (let oy = 0; oy < height; oy++) {
    const { first, w } = wy[oy];
    for (let o = 0; o < width; o++) {
      const covered = wy[oy].w.reduce((s, v) => s + v, 0) * wx[o].w.reduce((s, v) => s + v, 0);
      for (let c = 0; c < 3; c++) {
        let v = 1 - covered; // the white padding's share
        for (let k = 0; k < w.length; k++) v += w[k] * rows[3 * ((first + k) * width + o) + c];
        out[4 * (oy * width + o) + c] = Math.round(v * 255);
      }
      out[4 * (oy * width + o) + 3] = 255;
    }
  }
  return out;
}

/** A mask [H, W] in [0, 1] from an image of the canvas's size: white = redraw, black or transparent = keep. */
export function maskFromRgba(img: Rgba): Float32Array {
  const n = img.width * img.height, out = new Float32Array(n), d = img.data;
  for (let i = 0; i < n; i++) out[i] = ((d[4 * i] + d[4 * i + 1] + d[4 * i + 2]) / 765) * (d[4 * i + 3] / 255);
  return out;
}
