/**
 * The history's tables (SQLite or PostgreSQL, one schema): Kysely checks every query against these.
 * Times are milliseconds since the epoch (bigint in PostgreSQL, read back as numbers: db.ts).
 * Redis is the live state; these rows are written after the fact by the recorder from the event log.
 */
export interface Database {
  events: EventRow;
  sessions: SessionRow;
  transcript: TranscriptRow;
  agent_states: AgentStateRow;
  erasures: ErasureRow;
  audit: AuditRow;
}

/** Every event of the log, once: its stream id is the key that makes recording idempotent. */
export interface EventRow {
  id: string;
  type: string;
  session: string | null;
  agent: string | null;
  at: number;
  /** The event as JSON (after erasure of its customer: deleted with the session). */
  data: string;
}

/** One session as it went: filled in by its events, in any order. */
export interface SessionRow {
  id: string;
  queue: string;
  media: string;
  /** The customer's bare JID (a caller's SIP URI for calls). */
  customer: string;
  /** The seat that served it last (after transfers), null when none did. */
  seat: string | null;
  queued_at: number;
  assigned_at: number | null;
  answered_at: number | null;
  in_service_at: number | null;
  ended_at: number | null;
  /** protocol/names.ts EndReason or "departed". */
  end_reason: string | null;
  /** The state it ended from: "queued" (abandoned or refused while waiting), "assigned", "in-service". */
  ended_from: string | null;
  transfers: number;
  score: number | null;
  comment: string | null;
  /** The pre-chat form (JSON). */
  form: string;
}

/** What was said in a session, and what happened to it, in order: the transcript. */
export interface TranscriptRow {
  /** The event's id: one line per event. */
  event_id: string;
  session: string;
  at: number;
  /** "customer" and "seat" lines are messages; "system" lines are notices (assigned, transferred, call, ended). */
  /** "supervisor": quality monitoring (issue 13): "Sam started monitoring.", a whisper, a barging supervisor's words. */
  /** "expert": an agent or supervisor the seat invited into the conversation (issue 15). */
  kind: "customer" | "seat" | "system" | "supervisor" | "expert";
  /** Who wrote it (bare JID); for a notice, the seat concerned or null. */
  sender: string | null;
  body: string;
  /** A file the message shared (issue 15): its URL, name, size and media type; size and type null when unknown. */
  file_url: string | null;
  file_name: string | null;
  file_size: number | null;
  file_type: string | null;
}

/** Each change of an agent's state: time in state and occupancy come from these. */
export interface AgentStateRow {
  event_id: string;
  agent: string;
  state: string;
  at: number;
}

/** A customer erased on request: events still in the log for it, older than this, are not recorded again. */
export interface ErasureRow {
  /** sha256 of the bare JID: the erasure keeps no personal data. */
  customer_hash: string;
  erased_at: number;
}

/** What a supervisor or admin did (issue 13): who, what, to what, when. Never a customer's JID. */
export interface AuditRow {
  event_id: string;
  /** "token:<name>" for the admin API, the bare JID for a supervisor's ad-hoc command. */
  actor: string;
  /** set-agent-state, end-session, erase (and monitor, whisper, barge, transfer as they come). */
  action: string;
  /** An agent's JID, a session id, or an erased customer's hash. */
  target: string;
  detail: string;
  at: number;
}
