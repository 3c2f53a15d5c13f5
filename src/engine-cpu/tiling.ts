// Canvas ↔ brick tokens on the CPU (docs/model-spec.md "Brick input, regions, patches"): the patch
// gather that builds a brick's input [B, R, T, Cin·p²] and the fold of its output back to a canvas,
// through a precomputed map from (region, token, patch pixel) to the source pixel.
import { inputChannels } from '../model/arch.ts';

export interface TileMap {
  height: number;
  width: number;
  regions: number; // R per image
  tokens: number; // T per region
  pp: number; // p²
  /** Source pixel ys·W + xs of every (region, token, patch pixel), in that order. */
  src: Int32Array;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** The map for an H×W canvas tiled by regions r of patches p, grid shifted by (sy, sx). */
export function tileMap(height: number, width: number, region: number, patch: number, shiftY = 0, shiftX = 0): TileMap {
  const g = region / patch, Ry = height / region, Rx = width / region, pp = patch * patch;
  const sy = mod(shiftY, height), sx = mod(shiftX, width);
  const src = new Int32Array(Ry * Rx * g * g * pp);
  let m = 0;
  for (let ry = 0; ry < Ry; ry++) {
    for (let rx = 0; rx < Rx; rx++) {
      for (let ty = 0; ty < g; ty++) {
        for (let tx = 0; tx < g; tx++) {
          for (let py = 0; py < patch; py++) {
            for (let px = 0; px < patch; px++) {
              src[m++] = ((ry * region + ty * patch + py + sy) % height) * width +
                ((rx * region + tx * patch + px + sx) % width);
            }
          }
        }
      }
    }
  }
  return { height, width, regions: Ry * Rx, tokens: g * g, pp, src };
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

/** Final-layer outputs [B, R, T, 3·p²] → canvases [B, 3, H, W] (each pixel back to its source). */
export function foldPatches(map: TileMap, batch: number, y: Float32Array): Float32Array {
  const { height: H, width: W, pp, src } = map;
  const hw = H * W, nTok = map.regions * map.tokens, row = 3 * pp;
  const o = new Float32Array(batch * 3 * hw);
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < nTok; n++) {
      const base = (b * nTok + n) * row;
      for (let pix = 0; pix < pp; pix++) {
        const s = src[n * pp + pix];
        for (let ch = 0; ch < 3; ch++) o[(b * 3 + ch) * hw + s] = y[base + ch * pp + pix];
      }
    }
  }
  return o;
}
