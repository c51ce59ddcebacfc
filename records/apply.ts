/**
 * The event log turned into history rows: one transaction per batch, each event applied once (its stream id
 * is the events table's key: an event seen again, after a crash between commit and acknowledgement, is
 * skipped). Events are applied in log order (the recorder guarantees it), so an event of a session that has
 * no row (other than one that makes it) was erased, or deleted by retention, and is not recorded again.
 */
import { createHash } from "node:crypto";
import { sql, type RawBuilder, type Transaction } from "kysely";
import type { LoggedEvent } from "../cti/redis/events.js";
import type { CtiEvent } from "../cti/types.js";
import type { History } from "./db.js";
import type { AgentStateRow, AuditRow, Database, SessionRow, TranscriptRow } from "./schema.js";

type Trx = Transaction<Database>;

/** The transcript's closing notice, by end reason (protocol/names.ts END_REASONS, plus "departed"). */
const ENDED: Record<string, string> = {
  customer: "The customer ended the session.", departed: "The customer left the queue.", seat: "The agent ended the session.",
  "customer-offline": "The customer went offline.", "seat-offline": "The agent went offline.",
  "assign-timeout": "The customer did not write to the agent in time.", expired: "The customer waited the longest time allowed.",
  supervisor: "A supervisor ended the session.", "call-failed": "The call could not be put through, or was lost.",
};

/** Customers are kept by bare JID (or SIP URI), in lower case, as erasure looks them up. */
const bare = (jid: string) => jid.split("/")[0]!.toLowerCase();
/** Erasure keeps no personal data: a customer is remembered by this hash only. */
export const customerHash = (jid: string) => createHash("sha256").update(bare(jid)).digest("hex");

const sessionOf = (e: CtiEvent): string | null => ("session" in e ? e.session : null);
const agentOf = (e: CtiEvent): string | null => (e.type === "agent-state" || e.type === "wrap-up-ended" || e.type === "phone" ? e.agent : null);
const customerOf = (e: CtiEvent): string | null => ("customer" in e ? e.customer : null);

/** The event as stored: a message's text (and the file it shares) lives in the transcript only, once. */
function dataOf(e: CtiEvent): string {
  if (e.type !== "message") return JSON.stringify(e);
  const { body: _body, file: _file, ...rest } = e;
  return JSON.stringify(rest);
}

/** A transcript line that shares no file (every row names every column: SQLite takes no DEFAULT in a multi-row VALUES). */
const NO_FILE = { file_url: null, file_name: null, file_size: null, file_type: null } as const;

/** Rows per multi-row INSERT: well under SQLite's and PostgreSQL's limits on bound parameters. */
const CHUNK = 500;

/**
 * Applies the events not applied before; returns how many were new. A handful of statements per batch, not
 * per event (each is a round trip to PostgreSQL): the events, transcript lines and agent states go in
 * multi-row inserts, and each session's events of the batch are folded into one row's changes, written
 * together with the other sessions' (Batch.write).
 */
export async function applyEvents(history: History, events: LoggedEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  return history.db.transaction().execute(async (trx) => {
    const erasedAt = await erasures(trx, events);
    const known = await existingSessions(trx, events);
    const kept = events.filter(({ event }) => {
      const customer = customerOf(event);
      const erased = customer ? erasedAt.get(customerHash(customer)) : undefined;
      if (erased !== undefined && event.at <= erased) return false;
      const session = sessionOf(event);
      if (session === null) return true;
      if (CREATES_SESSION.has(event.type)) return known.add(session), true;
      return known.has(session); // else erased, or deleted by retention: nothing of it is kept
    });
    const fresh = new Set<string>(); // the events not recorded before (their id is the key)
    for (let i = 0; i < kept.length; i += CHUNK) {
      const rows = kept.slice(i, i + CHUNK).map(({ id, event }) => ({ id, type: event.type, session: sessionOf(event), agent: agentOf(event), at: event.at, data: dataOf(event) }));
      for (const r of await trx.insertInto("events").values(rows).onConflict((oc) => oc.column("id").doNothing()).returning("id").execute()) fresh.add(r.id);
    }
    const batch = new Batch();
    for (const { id, event } of kept) if (fresh.has(id)) batch.add(id, event);
    await batch.write(trx);
    return fresh.size;
  });
}

