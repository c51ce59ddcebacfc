/**
 * The records phase of `npm run bench` (docs/benchmarks.md, "Records (issue 12, point 9)"): can the recorder
 * keep up with the routing peak, and how many bytes does a session with a 10-message transcript take?
 *
 * On a Redis of its own (no persistence) it puts a backlog of BENCH_RECORDS_SESSIONS (default 3,000) served
 * chats (BENCH_RECORDS_PG_SESSIONS, default 500, for PostgreSQL) into the event log, as the Lua scripts write them (test/helpers/history.ts logEvents): per session
 * queued, assigned, in-service, answered, 10 `message` events (5 each way, 40-120 characters), ended and
 * feedback, with agents' state changes among them. Then the real recorder process (`node
 * dist/records/main.js`, as npm start runs it, with LOG_LEVEL=debug so that it prints a line per committed
 * batch with its transaction's time) records the backlog into a fresh SQLite file, then again on a fresh
 * PostgreSQL database (launcher/postgres.ts). Measured per pass: events and sessions recorded per second
 * from the end of the first batch to the end of the last (process start-up and migrations apart), the
 * recorder's CPU (/proc/<pid>/stat) over that window, the batch transaction's time p50/p99, that the group
 * has caught up (pending 0, lag 0) and that every row is there, and the database's size per session.
 *
 * BENCH_PROFILE_DIR=dir writes the recorder's CPU profiles there. `node dist/bench/records.js` runs this phase alone (headroom then against routedPerSecond of
 * bench/results/latest.json, or BENCH_ROUTED_PER_SECOND).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import SQLite from "better-sqlite3";
import { Redis } from "ioredis";
import pg from "pg";
import { spawnChild, type Child } from "../launcher/child.js";
import { freePort } from "../launcher/ports.js";
import { startPostgres, type RunningPostgres } from "../launcher/postgres.js";
import { startRedis, type RunningRedis } from "../launcher/redis.js";
import { RECORDER_GROUP } from "../cti/redis/events.js";
import { keysFor } from "../cti/redis/keys.js";
import type { CtiEvent } from "../cti/types.js";
import { openHistory, sqliteFile } from "../records/db.js";
import { logEvents } from "../test/helpers/history.js";
import { cpuMeter, latency, machineMeter, procCpuSeconds, prng, sleep, type Latency } from "./stats.js";

const RECORDER_MAIN = fileURLToPath(new URL("../records/main.js", import.meta.url));
const LATEST = fileURLToPath(new URL("../../bench/results/latest.json", import.meta.url));
const SESSIONS = Number(process.env.BENCH_RECORDS_SESSIONS ?? 3000);
/** PostgreSQL's pass is smaller: it records about a sixth as fast (a round trip per statement), and the phase must stay short. */
const PG_SESSIONS = Number(process.env.BENCH_RECORDS_PG_SESSIONS ?? 500);
/** Agents serving the backlog's sessions (about as many sessions at once, spread over them). */
const AGENTS = 64;
const MESSAGES = 10;
/** Catch-up must end within this (a recorder far slower than expected fails the pass, not the run). */
const CATCH_UP_TIMEOUT_MS = 60_000;
/** BENCH_PROFILE_DIR=dir: the recorder's CPU profile there (node --cpu-prof), one file per pass. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** Events written to Redis per round trip while building the backlog. */
const LOG_CHUNK = 5000;

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const log = (...a: unknown[]) => console.error("bench: records:", ...a);

// ---------------------------------------------------------------- the backlog

const WORDS = ("hello thanks order invoice account card payment refund delivery address password reset email "
  + "number please could you check my the a it is was when why how today yesterday week still not yet "
  + "received charged twice help support agent update status tracking link sent again problem works now "
  + "great sorry wait moment let me look see can I we will would should have has been one more thing").split(" ");

/** A chat line of 40-120 characters, sentence-like. */
function body(rand: () => number): string {
  const target = 40 + Math.floor(rand() * 81);
  let s = "";
  while (s.length < target) s += (s ? " " : "") + WORDS[Math.floor(rand() * WORDS.length)]!;
  s = s.slice(0, target).trimEnd();
  return s[0]!.toUpperCase() + s.slice(1, -1) + (rand() < 0.3 ? "?" : ".");
}

