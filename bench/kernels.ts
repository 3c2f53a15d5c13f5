// npm run bench:kernels — GFLOP/s of the linear kernel versions on the shapes a 32×32 model uses
// (checks every version against the naive one first, then times them, llm.c style), and the time of
// every dispatch of one evaluation of the shipped model (bench/ops.ts). Writes docs/bench-kernels.json.
//   --quick              one linear shape and no dispatch table; nothing written to docs/
//   --ops                the dispatch table only, printed (bench/gpu-probe.sh runs this on a GPU machine)
//   --model DIR          model for the dispatch table (default public/models/lego-emoji-32)
//   --cases LIST         canvases × images, e.g. 32x32x1,32x32x8 (default 32x32x1)
// Runs in Node through Dawn; on a machine without a GPU that is SwiftShader on the CPU.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { acquireNodeDevice } from '../src/gpu/node';
import { createStorageBuffer, readFloat32 } from '../src/gpu/buffers';
import { prepareLinear, type LinearVersion } from '../src/kernels/linear';
import { runOps, type KernelOp } from '../src/kernels/op';
import { allClose } from '../tools/close';
import { randArray, rng } from '../tools/random';
import { timeEngineOps, type OpsCase } from './ops';

const SHAPES: [number, number, number][] = [[4096, 192, 576], [4096, 192, 768], [4096, 192, 192], [4096, 768, 192]];
const VERSIONS: LinearVersion[] = ['v1_naive', 'v2', 'v3'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const { values: args } = parseArgs({ options: {
  quick: { type: 'boolean' }, ops: { type: 'boolean' },
  model: { type: 'string', default: 'public/models/lego-emoji-32' }, cases: { type: 'string', default: '32x32x1' },
} });
const quick = Boolean(args.quick);

async function timeOnce(device: GPUDevice, op: KernelOp): Promise<number> {
  const t0 = performance.now();
  await runOps(device, [op], op.label);
  return (performance.now() - t0) / 1000;
}

async function main() {
  const ctx = await acquireNodeDevice({ label: 'bench-device' });
  const { device } = ctx;
  const rows: Record<string, string | number>[] = [];
  const results = [];
  for (const [n, k, m] of args.ops ? [] : quick ? SHAPES.slice(0, 1) : SHAPES) {
    const rand = rng(n + k + m);
    const x = createStorageBuffer(device, 'bench.x', randArray(rand, n * k));
    const w = createStorageBuffer(device, 'bench.w', randArray(rand, m * k, -0.1, 0.1));
    const b = createStorageBuffer(device, 'bench.b', randArray(rand, m));
    const outs: Float32Array[] = [];
    const ops: KernelOp[] = [];
    const ys: GPUBuffer[] = [];
    for (const version of VERSIONS) {
      const y = createStorageBuffer(device, `bench.y.${version}`, n * m);
      ys.push(y);
      const op = prepareLinear(device, { label: `bench.linear.${version}`, x, w, b, y, n, k, m, version });
      await runOps(device, [op]); // also the warm-up: pipeline compile, first touch
      outs.push(await readFloat32(device, y, n * m));
      if (outs.length > 1) {
        // Same f32 math in another summation order: 1e-4 relative is ample.
        const r = allClose(outs[outs.length - 1], outs[0], { rtol: 1e-4, atol: 1e-5 });
        if (!r.ok) throw new Error(`${op.key} disagrees with the naive kernel on ${n}×${k}→${m}: ${r.message}`);
      }
      ops.push(op);
    }
    // Rounds interleave the versions so that background load hits them alike; keep each one's best.
    const best = ops.map(() => Infinity);
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < ops.length; i++) best[i] = Math.min(best[i], await timeOnce(device, ops[i]));
    }
    const perVersion: Record<string, { key: string; seconds: number; gflops: number }> = {};
    VERSIONS.forEach((v, i) => { perVersion[v] = { key: ops[i].key, seconds: best[i], gflops: ops[i].flops / best[i] / 1e9 }; });
    const base = perVersion[VERSIONS[0]].gflops;
    for (const v of VERSIONS) {
      const r = perVersion[v];
      rows.push({ shape: `${n}×${k}→${m}`, kernel: r.key, 'ms': +(r.seconds * 1000).toFixed(1),
        'GFLOP/s': +r.gflops.toFixed(3), 'vs naive': +(r.gflops / base).toFixed(1) });
    }
    results.push({ n, k, m, versions: perVersion });
    for (const buf of [x, w, b, ...ys]) buf.destroy();
  }
  console.log(`adapter: ${ctx.adapterName}${ctx.isFallback ? ' (software)' : ''}; ${os.cpus().length} CPUs`);
  if (rows.length) console.table(rows);
  let ops: OpsCase[] = [];
  if (!quick) {
    const cases = args.cases!.split(',').map((c) => {
      const m = /^(\d+)x(\d+)x(\d+)$/.exec(c.trim());
      if (!m) throw new Error(`--cases "${c}": expected WIDTHxHEIGHTxIMAGES, e.g. 32x32x1`);
      return { width: Number(m[1]), height: Number(m[2]), batch: Number(m[3]) };
    });
    ops = await timeEngineOps(ctx, args.model!, cases, ROUNDS);
    for (const c of ops) {
      console.log(`\n${c.canvas}, ${c.images} guided image(s) (network batch ${c.networkBatch}); ${c.method}:`);
      console.table(c.ops.map((o) => ({ op: o.label, kernel: o.key, ms: +o.ms.toFixed(3), 'GFLOP/s': +o.gflops.toFixed(2) })));
      const total = c.groups.reduce((s, g) => s + g.ms, 0), n = c.groups.reduce((s, g) => s + g.dispatches, 0);
      for (const g of [...c.groups, { group: 'total', dispatches: n, ms: total }]) {
        console.log(`  ${g.group.padEnd(13)} ${String(g.dispatches).padStart(3)} dispatches  ${g.ms.toFixed(3)} ms` +
          `  ${(g.ms / g.dispatches).toFixed(3)} ms per dispatch`);
      }
    }
  }
  if (args.ops) return device.destroy();
  const json = `${JSON.stringify({
    date: new Date().toISOString(), adapter: ctx.adapterName, fallback: ctx.isFallback,
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version,
    note: `linear: wall time of one dispatch (best of ${ROUNDS} interleaved rounds), including submit and completion wait`,
    results, engineOps: ops,
  }, null, 2)}\n`;
  mkdirSync('bench/out', { recursive: true });
  writeFileSync(`bench/out/kernels-${Date.now()}.json`, json);
  if (!quick) writeFileSync('docs/bench-kernels.json', json);
  device.destroy();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
