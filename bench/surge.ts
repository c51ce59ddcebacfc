/**
 * The surge phase (issue 14): SURGE_CUSTOMERS customers join one queue as fast as the stack accepts them
 * while its agents are logged in but not ready; they wait SURGE_WAIT_MS; then SURGE_AGENTS agents go ready
 * and the queue drains. On a stack of its own. The customers are JIDs of a load-generator XEP-0114
 * component (load.<domain>): one connection carries them all, so the bench measures the stack, not ten
 * thousand client connections in one Node process. The raw IQ ceiling is measured the same way, in the
 * same run: the load component asks itself (load -> Prosody -> load), as joins go load -> Prosody ->
 * Switchboard -> Prosody -> load.
 */
import { Redis } from "ioredis";
import { keysFor } from "../cti/redis/keys.js";
import { queuedIds } from "../cti/redis/store.js";
import { startTestStack } from "../launcher/stack.js";
import { NS, WG } from "../protocol/names.js";
import { type Client, type Component, type Element, componentXml, connect, connectComponent, stopAll, xml } from "./clients.js";
import { startComponent } from "./component.js";
import { cpuMeter, findPid, latency, schedMeter, sleep, waitingCores } from "./stats.js";

const CUSTOMERS = Number(process.env.BENCH_SURGE_CUSTOMERS ?? 10_000);
const AGENTS = Number(process.env.BENCH_SURGE_AGENTS ?? 200);
const WAIT_MS = Number(process.env.BENCH_SURGE_WAIT_MS ?? 60_000);
/** IQs in flight, for the joins and for the raw ceiling alike. */
const WINDOW = 16;
/** The raw IQ round trips measured (after a warm-up of a tenth). */
const RAW_IQS = 5_000;
/**
 * CPU samples while the customers wait: short enough that some fall between two status passes (every
 * 250 ms), which tells the CPU outside the pushes from the pushes' own.
 */
const SAMPLE_MS = 100;
const STATUS_INTERVAL_SECONDS = 15;
/** The queue the warm-up's customers join and leave, and how many they are (a tenth, as for the raw IQs). */
const WARM_QUEUE = "warm-up";
const WARM_CUSTOMERS = Math.ceil(CUSTOMERS / 10); // whole: closedIqs counts its answers up to it

export interface SurgeResult {
  surgeJoinP99Ms: number; surgeIqP99Ms: number; waitingCpuCores: number; redisBytesPerWaiting: number; drainPerSecond: number;
  surge: Record<string, unknown>;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Sends `total` IQs built by `make(i)` with `window` in flight; resolves with each one's round trip (ms). */
async function closedIqs(load: Component, total: number, window: number, make: (i: number, id: string) => Element): Promise<{ samples: number[]; seconds: number; errors: number }> {
  const samples: number[] = [];
  const sent = new Map<string, number>();
  let next = 0, done = 0, errors = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => { finish = r; });
  const sendNext = () => {
    if (next >= total) return;
    const i = next++;
    const id = `sq${i}`;
    sent.set(id, performance.now());
    load.send(make(i, id)).catch(() => undefined);
  };
  const h = (s: Element) => {
    if (!s.is("iq")) return;
    const t0 = sent.get(String(s.attrs.id));
    if (t0 === undefined) return;
    sent.delete(String(s.attrs.id));
    samples.push(performance.now() - t0);
    if (s.attrs.type === "error") errors++;
    if (++done === total) finish(); else sendNext();
  };
  load.on("stanza", h);
  const t0 = performance.now();
  for (let k = 0; k < window; k++) sendNext();
  await finished;
  load.off("stanza", h);
  return { samples, seconds: (performance.now() - t0) / 1000, errors };
}

