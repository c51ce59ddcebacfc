/**
 * The admin API described in OpenAPI 3.1 (its schemas are JSON Schema 2020-12), served at /api/openapi.json.
 * The tests check every response they get against it (test/helpers/openapi.ts): a change to a response that
 * is not made here too fails them.
 */
import { BOARD } from "../../protocol/board.js";
import { END_REASONS } from "../../protocol/names.js";
import { DEFAULT_AUDIT_DAYS_SHOWN, MAX_AUDIT, MAX_RANGE_DAYS, MAX_SEARCH_DAYS, MAX_SEARCH_TEXT, MAX_SESSIONS } from "./query.js";
import { scopeFor } from "./scopes.js";

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: "null" }] });
const time: Schema = { type: "string", format: "date-time" };
const maybeTime = nullable(time);
const int: Schema = { type: "integer", minimum: 0 };
const num: Schema = { type: "number" };
const maybeNum = nullable(num);
const str: Schema = { type: "string" };
const maybeStr = nullable(str);
/** A closed object: a property the document does not name fails the tests' checks. */
const object = (properties: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: "object", additionalProperties: false, properties, required: Object.keys(properties).filter((k) => !optional.includes(k)),
});
const array = (items: Schema): Schema => ({ type: "array", items });
const json = (schema: Schema, description: string) => ({ description, content: { "application/json": { schema } } });
const error = (description: string) => json(ref("Error"), description);
const param = (name: string, description: string, schema: Schema, required = false, where: "query" | "path" = "query") => ({ name, in: where, required, description, schema });

const sessionState = { type: "string", enum: ["queued", "assigned", "in-service", "ended"] };
const endReason = nullable({ type: "string", enum: [...END_REASONS, "departed"] });
const feedback = nullable(object({ score: { type: "integer", minimum: 1, maximum: 5 }, comment: str }));
const form = { type: "object", additionalProperties: { type: "string" } };

const queueFigures = object({
  queue: str, start: time, end: time,
  offered: int, answered: int, abandoned: int, abandonMeanSeconds: maybeNum, abandonMaxSeconds: maybeNum,
  serviceLevelSeconds: int, answeredWithinServiceLevel: int, serviceLevel: maybeNum,
  averageSpeedOfAnswerSeconds: maybeNum, averageHandleSeconds: maybeNum, longestWaitSeconds: maybeNum, transferred: int,
  ratings: int, csatAverage: maybeNum, csatSatisfiedPercent: maybeNum,
});
const agentFigures = object({
  agent: str, start: time, end: time,
  handled: int, handleSeconds: num, averageHandleSeconds: maybeNum,
  readySeconds: num, notReadySeconds: num, offlineSeconds: num, loggedInSeconds: num, servingSeconds: num,
  occupancy: nullable({ type: "number", minimum: 0, maximum: 1 }), ratings: int, csatAverage: maybeNum, csatSatisfiedPercent: maybeNum,
});

