// Seeded Gaussian noise from a counter-based generator: element i of seed s depends only on (s, i),
// so Node and the browser draw identical noise, and any slice can be drawn on its own.

/** A 32-bit integer hash with good avalanche (Chris Wellons' lowbias32). */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Uniform in (0, 1) from (seed, counter); never 0, so log() below is finite. */
function uniform(seed: number, counter: number): number {
  const h = hash32(hash32(seed ^ 0x9e3779b9) ^ hash32(counter + 0x632be5ab));
  return (h + 0.5) / 4294967296;
}

/** `count` standard normal values for `seed` (Box–Muller on counter pairs). */
export function gaussianNoise(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform(seed, i)));
    const a = 2 * Math.PI * uniform(seed, i + 1);
    out[i] = r * Math.cos(a);
    if (i + 1 < count) out[i + 1] = r * Math.sin(a);
  }
  return out;
}