/** The erasure times of the batch's customers (one query). */
async function erasures(trx: Trx, events: LoggedEvent[]): Promise<Map<string, number>> {
  const hashes = [...new Set(events.map((e) => customerOf(e.event)).filter((c): c is string => c !== null).map(customerHash))];
  if (hashes.length === 0) return new Map();
  const rows = await trx.selectFrom("erasures").select(["customer_hash", "erased_at"]).where("customer_hash", "in", hashes).execute();
  return new Map(rows.map((r) => [r.customer_hash, r.erased_at]));
}

/** The events that make a session's row; any other event of a session with no row belongs to erased data. */
const CREATES_SESSION = new Set<CtiEvent["type"]>(["queued", "assigned", "ended"]);

/** Which of the batch's sessions have a row already (one query). */
async function existingSessions(trx: Trx, events: LoggedEvent[]): Promise<Set<string>> {
  const ids = [...new Set(events.map((e) => sessionOf(e.event)).filter((s): s is string => s !== null))];
  if (ids.length === 0) return new Set();
  return new Set((await trx.selectFrom("sessions").select("id").where("id", "in", ids).execute()).map((r) => r.id));
}

type SessionPatch = {
  /** The row to insert if the session has none yet (from the first event of the batch that can make it). */
  row?: SessionRow;
  /** Columns the batch's last event that names them decides. */
  set: Partial<SessionRow>;
  /** Columns their first value ever decides (a session's first assignment is the one its speed of answer counts). */
  first: Partial<SessionRow>;
  transfers: number;
};

const FIRST_WINS = ["assigned_at", "in_service_at", "answered_at"] as const;
/** How many columns a patch changes in a row that exists already. */
const changes = (p: SessionPatch) => Object.keys(p.set).length + Object.keys(p.first).length + p.transfers;

/** Sessions per statement: a new row binds 16 parameters, well under both databases' limits. */
const SESSION_CHUNK = 200;

/**
 * Rows already there take their changes in one UPDATE: each column is a CASE over the sessions that change
 * it, ending in the column itself (which also gives PostgreSQL the parameters' type).
 */
async function updateSessions(trx: Trx, patches: Array<[string, SessionPatch]>): Promise<void> {
  const column = (of: (p: SessionPatch) => unknown, otherwise: RawBuilder<unknown>): RawBuilder<unknown> | undefined => {
    const whens = patches.flatMap(([id, p]) => { const v = of(p); return v === undefined ? [] : [sql`WHEN ${id} THEN ${v}`]; });
    return whens.length === 0 ? undefined : sql`CASE ${sql.ref("id")} ${sql.join(whens, sql` `)} ELSE ${otherwise} END`;
  };
  const set: Record<string, RawBuilder<unknown>> = {};
  for (const k of new Set(patches.flatMap(([, p]) => Object.keys(p.set)))) set[k] = column((p) => (k in p.set ? p.set[k as keyof SessionRow] : undefined), sql.ref(k))!;
  for (const k of FIRST_WINS) {
    const first = column((p) => p.first[k], sql.ref(k));
    if (first) set[k] = sql`COALESCE(${sql.ref(k)}, ${first})`;
  }
  const transfers = column((p) => p.transfers || undefined, sql`0`);
  if (transfers) set.transfers = sql`${sql.ref("transfers")} + ${transfers}`;
  await trx.updateTable("sessions").set(set as never).where("id", "in", patches.map(([id]) => id)).execute();
}