const hex = (rand: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join("");

export interface Backlog { events: CtiEvent[]; sessions: number; eventsPerSession: number; bodyBytes: number; agentStateEvents: number }

/**
 * SESSIONS served chats as the live system logs them, interleaved in time as they would be with AGENTS
 * seats (a new one every 4 min / AGENTS, each about 3 minutes: some 50 at once), plus agents' state changes:
 * every agent ready at the start, and one not-ready/ready pair per 25 sessions.
 */
export function backlog(sessions: number, t0: number, seed = 12): Backlog {
  const rand = prng(seed);
  const events: CtiEvent[] = [];
  const agent = (i: number) => `agent${i % AGENTS}@acme.test`;
  let bodyBytes = 0;
  for (let i = 0; i < AGENTS; i++) events.push({ type: "agent-state", agent: agent(i), state: "ready", at: t0 - 1000 + i });
  let agentStateEvents = AGENTS;
  const gap = 240_000 / AGENTS;
  for (let i = 0; i < sessions; i++) {
    const session = "s" + hex(rand, 12);
    const customer = `${hex(rand, 8)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 4)}-${hex(rand, 12)}@guest.acme.test/${hex(rand, 8)}`;
    const bareCustomer = customer.split("/")[0]!;
    const seat = agent(i);
    const queue = i % 3 === 0 ? "sales" : "billing";
    const q = t0 + i * gap;
    const a = q + 2000 + Math.floor(rand() * 20_000);
    const form = { name: `Customer ${i}`, subject: body(rand).slice(0, 40) };
    events.push(
      { type: "queued", session, queue, customer, at: q },
      { type: "assigned", session, queue, customer, seat, plain: false, form, queuedAt: q, rang: [], media: "chat", handle: "", at: a },
    );
    let t = a + 500;
    for (let m = 0; m < MESSAGES; m++) {
      const inbound = m % 2 === 0;
      const text = body(rand);
      bodyBytes += Buffer.byteLength(text);
      // The customer's first message puts the session in service; the seat's first answers it.
      if (m === 0) events.push({ type: "in-service", session, queue, customer, seat, at: t });
      events.push({ type: "message", session, seat, sender: inbound ? bareCustomer : seat, direction: inbound ? "in" : "out", body: text, at: t });
      if (m === 1) events.push({ type: "answered", session, seat, queue, queuedAt: q, at: t });
      t += 5000 + Math.floor(rand() * 25_000);
    }
    events.push({ type: "ended", session, queue, customer, seat, plain: false, from: "in-service", reason: "customer", rang: [], media: "chat", handle: "", at: t });
    events.push({ type: "feedback", session, score: 1 + Math.floor(rand() * 5), comment: rand() < 0.3 ? "Quick and helpful, thank you." : "", at: t + 3000 });
    if (i % 25 === 24) {
      events.push({ type: "agent-state", agent: seat, state: "not-ready", at: t + 4000 }, { type: "agent-state", agent: seat, state: "ready", at: t + 64_000 });
      agentStateEvents += 2;
    }
  }
  events.sort((x, y) => x.at - y.at); // the log's order: by time, sessions interleaved
  return { events, sessions, eventsPerSession: events.length / sessions, bodyBytes, agentStateEvents };
}

// ---------------------------------------------------------------- one pass

interface Batch { at: number; events: number; commitMs: number }

export interface PassResult {
  database: "sqlite" | "postgres";
  sessions: number;
  events: number;
  eventsPerSession: number;
  /** Writing the backlog into Redis (pipelined, LOG_CHUNK events per round trip). */
  logWriteSeconds: number;
  /** Process start to the first batch committed (Node start, connections, migrations: none left to run). */
  startUpSeconds: number;
  /** From the end of the first batch to the end of the last. */
  windowSeconds: number;
  eventsPerSecond: number;
  sessionsPerSecond: number;
  batches: number;
  batchEvents: number;
  /** The batch transaction (applyEvents), as the recorder timed it. */
  commitMs: Latency;
  recorderCores: number;
  recorderCpuMsPerSession: number;
  /** Sessions one core of recorder CPU records per second: the rate with the CPU it needs (1000 / recorderCpuMsPerSession). */
  sessionsPerRecorderCpuSecond: number;
  redisCores: number;
  machineBusyCores: number;
  caughtUp: { lag: number; pending: number; entriesRead: number };
  rows: { sessions: number; events: number; transcript: number; agentStates: number; expected: { sessions: number; events: number; transcript: number; agentStates: number }; complete: boolean };
  size: { emptyBytes: number; fullBytes: number; bytesPerSession: number; byTable: Record<string, number> };
}

async function groupState(redis: Redis, key: string): Promise<{ lag: number; pending: number; entriesRead: number }> {
  const groups = (await redis.xinfo("GROUPS", key)) as unknown[][];
  for (const g of groups) {
    const m = new Map<string, unknown>();
    for (let i = 0; i < g.length; i += 2) m.set(String(g[i]), g[i + 1]);
    if (m.get("name") === RECORDER_GROUP) return { lag: Number(m.get("lag")), pending: Number(m.get("pending")), entriesRead: Number(m.get("entries-read")) };
  }
  throw new Error("no recorder group");
}

interface Target {
  database: "sqlite" | "postgres";
  /** database.url for the recorder's config (PostgreSQL), none for SQLite in runDir. */
  url?: string;
  runDir: string;
  /** The database's size now (bytes; SQLite after a checkpoint), and by table. */
  size(): Promise<{ bytes: number; byTable: Record<string, number> }>;
  count(): Promise<PassResult["rows"]>;
  close(): Promise<void>;
}

async function recordPass(redisServer: RunningRedis, target: Target, data: Backlog): Promise<PassResult> {
  const prefix = "sb:";
  const keys = keysFor(prefix);
  const redis = new Redis(redisServer.url);
  let child: Child | undefined;
  try {
    await redis.del(keys.events());
    await redis.xgroup("CREATE", keys.events(), RECORDER_GROUP, "0", "MKSTREAM");
    const w0 = performance.now();
    for (let i = 0; i < data.events.length; i += LOG_CHUNK) await logEvents(redis, keys, data.events.slice(i, i + LOG_CHUNK));
    const logWriteSeconds = (performance.now() - w0) / 1000;
    const empty = await target.size();

    const configFile = join(target.runDir, "config.json");
    writeFileSync(configFile, JSON.stringify({
      domain: "acme.test", guestDomain: "guest.acme.test", component: { domain: "cc.acme.test", secret: "s" }, admin: { token: "bench-admin-token" },
      // The recorder uses only Redis (SWITCHBOARD_REDIS_URL), runDir or database.url, and the queues' retention.
      ports: { c2s: 15222, http: 15280, component: 15347, redis: Number(redisServer.url.split(":").at(-1)), web: 18080 },
      queues: [{ name: "billing" }, { name: "sales" }], runDir: target.runDir, redis: { prefix },
      ...(target.url ? { database: { url: target.url } } : {}),
    }));
    const total = data.events.length;
    const batches: Batch[] = [];
    let recorded = 0;
    let first: { wall: number; cpu: number } | undefined;
    let last: { wall: number; cpu: number } | undefined;
    let caughtUp!: () => void;
    const done = new Promise<void>((r) => (caughtUp = r));
    const spawnedAt = performance.now();
    let machine: (() => { busyCores: number }) | undefined;
    let redisMeter: ReturnType<typeof cpuMeter> | undefined;
    const pid = () => child!.pid;
    child = spawnChild("recorder", process.execPath, [...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []), RECORDER_MAIN], {
      env: { ...process.env, SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_REDIS_URL: redisServer.url, LOG_LEVEL: "debug" },
      onLine: (line) => {
        if (!line.includes('"batch committed"')) return;
        const b = JSON.parse(line) as { time: number; events: number; commitMs: number };
        if (b.events === 0) return; // an empty read (the log idle)
        batches.push({ at: b.time, events: b.events, commitMs: b.commitMs });
        recorded += b.events;
        const now = { wall: performance.now(), cpu: procCpuSeconds(pid()) };
        if (!first) { first = now; machine = machineMeter(); redisMeter = cpuMeter(redisServer.pid); }
        if (recorded >= total && !last) { last = now; caughtUp(); }
      },
    });
    const timeout = sleep(CATCH_UP_TIMEOUT_MS).then(() => "timeout" as const);
    if ((await Promise.race([done.then(() => "done" as const), child.exited.then(() => "exited" as const), timeout])) !== "done")
      throw new Error(`${target.database}: the recorder did not catch up (${recorded} of ${total} events in ${CATCH_UP_TIMEOUT_MS / 1000} s or it exited):\n${child.output()}`);
    const busy = machine!().busyCores;
    const redisCores = redisMeter!().otherCores;
    // Caught up: every event read and acknowledged (a moment for the last XACK after the commit's line).
    let state = await groupState(redis, keys.events());
    for (let i = 0; i < 50 && (state.pending > 0 || state.lag > 0); i++) { await sleep(20); state = await groupState(redis, keys.events()); }
    await child.stop();

    if (batches.length < 3) throw new Error(`${target.database}: ${batches.length} batches: too few to time (BENCH_RECORDS_SESSIONS too small)`);
    const windowSeconds = (batches.at(-1)!.at - batches[0]!.at) / 1000;
    const windowEvents = total - batches[0]!.events;
    const eventsPerSecond = windowEvents / windowSeconds;
    const cpuSeconds = last!.cpu - first!.cpu;
    const windowSessions = windowEvents / data.eventsPerSession;
    const full = await target.size();
    const rows = await target.count();
    return {
      database: target.database, sessions: data.sessions, events: total, eventsPerSession: round(data.eventsPerSession, 3),
      logWriteSeconds: round(logWriteSeconds), startUpSeconds: round((first!.wall - spawnedAt) / 1000),
      windowSeconds: round(windowSeconds, 3), eventsPerSecond: round(eventsPerSecond, 0), sessionsPerSecond: round(eventsPerSecond / data.eventsPerSession, 1),
      batches: batches.length, batchEvents: Math.max(...batches.map((b) => b.events)),
      commitMs: latency(batches.map((b) => b.commitMs)),
      recorderCores: round(cpuSeconds / ((last!.wall - first!.wall) / 1000)), recorderCpuMsPerSession: round((cpuSeconds * 1000) / windowSessions, 3),
      sessionsPerRecorderCpuSecond: round(windowSessions / cpuSeconds, 0),
      redisCores: round(redisCores), machineBusyCores: round(busy),
      caughtUp: state, rows,
      size: { emptyBytes: empty.bytes, fullBytes: full.bytes, bytesPerSession: Math.round((full.bytes - empty.bytes) / data.sessions), byTable: full.byTable },
    };
  } finally {
    if (child && !child.hasExited()) await child.stop();
    redis.disconnect();
    await target.close();
  }
}

