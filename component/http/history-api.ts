/**
 * The admin API's history routes: statistics (real time and by interval, JSON or CSV), the recorded sessions
 * with a search, a session's transcript, and erasure of a customer's data. Reads the history (records/history.ts) and the live CTI; the
 * figures come from cti/statistics.ts (definitions: docs/statistics.md).
 */
import type { Request, Response, Router } from "express";
import type { Logger } from "pino";
import type { Cti } from "../../cti/cti.js";
import { CtiError, refuse } from "../../cti/errors.js";
import { DEFAULT_SERVICE_LEVEL_SECONDS, INTERVAL_MS, computeStats, type AgentFigures, type QueueFigures } from "../../cti/statistics.js";
import { customerHash } from "../../records/apply.js";
import type { History } from "../../records/db.js";
import { eraseCustomer } from "../../records/retention.js";
import { finalStrokes } from "../../protocol/board.js";
import { auditEntries, boardOf, findSessions, latestStates, sessionRow, statsRows, transcriptOf } from "../../records/history.js";
import { auditor } from "../authz.js";
import { actorOf } from "./views.js";
import type { SessionRow, TranscriptRow } from "../../records/schema.js";
import { toCsv, type Cell } from "./csv.js";
import { auditQuery, noParameters, sessionsQuery, statsQuery, type HistoryStatsQuery } from "./query.js";

