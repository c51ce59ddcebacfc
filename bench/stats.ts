/** Small measuring helpers for the bench: percentiles, CPU time of this process and of another one. */
import { readFileSync, readdirSync } from "node:fs";
import { cpus } from "node:os";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Latency { count: number; p50: number; p95: number; p99: number; max: number }

export function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { count: s.length, p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
}

/** Seconds of CPU (user + system) used so far by a process, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from "state" (3rd) on
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime = fields 14, 15
}

export const selfCpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/** The pid of the process whose command line contains `needle` (e.g. a generated config file's path). */
export function findPid(needle: string): number | undefined {
  return findPids(needle)[0];
}

/** Every process whose command line contains `needle` (Kamailio's main process and the workers it forks). */
export function findPids(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids.sort((a, b) => a - b);
}

/** The CPU seconds of several processes, summed (one that is gone counts 0: measure processes that outlive the interval). */
export function procsCpuSeconds(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try { sum += procCpuSeconds(pid); } catch { /* gone */ }
  }
  return sum;
}

/**
 * CPU use of this process and of another one (or of several, summed: a process that forks workers) over
 * a measured interval, as a fraction of one core.
 */
export function cpuMeter(other?: number | number[]) {
  const pids = other === undefined ? [] : Array.isArray(other) ? other : [other];
  const read = () => procsCpuSeconds(pids);
  const t0 = performance.now(), self0 = selfCpuSeconds(), other0 = pids.length ? read() : 0;
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const used = pids.length ? read() - other0 : NaN;
    return { wallSeconds: wall, selfCores: (selfCpuSeconds() - self0) / wall, otherCores: used / wall, otherCpuSeconds: used };
  };
}

/**
 * How long a process (its main thread) was runnable but waiting for a CPU (the run queue) over a measured
 * interval, in cores, from /proc/<pid>/schedstat (nanoseconds; Linux with schedstats, as Debian's kernels).
 * With its CPU time: a process that is never idle (the two near 1) is held back by the CPUs, not its input.
 */
export function schedMeter(pid: number) {
  const waited = () => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]);
  const t0 = performance.now(), wait0 = waited();
  return () => (waited() - wait0) / ((performance.now() - t0) * 1e6);
}

/** Each meter's reading, in cores to three places (the processes named as the meters are). */
export const waitingCores = (meters: Record<string, ReturnType<typeof schedMeter>>): Record<string, number> =>
  Object.fromEntries(Object.entries(meters).map(([name, m]) => [name, Math.round(m() * 1000) / 1000]));

/**
 * The whole machine's busy cores (every process and the kernel: /proc/stat) over a measured interval, and
 * of those the steal: time a virtual machine's host gave another guest while this one had work, which
 * makes the same run slower in a busier hour of the host.
 */
export function machineMeter() {
  const read = () => {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
    return { busy: user! + nice! + system! + irq! + softirq! + steal!, idle: idle! + iowait!, steal: steal! };
  };
  const a = read();
  return () => {
    const b = read();
    const busy = b.busy - a.busy, all = busy + b.idle - a.idle;
    const cores = (ticks: number) => (all > 0 ? (ticks / all) * cpus().length : NaN);
    return { cores: cpus().length, busyCores: cores(busy), stealCores: cores(b.steal - a.steal) };
  };
}

/** mulberry32: a seeded PRNG, so runs are repeatable. */
export function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every live descendant of a process (children, their children, ...), from the parent pid in
 * /proc/<pid>/stat, with its command name (/proc/<pid>/comm): e.g. the browser processes a playwright
 * launch forked (the browser, its zygotes, renderers and utility processes), told apart from others'.
 */
export function descendantPids(root: number): Array<{ pid: number; comm: string }> {
  const children = new Map<number, number[]>();
  const comm = new Map<number, string>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
      comm.set(Number(d), stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
    } catch { /* gone */ }
  }
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (pid: number) => { for (const c of children.get(pid) ?? []) { out.push({ pid: c, comm: comm.get(c) ?? "" }); walk(c); } };
  walk(root);
  return out;
}
