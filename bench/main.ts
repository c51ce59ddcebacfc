/**
 * npm run bench: starts its own stack (Redis, Prosody, the component) on free ports, measures in one
 * run the XMPP ceiling, the end-to-end routing rate and latencies, Redis commands per routed customer
 * and the routing core alone, then the recorder against that routing peak (bench/records.ts), then the voice path on a voice stack of its own (bench/voice.ts), then
 * browser calls through rtpengine on another (bench/media.ts), prints a table and writes
 * bench/results/latest.json. docs/benchmarks.md explains every figure.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { Child } from "../launcher/child.js";
import { keysFor } from "../cti/redis/keys.js";
import { startTestStack, type TestStack } from "../launcher/stack.js";
import { closedLoops, echoing, type LoopResult } from "./ceiling.js";
import { type Client, type Component, type Element, componentXml, connect, connectComponent, stopAll, xml } from "./clients.js";
import { startComponent } from "./component.js";
import { benchCore, type CoreResult } from "./core.js";
import { benchSurge, surgeRows, type SurgeResult } from "./surge.js";
import { routingDriver } from "./routing.js";
import { cpuMeter, findPid, latency, machineMeter, schedMeter, sleep, waitingCores } from "./stats.js";
import { benchVoice, voiceRows } from "./voice.js";
import { benchMedia, mediaRows } from "./media.js";
import { benchRecords, recordsRows, type RecordsResult } from "./records.js";
import { asLoadGenerator, rerunInOwnSession, setSessionNice } from "./priority.js";

const PAIRS = 8; // client pairs for the ceiling
// Pairs for the ceiling with one message in flight per sender: Prosody then writes each connection one
// stanza per turn, as at the routing peak (192 connections), instead of eight.
const ONE_IN_FLIGHT_PAIRS = 64;
const PLAIN_ACCOUNTS = Array.from({ length: 2 * ONE_IN_FLIGHT_PAIRS }, (_, i) => ({ jid: `plain${i}@acme.test`, password: `plain${i}-pw` }));
const WINDOW = 8; // messages in flight per sender
// Enough seats that the closed loop's round trips do not cap the rate (each seat is held for a few
// hops through Prosody per customer); twice as many customers, so the peak always has some waiting.
const AGENTS = Number(process.env.BENCH_AGENTS ?? 64);
const CUSTOMERS = 2 * AGENTS;
const RESULTS = fileURLToPath(new URL("../../bench/results/", import.meta.url));

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const log = (...a: unknown[]) => console.error("bench:", ...a);

function sh(cmd: string, args: string[]): string {
  try { return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim(); } catch { return "unknown"; }
}

function machine() {
  const model = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown";
  return {
    nproc: Number(sh("nproc", [])), cpuModel: model, cpusSeen: cpus().length, memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version, prosody: sh("dpkg-query", ["-W", "-f", "${Version}", "prosody"]),
    redis: sh("redis-server", ["--version"]).match(/v=(\S+)/)?.[1] ?? "unknown", kernel: sh("uname", ["-r"]),
    // the bench's clients and phones run at a lower priority (bench/priority.ts) only where this is "nice 10"
    loadGeneratorsPriority: sh("cat", [`/proc/${process.pid}/autogroup`]),
  };
}

async function commandstats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const m = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const hit = line.match(/^cmdstat_([^:]+):calls=(\d+)/);
    if (hit) m.set(hit[1]!, Number(hit[2]));
  }
  return m;
}

const rounded = (l: LoopResult) => ({ ...l, perSecond: round(l.perSecond), prosodyCores: round(l.prosodyCores), prosodyWaitingCores: round(l.prosodyWaitingCores), benchCores: round(l.benchCores) });

const delta = (a: Map<string, number>, b: Map<string, number>) =>
  new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as [string, number]).filter(([k, v]) => v > 0 && k !== "info"));

/** Event types in the log between two times (stream ids are milliseconds). */
async function eventTypes(redis: Redis, key: string, from: number, to: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let start = String(from);
  for (;;) {
    const batch = await redis.xrange(key, start, String(to), "COUNT", 5000);
    for (const [, fields] of batch) { const t = fields[fields.indexOf("type") + 1]!; counts[t] = (counts[t] ?? 0) + 1; }
    if (batch.length < 5000) return counts;
    start = "(" + batch[batch.length - 1]![0];
  }
}