export async function benchSurge({ routedPerSecond }: { routedPerSecond: number }): Promise<SurgeResult> {
  const loadDomain = "load.acme.test";
  const agentsConfig = Array.from({ length: AGENTS }, (_, i) => ({ jid: `surge${i}@acme.test`, name: `Surge ${i}`, password: `surge${i}-pw`, skills: ["surge"], maxChats: 1 }));
  const stack = await startTestStack({
    queues: [{ name: "surge", title: "Surge", skills: ["surge"] }, { name: WARM_QUEUE, title: "Warm-up", skills: ["surge"] }],
    agents: agentsConfig, supervisors: [], customers: [], customerGraceSeconds: 0, statusIntervalSeconds: STATUS_INTERVAL_SECONDS,
    rateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
  }, { extraComponents: [{ domain: loadDomain, secret: "load-secret" }] });
  const { config } = stack;
  const cc = config.component.domain;
  const queueJid = `surge@${cc}`;
  const prosodyPid = findPid(stack.prosodyConfig)!;
  const redis = new Redis(stack.redisUrl);
  const open: Array<Client | Component> = [];
  let component: Awaited<ReturnType<typeof startComponent>> | undefined;
  try {
    const load = await connectComponent(config.ports.component, loadDomain, "load-secret");
    open.push(load);
    // The raw ceiling: the load component answers its own IQs.
    load.on("stanza", (s: Element) => {
      if (s.is("iq") && s.attrs.type === "get" && String(s.attrs.to).startsWith("echo"))
        load.send(componentXml("iq", { from: s.attrs.to, to: s.attrs.from, type: "result", id: s.attrs.id })).catch(() => undefined);
    });
    const ping = (i: number, id: string) => componentXml("iq", { from: `raw${i % 1000}@${loadDomain}/web`, to: `echo@${loadDomain}`, type: "get", id }, componentXml("ping", { xmlns: "urn:xmpp:ping" }));
    await closedIqs(load, RAW_IQS / 10, WINDOW, ping);
    const rawSched = { prosody: schedMeter(prosodyPid), bench: schedMeter(process.pid) };
    const raw = await closedIqs(load, RAW_IQS, WINDOW, ping);
    const rawWaiting = waitingCores(rawSched);
    const rawLatency = latency(raw.samples);

    component = await startComponent(config, stack.redisUrl, stack.config.runDir);
    const keys = keysFor(config.redis.prefix);
    const agentKey = keys.agent;
    // Agents log in not ready (dnd): a join needs someone logged in, and nobody is served before the drain.
    const agents: Client[] = [];
    for (let i = 0; i < AGENTS; i += 20) {
      const batch = await Promise.all(agentsConfig.slice(i, i + 20).map((a) => connect(config.ports.c2s, config.domain, a.jid.split("@")[0], a.password)));
      for (const c of batch) await c.send(xml("presence", {}, xml("show", {}, "dnd")));
      agents.push(...batch);
    }
    open.push(...agents);
    for (const a of agentsConfig) {
      for (const deadline = Date.now() + 10_000; (await redis.hget(agentKey(a.jid), "state")) !== "not-ready";) {
        if (Date.now() > deadline) throw new Error(`${a.jid} never logged in`);
        await sleep(20);
      }
    }

    // What each customer hears: statuses (when), its assignment (in which order).
    const customerJid = (i: number) => `c${i}@${loadDomain}/web`;
    const statuses: number[] = new Array(CUSTOMERS).fill(0);
    const assignedAt: number[] = new Array(CUSTOMERS).fill(0);
    const assignedTimes: number[] = new Array(CUSTOMERS).fill(0);
    let statusCount = 0, assignedCount = 0, otherEnds = 0;
    const positionsRose: string[] = [];
    const lastPosition = new Map<number, number>();
    const indexOf = (to: string) => Number(/^c(\d+)@/.exec(to)?.[1] ?? -1);
    load.on("stanza", (s: Element) => {
      if (!s.is("message")) return;
      const i = indexOf(String(s.attrs.to));
      if (i < 0) return;
      const qs = s.getChild(WG.queueStatus, NS.WG);
      if (qs) {
        statusCount++;
        statuses[i]!++;
        const position = Number(qs.getChildText("position"));
        const before = lastPosition.get(i);
        if (before !== undefined && position > before && positionsRose.length < 10) positionsRose.push(`c${i}: ${before} -> ${position}`);
        lastPosition.set(i, position);
        return;
      }
      if (s.getChild("assigned", NS.SB)) {
        if (assignedAt[i]) return;
        assignedAt[i] = ++assignedCount;
        assignedTimes[i] = performance.now();
        return;
      }
      if (s.getChild("departed", NS.SB) || s.getChild("ended", NS.SB)) otherEnds++;
    });

    // ---- a warm-up, as the raw IQs have: the component has just started, and without one the first thousand
    // joins ran cold (p99 22-45 ms against about 15 for the others), while a real surge meets a component
    // that has run for hours. Other customers join another queue and leave it.
    const warm = (i: number, id: string, what: string) => componentXml("iq", { from: `w${i}@${loadDomain}/web`, to: `${WARM_QUEUE}@${cc}`, type: "set", id }, componentXml(what, { xmlns: NS.WG }));
    const warmJoins = await closedIqs(load, WARM_CUSTOMERS, WINDOW, (i, id) => warm(i, id, WG.joinQueue));
    const warmDeparts = await closedIqs(load, WARM_CUSTOMERS, WINDOW, (i, id) => warm(i, id, WG.departQueue));
    if (warmJoins.errors + warmDeparts.errors > 0) throw new Error(`warm-up: ${warmJoins.errors} joins and ${warmDeparts.errors} departures failed`);

    // ---- arrivals
    const memoryBefore = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    const eventsBytesBefore = Number(await redis.call("MEMORY", "USAGE", `${config.redis.prefix}events`)) || 0;
    const join = (i: number, id: string) => componentXml("iq", { from: customerJid(i), to: queueJid, type: "set", id }, componentXml("join-queue", { xmlns: NS.WG }, componentXml("queue-notifications")));
    const arrivalCpu = { prosody: cpuMeter(prosodyPid), component: cpuMeter(component.pid), redis: cpuMeter(stack.redisPid) };
    const arrivalSched = { prosody: schedMeter(prosodyPid), component: schedMeter(component.pid), redis: schedMeter(stack.redisPid), bench: schedMeter(process.pid) };
    const joins = await closedIqs(load, CUSTOMERS, WINDOW, join);
    const arrival = Object.fromEntries(Object.entries(arrivalCpu).map(([name, meter]) => [name, meter()]));
    const arrivalWaiting = waitingCores(arrivalSched);
    const joinLatency = latency(joins.samples);
    const memoryJoined = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    const waitingNow = (await queuedIds(redis, keys, "surge")).length;

    // ---- the wait: CPU sampled every SAMPLE_MS, split by whether status pushes went out in the sample
    const samples: Array<{ cores: number; prosody: number; component: number; redis: number; statuses: number }> = [];
    const statusesBefore = statusCount;
    const waitStart = performance.now();
    while (performance.now() - waitStart < WAIT_MS) {
      const [p, c, r] = [cpuMeter(prosodyPid), cpuMeter(component.pid), cpuMeter(stack.redisPid)];
      const s0 = statusCount;
      await sleep(SAMPLE_MS);
      const [pc, compc, rc] = [p().otherCores, c().otherCores, r().otherCores];
      samples.push({ cores: pc + compc + rc, prosody: pc, component: compc, redis: rc, statuses: statusCount - s0 });
    }
    const waitSeconds = (performance.now() - waitStart) / 1000;
    // Redis's memory while they wait, after the wait: the event log's entries for the joins are trimmed by
    // then (once every reader acknowledged them: the component's periodic tick), as in a steady state.
    const memoryAfter = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    const eventsBytes = Number(await redis.call("MEMORY", "USAGE", `${config.redis.prefix}events`)) || 0;
    const eventLog = { length: await redis.xlen(`${config.redis.prefix}events`), groups: await redis.xinfo("GROUPS", `${config.redis.prefix}events`) };
    const waitStatuses = statusCount - statusesBefore;
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    // Quiet: a sample without statuses after one without (a pass's work in Prosody may spill over a little).
    const quiet = samples.filter((s, i) => s.statuses === 0 && i > 0 && samples[i - 1]!.statuses === 0);
    const pushing = samples.filter((s) => s.statuses > 0);
    const quietCores = mean(quiet.map((s) => s.cores));
    const allCores = mean(samples.map((s) => s.cores));
    // The pushes' cost, by least squares over every sample: cores = base + perStatus x statuses per second.
    const fit = leastSquares(samples.map((s) => [s.statuses / (SAMPLE_MS / 1000), s.cores] as [number, number]));

    // ---- the drain: every agent goes ready, and ends each session as soon as it begins
    let ended = 0;
    for (const a of agents) {
      a.on("stanza", (s: Element) => {
        const begin = s.is("message") ? s.getChild("begin", NS.SB) : undefined;
        if (!begin) return;
        a.send(xml("iq", { to: cc, type: "set", id: `end-${begin.attrs.session}` }, xml("end", { xmlns: NS.SB, session: begin.attrs.session }))).catch(() => undefined);
        ended++;
      });
    }
    const drainStatuses0 = statusCount;
    const drainCpu = cpuMeter([prosodyPid, component.pid, stack.redisPid]);
    const drainStart = performance.now();
    await Promise.all(agents.map((a) => a.send(xml("presence"))));
    const drainDeadline = Date.now() + 120_000;
    while (assignedCount < waitingNow && Date.now() < drainDeadline) await sleep(50);
    const drainSeconds = (Math.max(...assignedTimes) - drainStart) / 1000;
    const drain = drainCpu();
    const drainStatuses = statusCount - drainStatuses0;

    // ---- nobody lost, and arrival order kept (one priority here): from the event log, the order of the
    // "queued" events (arrival numbers) against the order of the "assigned" ones
    const joinedOk = CUSTOMERS - joins.errors;
    const { inversions, assignedEvents, queuedEvents } = await serviceOrder(redis, `${config.redis.prefix}events`, "surge");
    const notServed = assignedAt.filter((a) => a === 0).length;
    const leftInQueue = (await queuedIds(redis, keys, "surge")).length;

    const waitingCpuCores = quiet.length >= 20 ? quietCores : fit.intercept;
    // The event log is not the waiting customers' own: its entries stay until every group has read them, and
    // the recorder's group is not read in this phase (no recorder runs); in production the recorder reads
    // it within seconds and it is trimmed. Counted apart.
    const redisBytesPerWaiting = (memoryAfter - memoryBefore - (eventsBytes - eventsBytesBefore)) / Math.max(1, waitingNow);
    const drainPerSecond = waitingNow / drainSeconds;
    return {
      surgeJoinP99Ms: joinLatency.p99, surgeIqP99Ms: rawLatency.p99, waitingCpuCores: round(waitingCpuCores, 3),
      redisBytesPerWaiting: Math.round(redisBytesPerWaiting), drainPerSecond: round(drainPerSecond),
      surge: {
        customers: CUSTOMERS, agents: AGENTS, window: WINDOW, waitSeconds: round(waitSeconds, 1), statusIntervalSeconds: STATUS_INTERVAL_SECONDS,
        joinsPerSecond: round(CUSTOMERS / joins.seconds), joinErrors: joins.errors, joinMs: joinLatency, rawIqMs: rawLatency, rawIqsPerSecond: round(RAW_IQS / raw.seconds),
        joinToRawP99: round(joinLatency.p99 / rawLatency.p99),
        // The joins' p99 by thousand, in the order sent: where in the arrival the slow ones were.
        joinP99ByThousand: Array.from({ length: Math.ceil(joins.samples.length / 1000) }, (_, k) => latency(joins.samples.slice(k * 1000, (k + 1) * 1000)).p99),
        arrivalCores: round(Object.values(arrival).reduce((sum, m) => sum + m.otherCores, 0), 3),
        // Each process's share while they join (the bench's own: the load component's one connection).
        arrivalByProcess: { ...Object.fromEntries(Object.entries(arrival).map(([name, m]) => [name, round(m.otherCores, 3)])), bench: round(arrival.prosody!.selfCores, 3) },
        // Runnable but waiting for a CPU (main threads), in cores: while they join, and during the raw IQs.
        arrivalWaitingForCpuCores: arrivalWaiting, rawWaitingForCpuCores: rawWaiting,
        waiting: {
          customers: waitingNow, quietSamples: quiet.length, pushSamples: pushing.length, sampleMs: SAMPLE_MS,
          quietCores: round(quietCores, 3), meanCores: round(allCores, 3), fittedBaseCores: round(fit.intercept, 3),
          meanByProcess: { prosody: round(mean(samples.map((s) => s.prosody)), 3), component: round(mean(samples.map((s) => s.component)), 3), redis: round(mean(samples.map((s) => s.redis)), 3) },
          statusesPerCustomerPerMinute: round(waitStatuses / Math.max(1, waitingNow) / (waitSeconds / 60), 2),
          pushCpuMicrosPerStatus: round(fit.slope * 1e6, 1), statusesPerSecond: round(waitStatuses / waitSeconds),
        },
        redisMemory: {
          bytesPerWaiting: Math.round(redisBytesPerWaiting), eventLogBytesPerWaiting: Math.round((eventsBytes - eventsBytesBefore) / Math.max(1, waitingNow)),
          withEventLogBytesPerWaiting: Math.round((memoryAfter - memoryBefore) / Math.max(1, waitingNow)),
          bytesPerWaitingRightAfterJoins: Math.round((memoryJoined - memoryBefore) / Math.max(1, waitingNow)), eventLog,
        },
        drain: {
          seconds: round(drainSeconds), perSecond: round(drainPerSecond), routingPeakPerSecond: routedPerSecond, cores: round(drain.otherCores, 3),
          statusesPerServed: round(drainStatuses / Math.max(1, waitingNow), 2), sessionsEnded: ended,
        },
        check: { joinedOk, queuedEvents, assignedEvents, served: assignedCount, notServed, leftInQueue, departedOrEnded: otherEnds, arrivalOrderInversions: inversions, positionsRose },
      },
    };
  } finally {
    await stopAll(open);
    await component?.stop();
    redis.disconnect();
    await stack.stop();
  }
}

