// Time of each dispatch of one network evaluation (conditioning and bricks; the sampler update is not
// counted), from the engine's own prepared ops: GPU timestamps where the adapter has them, else the
// wall time of a submit-and-wait per op. bench/kernels.ts runs it (`--ops` alone on a GPU machine).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuContext } from '../src/gpu/device';
import { Plan, type PlanKey } from '../src/engine/plan';
import { GpuWeights } from '../src/engine/weights';
import { encodeOp, runOps, type KernelOp } from '../src/kernels/op';
import { edmCoefTable } from '../src/kernels/sampler';
import { loadModel, parseModelJson } from '../src/model/load';
import { randArray, rng } from '../tools/random';

export interface OpTiming { group: string; label: string; key: string; ms: number; gflops: number }
export interface OpsCase {
  canvas: string;
  images: number;
  networkBatch: number;
  method: string;
  ops: OpTiming[];
  groups: { group: string; dispatches: number; ms: number }[];
}

/** Best-of-`rounds` time of each op (in its own compute pass), in milliseconds. */
async function timeOps(device: GPUDevice, ops: KernelOp[], rounds: number, timestamps: boolean): Promise<number[]> {
  const best = ops.map(() => Infinity);
  const qs = timestamps ? device.createQuerySet({ label: 'ops.timestamps', type: 'timestamp', count: 2 * ops.length }) : null;
  const size = 16 * ops.length;
  const buffer = (label: string, usage: number) => qs && device.createBuffer({ label, size, usage });
  const resolved = buffer('ops.resolved', GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
  const staging = buffer('ops.read', GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  for (let r = 0; r < rounds; r++) {
    if (!qs || !resolved || !staging) {
      for (const [i, op] of ops.entries()) {
        const t0 = performance.now();
        await runOps(device, [op], op.label);
        best[i] = Math.min(best[i], performance.now() - t0);
      }
      continue;
    }
    const enc = device.createCommandEncoder({ label: 'ops' });
    ops.forEach((op, i) => {
      const pass = enc.beginComputePass({ label: op.label,
        timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      encodeOp(pass, op);
      pass.end();
    });
    enc.resolveQuerySet(qs, 0, 2 * ops.length, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const t = new BigInt64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    ops.forEach((_, i) => { best[i] = Math.min(best[i], Number(t[2 * i + 1] - t[2 * i]) / 1e6); });
  }
  for (const b of [qs, resolved, staging]) b?.destroy();
  return best;
}

/** Every dispatch of one guided evaluation, all bricks on, of the model in `modelDir` on each canvas. */
export async function timeEngineOps(ctx: GpuContext, modelDir: string, cases: Omit<PlanKey, 'guided' | 'repaint'>[],
  rounds: number): Promise<OpsCase[]> {
  const { device } = ctx;
  const meta = parseModelJson(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const model = await loadModel(meta, new Uint8Array(readFileSync(join(modelDir, meta.weights.file))));
  const arch = meta.architecture;
  const weights = new GpuWeights(device, model);
  const timestamps = device.features.has('timestamp-query');
  const out: OpsCase[] = [];
  for (const c of cases) {
    const plan = new Plan(device, arch, weights, { ...c, guided: true, repaint: false });
    const rand = rng(c.width * c.height + c.batch);
    device.queue.writeBuffer(plan.x, 0, randArray(rand, c.batch * plan.perImage) as Float32Array<ArrayBuffer>);
    plan.writeCoefficients(edmCoefTable(new Array(2 * c.batch).fill(1), meta.edm.sigma_data));
    const labels = new Float32Array(arch.label_dim);
    labels[0] = 1;
    plan.writeLabels(labels);
    const active = arch.bricks.flatMap((_, k) => (plan.bricks[k] ? [k] : [])); // those that run on the canvas
    const enc = device.createCommandEncoder({ label: 'ops.fill' });
    plan.encodeEvaluation(enc, active, null); // every buffer holds real values before the ops are timed
    device.queue.submit([enc.finish()]);
    const groups = [{ group: 'conditioning', ops: plan.condOps },
      ...active.map((k, i) => ({ group: `brick ${k + 1}`, ops: plan.bricks[k]!.ops(i === 0 ? null : active[i - 1]) }))];
    const all = groups.flatMap((g) => g.ops.map((op) => ({ group: g.group, op })));
    const ms = await timeOps(device, all.map((a) => a.op), rounds, timestamps);
    const ops = all.map(({ group, op }, i) => ({ group, label: op.label, key: op.key, ms: ms[i],
      gflops: op.flops / ms[i] / 1e6 }));
    out.push({
      canvas: `${c.width}x${c.height}`, images: c.batch, networkBatch: 2 * c.batch,
      method: timestamps ? 'GPU timestamps around each dispatch (best of rounds)' : 'wall time of a submit + wait per dispatch',
      ops, groups: groups.map((g) => ({ group: g.group, dispatches: g.ops.length,
        ms: ops.filter((o) => o.group === g.group).reduce((s, o) => s + o.ms, 0) })),
    });
    plan.destroy();
  }
  weights.destroy();
  return out;
}