export interface HistoryApiDeps {
  cti: Cti;
  /** The history, opened on first use (and again after a failure: the database may be away at start). */
  history: () => Promise<History>;
  /** Each queue's service-level threshold (config queues[].serviceLevelSeconds); default 20. */
  serviceLevelSeconds?: Record<string, number>;
  now?: () => number;
  log?: Logger;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

function parseForm(text: string): Record<string, string> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** A recorded session as the API shows it (times ISO 8601). */
export function recordedSessionJson(r: SessionRow) {
  const state = r.ended_at !== null ? "ended" : r.in_service_at !== null ? "in-service" : r.seat !== null ? "assigned" : "queued";
  return {
    id: r.id, queue: r.queue, media: r.media, customer: r.customer, seat: r.seat, state,
    queuedAt: iso(r.queued_at), assignedAt: iso(r.assigned_at), answeredAt: iso(r.answered_at), inServiceAt: iso(r.in_service_at),
    endedAt: iso(r.ended_at), endReason: r.end_reason, endedFrom: r.ended_from, transfers: r.transfers,
    feedback: r.score === null ? null : { score: r.score, comment: r.comment ?? "" }, form: parseForm(r.form),
  };
}

export const QUEUE_COLUMNS: Array<keyof QueueFigures> = [
  "offered", "answered", "abandoned", "abandonMeanSeconds", "abandonMaxSeconds", "serviceLevelSeconds", "answeredWithinServiceLevel", "serviceLevel",
  "averageSpeedOfAnswerSeconds", "averageHandleSeconds", "longestWaitSeconds", "transferred", "ratings", "csatAverage", "csatSatisfiedPercent",
];
export const AGENT_COLUMNS: Array<keyof AgentFigures> = [
  "handled", "handleSeconds", "averageHandleSeconds", "readySeconds", "notReadySeconds", "offlineSeconds", "loggedInSeconds", "servingSeconds",
  "occupancy", "ratings", "csatAverage", "csatSatisfiedPercent",
];
/** Columns both kinds of rows share in the CSV come once (the agent's figure of the same name shares the column). */
export const CSV_COLUMNS = ["kind", "name", "start", "end", ...new Set<string>([...QUEUE_COLUMNS, ...AGENT_COLUMNS])];

export function historyRoutes(api: Router, { cti, history, serviceLevelSeconds = {}, now = Date.now, log }: HistoryApiDeps) {
  const audit = auditor(cti, log);
  /** A read of the history: the database away (PostgreSQL restarting) is a 503 to the client, its cause logged. */
  const read = <T>(query: (h: History) => Promise<T>): Promise<T> => history().then(query).catch((err: unknown) => {
    log?.warn({ err: (err as Error).message }, "history read failed");
    throw new CtiError("unavailable", "The history database cannot be reached just now; try again later.");
  });

  const queueList = (names: Iterable<string>) => [...new Set(names)].sort().map((name) => ({ name, serviceLevelSeconds: serviceLevelSeconds[name] ?? DEFAULT_SERVICE_LEVEL_SECONDS }));

  /** The figures of [from, to): every configured queue and agent, and any other the history names. */
  async function figures({ from, to, interval, queue, agent }: HistoryStatsQuery, t: number) {
    const rows = await read((h) => statsRows(h, from, to));
    const byQueue = queue === undefined && agent !== undefined ? [] : queueList(queue !== undefined ? [queue] : [...cti.queues.map((q) => q.name), ...rows.sessions.map((s) => s.queue)]);
    const configured = (await cti.agents()).map((a) => a.jid);
    const agents = agent !== undefined ? [agent] : queue !== undefined ? []
      : [...new Set([...configured, ...rows.sessions.flatMap((s) => (s.seat ? [s.seat] : [])), ...rows.states.map((s) => s.agent)])].sort();
    return computeStats({ ...rows, from, to, interval, now: t, queues: byQueue, agents });
  }

  api.get("/stats/history", async (req: Request, res: Response) => {
    const query = statsQuery(req.query);
    const { queues, agents } = await figures(query, now());
    if (req.accepts(["application/json", "text/csv"]) === "text/csv") {
      const rows: Array<Record<string, Cell>> = [
        ...queues.map(({ queue, ...f }) => ({ kind: "queue", name: queue, ...f })),
        ...agents.map(({ agent, ...f }) => ({ kind: "agent", name: agent, ...f })),
      ];
      res.type("text/csv; charset=utf-8").set("Content-Disposition", 'attachment; filename="statistics.csv"').send(toCsv(CSV_COLUMNS, rows));
      return;
    }
    res.json({ from: iso(query.from), to: iso(query.to), interval: query.interval, queues, agents });
  });

  api.get("/stats/realtime", async (req: Request, res: Response) => {
    noParameters(req.query);
    const t = now();
    const midnight = Math.floor(t / INTERVAL_MS["1d"]) * INTERVAL_MS["1d"];
    // The live half comes from the CTI; without the history (its database away) it is still served, today's half null.
    const [live, agents, today, latest] = await Promise.all([
      cti.queueStats(), cti.agents(),
      figures({ from: midnight, to: midnight + INTERVAL_MS["1d"], interval: "1d" }, t).catch(() => null),
      read(latestStates).catch(() => null),
    ]);
    const since = new Map((latest ?? []).map((s) => [s.agent, s.at]));
    res.json({
      at: iso(t), today: { from: iso(midnight), to: iso(t) }, history: today && latest ? "ok" : "unavailable",
      queues: live.map((q) => {
        const skills = cti.queues.find((x) => x.name === q.name)?.skills ?? [];
        // Agents by state among those with the queue's skills (by name; levels aside).
        const staff = agents.filter((a) => skills.every((s) => a.skills.includes(s)));
        const byState: Record<string, number> = {};
        for (const a of staff) byState[a.state] = (byState[a.state] ?? 0) + 1;
        return { name: q.name, waiting: q.waiting, oldestWaitSeconds: q.oldestWaitSeconds, agentsByState: byState, today: today?.queues.find((f) => f.queue === q.name) ?? null };
      }),
      agents: agents.map((a) => {
        const at = since.get(a.jid);
        return {
          jid: a.jid, name: a.name ?? null, state: a.state, reason: a.reason, activeSessions: a.activeSessions, maxChats: a.maxChats,
          stateSince: at === undefined ? null : iso(at), secondsInState: at === undefined ? null : Math.max(0, Math.floor((t - at) / 1000)),
          today: today?.agents.find((f) => f.agent === a.jid) ?? null,
        };
      }),
    });
  });

  /** GET /api/sessions with parameters: the recorded sessions (without: api.ts answers with the live ones). */
  const searchSessions = async (req: Request, res: Response) => {
    const q = sessionsQuery(req.query, now());
    res.json((await read((h) => findSessions(h, q))).map(recordedSessionJson));
  };

  /** A line's shared file (issue 15): name, size and type null when the sender gave none (an XEP-0066 link only). */
  const fileJson = (l: TranscriptRow) => (l.file_url
    ? { file: { url: l.file_url, name: l.file_name, size: l.file_size === null ? null : Number(l.file_size), type: l.file_type } }
    : {});

  api.get("/sessions/:id/transcript", async (req: Request, res: Response) => {
    noParameters(req.query);
    const id = String(req.params.id);
    // Ids are short; a long one is unknown without asking the database.
    const known = id.length <= 200 && ((await read((h) => sessionRow(h, id))) !== undefined || Boolean(await cti.session(id)));
    if (!known) throw refuse.unknownSession();
    const lines = await read((h) => transcriptOf(h, id));
    const board = await read((h) => boardOf(h, id));
    res.json({
      session: id, lines: lines.map((l) => ({ at: iso(l.at), kind: l.kind, sender: l.sender, body: l.body, ...fileJson(l) })),
      // The whiteboard (issue 15): what is on it at the end, and every stanza in order to replay it.
      board: { strokes: finalStrokes(board.flatMap((b) => b.ops)), events: board.map((b) => ({ at: iso(b.at), sender: b.sender, direction: b.direction, ops: b.ops })) },
    });
  });

  // Erasure on request (the right to be forgotten): the history only; live sessions in Redis end and expire
  // within a day. The audit line names the customer by hash, as the erasures table does.
  api.delete("/customers/:jid", async (req: Request, res: Response) => {
    noParameters(req.query);
    const jid = String(req.params.jid);
    if (jid.length > 300 || !/^[^\s@/]+@[^\s@/]+$/.test(jid.replace(/^sips?:/, "")))
      throw new CtiError("bad-request", "Name the customer by bare JID (name@domain) or SIP URI (sip:number@domain).");
    const erased = await read((h) => eraseCustomer(h, jid, now()));
    log?.info({ audit: "erasure", customerHash: customerHash(jid), erased }, "a customer's history was erased");
    await audit(actorOf(res), "erase", customerHash(jid), `${erased.sessions} sessions, ${erased.transcriptLines} transcript lines, ${erased.events} events`);
    res.json({ erased });
  });

  // The audit log (admin scope): what supervisors and admins did, newest first, as the recorder wrote it.
  api.get("/audit", async (req: Request, res: Response) => {
    const q = auditQuery(req.query, now());
    const rows = await read((h) => auditEntries(h, q));
    res.json(rows.map((r) => ({ id: r.event_id, at: iso(r.at), actor: r.actor, action: r.action, target: r.target, detail: r.detail })));
  });

  return { searchSessions };
}