/** A batch's rows, folded in log order, then written in a few statements. */
class Batch {
  private readonly sessions = new Map<string, SessionPatch>();
  private readonly lines: TranscriptRow[] = [];
  private readonly states: AgentStateRow[] = [];
  private readonly audits: AuditRow[] = [];

  private patch(id: string): SessionPatch {
    let p = this.sessions.get(id);
    if (!p) this.sessions.set(id, (p = { set: {}, first: {}, transfers: 0 }));
    return p;
  }

  private create(id: string, row: Omit<SessionRow, "id" | "seat" | "assigned_at" | "answered_at" | "in_service_at" | "ended_at" | "end_reason" | "ended_from" | "transfers" | "score" | "comment">) {
    const p = this.patch(id);
    p.row ??= { id, seat: null, assigned_at: null, answered_at: null, in_service_at: null, ended_at: null, end_reason: null, ended_from: null, transfers: 0, score: null, comment: null, ...row };
    return p;
  }

  add(id: string, e: CtiEvent): void {
    const notice = (session: string, sender: string | null, body: string) => this.lines.push({ event_id: id, session, at: e.at, kind: "system", sender, body, ...NO_FILE });
    switch (e.type) {
      case "queued":
        this.create(e.session, { queue: e.queue, media: "chat", customer: bare(e.customer), queued_at: e.at, form: "{}" });
        return;
      case "assigned": {
        const p = this.create(e.session, { queue: e.queue, media: e.media, customer: bare(e.customer), queued_at: e.queuedAt, form: "{}" });
        Object.assign(p.set, { seat: e.seat, media: e.media, form: JSON.stringify(e.form) });
        p.first.assigned_at ??= e.at;
        notice(e.session, e.seat, e.media === "voice" ? "The call was put through to the agent." : "An agent was assigned.");
        return;
      }
      case "in-service": {
        const p = this.patch(e.session);
        p.set.seat = e.seat;
        p.first.in_service_at ??= e.at;
        return;
      }
      case "answered":
        this.patch(e.session).first.answered_at ??= e.at;
        return;
      case "ended": {
        const p = this.create(e.session, { queue: e.queue, media: e.media, customer: bare(e.customer), queued_at: e.at, form: "{}" });
        Object.assign(p.set, { seat: e.seat, media: e.media, ended_at: e.at, end_reason: e.reason, ended_from: e.from });
        notice(e.session, e.seat, ENDED[e.reason] ?? `The session ended (${e.reason}).`);
        return;
      }
      case "transferred": {
        const p = this.patch(e.session);
        Object.assign(p.set, { queue: e.queue, seat: e.seat });
        p.transfers++;
        const by = e.by ? ` by ${e.by}` : ""; // a supervisor's move (older events have no `by`)
        notice(e.session, e.from, e.seat ? `Transferred from ${e.from} to ${e.seat}${by}.` : `Transferred from ${e.from} to the queue ${e.queue}${by}.`);
        return;
      }
      case "requeued":
        this.patch(e.session).set.seat = null;
        notice(e.session, e.seat, "The agent did not answer in time: back at the head of the queue.");
        return;
      case "resumed":
        this.patch(e.session).set.customer = bare(e.customer);
        return;
      case "feedback":
        Object.assign(this.patch(e.session).set, { score: e.score, comment: e.comment ?? null });
        return;
      case "call":
        notice(e.session, e.seat, { ringing: "A call rang at the agent.", answered: "The call was answered.", ended: "The call ended." }[e.phase]);
        return;
      case "message":
        this.lines.push({
          event_id: id, session: e.session, at: e.at, kind: e.direction === "in" ? "customer" : e.direction === "out" ? "seat" : e.direction, sender: bare(e.sender), body: e.body,
          file_url: e.file?.url ?? null, file_name: e.file?.name ?? null, file_size: e.file?.size ?? null, file_type: e.file?.type ?? null,
        });
        return;
      case "expert-joined": // issue 15: an agent or supervisor invited into the conversation
        notice(e.session, e.expert, `${e.expert} joined the conversation as an expert, invited by ${e.by}.${e.note ? ` Note: ${e.note}` : ""}`);
        return;
      case "expert-left":
        notice(e.session, e.expert, { left: `${e.expert} left the conversation.`, removed: `${e.by} took ${e.expert} out of the conversation.`,
          ended: `${e.expert} left with the end of the session.`, transferred: `${e.expert} left as the session moved to another agent.` }[e.reason]);
        return;
      case "agent-state":
        this.states.push({ event_id: id, agent: e.agent, state: e.state, at: e.at });
        return;
      case "audit":
        this.audits.push({ event_id: id, actor: e.actor, action: e.action, target: e.target, detail: e.detail, at: e.at });
        return;
      default:
        return; // offers, away, wrap-up, phones, left messages: kept in the events table only
    }
  }

