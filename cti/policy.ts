/** Pure routing and authorization rules: no I/O, no clock. */
import { canServe } from "./allocation.js";
import { CtiError } from "./errors.js";
import type { Agent, AgentState, AgentView, JoinRequest, LeftMessage, Queue } from "./types.js";

/** Limits on what a customer may send with a join, so an absurd one is refused. */
export const LIMITS = { extraSkills: 10, formFields: 20, fieldName: 64, fieldValue: 1000, comment: 2000, message: 5000, recordedBody: 10_000, auditDetail: 500, maxChats: 100 } as const;
const SKILL = /^[a-z0-9][a-z0-9_.-]{0,31}$/i;
const FIELD = /^[a-z0-9][a-z0-9_.-]*$/i;

/**
 * Length in characters (code points), as people count: an emoji is one, not two UTF-16 units.
 * Stops counting past `max`, so a huge string costs no more than a short one.
 */
export function charCount(text: string, max = Infinity): number {
  let n = 0;
  for (const _ of text) if (++n > max) break;
  return n;
}
const longer = (text: string, max: number) => text.length > max && charCount(text, max) > max;

/** The first `max` characters (code points): cutting UTF-16 units could split an emoji into a lone surrogate, stored as U+FFFD. */
export const clip = (text: string, max: number) => (text.length <= max ? text : [...text.slice(0, max * 2)].slice(0, max).join(""));

/**
 * A plain customer's answer to "rate this chat from 1 to 5": a digit 1-5 first ("4", "5 great help",
 * "3 - ok", "5/5"), then an optional comment; null when the message is something else ("10 minutes",
 * "2.5", "hello"), which then goes on as any message would. The comment is cut to LIMITS.comment.
 */
export function parseRating(body: string): { score: number; comment: string } | null {
  const m = /^([1-5])(?![0-9]|[.,][0-9])(?:\s*\/\s*5(?![0-9]))?\s*[-:,.!)\u2013\u2014]*\s*([\s\S]*)$/.exec(body.trim());
  return m ? { score: Number(m[1]), comment: clip(m[2]!.trim(), LIMITS.comment) } : null;
}

export function bareOf(jid: string): string {
  const slash = jid.indexOf("/");
  return slash === -1 ? jid : jid.slice(0, slash);
}

export function domainOf(jid: string): string {
  const bare = bareOf(jid);
  return bare.slice(bare.indexOf("@") + 1);
}

/** Is this customer allowed to join this queue? Throws the reason if not. */
export function authorize(queue: Queue, customer: string, guestDomain: string, guest = false): void {
  if (!queue.open) throw new CtiError("queue-closed", `The queue ${queue.name} is closed right now. Please try again later.`);
  const bare = bareOf(customer);
  const domain = domainOf(customer);
  if (queue.deny.includes(bare) || queue.deny.includes(domain))
    throw new CtiError("forbidden", `You are not allowed to use the queue ${queue.name}.`);
  if (!queue.allowGuests && (guest || domain === guestDomain))
    throw new CtiError("forbidden", `The queue ${queue.name} serves registered customers only. Please sign in with your account.`);
}

/** Checks a parsed join against LIMITS; the error names what is wrong. */
export function validateJoin(req: JoinRequest): void {
  const bad = (text: string) => new CtiError("bad-request", text);
  if (req.extraSkills.length > LIMITS.extraSkills) throw bad(`At most ${LIMITS.extraSkills} skills may be requested.`);
  for (const s of req.extraSkills) if (!SKILL.test(s)) throw bad("A requested skill is not a skill name (1-32 letters, digits, '_', '.' or '-').");
  const fields = Object.entries(req.form);
  if (fields.length > LIMITS.formFields) throw bad(`At most ${LIMITS.formFields} form fields are accepted.`);
  for (const [k, v] of fields) {
    if (k.length > LIMITS.fieldName || !FIELD.test(k)) throw bad("A form field name is not a valid form field name (letters, digits, '_', '.' or '-').");
    if (longer(v, LIMITS.fieldValue)) throw bad(`The form field ${k} is longer than ${LIMITS.fieldValue} characters.`); // k passed FIELD
  }
}