const expected = (d: Backlog) => ({
  sessions: d.sessions,
  events: d.events.length,
  transcript: d.sessions * (MESSAGES + 2), // the messages, and the assigned and ended notices
  agentStates: d.agentStateEvents,
});

function sqliteTarget(d: Backlog): Target {
  const runDir = mkdtempSync(join(tmpdir(), "sb-bench-records-"));
  const file = sqliteFile(runDir);
  const withDb = <T>(f: (db: SQLite.Database) => T): T => { const db = new SQLite(file); try { return f(db); } finally { db.close(); } };
  return {
    database: "sqlite", runDir,
    async size() {
      // The schema first (the recorder finds it there), so the empty size is the schema's.
      await (await openHistory({ file })).close();
      return withDb((db) => {
        db.pragma("wal_checkpoint(TRUNCATE)");
        const bytes = Number(db.pragma("page_count", { simple: true })) * Number(db.pragma("page_size", { simple: true }));
        let byTable: Record<string, number> = {};
        try {
          byTable = Object.fromEntries((db.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC").all() as Array<{ name: string; bytes: number }>).map((r) => [r.name, r.bytes]));
        } catch { /* no dbstat in this build */ }
        return { bytes, byTable };
      });
    },
    async count() {
      return withDb((db) => {
        const n = (t: string) => Number((db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n);
        const rows = { sessions: n("sessions"), events: n("events"), transcript: n("transcript"), agentStates: n("agent_states") };
        const exp = expected(d);
        return { ...rows, expected: exp, complete: rows.sessions === exp.sessions && rows.events === exp.events && rows.transcript === exp.transcript && rows.agentStates === exp.agentStates };
      });
    },
    async close() { rmSync(runDir, { recursive: true, force: true }); },
  };
}

async function postgresTarget(server: RunningPostgres, d: Backlog): Promise<Target> {
  const runDir = mkdtempSync(join(tmpdir(), "sb-bench-records-pg-"));
  const name = `records_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`); // a generated name
  await admin.end();
  const url = server.url.replace(/\/postgres$/, `/${name}`);
  const query = async <T>(sql: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try { return (await c.query(sql)).rows as T[]; } finally { await c.end(); }
  };
  return {
    database: "postgres", url, runDir,
    async size() {
      await (await openHistory({ url, file: "" })).close();
      const [{ bytes }] = await query<{ bytes: string }>("SELECT pg_database_size(current_database()) AS bytes") as [{ bytes: string }];
      const tables = await query<{ name: string; bytes: string }>(
        "SELECT relname AS name, pg_total_relation_size(relid) AS bytes FROM pg_catalog.pg_statio_user_tables ORDER BY 2 DESC");
      return { bytes: Number(bytes), byTable: Object.fromEntries(tables.map((t) => [t.name, Number(t.bytes)])) };
    },
    async count() {
      const [r] = await query<Record<string, string>>(
        "SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM transcript) AS transcript, (SELECT COUNT(*) FROM agent_states) AS agent_states");
      const rows = { sessions: Number(r!.sessions), events: Number(r!.events), transcript: Number(r!.transcript), agentStates: Number(r!.agent_states) };
      const exp = expected(d);
      return { ...rows, expected: exp, complete: rows.sessions === exp.sessions && rows.events === exp.events && rows.transcript === exp.transcript && rows.agentStates === exp.agentStates };
    },
    async close() { rmSync(runDir, { recursive: true, force: true }); },
  };
}

// ---------------------------------------------------------------- the phase

export interface RoutingPeak {
  /** Routed customers per second at the routing peak. */
  perSecond: number;
  /** Where it comes from: "this run", or latest.json's run when the phase runs alone. */
  from: string;
  /** Events the routing peak logged per routed customer (its sessions carry 2 messages, not 10). */
  eventsPerRouted?: number;
}

export interface RecordsResult {
  recorderEventsPerSecond: number;
  recorderSessionsPerSecond: number;
  recorderHeadroom: number;
  historyBytesPerSession: number;
  records: Record<string, unknown>;
}

export async function benchRecords(routing: RoutingPeak | undefined): Promise<RecordsResult> {
  const t0 = performance.now();
  const data = backlog(SESSIONS, Date.now() - 24 * 3600_000); // a day old: well inside any retention
  const pgData = backlog(PG_SESSIONS, Date.now() - 24 * 3600_000, 13);
  log(`${data.sessions} sessions, ${data.events.length} events (${round(data.eventsPerSession)} per session), ${round(data.bodyBytes / data.sessions, 0)} bytes of message text per session`);
  const redisDir = mkdtempSync(join(tmpdir(), "sb-bench-records-redis-"));
  const redisServer = await startRedis({ port: await freePort(), dir: redisDir, persist: false });
  let sqlite: PassResult;
  let postgres: PassResult | { error: string };
  try {
    log("SQLite: the recorder process catches up with the backlog");
    sqlite = await recordPass(redisServer, sqliteTarget(data), data);
    log("PostgreSQL: the same backlog on a fresh database");
    let server: RunningPostgres | undefined;
    try {
      server = await startPostgres();
      postgres = await recordPass(redisServer, await postgresTarget(server, pgData), pgData);
    } catch (err) {
      // PostgreSQL missing or failing: its own error row; the SQLite figures stand.
      console.error(err);
      postgres = { error: (err as Error).message.split("\n")[0]! };
    } finally {
      await server?.remove();
    }
  } finally {
    await redisServer.stop();
    rmSync(redisDir, { recursive: true, force: true });
  }
  const headroom = (p: PassResult) => (routing ? round(p.sessionsPerSecond / routing.perSecond) : NaN);
  return {
    recorderEventsPerSecond: sqlite.eventsPerSecond,
    recorderSessionsPerSecond: sqlite.sessionsPerSecond,
    recorderHeadroom: headroom(sqlite),
    historyBytesPerSession: sqlite.size.bytesPerSession,
    records: {
      sessions: data.sessions, events: data.events.length, eventsPerSession: round(data.eventsPerSession, 3), postgresSessions: pgData.sessions,
      messagesPerSession: MESSAGES, messageBytesPerSession: round(data.bodyBytes / data.sessions, 1), agentStateEvents: data.agentStateEvents,
      routing: routing ? { ...routing, requiredEventsPerSecond: round(routing.perSecond * data.eventsPerSession, 0) } : null,
      sqlite: { ...sqlite, headroom: headroom(sqlite) },
      postgres: "error" in postgres ? postgres : { ...postgres, headroom: headroom(postgres) },
      seconds: round((performance.now() - t0) / 1000, 1),
    },
  };
}

/** The records rows of the bench's table. */
export function recordsRows(r: any): Array<[string, string]> {
  const x = r.records;
  if (x?.error) return [["records", `failed: ${x.error}`]];
  const pass = (p: any, name: string): Array<[string, string]> => {
    if (p.error) return [[`records: ${name}`, `failed: ${p.error}`]];
    const missing = p.rows.complete ? "" : `; ROWS MISSING: ${JSON.stringify(p.rows)}`;
    return [
      [`records: ${name}: events/s, sessions/s recorded (backlog of ${p.sessions} sessions, ${p.eventsPerSession} events each)`,
        `${p.eventsPerSecond} / ${p.sessionsPerSecond}  (recorder ${p.recorderCores} cores, ${p.recorderCpuMsPerSession} ms CPU per session: ${p.sessionsPerRecorderCpuSecond} per core-second; Redis ${p.redisCores}; machine ${p.machineBusyCores} of 2 busy)${missing}`],
      [`records: ${name}: headroom over the routing peak (sessions/s / routed/s; > 1 with margin)`,
        `${p.headroom}  (routed ${x.routing?.perSecond ?? "?"}/s, ${x.routing?.from ?? "no routing figure"}; x ${p.eventsPerSession} events = ${x.routing ? round(x.routing.perSecond * p.eventsPerSession, 0) : "?"} events/s needed)`],
      [`records: ${name}: batch transaction p50/p99 ms (${p.batches} batches of <= ${p.batchEvents} events)`, `${p.commitMs.p50} / ${p.commitMs.p99}  (caught up: lag ${p.caughtUp.lag}, pending ${p.caughtUp.pending})`],
      [`records: ${name}: bytes stored per session (${x.messagesPerSession} messages, ${x.messageBytesPerSession} B of text)`, `${p.size.bytesPerSession}  (${p.size.fullBytes} B in all, ${p.size.emptyBytes} empty)`],
    ];
  };
  return [...pass(x.sqlite, "SQLite"), ...pass(x.postgres, "PostgreSQL")];
}

/** The routing peak of bench/results/latest.json, for the phase run alone. */
function routingFromLatest(): RoutingPeak | undefined {
  if (process.env.BENCH_ROUTED_PER_SECOND) return { perSecond: Number(process.env.BENCH_ROUTED_PER_SECOND), from: "BENCH_ROUTED_PER_SECOND" };
  try {
    const latest = JSON.parse(readFileSync(LATEST, "utf8")) as { routedPerSecond: number; startedAt: string };
    return { perSecond: latest.routedPerSecond, from: `bench/results/latest.json of ${latest.startedAt}` };
  } catch {
    return undefined;
  }
}

// `node dist/bench/records.js`: this phase alone; prints its rows and the result as JSON (writes no file).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const startedAt = new Date().toISOString();
  benchRecords(routingFromLatest()).then((r) => {
    const rows = recordsRows(r);
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log(JSON.stringify({ startedAt, ...r }, null, 2));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
    process.exit(0);
  }, (err) => { console.error(err); process.exit(1); });
}