/** The line y = intercept + slope x closest to the points (least squares). */
function leastSquares(points: Array<[number, number]>): { intercept: number; slope: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n, my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0), sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { slope, intercept: my - slope * mx };
}

/** Service order against arrival order, from the event log: how many assignments came before an earlier arrival's. */
async function serviceOrder(redis: Redis, key: string, queue: string): Promise<{ inversions: number; assignedEvents: number; queuedEvents: number }> {
  const arrival = new Map<string, number>();
  let inversions = 0, assignedEvents = 0, lastServed = -1;
  for (let start = "-"; ;) {
    const batch = await redis.xrange(key, start, "+", "COUNT", 5000);
    for (const [, fields] of batch) {
      const type = fields[fields.indexOf("type") + 1];
      if (type !== "queued" && type !== "assigned") continue;
      const { session, queue: of } = JSON.parse(fields[fields.indexOf("data") + 1]!) as { session: string; queue?: string };
      if (type === "queued") { if (of === queue) arrival.set(session, arrival.size); continue; }
      assignedEvents++;
      const n = arrival.get(session) ?? -1;
      if (n < lastServed) inversions++; else lastServed = n;
    }
    if (batch.length < 5000) return { inversions, assignedEvents, queuedEvents: arrival.size };
    start = "(" + batch[batch.length - 1]![0];
  }
}

