/**
 * Historical statistics from plain records: per queue and per agent, bucketed by 15 minutes, an hour or a
 * UTC day. Pure (no SQL, no clock): records/history.ts reads the rows, the caller passes `now`. Every figure
 * is defined in docs/statistics.md; the comments here say how the code follows those definitions.
 */

export type StatsInterval = "15m" | "1h" | "1d";

export const INTERVAL_MS: Record<StatsInterval, number> = { "15m": 15 * 60_000, "1h": 3_600_000, "1d": 86_400_000 };

/** One session as the history has it (records/schema.ts SessionRow, times in epoch ms). */
export interface SessionRecord {
  id: string;
  queue: string;
  media: string;
  /** The seat that served it last (after transfers), null when none did. */
  seat: string | null;
  queuedAt: number;
  assignedAt: number | null;
  answeredAt: number | null;
  inServiceAt: number | null;
  endedAt: number | null;
  endReason: string | null;
  endedFrom: string | null;
  transfers: number;
  score: number | null;
}

/** One change of an agent's stored state ("offline", "not-ready", "ready"). */
export interface AgentStateChange {
  agent: string;
  state: string;
  at: number;
}

export interface StatsInput {
  sessions: SessionRecord[];
  /**
   * The agents' state changes in the range, plus each agent's last change before it (its state at `from`);
   * an agent with none before is offline until its first change.
   */
  states: AgentStateChange[];
  from: number;
  to: number;
  interval: StatsInterval;
  /** Open sessions and the current state count up to here (not past `to`). */
  now: number;
  /** The queues to report (each gets a row per bucket even when idle), with their service-level threshold. */
  queues: Array<{ name: string; serviceLevelSeconds: number }>;
  /** The agents to report (each gets a row per bucket). */
  agents: string[];
}

export const DEFAULT_SERVICE_LEVEL_SECONDS = 20;

export interface QueueFigures {
  queue: string;
  start: string;
  end: string;
  offered: number;
  answered: number;
  abandoned: number;
  /** Mean and longest time to abandon, seconds (null with no abandon). */
  abandonMeanSeconds: number | null;
  abandonMaxSeconds: number | null;
  serviceLevelSeconds: number;
  answeredWithinServiceLevel: number;
  /** Percent of answered + abandoned answered within the threshold (null when both are 0). */
  serviceLevel: number | null;
  /** Average speed of answer, seconds. */
  averageSpeedOfAnswerSeconds: number | null;
  averageHandleSeconds: number | null;
  longestWaitSeconds: number | null;
  transferred: number;
  ratings: number;
  csatAverage: number | null;
  /** Percent of ratings that are 4 or 5. */
  csatSatisfiedPercent: number | null;
}

export interface AgentFigures {
  agent: string;
  start: string;
  end: string;
  handled: number;
  handleSeconds: number;
  averageHandleSeconds: number | null;
  /** Seconds in each stored state within the bucket (up to `now`). */
  readySeconds: number;
  notReadySeconds: number;
  offlineSeconds: number;
  loggedInSeconds: number;
  servingSeconds: number;
  /** servingSeconds / loggedInSeconds, 0..1 (null when never logged in). */
  occupancy: number | null;
  ratings: number;
  csatAverage: number | null;
  csatSatisfiedPercent: number | null;
}

export interface StatsResult {
  queues: QueueFigures[];
  agents: AgentFigures[];
}

type Span = [number, number];

const seconds = (ms: number) => Math.round(ms) / 1000;
const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const meanSeconds = (ms: number[]) => { const m = mean(ms); return m === null ? null : round(m / 1000, 3); };
const maxSeconds = (ms: number[]) => (ms.length ? seconds(ms.reduce((a, b) => Math.max(a, b))) : null);
const percent = (part: number, whole: number) => (whole ? round((100 * part) / whole, 2) : null);
const iso = (ms: number) => new Date(ms).toISOString();

/** The buckets covering [from, to): aligned on the interval in UTC, the first and last clipped to the range. */
export function buckets(from: number, to: number, interval: StatsInterval): Span[] {
  const size = INTERVAL_MS[interval];
  const out: Span[] = [];
  for (let start = Math.floor(from / size) * size; start < to; start += size) out.push([Math.max(start, from), Math.min(start + size, to)]);
  return out;
}

/** Total length of the parts of `spans` (disjoint, sorted) inside [a, b): a binary search to the first that ends after a. */
function overlap(spans: Span[], a: number, b: number): number {
  let lo = 0, hi = spans.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (spans[mid]![1] <= a) lo = mid + 1; else hi = mid; }
  let total = 0;
  for (let i = lo; i < spans.length && spans[i]![0] < b; i++) total += Math.min(spans[i]![1], b) - Math.max(spans[i]![0], a);
  return total;
}

/** Records grouped by the bucket their time falls in (index into `buckets`), those outside the range left out. */
function byBucket<T>(items: T[], time: (x: T) => number | null, from: number, to: number, interval: StatsInterval): T[][] {
  const size = INTERVAL_MS[interval];
  const first = Math.floor(from / size);
  const out: T[][] = buckets(from, to, interval).map(() => []);
  for (const x of items) {
    const t = time(x);
    if (t !== null && t >= from && t < to) out[Math.floor(t / size) - first]!.push(x);
  }
  return out;
}

