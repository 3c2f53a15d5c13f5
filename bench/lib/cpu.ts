// CPU time, the benchmark's second clock. On a software adapter the "GPU" is CPU threads, and this
// machine's cores are shared with other jobs: wall time then swings with their load, while the
// CPU time a computation consumes hardly does. Ratios (skip speedups, ours vs ORT) are reported
// on both clocks.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // Linux USER_HZ = 100 (getconf CLK_TCK)

/** This process's CPU ms, every thread (Dawn's SwiftShader workers included). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function stat(pid: string): { ppid: number; ms: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] = state, f[1] = ppid, f[11] = utime, f[12] = stime
    return { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return null; // exited meanwhile
  }
}

/** CPU ms of every process descended from this one (the browser Playwright started: its GPU process runs SwiftShader). */
export function childrenCpuMs(): number {
  if (process.platform !== 'linux') return NaN;
  const procs = new Map<number, { ppid: number; ms: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(d);
    if (s) procs.set(Number(d), s);
  }
  const inTree = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of procs) {
      if (!inTree.has(pid) && inTree.has(s.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let ms = 0;
  for (const pid of inTree) if (pid !== process.pid) ms += procs.get(pid)?.ms ?? 0;
  return ms;
}

/** Runs fn and returns its result with the CPU ms `clock` counted meanwhile. */
export async function withCpu<T>(clock: () => number, fn: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const c0 = clock();
  const value = await fn();
  return { value, cpuMs: clock() - c0 };
}