  /**
   * A statement per session was a round trip each to PostgreSQL: at about 31 sessions a batch, most of a
   * batch's time. Now the sessions new to the batch go in one multi-row upsert per shape (which columns a row
   * there already would take from them), and those with a row already in one UPDATE for all.
   */
  async write(trx: Trx): Promise<void> {
    const shapes = new Map<string, Array<[string, SessionPatch]>>();
    const existing: Array<[string, SessionPatch]> = [];
    for (const [id, p] of this.sessions) {
      if (!p.row) { if (changes(p) > 0) existing.push([id, p]); continue; }
      const shape = JSON.stringify([Object.keys(p.set).sort(), Object.keys(p.first).sort(), p.transfers > 0]);
      shapes.get(shape)?.push([id, p]) ?? shapes.set(shape, [[id, p]]);
    }
    for (const group of shapes.values()) {
      const [, p] = group[0]!; // every patch of the group changes the same columns
      for (let i = 0; i < group.length; i += SESSION_CHUNK) {
        // New to this batch: the folded rows; a row already there (made before the batch) takes the changes only.
        const rows = group.slice(i, i + SESSION_CHUNK).map(([, q]) => {
          const row: SessionRow = { ...q.row!, ...q.set, transfers: q.row!.transfers + q.transfers };
          for (const k of FIRST_WINS) row[k] ??= q.first[k] ?? null;
          return row;
        });
        await trx.insertInto("sessions").values(rows).onConflict((oc) => (changes(p) === 0 ? oc.column("id").doNothing() : oc.column("id").doUpdateSet((eb) => ({
          ...Object.fromEntries(Object.keys(p.set).map((k) => [k, eb.ref(`excluded.${k as keyof SessionRow}`)])),
          ...Object.fromEntries(Object.keys(p.first).map((k) => [k, eb.fn.coalesce(`sessions.${k as (typeof FIRST_WINS)[number]}`, eb.ref(`excluded.${k as (typeof FIRST_WINS)[number]}`))])),
          // A new row's transfers are this batch's (create() starts at 0).
          ...(p.transfers ? { transfers: eb("sessions.transfers", "+", eb.ref("excluded.transfers")) } : {}),
        })))).execute();
      }
    }
    for (let i = 0; i < existing.length; i += SESSION_CHUNK) await updateSessions(trx, existing.slice(i, i + SESSION_CHUNK));
    for (let i = 0; i < this.lines.length; i += CHUNK)
      await trx.insertInto("transcript").values(this.lines.slice(i, i + CHUNK)).onConflict((oc) => oc.column("event_id").doNothing()).execute();
    for (let i = 0; i < this.states.length; i += CHUNK)
      await trx.insertInto("agent_states").values(this.states.slice(i, i + CHUNK)).onConflict((oc) => oc.column("event_id").doNothing()).execute();
    for (let i = 0; i < this.audits.length; i += CHUNK)
      await trx.insertInto("audit").values(this.audits.slice(i, i + CHUNK)).onConflict((oc) => oc.column("event_id").doNothing()).execute();
  }
}