/** The union of spans, as disjoint sorted spans. */
function union(spans: Span[]): Span[] {
  const sorted = spans.filter(([s, e]) => e > s).sort((x, y) => x[0] - y[0]);
  const out: Span[] = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The intersection of two sets of disjoint sorted spans (a merge, linear). */
function intersect(a: Span[], b: Span[]): Span[] {
  const out: Span[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    const s = Math.max(a[i]![0], b[j]![0]), e = Math.min(a[i]![1], b[j]![1]);
    if (e > s) out.push([s, e]);
    if (a[i]![1] < b[j]![1]) i++; else j++;
  }
  return out;
}

/** An agent's time in each state: spans per state, from its changes, up to `until`. */
function stateSpans(changes: AgentStateChange[], until: number): Map<string, Span[]> {
  const byState = new Map<string, Span[]>();
  const sorted = [...changes].sort((x, y) => x.at - y.at);
  sorted.forEach((c, i) => {
    const end = Math.min(sorted[i + 1]?.at ?? until, until);
    if (end <= c.at) return;
    const list = byState.get(c.state) ?? [];
    list.push([c.at, end]);
    byState.set(c.state, list);
  });
  return byState;
}

/** The wait of a session: until answered, or until it ended unanswered, or until `until` if still waiting. */
const waitOf = (s: SessionRecord, until: number) => (s.answeredAt ?? s.endedAt ?? until) - s.queuedAt;
/** Abandoned: it ended before any seat answered it, whatever ended it (the customer, a timeout, a refusal). */
const isAbandoned = (s: SessionRecord) => s.answeredAt === null && s.endedAt !== null;

export function computeStats(input: StatsInput): StatsResult {
  const { from, to, interval } = input;
  const until = Math.min(to, input.now);
  const spans = buckets(from, to, interval);
  const queueNames = [...new Set([...input.queues.map((q) => q.name)])];
  const threshold = new Map(input.queues.map((q) => [q.name, q.serviceLevelSeconds]));

  const queues: QueueFigures[] = [];
  for (const queue of queueNames) {
    const sl = threshold.get(queue) ?? DEFAULT_SERVICE_LEVEL_SECONDS;
    // A queue's figures count the sessions queued in the bucket (each once, in the queue it ended in).
    const queued = byBucket(input.sessions.filter((s) => s.queue === queue), (s) => s.queuedAt, from, to, interval);
    spans.forEach((span, i) => {
      const offered = queued[i]!;
      const answered = offered.filter((s) => s.answeredAt !== null);
      const abandoned = offered.filter(isAbandoned);
      const abandonWaits = abandoned.map((s) => s.endedAt! - s.queuedAt);
      const within = answered.filter((s) => s.answeredAt! - s.queuedAt <= sl * 1000).length;
      const handled = answered.filter((s) => s.endedAt !== null);
      const rated = offered.filter((s) => s.score !== null).map((s) => s.score!);
      queues.push({
        queue, start: iso(span[0]), end: iso(span[1]),
        offered: offered.length, answered: answered.length, abandoned: abandoned.length,
        abandonMeanSeconds: meanSeconds(abandonWaits), abandonMaxSeconds: maxSeconds(abandonWaits),
        serviceLevelSeconds: sl, answeredWithinServiceLevel: within,
        serviceLevel: percent(within, answered.length + abandoned.length),
        averageSpeedOfAnswerSeconds: meanSeconds(answered.map((s) => s.answeredAt! - s.queuedAt)),
        averageHandleSeconds: meanSeconds(handled.map((s) => s.endedAt! - s.answeredAt!)),
        longestWaitSeconds: maxSeconds(offered.map((s) => Math.max(0, waitOf(s, until)))),
        transferred: offered.filter((s) => s.transfers > 0).length,
        ratings: rated.length, csatAverage: mean(rated) === null ? null : round(mean(rated)!, 2),
        csatSatisfiedPercent: percent(rated.filter((r) => r >= 4).length, rated.length),
      });
    });
  }

  const agents: AgentFigures[] = [];
  for (const agent of [...new Set(input.agents)]) {
    const changes = input.states.filter((c) => c.agent === agent);
    const byState = stateSpans(changes, until);
    // Never seen before its first change: offline from the start of the range.
    const firstAt = changes.reduce((min, c) => Math.min(min, c.at), until);
    const offline = union([...(byState.get("offline") ?? []), [from, firstAt]]);
    const loggedIn = union([...byState.entries()].filter(([state]) => state !== "offline").flatMap(([, s]) => s));
    const served = input.sessions.filter((s) => s.seat === agent && s.answeredAt !== null);
    // Serving: at least one answered session open (chats at once count once), while logged in.
    const serving = intersect(union(served.map((s) => [s.answeredAt!, Math.min(s.endedAt ?? until, until)] as Span)), loggedIn);
    // An agent's session figures count the sessions it finished in the bucket.
    const finished = byBucket(served, (s) => s.endedAt, from, to, interval);
    spans.forEach((span, i) => {
      const done = finished[i]!;
      const handleMs = done.map((s) => s.endedAt! - s.answeredAt!);
      const rated = done.filter((s) => s.score !== null).map((s) => s.score!);
      const logged = overlap(loggedIn, ...span);
      const servingMs = overlap(serving, ...span);
      agents.push({
        agent, start: iso(span[0]), end: iso(span[1]),
        handled: done.length, handleSeconds: seconds(handleMs.reduce((a, b) => a + b, 0)), averageHandleSeconds: meanSeconds(handleMs),
        readySeconds: seconds(overlap(byState.get("ready") ?? [], ...span)),
        notReadySeconds: seconds(overlap(byState.get("not-ready") ?? [], ...span)),
        offlineSeconds: seconds(overlap(offline, ...span)),
        loggedInSeconds: seconds(logged), servingSeconds: seconds(servingMs),
        occupancy: logged ? round(servingMs / logged, 4) : null,
        ratings: rated.length, csatAverage: mean(rated) === null ? null : round(mean(rated)!, 2),
        csatSatisfiedPercent: percent(rated.filter((r) => r >= 4).length, rated.length),
      });
    });
  }
  return { queues, agents };
}
