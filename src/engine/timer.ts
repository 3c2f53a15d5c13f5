// Per-brick GPU time from timestamp queries (only where the adapter offers 'timestamp-query').
// Each evaluation writes a begin/end pair per active brick into its own slice of the query set;
// the times are read back once, after the generation.
const MAX_EVALS = 128; // 64 Heun steps
const SLICE = 32; // queries per evaluation: 256 bytes, the alignment resolveQuerySet needs; ≤ 16 bricks

export class BrickTimer {
  private readonly queries: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly perEval: number;
  private recorded: number[][] = []; // active bricks of each evaluation
  /** GPU memory held: the query set and both buffers (8 bytes a query each). */
  readonly bytes: number;
  private readonly size: number;

  constructor(private readonly device: GPUDevice, private readonly bricks: number) {
    if (2 * bricks > SLICE) throw new RangeError(`brick timing supports at most ${SLICE / 2} bricks`);
    this.perEval = SLICE;
    const count = MAX_EVALS * SLICE;
    this.queries = device.createQuerySet({ label: 'brick.timestamps', type: 'timestamp', count });
    this.size = count * 8;
    this.bytes = 3 * this.size;
    this.resolved = device.createBuffer({
      label: 'brick.timestamps.resolved', size: this.size,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.staging = device.createBuffer({
      label: 'brick.timestamps.read', size: this.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  reset(): void {
    this.recorded = [];
  }

  /** Timestamp writes for brick k's pass in evaluation `e`, or undefined past the query budget. */
  writesFor(e: number,
    active: readonly number[]): ((k: number) => GPUComputePassTimestampWrites | undefined) | undefined {
    if ((e + 1) * this.perEval > this.queries.count) return undefined;
    this.recorded[e] = [...active];
    const first = (k: number) => e * this.perEval + 2 * k;
    return (k) => ({ querySet: this.queries, beginningOfPassWriteIndex: first(k), endOfPassWriteIndex: first(k) + 1 });
  }

  resolve(enc: GPUCommandEncoder, e: number): void {
    if (this.recorded[e]) enc.resolveQuerySet(this.queries, e * SLICE, 2 * this.bricks, this.resolved, e * SLICE * 8);
  }

  /** Milliseconds of GPU time spent in each brick over the recorded evaluations. */
  async read(): Promise<number[]> {
    const enc = this.device.createCommandEncoder({ label: 'brick.timestamps.copy' });
    enc.copyBufferToBuffer(this.resolved, 0, this.staging, 0, this.size);
    this.device.queue.submit([enc.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ);
    const t = new BigInt64Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    const ms = new Array<number>(this.bricks).fill(0);
    this.recorded.forEach((active, e) => {
      for (const k of active) {
        const q = e * this.perEval + 2 * k;
        ms[k] += Math.max(0, Number(t[q + 1] - t[q])) / 1e6;
      }
    });
    return ms;
  }

  destroy(): void {
    this.queries.destroy();
    this.resolved.destroy();
    this.staging.destroy();
  }
}
