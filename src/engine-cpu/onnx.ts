// A small ONNX ModelProto writer: the few protobuf messages a graph of standard ops needs
// (onnx/onnx.proto field numbers), so the CPU engine builds its graphs in memory from the weights
// already loaded, with no second copy of the model on the wire.

/** Protobuf wire writer: varints, length-delimited fields, fixed32 floats. */
class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, 2 * this.buf.length));
  }

  private flush(): void {
    if (this.pos) this.chunks.push(this.buf.slice(0, this.pos));
    this.pos = 0;
  }

  varint(v: number): void {
    this.reserve(10);
    // int64 values here are small non-negative numbers or −1 (Reshape's inferred dim)
    if (v < 0) {
      let lo = v >>> 0, hi = Math.floor(v / 2 ** 32) >>> 0;
      for (let i = 0; i < 9; i++) {
        this.buf[this.pos++] = (lo & 0x7f) | 0x80;
        lo = (lo >>> 7) | ((hi & 0x7f) << 25);
        hi >>>= 7;
      }
      this.buf[this.pos++] = 1;
    } else {
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
    }
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.flush();
    this.chunks.push(data);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    this.flush();
    const n = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export type Attr = number | number[] | string | { floats: number[] } | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
  domain?: string;
}

export interface OnnxInit {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: f32 with fixed sizes or symbolic names ("B") per dimension. */
export interface OnnxValue {
  name: string;
  dims: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inits: OnnxInit[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  opset: number;
}

const FLOAT = 1, INT64 = 7;
const ATTR = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function attribute(w: Writer, name: string, v: Attr): void {
  w.string(1, name);
  if (typeof v === 'number') {
    w.int(3, v);
    w.int(20, ATTR.int);
  } else if (typeof v === 'string') {
    w.string(4, v);
    w.int(20, ATTR.string);
  } else if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    w.int(20, ATTR.ints);
  } else if ('float' in v) {
    w.float(2, v.float);
    w.int(20, ATTR.float);
  } else {
    for (const x of v.floats) w.float(7, x);
    w.int(20, ATTR.floats);
  }
}

function valueInfo(w: Writer, v: OnnxValue): void {
  w.string(1, v.name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, FLOAT);
    tensor.message(2, (shape) => {
      for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
    });
  }));
}

/** Serialises a graph as an ONNX ModelProto (IR version 9: opsets up to 20). */
export function encodeModel(g: OnnxGraph): Uint8Array {
  const w = new Writer();
  w.int(1, 9); // ir_version
  w.string(2, 'lego-diffusion');
  w.message(7, (graph) => {
    g.nodes.forEach((n, i) => graph.message(1, (node) => {
      n.inputs.forEach((s) => node.string(1, s));
      n.outputs.forEach((s) => node.string(2, s));
      node.string(3, `${n.op}_${i}`);
      node.string(4, n.op);
      for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, (a) => attribute(a, k, v));
      if (n.domain) node.string(7, n.domain);
    }));
    graph.string(2, g.name);
    for (const t of g.inits) {
      graph.message(5, (tensor) => {
        t.dims.forEach((d) => tensor.int(1, d));
        tensor.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
        tensor.string(8, t.name);
        tensor.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    g.inputs.forEach((v) => graph.message(11, (m) => valueInfo(m, v)));
    g.outputs.forEach((v) => graph.message(12, (m) => valueInfo(m, v)));
  });
  w.message(8, (op) => op.int(2, g.opset)); // default domain
  if (g.nodes.some((n) => n.domain === 'com.microsoft')) {
    w.message(8, (op) => { op.string(1, 'com.microsoft'); op.int(2, 1); });
  }
  return w.finish();
}