export function surgeRows(r: any): Array<[string, string]> {
  if (r.surge?.error) return [["surge", `failed: ${r.surge.error}`]];
  if (!r.surge) return [["surge", "skipped (BENCH_SURGE=0)"]];
  const s = r.surge;
  return [
    [`surge: ${s.customers} join one queue (${s.window} in flight)`, `${s.joinsPerSecond}/s  (join p50 ${s.joinMs.p50} / p99 ${r.surgeJoinP99Ms} ms; raw component IQ p99 ${r.surgeIqP99Ms} ms: ${s.joinToRawP99}x; errors ${s.joinErrors})`],
    ["surge: waiting for a CPU while they join (cores): Prosody / component / Redis / load generator", `${s.arrivalWaitingForCpuCores.prosody} / ${s.arrivalWaitingForCpuCores.component} / ${s.arrivalWaitingForCpuCores.redis} / ${s.arrivalWaitingForCpuCores.bench}  (during the raw IQs: Prosody ${s.rawWaitingForCpuCores.prosody}, load generator ${s.rawWaitingForCpuCores.bench})`],
    [`surge: CPU while ${s.waiting.customers} wait (Prosody + component + Redis)`, `${r.waitingCpuCores} cores between pushes  (fitted ${s.waiting.fittedBaseCores}; mean ${s.waiting.meanCores} with ${s.waiting.statusesPerSecond} statuses/s at ${s.waiting.pushCpuMicrosPerStatus} us CPU each)`],
    ["surge: statuses per waiting customer per minute", `${s.waiting.statusesPerCustomerPerMinute}  (statusIntervalSeconds ${s.statusIntervalSeconds})`],
    ["surge: Redis bytes per waiting customer", `${r.redisBytesPerWaiting}  (${s.redisMemory.withEventLogBytesPerWaiting} with the event log's unread entries, ${s.redisMemory.eventLogBytesPerWaiting})`],
    [`surge: drain with ${s.agents} agents`, `${r.drainPerSecond}/s  (routing peak ${s.drain.routingPeakPerSecond}/s; ${s.drain.statusesPerServed} statuses per customer meanwhile)`],
    ["surge: check", `served ${s.check.served} of ${s.check.joinedOk}, left ${s.check.leftInQueue}, order inversions ${s.check.arrivalOrderInversions}, positions that rose ${s.check.positionsRose.length}`],
  ];
}
