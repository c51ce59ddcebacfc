/**
 * The faults, one per cycle in a fixed rotation, and the recovery after each: seconds from the fault until a
 * fresh customer's join is acknowledged again (and, after an agent's TCP cut, until that agent is ready again
 * in Redis), and, at the same time, until a fresh call is answered again (voice recovery). The next fault
 * waits for both.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Keys } from "../cti/redis/keys.js";
import type { AgentConfig } from "./config.js";
import { rand, type Population } from "./population.js";
import type { Components, Servers } from "./processes.js";
import type { Voice } from "./voice.js";

export const FAULT_KINDS = [
  "kill9-component", "prosody-restart", "redis-restart", "agent-tcp-cut", "flood", "active-handover", "redis-kill9", "overlap",
  "kamailio-kill9", "kamailio-restart",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultDeps {
  components: Components;
  servers: Servers;
  people: Population;
  /** The runner's own Redis connection, to see an agent ready again. */
  inspector: Redis;
  keys: Keys;
  agents: AgentConfig[];
  voice: Voice;
  /** The rotation (default FAULT_KINDS). */
  kinds?: readonly FaultKind[];
  /**
   * Calls in flight during the Redis faults (redis-restart, redis-kill9, overlap); default true. Off, the
   * runner lets the calls in flight end before these faults and places none until they have recovered (how
   * runs avoided a defect fixed in 531791c: a hang-up reported while Redis was down was lost; docs/chaos.md).
   */
  callsDuringRedisFaults?: boolean;
  /** Runs a task nobody awaits (crashes.ts): the burst's customers. */
  background: (p: Promise<unknown>, what: string) => void;
  log: (line: string) => void;
}

export function faultInjector({ components, servers, people, voice, inspector, keys, agents: agentsCfg, kinds = FAULT_KINDS, callsDuringRedisFaults = true, background, log }: FaultDeps) {
  /** Faults injected, by kind. */
  const faults: Record<string, number> = {};
  const recoverySeconds: Record<string, number[]> = {};
  /** Per fault kind: seconds from the fault until a fresh call was answered again. */
  const voiceRecoverySeconds: Record<string, number[]> = {};
  let nextName = 0;
  const sessionOf = async (callId: string) => {
    const id = await inspector.get(keys.callHandle(callId));
    return id ? inspector.hgetall(keys.session(id)) : undefined;
  };

  /** Seconds from `since` until a fresh customer's join is acknowledged. */
  const chatRecovery = async (kind: string, since: number) => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (await people.customer(false)) break;
      await sleep(200);
    }
    const s = (Date.now() - since) / 1000;
    (recoverySeconds[kind] ??= []).push(Math.round(s * 100) / 100);
    log(`  ${kind}: recovered in ${s.toFixed(2)} s`);
  };
  const voiceRecovery = async (kind: string, since: number) => {
    const s = await voice.recovery(since);
    (voiceRecoverySeconds[kind] ??= []).push(s);
    log(`  ${kind}: a call answered again after ${s.toFixed(2)} s`);
  };
  /** Both recoveries, measured at the same time. */
  const recovery = async (kind: string, since: number) => { await Promise.all([chatRecovery(kind, since), voiceRecovery(kind, since)]); };
  /** Calls in flight: a few callers at once (background tasks, classified at the end). */
  const callBurst = (count: number) => {
    if (voice.paused) return;
    for (let k = 0; k < count; k++) background(voice.call("burst", { holdMs: Math.random() < 0.5 ? 0 : Math.round(rand(500, 2500)) }).finished, "a burst caller");
  };
  // In the middle of assignments: a burst of joins (and of calls), then the active instance goes (the caller
  // starts a new process, which becomes the standby).
  const burstThenKillActive = async (signal: "SIGKILL" | "SIGTERM") => {
    for (let k = 0; k < 8; k++) background(people.customer(false), "a burst customer");
    callBurst(2);
    await sleep(rand(50, 400));
    const victim = await components.active();
    if (!victim) return;
    components.retire(victim, signal);
    log(`  ${victim.name} (pid ${victim.proc.pid}) ${signal === "SIGKILL" ? "killed with SIGKILL" : "stopped with SIGTERM"}`);
  };
  const newComponent = () => components.start(`r${++nextName}`);

  const agentTcpCut = async (i: number, t0: number) => {
    const victim = people.agents[Math.floor(i / kinds.length) % people.agents.length]!;
    // The TCP connection dies under the client: no unavailable presence is sent. xmpp.js reconnects.
    const jid = agentsCfg[Math.floor(i / kinds.length) % people.agents.length]!.jid;
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
    const kind = kinds[i % kinds.length]!;
    faults[kind] = (faults[kind] ?? 0) + 1;
    log(`cycle ${i + 1}/${cycles}: ${kind}`);
    const withoutCalls = !callsDuringRedisFaults && (kind === "redis-restart" || kind === "redis-kill9" || kind === "overlap");
    if (withoutCalls) await voice.pause(sessionOf);
    try {
      await injectKind(kind, i);
    } finally {
      voice.resume();
    }
  };
  const injectKind = async (kind: FaultKind, i: number) => {
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
    } else if (kind === "kamailio-kill9" || kind === "kamailio-restart") {
      // Calls in flight: a burst of callers, some still queued, some ringing or in service when the switch goes.
      callBurst(4);
      await sleep(rand(200, 800));
      const at = Date.now();
      const fault = { at, goneAt: Infinity };
      voice.switchFaults.push(fault);
      await servers.restartSoftswitch(kind === "kamailio-kill9" ? "SIGKILL" : "SIGTERM", () => { fault.goneAt = Date.now(); });
      log(`  kamailio ${kind === "kamailio-kill9" ? "killed with SIGKILL (its process group)" : "stopped with SIGTERM"} and started again in ${((Date.now() - at) / 1000).toFixed(2)} s`);
      await recovery(kind, at);
    } else if (kind === "agent-tcp-cut") {
      await agentTcpCut(i, t0);
    } else {
      await Promise.all(Array.from({ length: 40 }, (_, k) => people.customer(k % 2 === 0)));
      await recovery(kind, t0);
    }
  };
  return { faults, recoverySeconds, voiceRecoverySeconds, inject, sessionOf };
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
