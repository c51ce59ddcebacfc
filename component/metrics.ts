/**
 * Prometheus metrics (GET /metrics): live figures read from Redis at scrape time, counters and histograms fed
 * by the events this instance's notifier handles, the recorder's backlog on the event log, and health.
 * Every metric is listed with its exact meaning in docs/metrics.md.
 *
 * Each event of the log is handled by exactly one component instance (a consumer group), so a counter here
 * counts this instance's share: sum over instances in PromQL for the totals. The gauges read the shared
 * Redis state, so every instance reports the same figures: take max (or any one), not the sum.
 */
import type { Redis } from "ioredis";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Cti } from "../cti/cti.js";
import { RECORDER_GROUP } from "../cti/redis/events.js";
import type { AgentView, CtiEvent } from "../cti/types.js";

/** From half a second (served at once) to ten minutes (a long wait), for waits and answer times. */
export const WAIT_BUCKETS = [0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 450, 600];

const AGENT_STATES: AgentView[] = ["offline", "not-ready", "ready", "busy", "wrap-up"];

/** A scrape answers even when Redis does not: what cannot be read in time is left out. */
const SCRAPE_TIMEOUT_MS = 2000;

export interface MetricsDeps {
  cti: Pick<Cti, "queues" | "queueStats" | "agents" | "sessions">;
  /** A command connection (not a blocking one): XINFO, XPENDING, XRANGE on the event log. */
  redis: Redis;
  /** The event log's stream key (store.keys.events()). */
  eventsKey: string;
  /** The same figures as /healthz. */
  health: () => Promise<{ xmpp: boolean; redis: boolean; softswitch?: boolean }>;
  /** Voice is on: switchboard_softswitch_up is reported. */
  voice?: boolean;
  now?: () => number;
}

function within<T>(p: Promise<T>, ms = SCRAPE_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error("timed out")), ms); timer.unref(); }),
  ]);
}

/** The millisecond part of a stream entry id ("1700000000000-3"). */
const idMs = (id: string) => Number(id.split("-")[0]);

/** When Redis cannot tell a group's lag, it is counted up to this many entries (and reported as this many beyond). */
export const LAG_COUNT_CAP = 10_000;
/** KEYS[1] the stream; ARGV: an entry id, the cap. How many entries come after the id (at most the cap). */
const COUNT_AFTER = `return #redis.call("XRANGE", KEYS[1], "(" .. ARGV[1], "+", "COUNT", tonumber(ARGV[2]))`;

/** The recorder group's backlog on the event log, or null when the group does not exist (yet). */
export async function recorderBacklog(redis: Redis, stream: string, now = Date.now()): Promise<{ lag: number; pending: number; oldestAgeSeconds: number } | null> {
  let groups: unknown[][];
  try {
    groups = (await redis.xinfo("GROUPS", stream)) as unknown[][];
  } catch (err) {
    if (String(err).includes("no such key")) return null; // no stream yet, so no group either
    throw err;
  }
  const fields = groups.map((g) => { const o: Record<string, unknown> = {}; for (let i = 0; i < g.length; i += 2) o[String(g[i])] = g[i + 1]; return o; })
    .find((g) => g.name === RECORDER_GROUP);
  if (!fields) return null;
  const pending = Number(fields.pending ?? 0);
  const last = String(fields["last-delivered-id"]);
  // Redis 7 counts the entries not yet delivered to the group, but answers nil when it cannot tell: 7.0 does
  // for a group created at "$" on a stream that had entries, until the group's reads reach the end of the
  // log once. Then they are counted here, in Redis, up to LAG_COUNT_CAP.
  const lag = fields.lag === null || fields.lag === undefined
    ? Number(await redis.eval(COUNT_AFTER, 1, stream, last, LAG_COUNT_CAP))
    : Number(fields.lag);
  // The oldest event the recorder has not acknowledged: the oldest pending one, else the first not yet delivered.
  let oldest: string | undefined;
  if (pending > 0) {
    const summary = (await redis.xpending(stream, RECORDER_GROUP)) as [number, string | null, string | null, unknown];
    oldest = summary[1] ?? undefined;
  }
  if (!oldest && lag !== 0) {
    const next = (await redis.xrange(stream, `(${last}`, "+", "COUNT", 1)) as Array<[string, string[]]>;
    oldest = next[0]?.[0];
  }
  return { lag, pending, oldestAgeSeconds: oldest ? Math.max(0, (now - idMs(oldest)) / 1000) : 0 };
}

