/** Writing events into a Redis event log as the Lua scripts' emit does, and fresh history databases, for the records tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import pg from "pg";
import { parseEvent } from "../../cti/redis/events.js";
import type { Keys } from "../../cti/redis/keys.js";
import type { CtiEvent } from "../../cti/types.js";
import { openHistory, type History } from "../../records/db.js";
import type { RunningPostgres } from "../../launcher/postgres.js";

/** The `data` field as cjson writes it from includes.lua's emit: booleans "1"/"0", lists comma-joined, forms as JSON text. */
export function emitted(e: CtiEvent): string {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === "type") continue;
    data[k] = typeof v === "boolean" ? (v ? "1" : "0") : Array.isArray(v) ? v.join(",") : k === "form" ? JSON.stringify(v) : v === null ? "" : v;
  }
  return JSON.stringify(data);
}

/** Appends events to the log in one round trip; returns their stream ids. */
export async function logEvents(redis: Redis, keys: Keys, events: CtiEvent[]): Promise<string[]> {
  const pipe = redis.pipeline();
  for (const e of events) pipe.xadd(keys.events(), "*", "type", e.type, "data", emitted(e));
  return ((await pipe.exec()) ?? []).map(([err, id]) => { if (err) throw err; return id as string; });
}

/** A history of its own: SQLite in a new temp dir, or a new database on the test's PostgreSQL. */
export async function freshHistory(kind: "sqlite" | "postgres", server?: RunningPostgres): Promise<History> {
  if (kind === "sqlite") return openHistory({ file: join(mkdtempSync(join(tmpdir(), "sb-history-")), "records.sqlite") });
  const name = `h${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: server!.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`); // a generated name: nothing from outside in it
  await admin.end();
  return openHistory({ url: server!.url.replace(/\/postgres$/, `/${name}`), file: "" });
}

/** A queued -> assigned -> in service -> ended session's events, `at` ms apart from `t0`. */
export function servedSession(id: string, customer: string, seat: string, t0: number, queue = "billing"): CtiEvent[] {
  return [
    { type: "queued", session: id, queue, customer, at: t0 },
    { type: "assigned", session: id, queue, customer, seat, plain: true, form: { name: "Ann" }, queuedAt: t0, rang: [], media: "chat", handle: "", at: t0 + 1000 },
    { type: "in-service", session: id, queue, customer, seat, at: t0 + 2000 },
    { type: "ended", session: id, queue, customer, seat, plain: true, from: "in-service", reason: "customer", rang: [], media: "chat", handle: "", at: t0 + 60_000 },
  ];
}

/** A session's messages as the seat module's tap put them in the event log: [direction, body] in order. */
export async function recordedMessages(redis: Redis, keys: Keys, session: string): Promise<Array<[string, string]>> {
  return (await redis.xrange(keys.events(), "-", "+")).map(([, fields]) => parseEvent(fields))
    .flatMap((e) => (e.type === "message" && e.session === session ? [[e.direction, e.body] as [string, string]] : []));
}
