/**
 * How the admin API shows the CTI's live things (the OpenAPI document's LiveSession), and who asked
 * (the actor the guard names, as the audit log writes it).
 */
import type { Response } from "express";
import { VOICE_SKILL } from "../../cti/policy.js";
import type { Session } from "../../cti/types.js";

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function sessionJson(s: Session) {
  return {
    id: s.id, queue: s.queue, media: s.media, customer: s.customer, seat: s.seat, state: s.state,
    skills: s.needs.filter((n) => n !== VOICE_SKILL), form: s.form, ...(s.media === "voice" ? { callerName: s.form.name ?? null } : {}),
    queuedAt: iso(s.queuedAt), assignedAt: iso(s.assignedAt), inServiceAt: iso(s.inServiceAt), endedAt: iso(s.endedAt),
    endReason: s.endReason, feedback: s.feedback, priority: s.priority,
    ...(s.expert ? { expert: s.expert } : {}), // issue 15: the agent or supervisor invited into the chat, while there
  };
}

/** Who made an API request (set by the guard): "token:<name>", as the audit log names it. */
export const actorOf = (res: Response): string => String(res.locals.actor);