const schemas: Record<string, Schema> = {
  Error: object({ error: object({ code: str, message: str }) }),
  Agent: object({
    jid: str, name: str, state: { type: "string", enum: ["offline", "not-ready", "ready", "busy", "wrap-up"] }, reason: str,
    activeSessions: int, maxChats: int, skills: array(str), voice: { type: "boolean" }, phoneRegistered: { type: "boolean" }, onCall: { type: "boolean" },
    wrapUpUntil: maybeTime,
  }, ["name"]),
  Queue: object({ name: str, waiting: int, oldestWaitSeconds: int, rules: { type: "object", description: "The queue's routing rules as configured." } }),
  LiveSession: object({
    id: str, queue: str, media: { type: "string", enum: ["chat", "voice"] }, customer: str, seat: maybeStr, state: sessionState,
    skills: array(str), form, callerName: maybeStr,
    queuedAt: time, assignedAt: maybeTime, inServiceAt: maybeTime, endedAt: maybeTime, endReason, feedback, priority: num,
    expert: { type: "string", description: "The agent or supervisor the seat invited into the chat (issue 15), while it is in it." },
  }, ["callerName", "expert"]),
  RecordedSession: object({
    id: str, queue: str, media: str, customer: str, seat: maybeStr, state: sessionState,
    queuedAt: time, assignedAt: maybeTime, answeredAt: maybeTime, inServiceAt: maybeTime, endedAt: maybeTime,
    endReason: maybeStr, endedFrom: maybeStr, transfers: int, feedback, form,
  }),
  LeftMessage: object({ id: str, queue: str, from: str, name: str, email: str, message: str, at: time }),
  Transcript: object({
    session: str,
    lines: array(object({
      at: time, kind: { type: "string", enum: ["customer", "seat", "system", "supervisor", "expert"] }, sender: maybeStr, body: str,
      file: { ...object({ url: str, name: str, size: nullable(int), type: maybeStr }), description: "The file the message shared (XEP-0363 upload, XEP-0447/0446 metadata or an XEP-0066 link); size and type null when the sender gave none." },
    }, ["file"])),
    board: object({
      strokes: array(ref("Stroke")),
      events: array(object({ at: time, sender: str, direction: { type: "string", enum: ["in", "out"] }, ops: array(ref("BoardOp")) })),
    }),
  }),
  Stroke: object({
    id: str, color: { type: "string", pattern: "^#[0-9a-f]{6}$" }, width: { type: "integer", minimum: 1, maximum: BOARD.maxWidth },
    points: { type: "array", items: { type: "integer", minimum: 0, maximum: BOARD.size }, description: "Flat x,y pairs in 0..10000 (docs/protocol.md, \"Whiteboard\")." },
  }),
  BoardOp: {
    description: "A stroke (kind \"stroke\" with the stroke's fields) or a clear (kind \"clear\", which wipes what came before).",
    type: "object", required: ["kind"], properties: { kind: { type: "string", enum: ["stroke", "clear"] } },
  },
  QueueFigures: queueFigures,
  AgentFigures: agentFigures,
  StatsHistory: object({ from: time, to: time, interval: { type: "string", enum: ["15m", "1h", "1d"] }, queues: array(ref("QueueFigures")), agents: array(ref("AgentFigures")) }),
  StatsRealtime: object({
    at: time, today: object({ from: time, to: time }),
    history: { type: "string", enum: ["ok", "unavailable"], description: "unavailable: the history database could not be read; the today figures and stateSince are null." },
    queues: array(object({
      name: str, waiting: int, oldestWaitSeconds: int, agentsByState: { type: "object", additionalProperties: int },
      today: nullable(ref("QueueFigures")),
    })),
    agents: array(object({
      jid: str, name: maybeStr, state: str, reason: str, activeSessions: int, maxChats: int, stateSince: maybeTime, secondsInState: nullable(int),
      today: nullable(ref("AgentFigures")),
    })),
  }),
  Erasure: object({ erased: object({ sessions: int, transcriptLines: int, events: int }) }),
  AuditEntry: object({
    id: str, at: time,
    actor: { type: "string", description: "token:<name> for the admin API, a supervisor's bare JID for its ad-hoc commands." },
    action: { type: "string", description: "set-agent-state, end-session, erase (monitor, whisper, barge, transfer as they are added)." },
    target: { type: "string", description: "An agent's JID, a session id, or an erased customer's sha256 (never the customer's JID)." },
    detail: str,
  }),
};

