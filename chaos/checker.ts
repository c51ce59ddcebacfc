/**
 * The invariant checker. Every 200 ms, no agent over its maxChats in Redis (over capacity). Every acknowledged
 * customer classified from what it was told (population.ts) and from Redis: served, told it left, still
 * queued, dropped with its connection by a fault, or else lost; and duplicated when two seats served it.
 * Customers long gone are classified during the run (a fold), the rest at the end. Crashes: crashes.ts.
 */
import type { Redis } from "ioredis";
import type { Keys } from "../cti/redis/keys.js";
import { queuedIds } from "../cti/redis/store.js";
import type { AgentConfig } from "./config.js";
import type { Records, Tracked } from "./population.js";

export interface CheckerDeps {
  /** The runner's own Redis connection. */
  inspector: Redis;
  /** The Redis key prefix (the session hashes are `${prefix}s:*`). */
  prefix: string;
  keys: Keys;
  agents: AgentConfig[];
  records: Records;
}

const detail = (list: string[], line: string) => { if (list.length < 100) list.push(line); };

export function invariantChecker({ inspector, prefix, keys, agents, records }: CheckerDeps) {
  let overCapacity = 0;
  const overCapacityDetails: string[] = [];
  const counts = {
    acknowledged: 0, assigned: 0, departedOrExpiredWithNotice: 0, droppedWithConnection: 0, stillQueued: 0, lost: 0, duplicated: 0,
    servedWithoutBegin: 0, ghostsLeftLive: 0, classifiedDuringRun: 0, droppedEndReasons: {} as Record<string, number>,
    lostDetails: [] as string[], servedWithoutBeginDetails: [] as string[], duplicatedDetails: [] as string[],
  };

  const sampleCapacity = async () => {
    try {
      for (const a of agents) {
        const [active, members] = await Promise.all([inspector.hget(keys.agent(a.jid), "active"), inspector.scard(keys.agentSessions(a.jid))]);
        if (Number(active ?? 0) > a.maxChats || members > a.maxChats) {
          overCapacity++;
          if (overCapacityDetails.length < 100) overCapacityDetails.push(`${new Date().toISOString()} ${a.jid}: active=${active} sessions=${members} maxChats=${a.maxChats}`);
        }
      }
    } catch { /* Redis restarting */ }
  };

  /** Session hashes by customer JID, for the customers in `jids`. */
  const readSessions = async (jids: Set<string>) => {
    const byCustomer = new Map<string, Array<Record<string, string>>>();
    let cursor = "0";
    do {
      const [next, found] = await inspector.scan(cursor, "MATCH", `${prefix}s:*`, "COUNT", "1000");
      cursor = next;
      const owners = await Promise.all(found.map((k) => inspector.hget(k, "customer")));
      const mine = found.filter((_, i) => jids.has(owners[i] ?? ""));
      const hashes = await Promise.all(mine.map((k) => inspector.hgetall(k)));
      for (const h of hashes) if (h.customer) byCustomer.set(h.customer, [...(byCustomer.get(h.customer) ?? []), h]);
    } while (cursor !== "0");
    return byCustomer;
  };

  const classify = (t: Tracked, sessions: Array<Record<string, string>>, queued: Set<string>) => {
    counts.acknowledged++;
    const assignedSessions = sessions.filter((h) => h.assignedAt);
    const conflict = t.sessionId ? records.beginConflicts.get(t.sessionId) : undefined;
    if (t.seats.length > 1 || conflict || assignedSessions.length > 1) {
      counts.duplicated++;
      detail(counts.duplicatedDetails, `${t.jid}: seats told ${t.seats}, begins ${[...(conflict ?? [])]}, sessions ${sessions.map((h) => h.id)}`);
    }
    const live = sessions.find((h) => h.state !== "ended");
    if (t.seats.length) {
      counts.assigned++;
      if (t.sessionId && !records.begins.has(t.sessionId)) {
        counts.servedWithoutBegin++;
        const h = sessions.find((x) => x.id === t.sessionId);
        detail(counts.servedWithoutBeginDetails, `${t.jid}: session ${t.sessionId} state=${h?.state} seat=${h?.seat} endReason=${h?.endReason || "-"}; customer told ended=${t.endedNotice}, dropped=${t.dropped}`);
      }
    } else if (t.endedNotice || t.departNotice) counts.departedOrExpiredWithNotice++;
    else if (live && live.state === "queued" && queued.has(live.id!) && !t.dropped && !t.closedByUs) counts.stillQueued++;
    else if (t.dropped) {
      counts.droppedWithConnection++;
      if (live) counts.ghostsLeftLive++;
      for (const h of sessions) {
        const why = h.state === "ended" ? `${h.endReason || "?"}${h.assignedAt ? " (after being assigned)" : ""}` : "live";
        counts.droppedEndReasons[why] = (counts.droppedEndReasons[why] ?? 0) + 1;
      }
    } else {
      counts.lost++;
      detail(counts.lostDetails, `customer #${t.n} ${t.jid}: ${sessions.length ? sessions.map((h) => `session ${h.id} state=${h.state} seat=${h.seat || "-"} endReason=${h.endReason || "-"} assignedAt=${h.assignedAt || "-"}`).join("; ") : "no session in Redis"}`);
    }
  };

  /**
   * Classifies the customers whose client was let go over 30 s ago and whose Redis sessions have all ended:
   * nothing can change for them any more (a new session needs a join from their JID, which is gone; a begin
   * is only ever re-sent for a live session). Their records are dropped; the others wait for the next fold.
   */
  const fold = async () => {
    const now = Date.now();
    const ready = new Set(records.customers.filter((t) => !t.client && t.releasedAt !== undefined && now - t.releasedAt > 30_000).map((t) => t.jid));
    if (!ready.size) return;
    let byCustomer: Map<string, Array<Record<string, string>>>;
    try { byCustomer = await readSessions(ready); } catch { return; } // Redis restarting: at the next fold
    const keep: Tracked[] = [];
    for (const t of records.customers) {
      const sessions = ready.has(t.jid) ? (byCustomer.get(t.jid) ?? []) : undefined;
      if (!sessions || sessions.some((h) => h.state !== "ended")) { keep.push(t); continue; }
      classify(t, sessions, new Set());
      counts.classifiedDuringRun++;
      if (t.sessionId) { records.begins.delete(t.sessionId); records.beginConflicts.delete(t.sessionId); }
    }
    records.customers = keep;
  };

  /** At the end: every customer still tracked, against Redis's sessions and the queue. */
  const classifyRemaining = async () => {
    const byCustomer = await readSessions(new Set(records.customers.map((t) => t.jid)));
    const queued = new Set(await queuedIds(inspector, keys, "billing"));
    for (const t of records.customers) classify(t, byCustomer.get(t.jid) ?? [], queued);
  };

  return { counts, overCapacity: () => overCapacity, overCapacityDetails, sampleCapacity, fold, classifyRemaining };
}
