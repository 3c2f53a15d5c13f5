// Model weights on the GPU, in packs: the tensors one fused kernel reads share one buffer, each at a
// multiple of 64 floats (256 bytes, WebGPU's minStorageBufferOffsetAlignment), so the kernel binds
// the pack once and reads tensors at float offsets, and any tensor can still be bound on its own.
// Packs: the conditioning linears; every adaLN linear as one matrix (all of them read SiLU(c): one
// dispatch computes them all); and per brick its patch MLP with its positional table, each block's
// attention and MLP linears, and its final linear.
import { createStorageBuffer } from '../gpu/buffers.ts';
import { tokensPerRegion } from '../model/arch.ts';
import { ModelLoadError } from '../model/errors.ts';
import type { Architecture } from '../model/format.ts';
import type { LoadedModel } from '../model/load.ts';
import { posEmbed2d } from '../kernels/patch.ts';

const ALIGN = 64; // floats

/**
 * Columns of the concatenated adaLN output [images, stride]: brick k's block j at blocks[k][j]
 * (6d: shift1, scale1, gate1, shift2, scale2, gate2), its final layer at final[k] (2d: shift, scale).
 */
export function adalnLayout(a: Pick<Architecture, 'd' | 'bricks'>): {
  stride: number; blocks: number[][]; final: number[];
} {
  let at = 0;
  const take = (n: number) => (at += n) - n; // the next n columns' first
  const blocks: number[][] = [], final: number[] = [];
  a.bricks.forEach((b) => {
    blocks.push(Array.from({ length: b.depth }, () => take(6 * a.d)));
    final.push(take(2 * a.d));
  });
  return { stride: at, blocks, final };
}

/** The adaLN linears in adalnLayout's order (tensor name prefixes). */
function adalnSources(a: Pick<Architecture, 'bricks'>): string[] {
  return a.bricks.flatMap((b, k) => [
    ...Array.from({ length: b.depth }, (_, j) => `bricks.${k}.blocks.${j}.adaln`), `bricks.${k}.final.adaln`,
  ]);
}

interface PackPlan {
  name: string;
  entries: { name: string; offset: number; length: number }[];
  floats: number;
}

/** Which tensor goes where. `length` gives model tensors' float counts; derived ones are computed here. */
function planPacks(a: Architecture, length: (tensor: string) => number): PackPlan[] {
  const lw = (prefix: string) => [`${prefix}.weight`, `${prefix}.bias`];
  const adaln = adalnSources(a);
  const derived: Record<string, number> = {
    'adaln.weight': adaln.reduce((s, p) => s + length(`${p}.weight`), 0),
    'adaln.bias': adaln.reduce((s, p) => s + length(`${p}.bias`), 0),
  };
  a.bricks.forEach((b, k) => { derived[`bricks.${k}.pos`] = tokensPerRegion(b) * a.d; });
  const groups: [string, string[]][] = [
    ['cond', [...lw('t_embed.0'), ...lw('t_embed.2'), ...lw('y_embed')]],
    ['adaln', ['adaln.weight', 'adaln.bias']],
  ];
  a.bricks.forEach((b, k) => {
    const p = `bricks.${k}`;
    groups.push([`${p}.patch`, [...lw(`${p}.patch.0`), ...lw(`${p}.patch.2`), `${p}.pos`]]);
    for (let j = 0; j < b.depth; j++) {
      const q = `${p}.blocks.${j}`;
      groups.push([q, [...lw(`${q}.attn.qkv`), ...lw(`${q}.attn.proj`), ...lw(`${q}.mlp.0`), ...lw(`${q}.mlp.2`)]]);
    }
    groups.push([`${p}.final`, lw(`${p}.final.linear`)]);
  });
  return groups.map(([name, tensors]) => {
    let floats = 0;
    const entries = tensors.map((t) => {
      const e = { name: t, offset: floats, length: derived[t] ?? length(t) };
      floats += Math.ceil(e.length / ALIGN) * ALIGN;
      return e;
    });
    return { name, entries, floats };
  });
}

const mib = (n: number) => (n < 2 ** 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);

/** Fails, before anything is allocated, if a weight pack is larger than one buffer binding of this device. */
export function checkWeightsFit(model: LoadedModel,
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): void {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const packs = planPacks(model.meta.architecture, (t) => model.tensors.get(t)?.length ?? 0);
  const largest = packs.reduce((a, b) => (b.floats > a.floats ? b : a));
  if (4 * largest.floats > limit) {
    throw new ModelLoadError(`${model.meta.name}: weights ${largest.name} need ${mib(4 * largest.floats)} in one ` +
      `buffer, over this device's largest buffer binding (${mib(limit)}): the model is too large for this GPU`);
  }
}

export class GpuWeights {
  private readonly packs = new Map<string, GPUBuffer>();
  private readonly where = new Map<string, { pack: string; offset: number; length: number }>();
  readonly bytes: number;

  constructor(device: GPUDevice, model: LoadedModel) {
    const a = model.meta.architecture;
    const tensor = (name: string): Float32Array => {
      const t = model.tensors.get(name);
      if (!t) throw new Error(`weight ${name} is not in the model`);
      return t;
    };
    const adaln = adalnSources(a);
    const derived = new Map<string, Float32Array>([
      ['adaln.weight', concat(adaln.map((p) => tensor(`${p}.weight`)))],
      ['adaln.bias', concat(adaln.map((p) => tensor(`${p}.bias`)))],
      ...a.bricks.map((b, k): [string, Float32Array] => [`bricks.${k}.pos`, posEmbed2d(b.region / b.patch, a.d)]),
    ]);
    let bytes = 0;
    for (const plan of planPacks(a, (t) => tensor(t).length)) {
      const data = new Float32Array(plan.floats);
      for (const e of plan.entries) {
        data.set(derived.get(e.name) ?? tensor(e.name), e.offset);
        this.where.set(e.name, { pack: plan.name, offset: e.offset, length: e.length });
      }
      this.packs.set(plan.name, createStorageBuffer(device, `weights.${plan.name}`, data));
      bytes += data.byteLength;
    }
    const inAdaln = (n: string) => adaln.some((p) => n.startsWith(`${p}.`));
    const unused = [...model.tensors.keys()].filter((n) => !this.where.has(n) && !inAdaln(n));
    if (unused.length) throw new Error(`weights not placed in any pack: ${unused.join(', ')}`);
    this.bytes = bytes;
  }

  /** The buffer of pack `name` (e.g. 'bricks.0.blocks.1'). */
  pack(name: string): GPUBuffer {
    const p = this.packs.get(name);
    if (!p) throw new Error(`weight pack ${name} does not exist`);
    return p;
  }

  /** Float offset of a tensor within its pack. */
  offset(name: string): number {
    return this.entry(name).offset;
  }

  /** A tensor as a binding of its own (a range of its pack). */
  get(name: string): GPUBufferBinding {
    const e = this.entry(name);
    return { buffer: this.pack(e.pack), offset: 4 * e.offset, size: 4 * e.length };
  }

  private entry(name: string) {
    const e = this.where.get(name);
    if (!e) throw new Error(`weight ${name} is not loaded`);
    return e;
  }

  destroy(): void {
    for (const b of this.packs.values()) b.destroy();
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
