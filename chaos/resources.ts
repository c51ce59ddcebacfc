/**
 * Resource samples (at the start, every 100 cycles and at the end), to see that nothing grows without bound
 * over a long run: the runner's memory and file descriptors, Redis's memory, keys, event stream and AOF, and
 * the RSS of Prosody and of the component processes.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Redis } from "ioredis";
import type { Keys } from "../cti/redis/keys.js";
import type { Records } from "./population.js";
import { running, type Components, type Servers } from "./processes.js";

export interface ResourceSample {
  cycle: number;
  seconds: number;
  runnerRssMB: number;
  runnerHeapMB: number;
  runnerFds: number;
  /** Customers with a live XMPP client in the runner. */
  connectedCustomers: number;
  /** Acknowledged customers tracked for the final check (a compact record each; the client is dropped when closed). */
  trackedCustomers: number;
  redisUsedMB: number | null;
  redisKeys: number | null;
  /** Entries in the event stream (XADD MAXLEN ~ 100000 caps it). */
  eventStreamLength: number | null;
  /** Consumers in the notifier's group: one per component process that read, until a starting one forgets it (idle a minute, nothing pending). */
  eventConsumers: number | null;
  /** Redis's append-only files on disk (rewritten by Redis when they double, from 64 MB). */
  redisAofMB: number;
  prosodyRssMB: number | null;
  /** Kamailio's main process (its workers are processes of their own, not counted). */
  softswitchRssMB: number | null;
  /** SIPp callers running (calls in flight). */
  callsInFlight: number;
  componentRssMB: number[];
  componentLogMB: number;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** A full garbage collection before each resource sample, so the heap figure is what is really kept. */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return () => undefined;
  }
})();

const rssMB = (pid: number | undefined) => {
  try { return mb(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024); } catch { return null; }
};

export interface SamplerDeps {
  /** When the run started (ms). */
  started: number;
  inspector: Redis;
  keys: Keys;
  servers: Servers;
  components: Components;
  records: Records;
  /** SIPp callers running now. */
  callsInFlight: () => number;
  log: (line: string) => void;
}

export function resourceSampler({ started, inspector, keys, servers, components, records, callsInFlight, log }: SamplerDeps) {
  const samples: ResourceSample[] = [];
  const sample = async (cycle: number) => {
    collectGarbage();
    const mem = process.memoryUsage();
    let fds = -1;
    try { fds = readdirSync("/proc/self/fd").length; } catch { /* not Linux */ }
    const [info, dbsize, xlen, groups] = await Promise.all([
      inspector.info("memory").catch(() => null), inspector.dbsize().catch(() => null), inspector.xlen(keys.events()).catch(() => null),
      inspector.xinfo("GROUPS", keys.events()).catch(() => null) as Promise<unknown[][] | null | undefined>,
    ]);
    const group = groups?.find((g) => g[1] === "notifier");
    let aof = 0;
    const du = (dir: string) => { try { for (const e of readdirSync(dir, { withFileTypes: true })) { const f = join(dir, e.name); if (e.isDirectory()) du(f); else aof += statSync(f).size; } } catch { /* restarting */ } };
    du(servers.redisDir);
    const used = info ? /used_memory:(\d+)/.exec(info)?.[1] : undefined;
    const s: ResourceSample = {
      cycle, seconds: Math.round((Date.now() - started) / 1000),
      runnerRssMB: mb(mem.rss), runnerHeapMB: mb(mem.heapUsed), runnerFds: fds,
      connectedCustomers: records.customers.filter((t) => t.client).length, trackedCustomers: records.customers.length,
      redisUsedMB: used ? mb(Number(used)) : null, redisKeys: dbsize ?? null, eventStreamLength: xlen ?? null,
      eventConsumers: group ? Number(group[group.indexOf("consumers") + 1]) : null, redisAofMB: mb(aof),
      prosodyRssMB: rssMB(servers.prosody?.pid), softswitchRssMB: rssMB(servers.softswitch?.pid), callsInFlight: callsInFlight(),
      componentRssMB: components.list.filter(running).map((c) => rssMB(c.proc.pid) ?? 0),
      componentLogMB: mb(components.stats.logBytes),
    };
    samples.push(s);
    log(`  resources at cycle ${cycle}: runner ${s.runnerRssMB} MB rss, ${s.runnerHeapMB} MB heap, ${fds} fds; ` +
      `${s.connectedCustomers} connected / ${s.trackedCustomers} tracked customers; Redis ${s.redisUsedMB} MB, ${s.redisKeys} keys, ` +
      `${s.eventStreamLength} events, ${s.eventConsumers} consumers, AOF ${s.redisAofMB} MB; Prosody ${s.prosodyRssMB} MB; Kamailio ${s.softswitchRssMB} MB, ${s.callsInFlight} calls in flight; components ${s.componentRssMB.join(", ")} MB; log ${s.componentLogMB} MB`);
  };
  return { samples, sample };
}