export function createMetrics({ cti, redis, eventsKey, health, voice = false, now = Date.now }: MetricsDeps) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  /**
   * One read of the live state per scrape, shared by the gauges that show it (prom-client collects them in
   * parallel); undefined when it failed or took too long.
   */
  let scrapes = 0;
  const cached = <T>(read: () => Promise<T>) => {
    let last: { scrape: number; value: Promise<T | undefined> } | undefined;
    return () => {
      if (last?.scrape !== scrapes) last = { scrape: scrapes, value: within(read()).catch(() => undefined) };
      return last.value;
    };
  };
  const queueStats = cached(() => cti.queueStats());
  const agents = cached(() => cti.agents());
  const sessions = cached(() => cti.sessions(0));
  const healthNow = cached(() => health());
  const backlog = cached(() => recorderBacklog(redis, eventsKey, now()));

  const queueNames = cti.queues.map((q) => q.name);

  // Live state, read from Redis at scrape time.
  new Gauge({
    name: "switchboard_queue_waiting", help: "Customers waiting in the queue now.", labelNames: ["queue"], registers: [registry],
    async collect() {
      const stats = await queueStats();
      this.reset();
      for (const q of stats ?? []) this.set({ queue: q.name }, q.waiting);
    },
  });
  new Gauge({
    name: "switchboard_queue_longest_wait_seconds", help: "How long the longest-waiting customer of the queue has waited (whole seconds; 0 when nobody waits).",
    labelNames: ["queue"], registers: [registry],
    async collect() {
      const stats = await queueStats();
      this.reset();
      for (const q of stats ?? []) this.set({ queue: q.name }, q.oldestWaitSeconds);
    },
  });
  new Gauge({
    name: "switchboard_agents", help: "Configured agents by state now (busy: ready and at capacity; wrap-up: after-session work).",
    labelNames: ["state"], registers: [registry],
    async collect() {
      const list = await agents();
      this.reset();
      if (!list) return;
      for (const state of AGENT_STATES) this.set({ state }, list.filter((a) => a.state === state).length);
    },
  });
  new Gauge({
    name: "switchboard_sessions", help: "Live sessions with a seat, by queue and state (assigned: allocated, not yet in service; in-service: the seat took the customer's first message, or answered the call).",
    labelNames: ["queue", "state"], registers: [registry],
    async collect() {
      const list = await sessions();
      this.reset();
      if (!list) return;
      for (const queue of queueNames) for (const state of ["assigned", "in-service"] as const)
        this.set({ queue, state }, list.filter((s) => s.queue === queue && s.state === state).length);
    },
  });

  // Health, as /healthz sees it.
  const up = (name: string, help: string, pick: (h: { xmpp: boolean; redis: boolean; softswitch?: boolean }) => boolean | undefined) =>
    new Gauge({
      name, help, registers: [registry],
      async collect() {
        const h = await healthNow();
        this.set(h && pick(h) ? 1 : 0); // no answer in time: down
      },
    });
  up("switchboard_xmpp_up", "1 when this instance holds its XEP-0114 connection to Prosody, else 0 (a standby reports 0).", (h) => h.xmpp);
  up("switchboard_redis_up", "1 when Redis answers a PING, else 0.", (h) => h.redis);
  if (voice) up("switchboard_softswitch_up", "1 when the soft switch's event link is up, else 0 (only with voice on).", (h) => h.softswitch);

  // The recorder's backlog on the event log.
  const recorder = (name: string, help: string, pick: (b: { lag: number; pending: number; oldestAgeSeconds: number }) => number) =>
    new Gauge({
      name, help, registers: [registry],
      async collect() {
        const b = await backlog();
        this.reset();
        this.set(b ? pick(b) : -1);
      },
    });
  recorder("switchboard_recorder_lag_events", "Events of the log not yet delivered to the recorder's consumer group (XINFO GROUPS lag); -1 when the group does not exist or Redis cannot tell.", (b) => b.lag);
  recorder("switchboard_recorder_pending_events", "Events delivered to the recorder but not yet acknowledged; -1 when the group does not exist.", (b) => b.pending);
  recorder("switchboard_recorder_oldest_unprocessed_age_seconds", "Age of the oldest event the recorder has not acknowledged (pending, else the first undelivered); 0 when it is up to date, -1 when the group does not exist.", (b) => b.oldestAgeSeconds);

  // Fed by the events this instance handles.
  const joins = new Counter({ name: "switchboard_joins_total", help: "Customers queued (chats and calls), by queue.", labelNames: ["queue"], registers: [registry] });
  const assignments = new Counter({ name: "switchboard_assignments_total", help: "Customers allocated to a seat, by queue (again after a requeue).", labelNames: ["queue"], registers: [registry] });
  const ends = new Counter({
    name: "switchboard_ends_total", help: "Sessions ended, by queue, end reason and the state they ended in (from: queued, assigned, in-service).",
    labelNames: ["queue", "reason", "from"], registers: [registry],
  });
  const feedback = new Counter({ name: "switchboard_feedback_total", help: "Customer ratings received, by score (1-5).", labelNames: ["score"], registers: [registry] });
  const waitToAssign = new Histogram({
    name: "switchboard_join_to_assigned_seconds", help: "Seconds from joining the queue to being allocated a seat, by queue.",
    labelNames: ["queue"], buckets: WAIT_BUCKETS, registers: [registry],
  });
  const answerTime = new Histogram({
    name: "switchboard_answer_seconds", help: "Seconds from joining the queue to the seat's first answer (a chat: its first reply reached the customer; a call: the phone picked up), by queue.",
    labelNames: ["queue"], buckets: WAIT_BUCKETS, registers: [registry],
  });
  for (const queue of queueNames) { joins.inc({ queue }, 0); assignments.inc({ queue }, 0); } // present from the start

  /** Counts one handled event. Cheap and never throws. */
  function observe(e: CtiEvent): void {
    switch (e.type) {
      case "queued": joins.inc({ queue: e.queue }); break;
      case "assigned":
        assignments.inc({ queue: e.queue });
        waitToAssign.observe({ queue: e.queue }, Math.max(0, e.at - e.queuedAt) / 1000);
        break;
      case "ended": ends.inc({ queue: e.queue, reason: e.reason, from: e.from }); break;
      case "feedback": feedback.inc({ score: String(e.score) }); break;
      case "answered": answerTime.observe({ queue: e.queue }, Math.max(0, e.at - e.queuedAt) / 1000); break;
      default:
    }
  }

  return {
    registry,
    observe,
    contentType: registry.contentType,
    /** The exposition text of a new scrape. */
    text: () => { scrapes++; return registry.metrics(); },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
