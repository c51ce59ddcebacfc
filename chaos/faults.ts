/**
 * The faults, one per cycle in a fixed rotation, and the recovery after each: seconds from the fault until a
 * fresh customer's join is acknowledged again (and, after an agent's TCP cut, until that agent is ready again
 * in Redis). The next fault waits for the recovery.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Keys } from "../cti/redis/keys.js";
import type { AgentConfig } from "./config.js";
import { rand, type Population } from "./population.js";
import type { Components, Servers } from "./processes.js";

export const FAULT_KINDS = ["kill9-component", "prosody-restart", "redis-restart", "agent-tcp-cut", "flood", "active-handover", "redis-kill9", "overlap"] as const;

export interface FaultDeps {
  components: Components;
  servers: Servers;
  people: Population;
  /** The runner's own Redis connection, to see an agent ready again. */
  inspector: Redis;
  keys: Keys;
  agents: AgentConfig[];
  /** Runs a task nobody awaits (crashes.ts): the burst's customers. */
  background: (p: Promise<unknown>, what: string) => void;
  log: (line: string) => void;
}

export function faultInjector({ components, servers, people, inspector, keys, agents: agentsCfg, background, log }: FaultDeps) {
  /** Faults injected, by kind. */
  const faults: Record<string, number> = {};
  const recoverySeconds: Record<string, number[]> = {};
  let nextName = 0;

  /** Seconds from `since` until a fresh customer's join is acknowledged. */
  const recovery = async (kind: string, since: number) => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (await people.customer(false)) break;
      await sleep(200);
    }
    const s = (Date.now() - since) / 1000;
    (recoverySeconds[kind] ??= []).push(Math.round(s * 100) / 100);
    log(`  ${kind}: recovered in ${s.toFixed(2)} s`);
  };
  // In the middle of assignments: a burst of joins, then the active instance goes (the caller starts a new
  // process, which becomes the standby).
  const burstThenKillActive = async (signal: "SIGKILL" | "SIGTERM") => {
    for (let k = 0; k < 8; k++) background(people.customer(false), "a burst customer");
    await sleep(rand(50, 400));
    const victim = await components.active();
    if (!victim) return;
    components.retire(victim, signal);
    log(`  ${victim.name} (pid ${victim.proc.pid}) ${signal === "SIGKILL" ? "killed with SIGKILL" : "stopped with SIGTERM"}`);
  };
  const newComponent = () => components.start(`r${++nextName}`);

  const agentTcpCut = async (i: number, t0: number) => {
    const victim = people.agents[Math.floor(i / FAULT_KINDS.length) % people.agents.length]!;
    // The TCP connection dies under the client: no unavailable presence is sent. xmpp.js reconnects.
    const jid = agentsCfg[Math.floor(i / FAULT_KINDS.length) % people.agents.length]!.jid;
    (victim as unknown as { socket?: { destroy(): void } | null }).socket?.destroy();
    log(`  ${jid}: TCP connection destroyed`);
    await recovery("agent-tcp-cut", t0);
    // Recovery of the agent itself: back online and ready in Redis.
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (victim.status === "online" && (await inspector.hget(keys.agent(jid), "state").catch(() => null)) === "ready") break;
      await sleep(100);
    }
    const s = (Date.now() - t0) / 1000;
    (recoverySeconds["agent-back-ready"] ??= []).push(Math.round(s * 100) / 100);
    log(`  ${jid} ready again after ${s.toFixed(2)} s`);
  };

  /** Cycle i (of `cycles`): its fault, then its recovery. */
  const inject = async (i: number, cycles: number) => {
    const kind = FAULT_KINDS[i % FAULT_KINDS.length]!;
    faults[kind] = (faults[kind] ?? 0) + 1;
    log(`cycle ${i + 1}/${cycles}: ${kind}`);
    const t0 = Date.now();
    if (kind === "kill9-component" || kind === "active-handover") {
      await burstThenKillActive(kind === "kill9-component" ? "SIGKILL" : "SIGTERM");
      await newComponent();
      await recovery(kind, t0);
    } else if (kind === "prosody-restart") {
      await servers.restartProsody();
      await recovery(kind, t0);
    } else if (kind === "redis-restart" || kind === "redis-kill9") {
      await servers.restartRedis(kind === "redis-kill9" ? "SIGKILL" : "SIGTERM");
      await recovery(kind, t0);
    } else if (kind === "overlap") {
      // Two faults at once: the active component killed in the middle of assignments, then Redis killed
      // while the standby takes over.
      await burstThenKillActive("SIGKILL");
      await Promise.all([newComponent(), sleep(rand(0, 300)).then(() => servers.restartRedis("SIGKILL"))]);
      await recovery(kind, t0);
    } else if (kind === "agent-tcp-cut") {
      await agentTcpCut(i, t0);
    } else {
      await Promise.all(Array.from({ length: 40 }, (_, k) => people.customer(k % 2 === 0)));
      await recovery(kind, t0);
    }
  };
  return { faults, recoverySeconds, inject };
}

/** Per fault kind: how many, median, 90th percentile and worst recovery (s); and the worst of all. */
export function summarizeRecovery(recoverySeconds: Record<string, number[]>) {
  const summary: Record<string, { n: number; p50: number; p90: number; max: number }> = {};
  for (const [kind, values] of Object.entries(recoverySeconds)) {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    summary[kind] = { n: sorted.length, p50: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1]! };
  }
  return { summary, max: Math.max(0, ...Object.values(recoverySeconds).flat()) };
}
