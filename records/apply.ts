/**
 * The event log turned into history rows: one transaction per batch, each event applied once (its stream id
 * is the events table's key: an event seen again, after a crash between commit and acknowledgement, is
 * skipped). Events are applied in log order (the recorder guarantees it), so an event of a session that has
 * no row (other than one that makes it) was erased, or deleted by retention, and is not recorded again.
 */
import { createHash } from "node:crypto";
import type { Transaction } from "kysely";
import type { LoggedEvent } from "../cti/redis/events.js";
import type { CtiEvent } from "../cti/types.js";
import type { History } from "./db.js";
import type { Database, TranscriptRow } from "./schema.js";

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

/** The event as stored: a message's text lives in the transcript only, once. */
function dataOf(e: CtiEvent): string {
  if (e.type !== "message") return JSON.stringify(e);
  const { body: _body, ...rest } = e;
  return JSON.stringify(rest);
}

/** Applies the events not applied before; returns how many were new. */
export async function applyEvents(history: History, events: LoggedEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  return history.db.transaction().execute(async (trx) => {
    const erasedAt = await erasures(trx, events);
    const known = await existingSessions(trx, events);
    let applied = 0;
    for (const { id, event } of events) {
      const customer = customerOf(event);
      const erased = customer ? erasedAt.get(customerHash(customer)) : undefined;
      if (erased !== undefined && event.at <= erased) continue;
      const session = sessionOf(event);
      if (session !== null) {
        if (CREATES_SESSION.has(event.type)) known.add(session);
        else if (!known.has(session)) continue; // erased, or deleted by retention: nothing of it is kept
      }
      const inserted = await trx.insertInto("events")
        .values({ id, type: event.type, session: sessionOf(event), agent: agentOf(event), at: event.at, data: dataOf(event) })
        .onConflict((oc) => oc.column("id").doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) continue; // recorded before
      await applyOne(trx, id, event);
      applied++;
    }
    return applied;
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

async function line(trx: Trx, row: TranscriptRow): Promise<void> {
  await trx.insertInto("transcript").values(row).onConflict((oc) => oc.column("event_id").doNothing()).execute();
}

async function applyOne(trx: Trx, id: string, e: CtiEvent): Promise<void> {
  const notice = (session: string, sender: string | null, body: string) => line(trx, { event_id: id, session, at: e.at, kind: "system", sender, body });
  switch (e.type) {
    case "queued":
      await trx.insertInto("sessions")
        .values({ id: e.session, queue: e.queue, media: "chat", customer: bare(e.customer), seat: null, queued_at: e.at, assigned_at: null, answered_at: null,
          in_service_at: null, ended_at: null, end_reason: null, ended_from: null, transfers: 0, score: null, comment: null, form: "{}" })
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
      return;
    case "assigned":
      // A session's first assignment is the one its speed of answer counts; a later one (after a requeue) moves the seat.
      await trx.insertInto("sessions")
        .values({ id: e.session, queue: e.queue, media: e.media, customer: bare(e.customer), seat: e.seat, queued_at: e.queuedAt, assigned_at: e.at,
          answered_at: null, in_service_at: null, ended_at: null, end_reason: null, ended_from: null, transfers: 0, score: null, comment: null, form: JSON.stringify(e.form) })
        .onConflict((oc) => oc.column("id").doUpdateSet((eb) => ({
          seat: eb.ref("excluded.seat"), media: eb.ref("excluded.media"), form: eb.ref("excluded.form"),
          assigned_at: eb.fn.coalesce("sessions.assigned_at", eb.ref("excluded.assigned_at")),
        })))
        .execute();
      await notice(e.session, e.seat, e.media === "voice" ? "The call was put through to the agent." : "An agent was assigned.");
      return;
    case "in-service":
      await trx.updateTable("sessions").set((eb) => ({ seat: e.seat, in_service_at: eb.fn.coalesce("in_service_at", eb.val(e.at)) })).where("id", "=", e.session).execute();
      return;
    case "answered":
      await trx.updateTable("sessions").set((eb) => ({ answered_at: eb.fn.coalesce("answered_at", eb.val(e.at)) })).where("id", "=", e.session).execute();
      return;
    case "ended":
      await trx.insertInto("sessions")
        .values({ id: e.session, queue: e.queue, media: e.media, customer: bare(e.customer), seat: e.seat, queued_at: e.at, assigned_at: null, answered_at: null,
          in_service_at: null, ended_at: e.at, end_reason: e.reason, ended_from: e.from, transfers: 0, score: null, comment: null, form: "{}" })
        .onConflict((oc) => oc.column("id").doUpdateSet((eb) => ({
          seat: eb.ref("excluded.seat"), media: eb.ref("excluded.media"), ended_at: eb.ref("excluded.ended_at"),
          end_reason: eb.ref("excluded.end_reason"), ended_from: eb.ref("excluded.ended_from"),
        })))
        .execute();
      await notice(e.session, e.seat, ENDED[e.reason] ?? `The session ended (${e.reason}).`);
      return;
    case "transferred":
      await trx.updateTable("sessions").set((eb) => ({ queue: e.queue, seat: e.seat, transfers: eb("transfers", "+", 1) })).where("id", "=", e.session).execute();
      await notice(e.session, e.from, e.seat ? `Transferred from ${e.from} to ${e.seat}.` : `Transferred from ${e.from} to the queue ${e.queue}.`);
      return;
    case "requeued":
      await trx.updateTable("sessions").set({ seat: null }).where("id", "=", e.session).execute();
      await notice(e.session, e.seat, "The agent did not answer in time: back at the head of the queue.");
      return;
    case "resumed":
      await trx.updateTable("sessions").set({ customer: bare(e.customer) }).where("id", "=", e.session).execute();
      return;
    case "feedback":
      await trx.updateTable("sessions").set({ score: e.score, comment: e.comment ?? null }).where("id", "=", e.session).execute();
      return;
    case "call":
      await notice(e.session, e.seat, { ringing: "A call rang at the agent.", answered: "The call was answered.", ended: "The call ended." }[e.phase]);
      return;
    case "message":
      await line(trx, { event_id: id, session: e.session, at: e.at, kind: e.direction === "in" ? "customer" : e.direction === "supervisor" ? "supervisor" : "seat", sender: bare(e.sender), body: e.body });
      return;
    case "agent-state":
      await trx.insertInto("agent_states").values({ event_id: id, agent: e.agent, state: e.state, at: e.at }).onConflict((oc) => oc.column("event_id").doNothing()).execute();
      return;
    default:
      return; // offers, away, wrap-up, phones, left messages: kept in the events table only
  }
}
