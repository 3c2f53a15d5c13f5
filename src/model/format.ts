// model.json as train/export.py writes it (format "lego-diffusion/1"); docs/model-spec.md.
// validate.ts checks every field below before the engine trusts it.
import { brickInputChannels, CHANNELS } from './arch.ts';

export interface BrickSpec {
  region: number; // r: side of the square regions, each an independent token sequence
  patch: number; // p: side of one token's patch
  depth: number; // N: DiT blocks
}

export interface Architecture {
  d: number;
  heads: number;
  mlp_ratio: number;
  channels: number; // 3 (CHANNELS)
  fourier_dim: number; // 256; a multiple of 8 up to 256
  label_dim: number; // L = categories + styles + words
  bricks: BrickSpec[];
  /** Every canvas side is a multiple of it (canvas.ts canvasUnit); absent: the largest region. Bricks of larger
   * regions run only on canvases they fit, with overlapping regions where a side is not a multiple. */
  canvas_unit?: number;
  gelu: 'tanh';
  layernorm_eps: number; // the engine's LayerNorm uses it (an override constant of shaders/brick.wgsl)
}

export interface LabelSpec {
  categories: string[];
  styles: string[];
  vocab: string[];
  groups: Record<'category' | 'style' | 'words', [number, number]>; // [start, end) in the vector
  /** Per vocab word, how many training emoji of each category have it in their name (train/export.py
   * word_categories): a prompt without a chosen category takes the one its words name (labels.ts). */
  word_categories?: number[][];
}

/** Where a style's training images come from, and one of them (train/export.py style_info). */
export interface StyleInfo {
  title: string; // "OpenMoji"
  author: string;
  url: string;
  license: string; // SPDX, e.g. "CC-BY-SA-4.0"
  license_url: string;
  credit: string; // one line of attribution
  attribution?: string; // the wording the set asks for, where it asks for one
  preview?: string; // a real 32×32 training image of the style, "data:image/png;base64,…"
  preview_emoji?: string; // its emoji's name
}

/** EDM noise constants (Karras et al. 2022). */
export interface EdmConstants {
  sigma_data: number;
  sigma_min: number;
  sigma_max: number;
  rho: number;
}

export interface ModelJson {
  format: 'lego-diffusion/1';
  name: string;
  architecture: Architecture;
  labels: LabelSpec;
  edm: EdmConstants;
  param_count: number;
  dtype: 'F16' | 'F32';
  weights: { file: string; sha256: string };
  training?: { images_seen: number; hours: number; [k: string]: unknown };
  style_info?: Record<string, StyleInfo>; // absent in models exported before it existed
}

/** Every tensor the architecture needs: name → shape (PyTorch Linear: weight [out, in]). */
export function expectedTensors(a: Architecture): Map<string, number[]> {
  const t = new Map<string, number[]>();
  const linear = (name: string, inp: number, out: number) => {
    t.set(`${name}.weight`, [out, inp]);
    t.set(`${name}.bias`, [out]);
  };
  const d = a.d;
  linear('t_embed.0', a.fourier_dim, d);
  linear('t_embed.2', d, d);
  linear('y_embed', Math.max(a.label_dim, 1), d);
  a.bricks.forEach((b, k) => {
    linear(`bricks.${k}.patch.0`, brickInputChannels(k) * b.patch * b.patch, d);
    linear(`bricks.${k}.patch.2`, d, d);
    for (let j = 0; j < b.depth; j++) {
      const p = `bricks.${k}.blocks.${j}`;
      linear(`${p}.adaln`, d, 6 * d);
      linear(`${p}.attn.qkv`, d, 3 * d);
      linear(`${p}.attn.proj`, d, d);
      linear(`${p}.mlp.0`, d, a.mlp_ratio * d);
      linear(`${p}.mlp.2`, a.mlp_ratio * d, d);
    }
    linear(`bricks.${k}.final.adaln`, d, 2 * d);
    linear(`bricks.${k}.final.linear`, d, b.patch * b.patch * CHANNELS);
  });
  return t;
}
