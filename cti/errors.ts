/**
 * The one table of domain errors. Each code maps to an XMPP stanza error
 * (RFC 6120 condition + type), an HTTP status and a SIP response code; adapters render from here.
 */
export const ERRORS = {
  "bad-request": { xmpp: "bad-request", type: "modify", http: 400, sip: 400 },
  /** XEP-0050: an ad-hoc command action the service does not know (bad-request with an application condition). */
  "bad-action": { xmpp: "bad-request", type: "modify", http: 400, sip: 400, app: "bad-action" },
  /** Deeper or larger than any request of ours needs (docs/threat-model.md): refused before it is read. */
  "too-large": { xmpp: "policy-violation", type: "modify", http: 413, sip: 513 },
  "unknown-queue": { xmpp: "item-not-found", type: "cancel", http: 404, sip: 404 },
  "unknown-session": { xmpp: "item-not-found", type: "cancel", http: 404, sip: 404 },
  "not-found": { xmpp: "item-not-found", type: "cancel", http: 404, sip: 404 },
  "not-queued": { xmpp: "item-not-found", type: "cancel", http: 404, sip: 404 },
  forbidden: { xmpp: "forbidden", type: "auth", http: 403, sip: 403 },
  "not-authorized": { xmpp: "not-authorized", type: "auth", http: 401, sip: 403 },
  "queue-closed": { xmpp: "service-unavailable", type: "cancel", http: 503, sip: 480 },
  "no-agents": { xmpp: "service-unavailable", type: "wait", http: 503, sip: 480 },
  "queue-full": { xmpp: "service-unavailable", type: "wait", http: 503, sip: 486 },
  "already-queued": { xmpp: "conflict", type: "cancel", http: 409, sip: 486 },
  "already-rated": { xmpp: "conflict", type: "cancel", http: 409, sip: 409 },
  /** The thing acted on changed meanwhile (a session moved to another seat): look again and retry. */
  conflict: { xmpp: "conflict", type: "cancel", http: 409, sip: 409 },
  "session-ended": { xmpp: "item-not-found", type: "cancel", http: 410, sip: 481 },
  unsupported: { xmpp: "feature-not-implemented", type: "cancel", http: 501, sip: 501 },
  "rate-limited": { xmpp: "resource-constraint", type: "wait", http: 429, sip: 503 },
  unavailable: { xmpp: "service-unavailable", type: "cancel", http: 503, sip: 480 },
  internal: { xmpp: "internal-server-error", type: "wait", http: 500, sip: 500 },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** A refusal with a human text, safe to show to the person who caused it. */
export class CtiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly text: string,
  ) {
    super(text);
    this.name = "CtiError";
  }
}

/** The refusals several commands share. */
export const refuse = {
  // Replies never repeat what a client sent: a name it made up could be anything.
  unknownSession: () => new CtiError("unknown-session", "There is no such session."),
  sessionEnded: () => new CtiError("session-ended", "This session has already ended."),
};
