/**
 * Fault injection with an invariant checker, against a real stack on free ports: Redis (AOF on),
 * Prosody, Kamailio (the soft switch) and two component processes (`node dist/component/main.js`, one
 * active, one standby). Real XMPP agents accept and end chats; real anonymous customers join, some leave;
 * voice agents' SIPp phones answer calls that SIPp callers place to a queue. Faults are injected in cycles;
 * at the end every customer whose join was acknowledged, and every call that heard 180 Ringing, is
 * classified from Redis and from what it received. Used by `npm run chaos` and by
 * test/integration/chaos.test.ts.
 *
 * The parts: config.ts (the stack's configuration), processes.ts (Redis, Prosody, Kamailio, the component
 * processes), population.ts (agents and customers), voice.ts (phones, callers and the calls' checks),
 * faults.ts (the faults and the recoveries), checker.ts (the classification and the invariants),
 * crashes.ts, resources.ts. runChaos wires them.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { keysFor } from "../cti/redis/keys.js";
import { registerAccount } from "../launcher/prosody.js";
import { invariantChecker } from "./checker.js";
import { chaosConfig } from "./config.js";
import { watchCrashes } from "./crashes.js";
import { faultInjector, summarizeRecovery, type FaultKind } from "./faults.js";
import { population } from "./population.js";
import { componentProcesses, serverProcesses } from "./processes.js";
import { resourceSampler, type ResourceSample } from "./resources.js";
import { checkVoice, voicePopulation, type VoiceCounts } from "./voice.js";

export type { ResourceSample };

export interface ChaosOptions {
  cycles: number;
  /** Background arrivals per second. */
  arrivalsPerSecond?: number;
  /** Background calls per second (default 0.6). */
  callsPerSecond?: number;
  /** The faults' rotation (default all of FAULT_KINDS, in order). */
  kinds?: readonly FaultKind[];
  /** Calls in flight during the Redis faults too (default true; false lets them end first). */
  callsDuringRedisFaults?: boolean;
  /** Seconds between one fault's recovery and the next fault (default 1.5; the recovery itself is waited for first). */
  cycleSeconds?: number;
  /**
   * Every this many cycles, customers gone for 30 s whose Redis sessions have all ended are classified and
   * their records dropped, so a long run keeps a bounded number (default 50).
   */
  foldEvery?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  cycles: number;
  faults: Record<string, number>;
  acknowledged: number;
  assigned: number;
  departedOrExpiredWithNotice: number;
  /** The customer's own connection was cut by a fault (Prosody restart) before any result: nobody left to tell. */
  droppedWithConnection: number;
  stillQueued: number;
  lost: number;
  duplicated: number;
  overCapacity: number;
  /**
   * Unhandled rejections and uncaught exceptions in the runner, component processes that exited without
   * being told to, and crash reports in their output (an invariant: 0).
   */
  crashes: number;
  crashDetails: string[];
  maxRecoverySeconds: number;
  recoverySeconds: Record<string, number[]>;
  /** Per fault kind: how many, median, 90th percentile and worst recovery (s). */
  recoverySummary: Record<string, { n: number; p50: number; p90: number; max: number }>;
  /** Customers classified (and dropped from memory) during the run rather than at the end. */
  classifiedDuringRun: number;
  /** Served customers whose seat never received the beginning message (information, not an invariant). */
  servedWithoutBegin: number;
  /** How Redis ended the sessions of customers dropped by a fault (endReason -> count, "live" if not ended). */
  droppedEndReasons: Record<string, number>;
  /** Redis sessions still live at the end whose customer had been disconnected by a fault. */
  ghostsLeftLive: number;
  lostDetails: string[];
  servedWithoutBeginDetails: string[];
  duplicatedDetails: string[];
  overCapacityDetails: string[];
  durationSeconds: number;
  /** Component processes started during the run (two at the start, one per kill or handover). */
  componentProcesses: number;
  /** Lines the component processes printed, by pino level name (warn, error, fatal) or "other" (not JSON). */
  componentLogLines: Record<string, number>;
  /** Resource figures at the start, every 100 cycles and at the end (to see nothing grows without bound). */
  resources: ResourceSample[];
  /** Calls: their classification, the sessions and seats after the drain, and the voice recovery per fault. */
  voice: VoiceCounts & {
    /** Whether calls were in flight during the Redis faults (otherwise the runner let them end first). */
    callsDuringRedisFaults: boolean;
    voiceRecoverySeconds: Record<string, number[]>;
    voiceRecoverySummary: Record<string, { n: number; p50: number; p90: number; max: number }>;
    maxVoiceRecoverySeconds: number;
    /** Kamailio starts, and the lines it printed (kept in softswitch.log, capped). */
    softswitchStarts: number;
    softswitchLogLines: number;
    /** Kamailio's CRITICAL/ALERT lines (its own bug reports; not counted as crashes: it went on, or was stopping). */
    softswitchCriticalLines: number;
    softswitchCriticalDetails: string[];
  };
  componentLogs: string;
}

