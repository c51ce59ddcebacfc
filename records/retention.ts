/**
 * Retention and erasure: what the history may keep. Sessions older than their queue's retentionDays go with
 * their transcript and events; one customer's data goes on request (erasure), and is not recorded again from
 * events still in the log (apply.ts checks the erasures table, which keeps only a hash).
 */
import type { Transaction } from "kysely";
import type { History } from "./db.js";
import { customerHash } from "./apply.js";
import type { Database } from "./schema.js";

const DAY_MS = 24 * 3600 * 1000;
/** Rows deleted per statement: bounded work, and SQLite's limit on bound parameters. */
const CHUNK = 500;
/** config audit.retentionDays's default. */
export const DEFAULT_AUDIT_DAYS = 730;

export interface Removed { sessions: number; transcriptLines: number; events: number }

async function removeSessions(trx: Transaction<Database>, ids: string[]): Promise<Removed> {
  const removed: Removed = { sessions: 0, transcriptLines: 0, events: 0 };
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    removed.transcriptLines += Number((await trx.deleteFrom("transcript").where("session", "in", chunk).executeTakeFirst()).numDeletedRows);
    removed.events += Number((await trx.deleteFrom("events").where("session", "in", chunk).executeTakeFirst()).numDeletedRows);
    removed.sessions += Number((await trx.deleteFrom("sessions").where("id", "in", chunk).executeTakeFirst()).numDeletedRows);
  }
  return removed;
}

/**
 * Deletes ended sessions queued before now - their queue's retentionDays (a queue no longer configured keeps
 * the longest retention), agent states and session-less events older than the longest retention, and audit
 * entries older than auditDays.
 */
export async function applyRetention(history: History, retentionDays: Record<string, number>, now: number, auditDays = DEFAULT_AUDIT_DAYS): Promise<Removed> {
  const longest = Math.max(...Object.values(retentionDays)) * DAY_MS;
  return history.db.transaction().execute(async (trx) => {
    const expired = (await trx.selectFrom("sessions").select(["id", "queue", "queued_at"])
      .where("ended_at", "is not", null).where("queued_at", "<", now - Math.min(...Object.values(retentionDays)) * DAY_MS).execute())
      .filter((s) => s.queued_at < now - (retentionDays[s.queue] !== undefined ? retentionDays[s.queue]! * DAY_MS : longest))
      .map((s) => s.id);
    const removed = await removeSessions(trx, expired);
    await trx.deleteFrom("agent_states").where("at", "<", now - longest).execute();
    removed.events += Number((await trx.deleteFrom("events").where("session", "is", null).where("at", "<", now - longest).executeTakeFirst()).numDeletedRows);
    // The audit log has a retention of its own (config audit.retentionDays): it outlives the events it came from.
    await trx.deleteFrom("audit").where("at", "<", now - auditDays * DAY_MS).execute();
    return removed;
  });
}

/** Erases one customer's sessions, transcripts and events (by bare JID or SIP URI), and remembers the erasure. */
export async function eraseCustomer(history: History, customer: string, now: number): Promise<Removed> {
  const bareJid = customer.split("/")[0]!.toLowerCase();
  return history.db.transaction().execute(async (trx) => {
    const ids = (await trx.selectFrom("sessions").select("id").where("customer", "=", bareJid).execute()).map((s) => s.id);
    const removed = await removeSessions(trx, ids);
    await trx.insertInto("erasures").values({ customer_hash: customerHash(bareJid), erased_at: now })
      .onConflict((oc) => oc.column("customer_hash").doUpdateSet({ erased_at: now })).execute();
    return removed;
  });
}
