// Canvas ↔ brick tokens on the CPU (docs/model-spec.md "Brick input, regions, patches" and "Canvases"):
// the patch gather that builds a brick's input [B, R, T, Cin·p²] and the fold of its output back to a
// canvas, through a precomputed map from (region, token, patch pixel) to the source pixel.
import { inputChannels } from '../model/arch.ts';
import { gridShift, regionOrigins } from '../model/canvas.ts';

export interface TileMap {
  height: number;
  width: number;
  regions: number; // R per image
  tokens: number; // T per region
  pp: number; // p²
  /** Source pixel ys·W + xs of every (region, token, patch pixel), in that order. */
  src: Int32Array;
  /** Regions covering each pixel [H·W] where regions overlap (the fold averages them); null: one each. */
  cover: Uint8Array | null;
}

/**
 * The map for an H×W canvas covered by regions r of patches p (canvas.ts regionOrigins: plain tiling on a
 * multiple of r, overlapping regions otherwise), the grid shifted by (sy, sx) along the sides it tiles
 * exactly (a side covered by overlapping regions never shifts).
 */
export function tileMap(height: number, width: number, region: number, patch: number, shiftY = 0, shiftX = 0): TileMap {
  const g = region / patch, pp = patch * patch;
  const oy = regionOrigins(height, region, patch), ox = regionOrigins(width, region, patch);
  const sy = gridShift(shiftY, height, region), sx = gridShift(shiftX, width, region);
  const src = new Int32Array(oy.length * ox.length * g * g * pp);
  const overlap = oy.length * region > height || ox.length * region > width;
  const cover = overlap ? new Uint8Array(height * width) : null;
  let m = 0;
  for (const y0 of oy) {
    for (const x0 of ox) {
      for (let ty = 0; ty < g; ty++) {
        for (let tx = 0; tx < g; tx++) {
          for (let py = 0; py < patch; py++) {
            for (let px = 0; px < patch; px++) {
              const s = ((y0 + ty * patch + py + sy) % height) * width + ((x0 + tx * patch + px + sx) % width);
              src[m++] = s;
              if (cover) cover[s]++;
            }
          }
        }
      }
    }
  }
  return { height, width, regions: oy.length * ox.length, tokens: g * g, pp, src, cover };
}

/**
 * Brick input patches for `batch` network images: channels F_prev (`prev`: the previous brick's
 * output, zeros, or none for the first brick), c_in·x, row, col. x holds `xImages` canvases; network
 * image b reads x image b mod xImages (guidance: [cond | uncond] share x) with c_in `cin[b]`.
 */
export function gatherPatches(map: TileMap, batch: number, x: Float32Array, xImages: number, cin: ArrayLike<number>,
  prev: 'none' | 'zero' | Float32Array): Float32Array {
  const { height: H, width: W, pp, src } = map;
  const hw = H * W, nTok = map.regions * map.tokens;
  const prevCh = prev === 'none' ? 0 : 3, row = inputChannels(prev !== 'none') * pp;
  const o = new Float32Array(batch * nTok * row);
  const rowOf = Float32Array.from({ length: H }, (_, i) => (2 * i + 1) / H - 1);
  const colOf = Float32Array.from({ length: W }, (_, j) => (2 * j + 1) / W - 1);
  for (let b = 0; b < batch; b++) {
    const bx = b % xImages, c = cin[b];
    for (let n = 0; n < nTok; n++) {
      const base = (b * nTok + n) * row;
      for (let pix = 0; pix < pp; pix++) {
        const s = src[n * pp + pix];
        const at = base + pix;
        if (prev instanceof Float32Array) for (let ch = 0; ch < 3; ch++) o[at + ch * pp] = prev[(b * 3 + ch) * hw + s];
        else if (prev === 'zero') for (let ch = 0; ch < 3; ch++) o[at + ch * pp] = 0;
        for (let ch = 0; ch < 3; ch++) o[at + (prevCh + ch) * pp] = c * x[(bx * 3 + ch) * hw + s];
        o[at + (prevCh + 3) * pp] = rowOf[(s / W) | 0];
        o[at + (prevCh + 4) * pp] = colOf[s % W];
      }
    }
  }
  return o;
}

/** Final-layer outputs [B, R, T, 3·p²] → canvases [B, 3, H, W]: each pixel back to its source, the mean of
 * the regions that cover it where they overlap. */
export function foldPatches(map: TileMap, batch: number, y: Float32Array): Float32Array {
  const { height: H, width: W, pp, src, cover } = map;
  const hw = H * W, nTok = map.regions * map.tokens, row = 3 * pp;
  const o = new Float32Array(batch * 3 * hw);
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < nTok; n++) {
      const base = (b * nTok + n) * row;
      for (let pix = 0; pix < pp; pix++) {
        const s = src[n * pp + pix];
        for (let ch = 0; ch < 3; ch++) o[(b * 3 + ch) * hw + s] += y[base + ch * pp + pix];
      }
    }
  }
  if (cover) for (let i = 0; i < o.length; i++) o[i] /= cover[i % hw];
  return o;
}
