// The canvas ↔ token-row mapping of a brick (docs/model-spec.md, "Brick input, regions, patches" and
// "Canvases"): the tiling, the fixed positional table, and the CPU references of the gather and the fold
// that the fused brick kernels (shaders/brick.wgsl) do on the GPU.
//   Token n = ((b·Ry + ry)·Rx + rx)·T + ty·g + tx with g = r/p, T = g², Ry = ⌈H/r⌉, Rx = ⌈W/r⌉.
//   Patch element c·p² + py·p + px is grid pixel (y, x) = (oy[ry] + ty·p + py, ox[rx] + tx·p + px) (the
//   region origins of model/canvas.ts: i·r on a multiple of r, overlapping otherwise), which reads source
//   pixel ((y + sy) mod H, (x + sx) mod W); coordinates are the source pixel's. The fold averages the
//   regions that cover a pixel.
import { inputChannels, tokensPerRegion } from '../model/arch';
import { gridShift, regionOrigins } from '../model/canvas';
import { assertShape } from './op';

/** Canvas tiling of one brick: region r, patch p, canvas H×W (at least r, multiples of p), shift (sy, sx). */
export interface Tiling {
  batch: number; // B images
  height: number; // H
  width: number; // W
  region: number; // r
  patch: number; // p (divides r)
  shiftY?: number; // sy, any integer (taken mod H; 0 where the regions overlap: canvas.ts gridShift)
  shiftX?: number; // sx, likewise
}

/** How F_prev enters the brick input: absent (first brick), read from a canvas, or all zero. */
export type PrevMode = 'none' | 'read' | 'zero';

export function tokenCount(t: Tiling): number {
  return t.batch * Math.ceil(t.height / t.region) * Math.ceil(t.width / t.region) * tokensPerRegion(t);
}

/** Whether neighbouring regions overlap on this canvas (a side that is not a multiple of r). */
export function overlaps(t: Tiling): boolean {
  return t.height % t.region !== 0 || t.width % t.region !== 0;
}

export function checkTiling(t: Tiling, label: string): void {
  assertShape(t.batch > 0 && t.region > 0 && t.patch > 0 && t.region % t.patch === 0, label,
    `region ${t.region} is not a multiple of patch ${t.patch}`);
  assertShape(t.height >= t.region && t.width >= t.region, label,
    `canvas ${t.height}×${t.width} is smaller than region ${t.region}`);
  assertShape(t.height % t.patch === 0 && t.width % t.patch === 0, label,
    `canvas ${t.height}×${t.width} is not a multiple of patch ${t.patch}`);
}

/** Fixed 2-D sin-cos table [g·g, d]: token (ty, tx) → [sin(tx·ω) | cos(tx·ω) | sin(ty·ω) | cos(ty·ω)],
 *  ω_j = 10000^(−j/q), q = d/4 (column features first, then row). */
export function posEmbed2d(g: number, d: number): Float32Array {
  if (d % 4 !== 0) throw new RangeError(`posEmbed2d: d = ${d} is not a multiple of 4`);
  const q = d / 4;
  const out = new Float32Array(g * g * d);
  for (let ty = 0; ty < g; ty++) {
    for (let tx = 0; tx < g; tx++) {
      const row = (ty * g + tx) * d;
      for (let j = 0; j < q; j++) {
        const omega = 10000 ** (-j / q);
        out[row + j] = Math.sin(tx * omega);
        out[row + q + j] = Math.cos(tx * omega);
        out[row + 2 * q + j] = Math.sin(ty * omega);
        out[row + 3 * q + j] = Math.cos(ty * omega);
      }
    }
  }
  return out;
}

/** Visits every (token n, patch pixel) of a tiling: calls fn(n, b, py·p+px, source pixel index ys·W+xs). */
function forEachPatchPixel(t: Tiling,
  fn: (n: number, b: number, pix: number, src: number, ys: number, xs: number) => void): void {
  const { height: H, width: W, region: r, patch: p } = t;
  const g = r / p, oy = regionOrigins(H, r, p), ox = regionOrigins(W, r, p);
  const sy = gridShift(t.shiftY ?? 0, H, r), sx = gridShift(t.shiftX ?? 0, W, r);
  let n = 0;
  for (let b = 0; b < t.batch; b++) {
    for (const y0 of oy) {
      for (const x0 of ox) {
        for (let ty = 0; ty < g; ty++) {
          for (let tx = 0; tx < g; tx++, n++) {
            for (let py = 0; py < p; py++) {
              for (let px = 0; px < p; px++) {
                const ys = (y0 + ty * p + py + sy) % H, xs = (x0 + tx * p + px + sx) % W;
                fn(n, b, py * p + px, ys * W + xs, ys, xs);
              }
            }
          }
        }
      }
    }
  }
}

/** CPU reference of patch_gather. `cin[i]` is c_in of x image i. */
export function patchGatherRef(t: Tiling, prev: PrevMode, x: Float32Array, cin: ArrayLike<number>,
  fprev?: Float32Array, xImages = t.batch): Float32Array {
  const { height: H, width: W, patch: p } = t;
  const cinCount = inputChannels(prev !== 'none'), pp = p * p, hw = H * W;
  const out = new Float32Array(tokenCount(t) * cinCount * pp);
  forEachPatchPixel(t, (n, b, pix, src, ys, xs) => {
    const base = n * cinCount * pp + pix;
    const bx = b % xImages;
    const ch: number[] = [];
    if (prev !== 'none') for (let c = 0; c < 3; c++) ch.push(prev === 'read' ? fprev![(b * 3 + c) * hw + src] : 0);
    for (let c = 0; c < 3; c++) ch.push(cin[bx] * x[(bx * 3 + c) * hw + src]);
    ch.push((2 * ys + 1) / H - 1, (2 * xs + 1) / W - 1);
    ch.forEach((v, c) => { out[base + c * pp] = v; });
  });
  return out;
}

/** CPU reference of the fold (brick_final, and brick_fold where regions overlap): the mean of the
 * patch values that land on each pixel. */
export function patchFoldRef(t: Tiling, y: Float32Array): Float32Array {
  const pp = t.patch * t.patch, hw = t.height * t.width;
  const out = new Float32Array(t.batch * 3 * hw), count = new Float32Array(t.batch * 3 * hw);
  forEachPatchPixel(t, (n, b, pix, src) => {
    for (let c = 0; c < 3; c++) {
      out[(b * 3 + c) * hw + src] += y[n * 3 * pp + c * pp + pix];
      count[(b * 3 + c) * hw + src]++;
    }
  });
  return out.map((v, i) => v / count[i]);
}
