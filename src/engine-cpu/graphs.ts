// The CPU engine's ONNX graphs, built at load time from the loaded weights (docs/model-spec.md):
// one for the conditioning (Fourier embedding → SiLU(c)) and one per brick (patch vectors →
// final-layer outputs per token). Gathering patches from the canvas and folding them back happen in
// TS (tiling.ts), so one brick graph serves every canvas size, shift and batch (symbolic B, R).
import { posEmbed2d } from '../kernels/patch.ts';
import { brickInputChannels } from '../model/arch.ts';
import type { BrickSpec } from '../model/format.ts';
import type { LoadedModel } from '../model/load.ts';
import { encodeModel, type Attr, type OnnxGraph, type OnnxInit, type OnnxNode } from './onnx.ts';

const OPSET = 20; // Gelu(approximate = "tanh"), Split(num_outputs)

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly inits: OnnxInit[] = [];
  private n = 0;

  constructor(private readonly tensors: Map<string, Float32Array>) {}

  tensor(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`weight ${name} is not loaded`);
    return t;
  }

  init(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    this.inits.push({ name, dims, data });
    return name;
  }

  ints(name: string, values: number[]): string {
    return this.init(name, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  op(op: string, inputs: string[], attrs?: Record<string, Attr>, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => `t${this.n++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs;
  }

  one(op: string, inputs: string[], attrs?: Record<string, Attr>): string {
    return this.op(op, inputs, attrs)[0];
  }

  /** X·Wᵀ with W [out, in] from the model (stored transposed) and the bias b; `edit` may change both. */
  matmul(
    x: string, name: string, edit?: (w: Float32Array, b: Float32Array, out: number) => void,
  ): { y: string; bias: Float32Array } {
    const wt = this.tensor(`${name}.weight`), bias = this.tensor(`${name}.bias`).slice();
    const out = bias.length, inp = wt.length / out;
    const w = new Float32Array(inp * out);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) w[i * out + o] = wt[o * inp + i];
    edit?.(w, bias, out);
    return { y: this.one('MatMul', [x, this.init(`${name}.weight`, [inp, out], w)]), bias };
  }

  /** Y = X·Wᵀ + b. */
  linear(x: string, name: string, edit?: (w: Float32Array, b: Float32Array, out: number) => void): string {
    const { y, bias } = this.matmul(x, name, edit);
    return this.one('Add', [y, this.init(`${name}.bias`, [bias.length], bias)]);
  }

  silu(x: string): string {
    return this.one('Mul', [x, this.one('Sigmoid', [x])]);
  }

  graph(name: string, inputs: OnnxGraph['inputs'], outputs: OnnxGraph['outputs']): Uint8Array {
    return encodeModel({ name, nodes: this.nodes, inits: this.inits, inputs, outputs, opset: OPSET });
  }
}

/** Conditioning: fourier [B, 256], labels [B, L] → silu_c [B, d]. */
export function conditioningGraph(model: LoadedModel): Uint8Array {
  const a = model.meta.architecture;
  const g = new GraphBuilder(model.tensors);
  const t = g.linear(g.silu(g.linear('fourier', 't_embed.0')), 't_embed.2');
  const c = g.one('Add', [t, g.linear('labels', 'y_embed')]);
  g.nodes.push({ op: 'Identity', inputs: [g.silu(c)], outputs: ['silu_c'] });
  return g.graph('conditioning',
    [{ name: 'fourier', dims: ['B', a.fourier_dim] }, { name: 'labels', dims: ['B', Math.max(a.label_dim, 1)] }],
    [{ name: 'silu_c', dims: ['B', a.d] }]);
}

/**
 * Brick k: patches [B, R, T, Cin·p²] (B network images, R regions each, T tokens per region) and
 * silu_c [B, d] → out [B, R, T, 3·p²] (the final layer's output per token, before folding).
 */
export function brickGraph(model: LoadedModel, k: number): Uint8Array {
  const a = model.meta.architecture;
  const spec: BrickSpec = a.bricks[k];
  const { d, heads } = a;
  const dh = d / heads, T = (spec.region / spec.patch) ** 2, pp = spec.patch ** 2;
  const g = new GraphBuilder(model.tensors);
  const name = `bricks.${k}`;
  const ones = g.init('ln.scale', [d], new Float32Array(d).fill(1));
  const eps = { float: a.layernorm_eps };
  const norm = (x: string) => g.one('LayerNormalization', [x, ones], { axis: -1, epsilon: eps });
  const gelu = (x: string) => g.one('Gelu', [x], { approximate: 'tanh' });
  /** adaLN: `parts` vectors [B, 1, 1, d] from SiLU(c); the scales come out as (1 + scale). */
  const adaln = (label: string, parts: number, scaleAt: number[]) => {
    const mod = g.linear('silu_c', label, (_, b) =>
      scaleAt.forEach((s) => { for (let i = 0; i < d; i++) b[s * d + i] += 1; }));
    // [B, 1, 1, ·]: broadcast over regions and tokens
    const perImage = g.ints(`${label}.shape`, [-1, 1, 1, parts * d]);
    return g.op('Split', [g.one('Reshape', [mod, perImage])], { axis: -1, num_outputs: parts }, parts);
  };

  // patch MLP + positional embedding (b2 and the table folded into one [T, d] addend)
  const pos = posEmbed2d(spec.region / spec.patch, d);
  const embed = g.matmul(gelu(g.linear('patches', `${name}.patch.0`)), `${name}.patch.2`);
  for (let i = 0; i < T * d; i++) pos[i] += embed.bias[i % d];
  let x = g.one('Add', [embed.y, g.init(`${name}.pos`, [T, d], pos)]);
  const qkvShape = g.ints('qkv_shape', [-1, T, 3, heads, dh]);
  for (let j = 0; j < spec.depth; j++) {
    const b = `${name}.blocks.${j}`;
    const [sh1, sc1, g1, sh2, sc2, g2] = adaln(`${b}.adaln`, 6, [1, 4]);
    const h1 = g.one('Add', [g.one('Mul', [norm(x), sc1]), sh1]);
    // q scaled by 1/√d_h in its weights; qkv → [3, B·R, heads, T, d_h]
    const qkv = g.linear(h1, `${b}.attn.qkv`, (w, bias, out) => {
      const s = 1 / Math.sqrt(dh);
      for (let i = 0; i < w.length; i++) if (i % out < d) w[i] *= s;
      for (let i = 0; i < d; i++) bias[i] *= s;
    });
    const split = g.op('Split',
      [g.one('Transpose', [g.one('Reshape', [qkv, qkvShape])], { perm: [2, 0, 3, 1, 4] })],
      { axis: 0, num_outputs: 3 }, 3);
    const kT = g.one('Transpose', [split[1]], { perm: [0, 1, 2, 4, 3] });
    const att = g.one('Softmax', [g.one('MatMul', [split[0], kT])], { axis: -1 });
    const heads_ = g.one('Transpose', [g.one('MatMul', [att, split[2]])], { perm: [0, 1, 3, 2, 4] });
    const merged = g.one('Reshape', [heads_, g.one('Shape', [x])]);
    x = g.one('Add', [x, g.one('Mul', [g.linear(merged, `${b}.attn.proj`), g1])]);
    const h2 = g.one('Add', [g.one('Mul', [norm(x), sc2]), sh2]);
    const m = g.linear(gelu(g.linear(h2, `${b}.mlp.0`)), `${b}.mlp.2`);
    x = g.one('Add', [x, g.one('Mul', [m, g2])]);
  }
  const [shift, scale] = adaln(`${name}.final.adaln`, 2, [1]);
  const y = g.linear(g.one('Add', [g.one('Mul', [norm(x), scale]), shift]), `${name}.final.linear`);
  g.nodes.push({ op: 'Identity', inputs: [y], outputs: ['out'] });
  const cin = brickInputChannels(k);
  return g.graph(name, [{ name: 'patches', dims: ['B', 'R', T, cin * pp] }, { name: 'silu_c', dims: ['B', d] }],
    [{ name: 'out', dims: ['B', 'R', T, a.channels * pp] }]);
}