export async function runChaos({ cycles, arrivalsPerSecond = 8, callsPerSecond = 0.6, kinds, callsDuringRedisFaults = true, cycleSeconds = 1.5, foldEvery = 50, log = () => {} }: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const runDir = mkdtempSync(join(tmpdir(), "switchboard-chaos-"));
  const { ports, agents, doc, config } = await chaosConfig(runDir);
  const keys = keysFor(config.redis.prefix);
  const crashes = watchCrashes(log);
  const components = componentProcesses({ runDir, doc, ports, recordCrash: crashes.record });
  const servers = serverProcesses({ config, runDir, redisPort: ports.redis, log, recordCrash: crashes.record });
  const people = population({ config, ports, agents, background: crashes.background });
  const voice = voicePopulation({ config, agents, runDir, background: crashes.background, recordCrash: crashes.record, log });
  let inspector: Redis | undefined;
  // Stopped in finally too: a run that fails half-way must not leave arrivals and sampling going (in jest).
  let sampler: NodeJS.Timeout | undefined;
  let arrivals: { stop(): Promise<void> } | undefined;
  let callers: { stop(): Promise<void> } | undefined;

  try {
    await servers.start();
    await Promise.all(agents.map((a) => registerAccount(servers.prosody!.configFile, a.jid, a.password)));
    // The runner's own Redis connection, for the checks: it fails fast (no queue) while Redis restarts.
    inspector = new Redis(servers.redis!.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    inspector.on("error", () => {});
    const checker = invariantChecker({ inspector, prefix: config.redis.prefix, keys, agents, records: people.records });
    const resources = resourceSampler({ started, inspector, keys, servers, components, records: people.records, callsInFlight: voice.inFlight, log });
    await components.start("a");
    await sleep(500);
    await components.start("b");
    await components.awaitActive(20_000);
    await people.startAgents();
    await voice.startPhones();
    // Every voice agent ready with its phone registered, as the CTI sees it, before the first call.
    for (const deadline = Date.now() + 20_000; ;) {
      const seen = await Promise.all(agents.filter((a) => a.voice).map((a) => inspector!.hmget(keys.agent(a.jid), "state", "phone")));
      if (seen.every(([state, phone]) => state === "ready" && phone === "1")) break;
      if (Date.now() > deadline) throw new Error(`voice agents not ready with a phone: ${JSON.stringify(seen)}`);
      await sleep(200);
    }
    await sleep(1000);
    await resources.sample(0);

    sampler = setInterval(() => void checker.sampleCapacity(), 200);
    arrivals = people.arrivals(arrivalsPerSecond);
    callers = voice.arrivals(callsPerSecond);
    const faults = faultInjector({ components, servers, people, voice, inspector, keys, agents, kinds, callsDuringRedisFaults, background: crashes.background, log });
    for (let i = 0; i < cycles; i++) {
      await faults.inject(i, cycles);
      if ((i + 1) % foldEvery === 0) await checker.fold();
      if ((i + 1) % 100 === 0 && i + 1 < cycles) await resources.sample(i + 1);
      await sleep(cycleSeconds * 1000);
    }

    // ---- settle ----
    await arrivals.stop();
    await callers.stop();
    log("faults stopped; settling");
    const settleDeadline = Date.now() + 60_000;
    await sleep(12_000); // XAUTOCLAIM picks up unacknowledged events after 10 s
    await people.untilAllTold(settleDeadline);
    const untold = people.records.customers.filter((t) => !t.closedByUs && !t.dropped && !t.endedNotice && !t.departNotice);
    if (untold.length) log(`  ${untold.length} customers not told anything after the settle: ${untold.slice(0, 10).map((t) => `#${t.n} ${t.jid} seats ${t.seats} session ${t.sessionId ?? "-"}`).join("; ")}`);
    await voice.drain(settleDeadline, faults.sessionOf);
    await sleep(1000); // the last hang-ups' reports reach the CTI
    clearInterval(sampler);
    await checker.sampleCapacity();
    await resources.sample(cycles);
    people.stopServing();

    // ---- classify ----
    await checker.classifyRemaining();
    const voiceCounts = await checkVoice({ inspector, prefix: config.redis.prefix, keys, agents, voice });
    const recovery = summarizeRecovery(faults.recoverySeconds);
    const voiceRecovery = summarizeRecovery(faults.voiceRecoverySeconds);
    const { logLines: componentLogLines, logDropped } = components.stats;
    if (logDropped) componentLogLines.notKeptInLog = logDropped;
    const report: ChaosReport = {
      cycles, faults: faults.faults, ...checker.counts, overCapacity: checker.overCapacity(), crashes: 0, crashDetails: [],
      maxRecoverySeconds: recovery.max, recoverySeconds: faults.recoverySeconds, recoverySummary: recovery.summary,
      overCapacityDetails: checker.overCapacityDetails.slice(0, 20), durationSeconds: 0,
      componentProcesses: components.stats.started, componentLogLines, resources: resources.samples,
      voice: {
        callsDuringRedisFaults, ...voiceCounts, voiceRecoverySeconds: faults.voiceRecoverySeconds, voiceRecoverySummary: voiceRecovery.summary, maxVoiceRecoverySeconds: voiceRecovery.max,
        softswitchStarts: servers.softswitchStats.started, softswitchLogLines: servers.softswitchStats.lines,
        softswitchCriticalLines: servers.softswitchStats.critical, softswitchCriticalDetails: servers.softswitchStats.criticalDetails,
      },
      componentLogs: components.logFile,
    };
    // Give the components' last output (a crash report) a moment to arrive before counting.
    await sleep(200);
    report.crashes = crashes.count();
    report.crashDetails = crashes.details();
    report.durationSeconds = Math.round((Date.now() - started) / 1000);
    return report;
  } finally {
    clearInterval(sampler);
    await arrivals?.stop();
    await callers?.stop();
    people.stopServing();
    await voice.stop();
    await people.stopClients();
    await components.killAll();
    inspector?.disconnect();
    await servers.stop();
    components.closeLog();
    servers.closeLog();
    crashes.stop();
    if (!process.env.CHAOS_KEEP) rmSync(runDir, { recursive: true, force: true });
    else mkdirSync(runDir, { recursive: true });
  }
}
