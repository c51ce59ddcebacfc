/**
 * Authority control for the component's adapters (issue 13): what a supervisor may act on (its queues, the
 * agents with their skills), and the audit of what supervisors and admins do. docs/threat-model.md.
 */
import type { Logger } from "pino";
import type { Cti } from "../cti/cti.js";
import type { AgentChange } from "../cti/store.js";
import type { Config } from "./config.js";

/** The audit's actions: one name each ("config-change" is appended by the store when a component starts). */
export type AuditAction = "set-agent-state" | "adjust-agent" | "end-session" | "erase" | "monitor" | "whisper" | "barge" | "transfer";

/**
 * Records an action in the audit log. The action has happened already: if it cannot be audited (Redis away)
 * it stands, and a warning says what went unaudited. Never throws.
 */
export function auditor(cti: Cti, log: Logger | undefined) {
  return (actor: string, action: AuditAction, target: string, detail = ""): Promise<void> =>
    cti.audit(actor, action, target, detail).catch((err: Error) => {
      log?.warn({ err: err.message, actor, action, target }, "an action could not be written to the audit log");
    });
}

/** A change for the day in words, for the audit log and the reply: "skills sales, billing, 2 chats at once, until midnight (UTC)". */
export const dayChangeWords = (applied: AgentChange, timezone: string) =>
  [applied.skills && `skills ${applied.skills.join(", ")}`, applied.maxChats !== undefined && `${applied.maxChats} chats at once`, `until midnight (${timezone})`]
    .filter(Boolean).join(", ");

/** What a supervisor may act on: a queue-limited one its queues' sessions and the agents with their skills. */
export function supervisorScope(config: Config, cti: Pick<Cti, "queues">) {
  /** The queues a supervisor is limited to, or null for every queue (and admins). */
  const limitOf = (jid: string): string[] | null => config.supervisors.find((s) => s.jid === jid)?.queues ?? null;
  const mayQueue = (jid: string, queue: string) => {
    const limit = limitOf(jid);
    return limit === null || limit.includes(queue);
  };
  /** An agent is in a queue's staff when it has every skill the queue needs (by name; levels aside). */
  const mayAgent = (jid: string, skills: readonly string[]) => {
    const limit = limitOf(jid);
    return limit === null || cti.queues.some((q) => limit.includes(q.name) && q.skills.every((s) => skills.includes(s)));
  };
  return { limitOf, mayQueue, mayAgent };
}