export function validateFeedback(score: number, comment: string): void {
  if (!Number.isInteger(score) || score < 1 || score > 5) throw new CtiError("bad-request", "The score must be a whole number from 1 to 5.");
  if (longer(comment, LIMITS.comment)) throw new CtiError("bad-request", `The comment is longer than ${LIMITS.comment} characters.`);
}

export function validateLeftMessage(m: Pick<LeftMessage, "name" | "email" | "message">): void {
  if (!m.message.trim()) throw new CtiError("bad-request", "Please write a message.");
  if (longer(m.message, LIMITS.message)) throw new CtiError("bad-request", `The message is longer than ${LIMITS.message} characters.`);
  if (longer(m.name, 100) || longer(m.email, 200)) throw new CtiError("bad-request", "The name or e-mail address is too long.");
}

/** The skills a seat must have: the queue's plus the customer's extras, sorted and unique. */
export function needsFor(queue: Queue, extraSkills: string[]): string[] {
  return [...new Set([...queue.skills, ...extraSkills.map((s) => s.toLowerCase())])].sort();
}




/** Presence drives agent state: available/chat -> ready; away, xa, dnd -> not ready; unavailable -> offline. */
export function stateFromPresence(type: string | undefined, show: string | undefined): AgentState | undefined {
  if (type === "unavailable") return "offline";
  if (type !== undefined) return undefined; // subscriptions, probes, errors: not a state
  if (!show || show === "chat") return "ready";
  if (show === "away" || show === "xa" || show === "dnd") return "not-ready";
  return undefined;
}

export function agentView(agent: Agent, now: number): AgentView {
  if (agent.state !== "ready") return agent.state;
  if (agent.active >= agent.maxChats) return "busy";
  return agent.wrapUntil > now ? "wrap-up" : "ready";
}

/** Weight of the newest gap in a queue's moving average time between claims. */
export const PACE_WEIGHT = 0.1;

/** Until a queue has handled sessions, assume this handle time. */
export const DEFAULT_HANDLE_SECONDS = 120;

/**
 * Estimated wait in seconds for the customer at `position` (0 = next). With
 * the queue's measured pace (ms between claims while customers waited), the
 * customers ahead and this one are served one per pace; before there is one,
 * `seats` at a time, each taking about `handleSeconds`. The pace captures what
 * the capacity alone misses: agents shared with other queues.
 */
export function estimateWait(position: number, handleSeconds: number, seats: number, paceMs?: number): number {
  if (paceMs !== undefined) return Math.round(((position + 1) * paceMs) / 1000);
  return Math.round(((position + 1) * handleSeconds) / Math.max(1, seats));
}

/** Seats that can work a queue: the total capacity of logged-in agents with its skills. */
export function servingCapacity(agents: Agent[], queue: Queue): number {
  return agents.filter((a) => a.state !== "offline" && canServe(a, queue.skills, queue.minLevels)).reduce((n, a) => n + a.maxChats, 0);
}

/** Weight of the newest handle time in the queue's moving average, so recent sessions weigh most. */
export const HANDLE_WEIGHT = 0.2;

export function nextHandleAverage(previous: number | undefined, seconds: number): number {
  return previous === undefined ? seconds : previous * (1 - HANDLE_WEIGHT) + seconds * HANDLE_WEIGHT;
}

/**
 * The skill a call needs on top of its queue's: agents that take calls have it while a phone of theirs is
 * registered (and not on a call), so calls are routed by the same seat sets, lines and strategies as chats.
 * Not a valid configured skill name, so no configuration can give it.
 */
export const VOICE_SKILL = "~voice";