const range = [
  param("from", "Start of the range (inclusive), ISO 8601 with a zone, or a date (midnight UTC).", time),
  param("to", "End of the range (exclusive), ISO 8601 with a zone, or a date.", time),
];
const queueParam = param("queue", "Only this queue.", { type: "string", pattern: "^[a-z0-9][a-z0-9_.-]{0,63}$" });
const agentParam = param("agent", "Only this agent (bare JID).", str);
const sessionId = param("id", "The session's id.", str, true, "path");
const unauthorized = error("No or a wrong admin token.");
const forbidden = error("The token is valid but lacks the scope the route needs (see the operation's security).");
const noHistory = error("The history database cannot be reached just now.");
const badRequest = error("A query parameter is missing, unknown, repeated or malformed; the message says which rule.");
const badBody = error("The JSON body is malformed or not of the shape the operation takes; the message says which.");
const agentJid = param("jid", "The agent's bare JID.", str, true, "path");
/** A small JSON request body (at most 4 KiB; unknown fields are refused). */
const body = (schema: Schema) => ({ required: true, content: { "application/json": { schema } } });
const note = { type: "string", maxLength: 1000, description: "For the agent who takes the customer." };

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Switchboard admin API",
    version: "1",
    description: "Reads the contact center's live state (the CTI, in Redis) and its history (records/), and acts on live work (ends and transfers sessions, sets agents' state, skills and capacity). Every route but this document needs `Authorization: Bearer <token>` (401 without or with an unknown one) holding the scope its operation's security names (403 otherwise): read, supervise or admin (admin holds every scope). Errors are `{error: {code, message}}`; messages never repeat the request. Statistics are defined in docs/statistics.md.",
  },
  servers: [{ url: "/" }],
  security: [{ admin: [] }],
  components: {
    securitySchemes: {
      admin: {
        type: "http", scheme: "bearer",
        description: "An admin API token: admin.token (every scope) or one of admin.tokens, with scopes read, supervise or admin (admin holds every scope). Each operation's security names the scope it needs; a valid token without it gets 403.",
      },
    },
    schemas,
  },
  paths: withScopes({
    "/api/openapi.json": {
      get: { summary: "This document.", security: [], responses: { 200: { description: "The OpenAPI 3.1 document.", content: { "application/json": { schema: { type: "object" } } } } } },
    },
    "/api/agents": {
      get: { summary: "Every configured agent and its live state.", responses: { 200: json(array(ref("Agent")), "The agents."), 401: unauthorized } },
    },
    "/api/queues": {
      get: { summary: "Each queue: how many wait, the longest wait now, its rules.", responses: { 200: json(array(ref("Queue")), "The queues."), 401: unauthorized } },
    },
    "/api/sessions": {
      get: {
        summary: "Without parameters: the live sessions and the 100 most recently ended (Redis). With any parameter: a search of the history.",
        description: `The search returns the recorded sessions queued in [from, to) (default: the day before now), newest first. The range may cover at most ${MAX_SEARCH_DAYS} days. \`q\` is searched case-insensitively in the transcripts (messages and notices) of the range's sessions.`,
        parameters: [
          ...range, queueParam, param("agent", "Only sessions this agent served last (bare JID).", str),
          param("q", "Text in the transcript.", { type: "string", minLength: 1, maxLength: MAX_SEARCH_TEXT }),
          param("limit", `At most this many sessions (default 100).`, { type: "integer", minimum: 1, maximum: MAX_SESSIONS }),
        ],
        responses: {
          200: json(array({ anyOf: [ref("LiveSession"), ref("RecordedSession")] }), "Live sessions (without parameters) or recorded ones (with)."),
          400: badRequest, 401: unauthorized, 503: noHistory,
        },
      },
    },
    "/api/sessions/{id}": {
      get: {
        summary: "A live or recently ended session (Redis).", parameters: [sessionId],
        responses: { 200: json(ref("LiveSession"), "The session."), 400: error("The id is malformed."), 401: unauthorized, 404: error("No such session.") },
      },
    },
    "/api/sessions/{id}/end": {
      post: {
        summary: "Ends a chat or a call (a supervisor's end).", parameters: [sessionId],
        responses: { 200: json(ref("LiveSession"), "The session as it ended."), 401: unauthorized, 404: error("No such session."), 410: error("It had ended already.") },
      },
    },
    "/api/sessions/{id}/transfer": {
      post: {
        summary: "Moves a served chat to another agent (ready, with room) or back to a queue (a supervisor's transfer; the seat is told who moved it).", parameters: [sessionId],
        requestBody: body({ oneOf: [object({ agent: str, note }, ["note"]), object({ queue: str, note }, ["note"])] }),
        responses: {
          200: json(ref("LiveSession"), "The session after the transfer."), 400: badBody, 401: unauthorized, 404: error("No such session, agent or queue."),
          409: error("The session moved to another seat meanwhile."), 501: error("Calls cannot be transferred."), 503: error("That agent cannot take a customer now."),
        },
      },
    },
    "/api/agents/{jid}/state": {
      post: {
        summary: "Forces an agent's state (until the agent's own presence changes it): ready, not-ready (with a reason) or offline (its sessions end).", parameters: [agentJid],
        requestBody: body(object({ state: { type: "string", enum: ["ready", "not-ready", "offline"] }, reason: { type: "string", maxLength: 200 } }, ["reason"])),
        responses: { 200: json(ref("Agent"), "The agent after the change."), 400: badBody, 401: unauthorized, 404: error("No such agent.") },
      },
    },
    "/api/agents/{jid}/adjust": {
      post: {
        summary: "Changes an agent's skills and/or capacity until midnight in the configured time zone (config timezone); the configured profile comes back then.", parameters: [agentJid],
        requestBody: body(object({ skills: array(str), maxChats: { type: "integer", minimum: 1, maximum: 100 } }, ["skills", "maxChats"])),
        responses: { 200: json(ref("Agent"), "The agent after the change."), 400: badBody, 401: unauthorized, 404: error("No such agent.") },
      },
    },
    "/api/sessions/{id}/transcript": {
      get: {
        summary: "A session's recorded transcript: messages both ways and system notices, in order.", parameters: [sessionId],
        responses: { 200: json(ref("Transcript"), "The transcript (empty while the recorder has not caught up)."), 400: badRequest, 401: unauthorized, 404: error("No such session."), 503: noHistory },
      },
    },
    "/api/messages": {
      get: { summary: "The latest 200 messages left when nobody could take a chat.", responses: { 200: json(array(ref("LeftMessage")), "The messages."), 401: unauthorized } },
    },
    "/api/stats/realtime": {
      get: {
        summary: "Live figures (waiting now, longest wait, agents by state, each agent's state and time in it) and today's (UTC) figures from the history.",
        responses: { 200: json(ref("StatsRealtime"), "The figures."), 400: badRequest, 401: unauthorized },
      },
    },
    "/api/stats/history": {
      get: {
        summary: "Figures per queue and per agent by interval (docs/statistics.md), as JSON or, with `Accept: text/csv`, CSV.",
        description: `The range may cover at most ${MAX_RANGE_DAYS["15m"]} days with 15m, ${MAX_RANGE_DAYS["1h"]} with 1h, ${MAX_RANGE_DAYS["1d"]} with 1d. With \`queue\` only that queue's rows (and no agent rows unless \`agent\` is given too); with \`agent\` only that agent's rows (and no queue rows unless \`queue\` is given too). The CSV has a header row, then one row per bucket and queue (kind "queue") or agent (kind "agent"); a text cell starting with = + - @ is prefixed with '.`,
        parameters: [
          { ...range[0], required: true }, { ...range[1], required: true },
          param("interval", "Bucket size: 15 minutes, an hour or a UTC day (default 1h).", { type: "string", enum: ["15m", "1h", "1d"] }),
          queueParam, agentParam,
        ],
        responses: {
          200: {
            description: "The figures, one entry per bucket and queue or agent.",
            content: { "application/json": { schema: ref("StatsHistory") }, "text/csv": { schema: { type: "string" } } },
          },
          400: badRequest, 401: unauthorized, 503: noHistory,
        },
      },
    },
    "/api/customers/{jid}": {
      delete: {
        summary: "Erases one customer's data from the history (sessions, transcripts, events), on request; the erasure is audited without personal data.",
        parameters: [param("jid", "The customer's bare JID.", str, true, "path")],
        responses: { 200: json(ref("Erasure"), "What was erased."), 400: badRequest, 401: unauthorized, 503: noHistory },
      },
    },
    "/api/audit": {
      get: {
        summary: "The audit log: what supervisors (ad-hoc commands) and admin API tokens did, newest first.",
        description: `Entries in [from, to) (default: the ${DEFAULT_AUDIT_DAYS_SHOWN} days before now), from the history (the recorder writes them within a second or so of the action).`,
        parameters: [
          ...range,
          param("actor", "Only this actor: token:<name> or a supervisor's bare JID.", str),
          param("action", "Only this action, such as end-session.", { type: "string", pattern: "^[a-z][a-z-]{0,31}$" }),
          param("limit", "At most this many entries (default 100).", { type: "integer", minimum: 1, maximum: MAX_AUDIT }),
        ],
        responses: { 200: json(array(ref("AuditEntry")), "The entries, newest first."), 400: badRequest, 401: unauthorized, 503: noHistory },
      },
    },
  }),
} as const;

/**
 * Each operation's security and 403 response, from the one scope table (scopes.ts ROUTE_SCOPES): the
 * document cannot say another scope than the server checks.
 */
function withScopes<P extends Record<string, Record<string, { responses: object }>>>(paths: P): P {
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const scope = scopeFor(method, path.replace(/\{(\w+)\}/g, ":$1"));
      if (scope === "public") continue;
      Object.assign(operation, { security: [{ admin: [scope] }], responses: { ...operation.responses, 403: forbidden } });
    }
  }
  return paths;
}