/** One ping every `everyMs` between two clients (window 1): round-trip times under whatever else runs. */
async function pacedPings(a: Client, b: Client, everyMs: number, ms: number): Promise<number[]> {
  const samples: number[] = [];
  const sent = new Map<string, number>();
  const off = echoing([b]);
  const h = (s: Element) => { const t = sent.get(String(s.attrs.id)); if (t !== undefined && s.is("message")) { samples.push(performance.now() - t); sent.delete(String(s.attrs.id)); } };
  a.on("stanza", h);
  const to = b.jid!.toString();
  const t0 = performance.now();
  for (let k = 0; performance.now() - t0 < ms; k++) {
    const id = `paced${k}`;
    sent.set(id, performance.now());
    a.send(xml("message", { to, type: "chat", id }, xml("body", {}, "ping"))).catch(() => undefined);
    await sleep(everyMs);
  }
  await sleep(200);
  a.off("stanza", h);
  off();
  return samples;
}

async function main() {
  const startedAt = new Date();
  const t0 = performance.now();

  // ---- (e) the routing core alone, before anything else competes for the CPU
  log("core: 1k / 10k / 100k waiting, 2,000 agents, 100 skills");
  const core: CoreResult[] = [];
  await benchCore({ waiting: 1_000, maxDecisions: Infinity, budgetMs: 1_000 }); // warm-up (JIT), not reported
  for (const waiting of [1_000, 10_000, 100_000]) core.push(await benchCore({ waiting, maxDecisions: Infinity, budgetMs: 3_000 }));
  const core10k = core[1]!;

  // ---- the stack
  log("starting Redis and Prosody");
  const agentsConfig = Array.from({ length: AGENTS }, (_, i) => ({ jid: `agent${i}@acme.test`, name: `Agent ${i}`, password: `agent${i}-pw`, skills: ["bench"], maxChats: 1 }));
  const stack: TestStack = await startTestStack({
    queues: [{ name: "bench", title: "Bench", skills: ["bench"] }],
    // Plain pairs are registered customers: anonymous visitors may write only to the contact center (docs/threat-model.md).
    agents: agentsConfig, supervisors: [], customers: PLAIN_ACCOUNTS, customerGraceSeconds: 0,
    rateLimit: { burst: 1_000_000, perSecond: 1_000_000 }, // the bench is one client sending fast, not an abuser
  });
  const { config } = stack;
  const cc = config.component.domain;
  const prosodyPid = findPid(stack.prosodyConfig);
  const redisPid = findPid(`redis-server 127.0.0.1:${config.ports.redis}`);
  const open: Array<Client | Component> = [];
  let component: Child | undefined;
  const redis = new Redis(stack.redisUrl);
  let results;
  try {
    // ---- (a) the ceiling
    log("ceiling: plain client-to-client round trips");
    const plainClients: Client[] = [];
    for (const a of PLAIN_ACCOUNTS) plainClients.push(await connect(config.ports.c2s, config.domain, a.jid.split("@")[0], a.password));
    open.push(...plainClients);
    const [senders, peers] = [plainClients.slice(0, ONE_IN_FLIGHT_PAIRS), plainClients.slice(ONE_IN_FLIGHT_PAIRS)];
    const pairSenders = senders.slice(0, PAIRS); // the ceiling's 8 pairs
    const withEcho = async <T>(measure: () => Promise<T>): Promise<T> => {
      const offEcho = echoing(peers);
      try { return await measure(); } finally { offEcho(); }
    };
    /** Sender i writes to peer i, `window` messages in flight each. */
    const plainLoops = (from: Client[], window: number, ms = 4000, warmupMs = 700) =>
      withEcho(() => closedLoops({ senders: from, targetOf: (i) => peers[i]!.jid!.toString(), window, ms, warmupMs, maxRoundTrips: 100_000, prosodyPid }));
    // Measured again right after the routing peak: this VM's speed moves within a minute, so the peak is
    // compared with the mean of a ceiling just before it and one just after.
    const plainCeiling = () => plainLoops(pairSenders, WINDOW);
    const plain = await plainCeiling();
    const plainOneInFlight = await plainLoops(senders, 1);
    const plainLight = await plainLoops(senders.slice(0, 1), 1, 1500, 200);

    log("ceiling: round trips through a trivial echo component (a raw XEP-0114 connection as", cc, "before ours connects)");
    const echo = await connectComponent(config.ports.component, cc, config.component.secret);
    echo.on("stanza", (s: Element) => {
      if (s.is("message") && s.getChildText("body") === "ping")
        echo.send(componentXml("message", { from: s.attrs.to, to: s.attrs.from, type: "chat", id: s.attrs.id }, componentXml("body", {}, "pong"))).catch(() => undefined);
    });
    const viaComponent = await closedLoops({ senders: pairSenders, targetOf: () => `echo@${cc}`, window: WINDOW, ms: 4000, warmupMs: 700, maxRoundTrips: 100_000, prosodyPid });
    await echo.stop();
    await sleep(200);

    // ---- the component, agents, customers
    log("starting the component;", AGENTS, "agents and", CUSTOMERS, "customers log in");
    component = await startComponent(config, stack.redisUrl, stack.config.runDir);
    const agentKey = keysFor(config.redis.prefix).agent;
    const agents: Client[] = [];
    for (const a of agentsConfig) {
      const c = await connect(config.ports.c2s, config.domain, a.jid.split("@")[0], a.password);
      open.push(c);
      agents.push(c);
      await c.send(xml("presence"));
    }
    for (const a of agentsConfig) {
      const deadline = Date.now() + 10_000;
      while ((await redis.hget(agentKey(a.jid), "state")) !== "ready") {
        if (Date.now() > deadline) throw new Error(`${a.jid} never became ready`);
        await sleep(20);
      }
    }
    const customers: Client[] = [];
    for (let i = 0; i < CUSTOMERS; i++) customers.push(await connect(config.ports.c2s, config.guestDomain));
    open.push(...customers);
    const driver = routingDriver({ customers, agents, queueJid: `bench@${cc}`, cc });

    // ---- (b), (c), (d) peak: closed loop, twice as many customers as seats
    log("routing: warm-up");
    await driver.closed(2000);
    log("routing: peak (closed loop, 10 s)");
    const before = await commandstats(redis);
    const eventsFrom = Date.now();
    const meter = cpuMeter(prosodyPid);
    const redisMeter = cpuMeter(redisPid);
    const componentMeter = cpuMeter(component.pid);
    const machineAtPeak = machineMeter();
    const runQueue = { prosody: schedMeter(prosodyPid!), component: schedMeter(component.pid), redis: schedMeter(redisPid!), clients: schedMeter(process.pid) };
    const peak = await driver.closed(10_000);
    const waiting = waitingCores(runQueue);
    const peakMachine = machineAtPeak();
    const peakCpu = meter();
    const redisCpu = redisMeter();
    const componentCpu = componentMeter();
    const eventsTo = Date.now();
    const after = await commandstats(redis);
    const redisDelta = delta(before, after);
    const events = await eventTypes(redis, `${config.redis.prefix}events`, eventsFrom, eventsTo);
    const routedPerSecond = peak.inWindow / peak.seconds;
    const pc = peak.counts;
    // Stanzas routed by Prosody per customer: what the clients sent, what the component sent them, and what
    // the seat module sends: its in-service and answered iqs to the component with their results (4, not seen
    // by clients), its recording copies to the component (one per chat message: the event log's "message"
    // entries) and the seat's directed presence to the customer. The last two came with issues 12 and 15
    // and were left out until 2026-12-02; `stanzasPerRoutedSeenBefore` is the old count, for comparison.
    const seenBefore = pc.clientSent + pc.fromComponent + 4 * pc.completed;
    const stanzasPerRouted = (seenBefore + (events.message ?? 0) + pc.seatPresence) / pc.completed;
    const stanzaRoundTripsPerRouted = stanzasPerRouted / 2;
    const redisTotal = [...redisDelta.values()].reduce((a, b) => a + b, 0);
    const scriptCalls = (redisDelta.get("fcall") ?? 0) + (redisDelta.get("evalsha") ?? 0) + (redisDelta.get("eval") ?? 0);

    log("ceiling: plain client-to-client round trips again, after the peak");
    const plainAfter = await plainCeiling();
    const ceilingPerSecond = (plain.perSecond + plainAfter.perSecond) / 2;

    // ---- half the peak load: open loop, and a paced plain ping alongside
    const halfRate = routedPerSecond / 2;
    log(`routing: half load (open loop, ${round(halfRate, 1)} customers/s, 8 s) with paced plain pings`);
    const [half, halfPings] = await Promise.all([driver.open(halfRate, 8000), pacedPings(senders[0]!, peers[0]!, 5, 8000)]);
    log("stopping");

    const plainLat = plain.latencyMs;
    const joinHalf = latency(half.counts.joinToAssignedMs);
    results = {
      startedAt: startedAt.toISOString(),
      command: "npm run bench",
      machine: machine(),
      // the keys issue 5 asks for
      routedPerSecond: round(routedPerSecond),
      plainRoundTripsPerSecond: round(ceilingPerSecond),
      stanzaRoundTripsPerRouted: round(stanzaRoundTripsPerRouted),
      routingEfficiency: round(routedPerSecond / (ceilingPerSecond / stanzaRoundTripsPerRouted), 3),
      // against a plain ceiling of Prosody writing each connection one stanza per turn, as at the routing peak
      routingEfficiencyOneInFlight: round(routedPerSecond / (plainOneInFlight.perSecond / stanzaRoundTripsPerRouted), 3),
      routingEfficiencyCountedBefore: round(routedPerSecond / (ceilingPerSecond / (seenBefore / pc.completed / 2)), 3),
      componentOverhead: round(viaComponent.perSecond / plain.perSecond, 3),
      joinToAssignedP99Ms: joinHalf.p99,
      plainRoundTripP99Ms: plainLat.p99,
      redisCommandsPerRouted: round(redisTotal / pc.completed),
      coreDecisionsPerSecond: round(core10k.decisionsPerSecond),
      // issue 10's voice keys, filled in by the voice phase below
      callsPerSecond: NaN, callRouteP99Ms: NaN, queuedCallsHeld: NaN,
      // more detail
      ceiling: {
        pairs: PAIRS, window: WINDOW,
        plain: rounded(plain),
        plainAfterPeak: rounded(plainAfter),
        plainOneInFlightPerSender: { pairs: ONE_IN_FLIGHT_PAIRS, ...rounded(plainOneInFlight) },
        plainOnePairWindowOne: { perSecond: round(plainLight.perSecond), latencyMs: plainLight.latencyMs },
        echoComponent: { how: `raw XEP-0114 connection as ${cc} answering chat messages to echo@${cc}, before the Switchboard component connects`, ...rounded(viaComponent) },
      },
      routing: {
        agents: AGENTS, customers: CUSTOMERS, maxChats: 1,
        peak: {
          seconds: round(peak.seconds), routedInWindow: peak.inWindow, routedWithDrain: pc.completed,
          joinToAssignedMs: latency(pc.joinToAssignedMs), releaseToNextAssignmentMs: latency(pc.releaseToNextMs),
          joinErrors: pc.joinErrors, bounces: pc.bounces, endErrors: pc.endErrors,
          stanzasPerRouted: round(stanzasPerRouted), stanzasPerRoutedSeenBefore: round(seenBefore / pc.completed),
          recordingCopiesPerRouted: round((events.message ?? 0) / pc.completed), seatPresencePerRouted: round(pc.seatPresence / pc.completed),
          prosodyCores: round(peakCpu.otherCores), componentCores: round(componentCpu.otherCores), clientsCores: round(peakCpu.selfCores), redisCores: round(redisCpu.otherCores),
          routedPerProsodyCpuSecond: round(pc.completed / peakCpu.otherCpuSeconds),
          // Runnable but waiting for a CPU (the run queue; main threads), in cores, and the machine's busy cores.
          waitingForCpuCores: waiting, machineBusyCores: round(peakMachine.busyCores), machineStealCores: round(peakMachine.stealCores, 3),
          eventLog: events,
        },
        halfLoad: {
          targetPerSecond: round(halfRate), started: half.started, skipped: half.skipped, routed: half.counts.completed,
          joinToAssignedMs: joinHalf, plainRoundTripMs: latency(halfPings), joinErrors: half.counts.joinErrors, bounces: half.counts.bounces,
        },
      },
      redis: {
        commandsPerRouted: round(redisTotal / pc.completed), scriptCallsPerRouted: round(scriptCalls / pc.completed),
        byCommandPerRouted: Object.fromEntries([...redisDelta].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / pc.completed, 3)])),
      },
      core: core.map((c) => ({ ...c, seconds: round(c.seconds), decisionsPerSecond: round(c.decisionsPerSecond), microsPerDecision: round(c.microsPerDecision), setupSeconds: round(c.setupSeconds) })),
    };
  } finally {
    await stopAll(open);
    await component?.stop();
    redis.disconnect();
    await stack.stop();
  }

  // ---- (i) surge: 10,000 customers in one queue, on a stack of its own once the chat stack is gone
  let surge: SurgeResult | { surge: { error: string } } | undefined;
  if (process.env.BENCH_SURGE !== "0") {
    log("surge: customers join one queue with nobody ready, wait a minute, then agents go ready and drain it");
    try {
      surge = await benchSurge({ routedPerSecond: results.routedPerSecond });
    } catch (err) {
      console.error(err);
      surge = { surge: { error: (err as Error).message.split("\n")[0]! } };
      process.exitCode = 1;
    }
  }

  // The phases after this one have load generators of their own (SIPp phones, lowered in bench/voice.ts;
  // Chromium, whose pages the bench drives and times) and this process only measures them: it runs at the
  // ordinary priority again, or a full machine would starve its measurements (an rtpengine query unanswered
  // for 2 s while Chromium held both cores).
  setSessionNice(process.pid, 0);

  // ---- (h) records: the recorder process against this run's routing peak, on a Redis and databases of its own
  log("records: the recorder catches up with a backlog of served chats (SQLite, then PostgreSQL)");
  let records: RecordsResult | { error: string };
  try {
    const eventLog = results.routing.peak.eventLog as Record<string, number>;
    const logged = Object.values(eventLog).reduce((a, b) => a + b, 0);
    records = await benchRecords({ perSecond: results.routedPerSecond, from: "this run", eventsPerRouted: eventLog.ended ? round(logged / eventLog.ended) : undefined });
  } catch (err) {
    console.error(err);
    records = { error: (err as Error).message.split("\n")[0]! };
    process.exitCode = 1;
  }

  // ---- (f) the voice path, on a stack of its own once the chat stack is gone
  log("voice: SIPp callers -> Kamailio -> the CTI -> SIPp phones");
  let voice: Awaited<ReturnType<typeof benchVoice>> | { error: string };
  try {
    voice = await benchVoice();
  } catch (err) {
    // The chat figures are still written; the run fails.
    console.error(err);
    voice = { error: (err as Error).message.split("\n")[0]! };
    process.exitCode = 1;
  }
  // ---- (g) media: browser calls through rtpengine, on a stack of its own once the voice stack is gone
  log("media: Chromium callers -> Kamailio -> rtpengine -> SIPp phones echoing RTP");
  let media: Awaited<ReturnType<typeof benchMedia>> | { error: string };
  try {
    media = await benchMedia();
  } catch (err) {
    // Chromium or rtpengine missing, or a failure: an error row, and the run fails as for voice.
    console.error(err);
    media = { error: (err as Error).message.split("\n")[0]! };
    process.exitCode = 1;
  }
  const all = {
    ...results,
    ...(surge ?? {}),
    ...("error" in records ? { records } : records),
    ...("error" in voice ? { voice } : { callsPerSecond: voice.callsPerSecond, callRouteP99Ms: voice.callRouteP99Ms, queuedCallsHeld: voice.queuedCallsHeld, voice: voice.voice }),
    ...("error" in media ? { media } : { mediaSetupP50Ms: media.mediaSetupP50Ms, mediaSetupP99Ms: media.mediaSetupP99Ms, mediaCallsHeld: media.mediaCallsHeld, rtpengineCpuMsPerStreamSecond: media.rtpengineCpuMsPerStreamSecond, media: media.media }),
    totalSeconds: round((performance.now() - t0) / 1000, 1),
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}latest.json`, JSON.stringify(all, null, 2) + "\n");
  print(all);
}

function print(r: any) {
  const rows: Array<[string, string]> = [
    ["plain round trips/s (8 pairs x 8 in flight)", `${r.plainRoundTripsPerSecond}  (mean of ${r.ceiling.plain.perSecond} before the routing peak and ${r.ceiling.plainAfterPeak.perSecond} after; p50 ${r.ceiling.plain.latencyMs.p50} / p99 ${r.plainRoundTripP99Ms} ms; Prosody ${r.ceiling.plain.prosodyCores} cores)`],
    [`plain round trips/s (${ONE_IN_FLIGHT_PAIRS} pairs x 1 in flight)`, `${r.ceiling.plainOneInFlightPerSender.perSecond}  (p99 ${r.ceiling.plainOneInFlightPerSender.latencyMs.p99} ms; Prosody ${r.ceiling.plainOneInFlightPerSender.prosodyCores} cores)`],
    ["plain round trip, 1 pair, 1 in flight", `${r.ceiling.plainOnePairWindowOne.perSecond}/s  (p50 ${r.ceiling.plainOnePairWindowOne.latencyMs.p50} / p99 ${r.ceiling.plainOnePairWindowOne.latencyMs.p99} ms)`],
    ["echo component round trips/s", `${r.ceiling.echoComponent.perSecond}  (p99 ${r.ceiling.echoComponent.latencyMs.p99} ms; Prosody ${r.ceiling.echoComponent.prosodyCores} cores)`],
    ["componentOverhead (echo / plain)", `${r.componentOverhead}`],
    [`routed customers/s (${AGENTS} agents, ${CUSTOMERS} customers)`, `${r.routedPerSecond}  (cores: Prosody ${r.routing.peak.prosodyCores}, component ${r.routing.peak.componentCores}, Redis ${r.routing.peak.redisCores}, bench clients ${r.routing.peak.clientsCores})`],
    ["Prosody on a CPU / waiting for one (cores), plain and at the routing peak", `${r.ceiling.plain.prosodyCores} / ${r.ceiling.plain.prosodyWaitingCores} and ${r.routing.peak.prosodyCores} / ${r.routing.peak.waitingForCpuCores.prosody}  (machine busy at the peak ${r.routing.peak.machineBusyCores} of ${r.machine.nproc}, of it stolen by the VM's host ${r.routing.peak.machineStealCores}; waiting: component ${r.routing.peak.waitingForCpuCores.component}, Redis ${r.routing.peak.waitingForCpuCores.redis}, bench clients ${r.routing.peak.waitingForCpuCores.clients})`],
    ["stanza round trips per routed customer", `${r.stanzaRoundTripsPerRouted}  (of which recording copies ${round(r.routing.peak.recordingCopiesPerRouted / 2)}, the seat's presence ${round(r.routing.peak.seatPresencePerRouted / 2)})`],
    ["routingEfficiency (target >= 0.8)", `${r.routingEfficiency}  (${r.routingEfficiencyCountedBefore} without counting the recording copies and the seat's presence; ${r.routingEfficiencyOneInFlight} against the ceiling with 1 in flight per sender)`],
    ["join -> assigned at peak, p50/p95/p99 ms", `${r.routing.peak.joinToAssignedMs.p50} / ${r.routing.peak.joinToAssignedMs.p95} / ${r.routing.peak.joinToAssignedMs.p99}`],
    ["release -> next assignment at peak, p50/p95/p99 ms", `${r.routing.peak.releaseToNextAssignmentMs.p50} / ${r.routing.peak.releaseToNextAssignmentMs.p95} / ${r.routing.peak.releaseToNextAssignmentMs.p99}`],
    [`join -> assigned at half load (${r.routing.halfLoad.targetPerSecond}/s), p50/p95/p99 ms`, `${r.routing.halfLoad.joinToAssignedMs.p50} / ${r.routing.halfLoad.joinToAssignedMs.p95} / ${r.joinToAssignedP99Ms}`],
    ["plain round trip at half load, p50/p99 ms", `${r.routing.halfLoad.plainRoundTripMs.p50} / ${r.routing.halfLoad.plainRoundTripMs.p99}`],
    ["Redis commands per routed customer", `${r.redisCommandsPerRouted}  (script calls ${r.redis.scriptCallsPerRouted})`],
    ...r.core.map((c: CoreResult) => [`core decisions/s, ${c.waiting} waiting`, `${c.decisionsPerSecond}  (${c.microsPerDecision} us each, ${c.decisions} decisions)`] as [string, string]),
    ...surgeRows(r),
    ...recordsRows(r),
    ...(r.voice?.error ? [["voice", `failed: ${r.voice.error}`] as [string, string]] : voiceRows(r)),
    ...mediaRows(r),
    ["total bench time", `${r.totalSeconds} s`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`\nSwitchboard bench, ${r.startedAt}, ${r.machine.nproc} x ${r.machine.cpuModel}, Node ${r.machine.node}, Prosody ${r.machine.prosody}, Redis ${r.machine.redis}\n`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  console.log(`\nwritten: bench/results/latest.json`);
}

if (!rerunInOwnSession()) {
  asLoadGenerator(process.pid); // every XMPP client of the bench lives in this process (until the surge's end)
  main().then(() => process.exit(process.exitCode ?? 0), (err) => { console.error(err); process.exit(1); });
}
