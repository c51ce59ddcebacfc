/**
 * Reading the history (the one place for the API's queries): sessions in a range with filters and a text
 * search in their transcripts, a session's transcript, and the rows the statistics need. Kysely queries
 * only, the same for SQLite and PostgreSQL (the one difference, ILIKE, is chosen by dialect).
 */
import { sql } from "kysely";
import type { AgentStateChange, SessionRecord } from "../cti/statistics.js";
import { validOps, type BoardOp } from "../protocol/board.js";
import type { History } from "./db.js";
import type { AuditRow, SessionRow, TranscriptRow } from "./schema.js";

/**
 * No session lasts this long (live sessions end within a day: the CTI expires them), so a range's
 * sessions are looked for from this far before it: one the recorder never saw end cannot reach further.
 */
export const SESSION_LOOKBACK_MS = 86_400_000;

export interface SessionQuery {
  from: number;
  to: number;
  queue?: string;
  /** The seat that served it last. */
  agent?: string;
  /** Text anywhere in the transcript (messages and notices), case-insensitive. */
  q?: string;
  limit: number;
}

/** A LIKE pattern matching `text` literally: its own %, _ and \ are escaped (ESCAPE '\'). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Sessions queued in [from, to), newest first, with the filters. */
export async function findSessions(h: History, { from, to, queue, agent, q, limit }: SessionQuery): Promise<SessionRow[]> {
  let query = h.db.selectFrom("sessions").selectAll()
    .where("queued_at", ">=", from).where("queued_at", "<", to);
  if (queue !== undefined) query = query.where("queue", "=", queue);
  if (agent !== undefined) query = query.where("seat", "=", agent);
  if (q !== undefined) {
    // A scan of the transcripts of the range's sessions only (docs/records.md: why not a full-text index).
    const like = h.dialect === "postgres" ? sql`ilike` : sql`like`;
    const pattern = containing(q);
    query = query.where(({ exists, selectFrom }) => exists(selectFrom("transcript").select("transcript.event_id")
      .whereRef("transcript.session", "=", "sessions.id")
      .where(sql<boolean>`transcript.body ${like} ${pattern} escape '\\'`)));
  }
  return query.orderBy("queued_at", "desc").orderBy("id").limit(limit).execute();
}

export async function sessionRow(h: History, id: string): Promise<SessionRow | undefined> {
  return h.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
}

/** A session's transcript in the order it happened (the log's order breaks ties at the same millisecond). */
export async function transcriptOf(h: History, session: string): Promise<TranscriptRow[]> {
  return h.db.selectFrom("transcript").selectAll().where("session", "=", session).orderBy("at").orderBy("event_id").execute();
}

/** One whiteboard stanza of a session, as recorded (a `board` event, kept in the events table only). */
export interface BoardRecord { at: number; sender: string; direction: "in" | "out"; ops: BoardOp[] }

/**
 * A session's whiteboard stanzas in the order they happened (issue 15). Each is checked again on the way
 * out (protocol/board.ts): what a page draws from them is numbers that keep the rules, nothing else.
 */
export async function boardOf(h: History, session: string): Promise<BoardRecord[]> {
  const rows = await h.db.selectFrom("events").select(["at", "data"]).where("session", "=", session).where("type", "=", "board")
    .orderBy("at").orderBy("id").execute();
  const out: BoardRecord[] = [];
  for (const row of rows) {
    const e = JSON.parse(row.data) as { sender?: unknown; direction?: unknown; ops?: unknown };
    if (!validOps(e.ops) || typeof e.sender !== "string" || (e.direction !== "in" && e.direction !== "out")) continue;
    out.push({ at: row.at, sender: e.sender, direction: e.direction, ops: e.ops });
  }
  return out;
}

export const sessionRecord = (r: Omit<SessionRow, "customer" | "comment" | "form">): SessionRecord => ({
  id: r.id, queue: r.queue, media: r.media, seat: r.seat, queuedAt: r.queued_at, assignedAt: r.assigned_at, answeredAt: r.answered_at,
  inServiceAt: r.in_service_at, endedAt: r.ended_at, endReason: r.end_reason, endedFrom: r.ended_from, transfers: r.transfers, score: r.score,
});

/**
 * What cti/statistics.ts needs for [from, to): the sessions that overlap it (queued before its end, not
 * ended before its start), the agents' state changes in it, and each agent's last change before it.
 */
export async function statsRows(h: History, from: number, to: number): Promise<{ sessions: SessionRecord[]; states: AgentStateChange[] }> {
  const sessions = await h.db.selectFrom("sessions")
    .select(["id", "queue", "media", "seat", "queued_at", "assigned_at", "answered_at", "in_service_at", "ended_at", "end_reason", "ended_from", "transfers", "score"])
    .where("queued_at", ">=", from - SESSION_LOOKBACK_MS).where("queued_at", "<", to)
    .where((eb) => eb.or([eb("ended_at", "is", null), eb("ended_at", ">=", from)]))
    .execute();
  const inRange = await h.db.selectFrom("agent_states").select(["agent", "state", "at"])
    .where("at", ">=", from).where("at", "<", to).orderBy("at").orderBy("event_id").execute();
  // Each agent's state at `from`: its latest change before it.
  const before = await h.db.selectFrom("agent_states as s")
    .innerJoin(
      (eb) => eb.selectFrom("agent_states").select(["agent"]).select((e) => e.fn.max("at").as("last")).where("at", "<", from).groupBy("agent").as("l"),
      (join) => join.onRef("l.agent", "=", "s.agent").onRef("l.last", "=", "s.at"),
    )
    .select(["s.agent", "s.state", "s.at"]).orderBy("s.at").orderBy("s.event_id").execute();
  return { sessions: sessions.map(sessionRecord), states: [...before, ...inRange].map((r) => ({ agent: r.agent, state: r.state, at: Number(r.at) })) };
}

/** The agents' latest state change (for the time in the current state), one row each. */
export async function latestStates(h: History): Promise<AgentStateChange[]> {
  const rows = await h.db.selectFrom("agent_states as s")
    .innerJoin(
      (eb) => eb.selectFrom("agent_states").select(["agent"]).select((e) => e.fn.max("at").as("last")).groupBy("agent").as("l"),
      (join) => join.onRef("l.agent", "=", "s.agent").onRef("l.last", "=", "s.at"),
    )
    .select(["s.agent", "s.state", "s.at"]).orderBy("s.event_id").execute();
  // Two changes in the same millisecond: the later in the log wins.
  return [...new Map(rows.map((r) => [r.agent, { agent: r.agent, state: r.state, at: Number(r.at) }])).values()];
}

export interface AuditQuery { from: number; to: number; actor?: string; action?: string; limit: number }

/** Audit entries in [from, to), newest first (the log's order breaks ties at the same millisecond). */
export async function auditEntries(h: History, { from, to, actor, action, limit }: AuditQuery): Promise<AuditRow[]> {
  let query = h.db.selectFrom("audit").selectAll().where("at", ">=", from).where("at", "<", to);
  if (actor !== undefined) query = query.where("actor", "=", actor);
  if (action !== undefined) query = query.where("action", "=", action);
  return query.orderBy("at", "desc").orderBy("event_id", "desc").limit(limit).execute();
}
