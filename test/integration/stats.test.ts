/**
 * Issue 12, statistics (items 4, 5 and 8): a scripted week of events (known times) goes through
 * records/apply.ts into the history the component reads, on SQLite and on PostgreSQL; the history API's
 * figures are asserted figure by figure against values computed by hand (the arithmetic in comments), by
 * 15 minutes, hour and day, per queue and per agent, in JSON and CSV; the session search by queue, agent and
 * text; transcripts in order; 400s for bad parameters; and every response valid against the OpenAPI
 * document (test/helpers/openapi.ts). Definitions: docs/statistics.md.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CSV_COLUMNS } from "../../component/http/history-api.js";
import { openHistory, sqliteFile, type History } from "../../records/db.js";
import { applyEvents } from "../../records/apply.js";
import { startPostgres, type RunningPostgres } from "../../launcher/postgres.js";
import { apiFetch, type ApiResponse } from "../helpers/openapi.js";
import { Script } from "../helpers/script.js";
import { startAll, until, type Running } from "../helpers/stack.js";

const ALICE = "alice@acme.test";
const BOB = "bob@acme.test";
const EVIL = "=2+3@acme.test"; // an agent name a spreadsheet would run as a formula
const t = (iso: string) => Date.parse(iso);
const d24 = (hms: string) => t(`2026-11-24T${hms}Z`);
const cust = (n: number) => `cust${n}@guest.acme.test`;

/** The scripted week (2026-11-23 to 2026-11-29), and one session today (for the real-time figures). */
function week(todayMidnight: number): Script {
  const s = new Script();
  // Monday 23: alice logged in 09:00-10:00; B1 answered in 10 s, handled 600 s; B2 abandoned after 60 s.
  s.state(ALICE, "ready", t("2026-11-23T09:00:00Z")).state(ALICE, "offline", t("2026-11-23T10:00:00Z"));
  s.session("B1", "billing", cust(11), t("2026-11-23T09:10:00Z")).assigned(ALICE, t("2026-11-23T09:10:05Z")).answered(t("2026-11-23T09:10:10Z"))
    .ended("seat", t("2026-11-23T09:20:10Z")).feedback(4, t("2026-11-23T09:21:00Z"));
  s.session("B2", "billing", cust(12), t("2026-11-23T09:30:00Z")).ended("customer", t("2026-11-23T09:31:00Z"));

  // Tuesday 24, the scripted day.
  s.state(ALICE, "ready", d24("09:00:00")).state(ALICE, "not-ready", d24("10:30:00")).state(ALICE, "ready", d24("10:45:00")).state(ALICE, "offline", d24("12:00:00"));
  s.state(BOB, "ready", d24("09:30:00")).state(BOB, "offline", d24("11:30:00"));
  s.state(EVIL, "ready", d24("12:00:00")).state(EVIL, "offline", d24("12:30:00"));
  // A1: wait 15 s (answered 09:05:15), handle 600 s, rated 5.
  s.session("A1", "billing", cust(1), d24("09:05:00")).assigned(ALICE, d24("09:05:05")).answered(d24("09:05:15")).say("seat", "Hello, how can I help?", d24("09:05:15"))
    .say("customer", "My INVOICE 42 is wrong", d24("09:05:30")).inService(d24("09:05:30")).say("seat", "Fixed, sorry about that", d24("09:10:00"))
    .say("customer", "Thanks", d24("09:10:00")).ended("seat", d24("09:15:15")).feedback(5, d24("09:16:00"));
  // A2: the customer left after 45 s of waiting.
  s.session("A2", "billing", cust(2), d24("09:20:00")).ended("customer", d24("09:20:45"));
  // A3: bob answers after 40 s, transfers to alice at 09:50; ends 10:00:40: handle 1200 s (from the first answer), its seat alice; rated 3.
  s.session("A3", "billing", cust(3), d24("09:40:00")).assigned(BOB, d24("09:40:10")).answered(d24("09:40:40")).say("seat", "We can do a 100% refund", d24("09:41:00"))
    .transferTo(ALICE, d24("09:50:00")).ended("customer", d24("10:00:40")).feedback(3, d24("10:01:00"));
  // A4 (vip, threshold 10 s): bob answers after 8 s, handle 600 s, rated 4.
  s.session("A4", "vip", cust(4), d24("10:10:00")).assigned(BOB, d24("10:10:05")).answered(d24("10:10:08")).ended("seat", d24("10:20:08")).feedback(4, d24("10:21:00"));
  // A5: waited the queue's maximum, 600 s: abandoned (expired).
  s.session("A5", "billing", cust(5), d24("10:15:00")).ended("expired", d24("10:25:00"));
  // A6: a call, answered by alice after 25 s, handle 600 s, rated 2.
  s.session("A6", "billing", "sip:+33100000006@acme.test", d24("11:00:00"), "voice").assigned(ALICE, d24("11:00:20")).answered(d24("11:00:25"))
    .inService(d24("11:00:25")).ended("seat", d24("11:10:25")).feedback(2, d24("11:11:00"));
  // A7: answered after 12 s, handle 300 s, not rated.
  s.session("A7", "billing", cust(7), d24("11:50:00")).assigned(ALICE, d24("11:50:02")).answered(d24("11:50:12")).ended("customer", d24("11:55:12"));

  // Thursday 26: C1 answered by alice after 30 s, handle 600 s, rated 5.
  s.session("C1", "billing", cust(8), t("2026-11-26T09:15:00Z")).assigned(ALICE, t("2026-11-26T09:15:10Z")).answered(t("2026-11-26T09:15:30Z"))
    .ended("seat", t("2026-11-26T09:25:30Z")).feedback(5, t("2026-11-26T09:26:00Z"));
  // Saturday 28: D1 (vip) gone after 20 s.
  s.session("D1", "vip", cust(9), t("2026-11-28T14:00:00Z")).ended("customer-offline", t("2026-11-28T14:00:20Z"));
  // Sunday 29: E1 still waiting (the recorder never saw it end): its wait counts up to the range's end.
  s.session("E1", "billing", cust(10), t("2026-11-29T23:59:00Z"));
  // Today: T1 left after 10 s.
  s.session("T1", "billing", cust(20), todayMidnight + 1000).ended("customer", todayMidnight + 11_000);
  return s;
}

const QUEUES = [
  { name: "billing", title: "Billing", skills: ["billing"] },
  { name: "vip", title: "VIP desk", allowGuests: false, serviceLevelSeconds: 10 },
];

describe.each(["sqlite", "postgres"] as const)("the history API on %s", (dialect) => {
  let r: Running;
  let pg: RunningPostgres | undefined;
  let history: History;
  const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;

  beforeAll(async () => {
    if (dialect === "postgres") pg = await startPostgres();
    r = await startAll({ queues: QUEUES, ...(pg ? { database: { url: pg.url } } : {}) });
    // The same history the component reads (a second connection, as the recorder's would be).
    history = await openHistory({ url: pg?.url, file: sqliteFile(r.config.runDir) });
    const log = week(midnight).log();
    expect(await applyEvents(history, log)).toBe(log.length);
  }, 60_000);
  afterAll(async () => {
    await history?.close();
    await r?.stop();
    await pg?.remove();
  });

  const get = (path: string, accept?: string): Promise<ApiResponse> => apiFetch(`http://127.0.0.1:${r.app.webPort}`, path, { token: r.config.admin.token, accept });
  const stats = async (query: string) => {
    const res = await get(`/api/stats/history?${query}`);
    expect(res.status).toBe(200);
    return res.body as { queues: Array<Record<string, any>>; agents: Array<Record<string, any>> };
  };
  const row = (rows: Array<Record<string, any>>, name: string, start: string) => {
    const found = rows.find((x) => (x.queue ?? x.agent) === name && x.start === new Date(t(start)).toISOString());
    if (!found) throw new Error(`no row for ${name} at ${start}`);
    return found;
  };

  it("serves its OpenAPI document without the token", async () => {
    const res = await apiFetch(`http://127.0.0.1:${r.app.webPort}`, "/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ openapi: "3.1.0" });
  });

  describe("by day, the week", () => {
    let s: Awaited<ReturnType<typeof stats>>;
    beforeAll(async () => { s = await stats("from=2026-11-23&to=2026-11-30&interval=1d"); });

    it("has one row per day per queue and per agent", () => {
      expect(s.queues.filter((q) => q.queue === "billing")).toHaveLength(7);
      expect(s.queues.filter((q) => q.queue === "vip")).toHaveLength(7);
      expect(new Set(s.agents.map((a) => a.agent))).toEqual(new Set([ALICE, BOB, EVIL]));
    });

    it("billing, Monday 23", () => {
      expect(row(s.queues, "billing", "2026-11-23T00:00:00Z")).toMatchObject({
        offered: 2, answered: 1, abandoned: 1, abandonMeanSeconds: 60, abandonMaxSeconds: 60, // B2
        serviceLevelSeconds: 20, answeredWithinServiceLevel: 1, serviceLevel: 50, // B1 in 10 s; 1 / (1 + 1)
        averageSpeedOfAnswerSeconds: 10, averageHandleSeconds: 600, longestWaitSeconds: 60, ratings: 1, csatAverage: 4, csatSatisfiedPercent: 100,
      });
    });

    it("billing, Tuesday 24", () => {
      expect(row(s.queues, "billing", "2026-11-24T00:00:00Z")).toEqual({
        queue: "billing", start: "2026-11-24T00:00:00.000Z", end: "2026-11-25T00:00:00.000Z",
        offered: 6, // A1 A2 A3 A5 A6 A7
        answered: 4, // A1 A3 A6 A7
        abandoned: 2, // A2 (45 s), A5 (600 s)
        abandonMeanSeconds: 322.5, // (45 + 600) / 2
        abandonMaxSeconds: 600,
        serviceLevelSeconds: 20,
        answeredWithinServiceLevel: 2, // A1 15 s, A7 12 s (A3 40 s, A6 25 s late)
        serviceLevel: 33.33, // 2 / (4 + 2)
        averageSpeedOfAnswerSeconds: 23, // (15 + 40 + 25 + 12) / 4 = 92 / 4
        averageHandleSeconds: 675, // (600 + 1200 + 600 + 300) / 4 = 2700 / 4
        longestWaitSeconds: 600, // A5
        transferred: 1, // A3
        ratings: 3, csatAverage: 3.33, // (5 + 3 + 2) / 3
        csatSatisfiedPercent: 33.33, // only the 5
      });
    });

    it("vip, Tuesday 24 (its own 10 s threshold) and Saturday 28", () => {
      expect(row(s.queues, "vip", "2026-11-24T00:00:00Z")).toMatchObject({
        offered: 1, answered: 1, abandoned: 0, serviceLevelSeconds: 10, answeredWithinServiceLevel: 1, serviceLevel: 100, // A4 in 8 s
        averageSpeedOfAnswerSeconds: 8, averageHandleSeconds: 600, ratings: 1, csatAverage: 4, csatSatisfiedPercent: 100,
      });
      expect(row(s.queues, "vip", "2026-11-28T00:00:00Z")).toMatchObject({
        offered: 1, answered: 0, abandoned: 1, abandonMeanSeconds: 20, serviceLevel: 0, // 0 / (0 + 1)
        averageSpeedOfAnswerSeconds: null, longestWaitSeconds: 20,
      });
    });

    it("billing, Thursday 26, an idle Wednesday, and Sunday's customer still waiting", () => {
      expect(row(s.queues, "billing", "2026-11-26T00:00:00Z")).toMatchObject({ offered: 1, answered: 1, serviceLevel: 0, averageSpeedOfAnswerSeconds: 30, csatAverage: 5 });
      expect(row(s.queues, "billing", "2026-11-25T00:00:00Z")).toMatchObject({ offered: 0, answered: 0, abandoned: 0, serviceLevel: null, longestWaitSeconds: null, ratings: 0 });
      expect(row(s.queues, "billing", "2026-11-29T00:00:00Z")).toMatchObject({
        offered: 1, answered: 0, abandoned: 0, serviceLevel: null, // E1: not judged while waiting
        longestWaitSeconds: 60, // 23:59 to the range's end (midnight)
      });
    });

    it("alice, Monday 23 and Tuesday 24", () => {
      expect(row(s.agents, ALICE, "2026-11-23T00:00:00Z")).toMatchObject({
        handled: 1, handleSeconds: 600, readySeconds: 3600, notReadySeconds: 0,
        offlineSeconds: 82_800, // 86,400 - 3,600
        loggedInSeconds: 3600, servingSeconds: 600, occupancy: 0.1667, // B1: 600 / 3600
        ratings: 1, csatAverage: 4,
      });
      expect(row(s.agents, ALICE, "2026-11-24T00:00:00Z")).toMatchObject({
        handled: 4, // A1, A3 (hers after the transfer), A6, A7
        handleSeconds: 2700, averageHandleSeconds: 675,
        readySeconds: 9900, notReadySeconds: 900, // 09:00-12:00 less 10:30-10:45
        loggedInSeconds: 10_800, offlineSeconds: 75_600,
        servingSeconds: 2700, // A1 600 + A3 1200 + A6 600 + A7 300 (never two at once)
        occupancy: 0.25, // 2700 / 10800
        ratings: 3, csatAverage: 3.33, csatSatisfiedPercent: 33.33, // 5, 3, 2
      });
    });
  });

  describe("by hour, Tuesday 24 09:00-13:00", () => {
    let s: Awaited<ReturnType<typeof stats>>;
    beforeAll(async () => { s = await stats("from=2026-11-24T09:00:00Z&to=2026-11-24T13:00:00Z&interval=1h"); });

    it("billing", () => {
      expect(row(s.queues, "billing", "2026-11-24T09:00:00Z")).toMatchObject({
        offered: 3, answered: 2, abandoned: 1, abandonMeanSeconds: 45, // A1 A2 A3
        answeredWithinServiceLevel: 1, serviceLevel: 33.33, // A1; 1 / (2 + 1)
        averageSpeedOfAnswerSeconds: 27.5, // (15 + 40) / 2
        averageHandleSeconds: 900, // (600 + 1200) / 2
        longestWaitSeconds: 45, transferred: 1, ratings: 2, csatAverage: 4, csatSatisfiedPercent: 50, // 5 and 3
      });
      expect(row(s.queues, "billing", "2026-11-24T10:00:00Z")).toMatchObject({ offered: 1, answered: 0, abandoned: 1, abandonMaxSeconds: 600, serviceLevel: 0, longestWaitSeconds: 600 });
      expect(row(s.queues, "billing", "2026-11-24T11:00:00Z")).toMatchObject({
        offered: 2, answered: 2, answeredWithinServiceLevel: 1, serviceLevel: 50, // A7 in 12 s, A6 25 s
        averageSpeedOfAnswerSeconds: 18.5, averageHandleSeconds: 450, // (25 + 12) / 2, (600 + 300) / 2
        ratings: 1, csatAverage: 2, csatSatisfiedPercent: 0,
      });
      expect(row(s.queues, "billing", "2026-11-24T12:00:00Z")).toMatchObject({ offered: 0 });
      expect(row(s.queues, "vip", "2026-11-24T10:00:00Z")).toMatchObject({ offered: 1, serviceLevel: 100 });
    });

    it("alice", () => {
      expect(row(s.agents, ALICE, "2026-11-24T09:00:00Z")).toMatchObject({
        handled: 1, handleSeconds: 600, readySeconds: 3600, loggedInSeconds: 3600,
        servingSeconds: 1760, // A1 600 + A3 09:40:40-10:00 1160
        occupancy: 0.4889, // 1760 / 3600
        ratings: 1, csatAverage: 5,
      });
      expect(row(s.agents, ALICE, "2026-11-24T10:00:00Z")).toMatchObject({
        handled: 1, handleSeconds: 1200, // A3, ended 10:00:40
        readySeconds: 2700, notReadySeconds: 900, loggedInSeconds: 3600, // 10:30-10:45 not ready
        servingSeconds: 40, occupancy: 0.0111, // 40 / 3600
        csatAverage: 3, csatSatisfiedPercent: 0,
      });
      expect(row(s.agents, ALICE, "2026-11-24T11:00:00Z")).toMatchObject({
        handled: 2, handleSeconds: 900, averageHandleSeconds: 450, servingSeconds: 900, occupancy: 0.25, csatAverage: 2, // A6 600 + A7 300
      });
      expect(row(s.agents, ALICE, "2026-11-24T12:00:00Z")).toMatchObject({ offlineSeconds: 3600, loggedInSeconds: 0, occupancy: null, handled: 0 });
    });

    it("bob", () => {
      expect(row(s.agents, BOB, "2026-11-24T09:00:00Z")).toMatchObject({
        offlineSeconds: 1800, readySeconds: 1800, loggedInSeconds: 1800, // ready from 09:30
        servingSeconds: 0, occupancy: 0, handled: 0, // A3 counts for alice, its last seat
      });
      expect(row(s.agents, BOB, "2026-11-24T10:00:00Z")).toMatchObject({ handled: 1, handleSeconds: 600, servingSeconds: 600, occupancy: 0.1667, csatAverage: 4 }); // A4
      expect(row(s.agents, BOB, "2026-11-24T11:00:00Z")).toMatchObject({ readySeconds: 1800, offlineSeconds: 1800, occupancy: 0 });
    });
  });

  it("by 15 minutes, Tuesday 24 09:00-10:00, billing only", async () => {
    const s = await stats("from=2026-11-24T09:00:00Z&to=2026-11-24T10:00:00Z&interval=15m&queue=billing");
    expect(s.agents).toEqual([]);
    expect(s.queues.map((q) => [q.start.slice(11, 16), q.offered, q.answered, q.abandoned, q.serviceLevel, q.averageSpeedOfAnswerSeconds, q.averageHandleSeconds])).toEqual([
      ["09:00", 1, 1, 0, 100, 15, 600], // A1
      ["09:15", 1, 0, 1, 0, null, null], // A2
      ["09:30", 1, 1, 0, 0, 40, 1200], // A3
      ["09:45", 0, 0, 0, null, null, null],
    ]);
  });

  it("one agent only, and a range that is not aligned on the interval", async () => {
    const s = await stats(`from=2026-11-24T09:30:00Z&to=2026-11-24T11:00:00Z&interval=1h&agent=${encodeURIComponent(BOB)}`);
    expect(s.queues).toEqual([]);
    expect(s.agents.map((a) => [a.start, a.end, a.readySeconds, a.servingSeconds])).toEqual([
      ["2026-11-24T09:30:00.000Z", "2026-11-24T10:00:00.000Z", 1800, 0],
      ["2026-11-24T10:00:00.000Z", "2026-11-24T11:00:00.000Z", 3600, 600],
    ]);
  });

  it("CSV with Accept: text/csv: a header, one row per bucket and queue or agent, formulas neutralised", async () => {
    const res = await get("/api/stats/history?from=2026-11-24T09:00:00Z&to=2026-11-24T13:00:00Z&interval=1h", "text/csv");
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/csv/);
    const lines = (res.text as string).trimEnd().split("\r\n").map((l) => l.split(","));
    expect(lines[0]).toEqual(CSV_COLUMNS);
    expect(lines).toHaveLength(1 + 4 * 2 + 4 * 3); // header, 4 hours x (billing, vip) and x (alice, bob, evil)
    const cell = (line: string[], name: string) => line[CSV_COLUMNS.indexOf(name)];
    const billing9 = lines.find((l) => l[0] === "queue" && l[1] === "billing" && l[2] === "2026-11-24T09:00:00.000Z")!;
    expect([cell(billing9, "offered"), cell(billing9, "serviceLevel"), cell(billing9, "averageSpeedOfAnswerSeconds"), cell(billing9, "handled")]).toEqual(["3", "33.33", "27.5", ""]);
    const alice10 = lines.find((l) => l[0] === "agent" && l[1] === ALICE && l[2] === "2026-11-24T10:00:00.000Z")!;
    expect([cell(alice10, "handled"), cell(alice10, "occupancy"), cell(alice10, "notReadySeconds"), cell(alice10, "offered")]).toEqual(["1", "0.0111", "900", ""]);
    // The agent named "=2+3@..." is text to a spreadsheet: a leading quote.
    expect(lines.filter((l) => l[0] === "agent" && l[1] === `'${EVIL}`)).toHaveLength(4);
    expect(lines.some((l) => l.some((c) => /^[=+@]/.test(c)))).toBe(false);
  });

  describe("sessions from the history", () => {
    const ids = async (query: string) => {
      const res = await get(`/api/sessions?${query}`);
      expect(res.status).toBe(200);
      return (res.body as Array<{ id: string }>).map((x) => x.id);
    };
    it("in a range, newest first, as recorded", async () => {
      expect(await ids("from=2026-11-24&to=2026-11-25")).toEqual(["A7", "A6", "A5", "A4", "A3", "A2", "A1"]);
      const [a3] = (await get("/api/sessions?from=2026-11-24T09:40:00Z&to=2026-11-24T09:41:00Z")).body;
      expect(a3).toMatchObject({
        id: "A3", queue: "billing", media: "chat", customer: cust(3), seat: ALICE, state: "ended", transfers: 1,
        queuedAt: "2026-11-24T09:40:00.000Z", answeredAt: "2026-11-24T09:40:40.000Z", endedAt: "2026-11-24T10:00:40.000Z",
        endReason: "customer", endedFrom: "assigned", feedback: { score: 3, comment: "" }, form: { name: "Customer A3" },
      });
    });
    it("by queue, by agent, with a limit", async () => {
      expect(await ids("from=2026-11-23&to=2026-11-30&queue=vip")).toEqual(["D1", "A4"]);
      expect(await ids(`from=2026-11-24&to=2026-11-25&agent=${encodeURIComponent(ALICE)}`)).toEqual(["A7", "A6", "A3", "A1"]);
      expect(await ids(`from=2026-11-24&to=2026-11-25&agent=${encodeURIComponent(ALICE)}&limit=2`)).toEqual(["A7", "A6"]);
    });
    it("by text in the transcript: case-insensitive, wildcards taken literally", async () => {
      expect(await ids("from=2026-11-23&to=2026-11-30&q=invoice")).toEqual(["A1"]);
      expect(await ids("from=2026-11-23&to=2026-11-30&q=100%25")).toEqual(["A3"]); // "100%"
      expect(await ids("from=2026-11-23&to=2026-11-30&q=%25")).toEqual(["A3"]); // "%" alone is not "anything"
      expect(await ids("from=2026-11-23&to=2026-11-30&q=_")).toEqual([]);
      expect(await ids("from=2026-11-23&to=2026-11-30&q=transferred%20from")).toEqual(["A3"]); // notices count too
      expect(await ids("from=2026-11-25&to=2026-11-30&q=invoice")).toEqual([]); // the range bounds the search
    });
    it("without parameters: the live sessions, as before", async () => {
      const res = await get("/api/sessions");
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body)).toBe(true);
    });
  });

  it("a transcript in order: notices and messages both ways", async () => {
    const res = await get("/api/sessions/A1/transcript");
    expect(res.status).toBe(200);
    expect(res.body.session).toBe("A1");
    expect(res.body.lines.map((l: any) => [l.at.slice(11, 19), l.kind, l.sender, l.body])).toEqual([
      ["09:05:05", "system", ALICE, "An agent was assigned."],
      ["09:05:15", "seat", ALICE, "Hello, how can I help?"],
      ["09:05:30", "customer", cust(1), "My INVOICE 42 is wrong"],
      ["09:10:00", "seat", ALICE, "Fixed, sorry about that"], // same millisecond: the log's order
      ["09:10:00", "customer", cust(1), "Thanks"],
      ["09:15:15", "system", ALICE, "The agent ended the session."],
    ]);
    expect((await get("/api/sessions/nope/transcript")).status).toBe(404);
  });

  it("real time: live queues and agents, time in state from the history, today's figures", async () => {
    const res = await get("/api/stats/realtime");
    expect(res.status).toBe(200);
    const billing = res.body.queues.find((q: any) => q.name === "billing");
    expect(billing).toMatchObject({ waiting: 0, oldestWaitSeconds: 0, agentsByState: { offline: 2 } });
    expect(billing.today).toMatchObject({ offered: 1, abandoned: 1, abandonMeanSeconds: 10 }); // T1
    const alice = res.body.agents.find((a: any) => a.jid === ALICE);
    expect(alice).toMatchObject({ state: "offline", stateSince: "2026-11-24T12:00:00.000Z" }); // her last recorded change
    expect(alice.secondsInState).toBeGreaterThan(0);
  });

  describe("bad parameters: 400 with a human message that repeats nothing", () => {
    const MARK = "zq7xmark";
    it.each([
      ["/api/stats/history?to=2026-11-24", "from and to required"],
      [`/api/stats/history?from=2026-11-24 09:00&to=2026-11-25&x=${MARK}`, "unknown parameter"],
      [`/api/stats/history?from=${MARK}&to=2026-11-25`, "not a time"],
      ["/api/stats/history?from=2026-11-24T09:00:00&to=2026-11-25", "no zone"],
      ["/api/stats/history?from=2026-13-45&to=2026-11-25", "no such date"],
      ["/api/stats/history?from=2026-11-25&to=2026-11-24", "from after to"],
      ["/api/stats/history?from=2026-11-24&to=2026-11-24", "empty range"],
      [`/api/stats/history?from=2026-11-24&to=2026-11-25&interval=${MARK}`, "unknown interval"],
      ["/api/stats/history?from=2026-01-01&to=2026-03-01&interval=15m", "too long for 15m (59 days > 31)"],
      ["/api/stats/history?from=2025-01-01&to=2026-03-01&interval=1d", "too long for 1d (424 days > 400)"],
      ["/api/stats/history?from=2026-11-24&from=2026-11-23&to=2026-11-25", "repeated"],
      [`/api/stats/history?from[${MARK}]=1&to=2026-11-25`, "nested"],
      [`/api/stats/history?from=2026-11-24&to=2026-11-25&queue=BAD%20${MARK}`, "bad queue name"],
      [`/api/stats/history?from=2026-11-24&to=2026-11-25&agent=${MARK}`, "bad agent"],
      ["/api/sessions?limit=0", "limit 0"],
      [`/api/sessions?limit=${MARK}`, "limit not a number"],
      ["/api/sessions?limit=1001", "limit too high"],
      ["/api/sessions?q=", "empty text"],
      [`/api/sessions?q=${MARK}${"x".repeat(300)}`, "text too long"],
      [`/api/sessions?${MARK}=1`, "unknown parameter"],
      ["/api/sessions?from=2024-01-01&to=2026-01-01", "range over 400 days"],
      [`/api/stats/realtime?${MARK}=1`, "realtime takes none"],
      [`/api/sessions/A1/transcript?${MARK}=1`, "transcript takes none"],
    ])("%s (%s)", async (path) => {
      const res = await get(path.replace(/ /g, "%20"));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("bad-request");
      expect(res.body.error.message.length).toBeGreaterThan(10);
      expect(res.text.toLowerCase()).not.toContain(MARK);
    });
    it("the token is still checked first", async () => {
      const res = await apiFetch(`http://127.0.0.1:${r.app.webPort}`, `/api/stats/history?from=${MARK}`);
      expect(res.status).toBe(401);
    });
  });

  it("the database away: live figures still served, history reads 503, and back when it is", async () => {
    if (!pg) return; // PostgreSQL only: a server that can be stopped (SQLite is a file)
    await pg.stop();
    try {
      const live = await get("/api/stats/realtime");
      expect(live.status).toBe(200);
      expect(live.body).toMatchObject({ history: "unavailable" });
      expect(live.body.queues.find((q: any) => q.name === "billing")).toMatchObject({ waiting: 0, today: null });
      for (const path of ["/api/stats/history?from=2026-11-24&to=2026-11-25", "/api/sessions?from=2026-11-24&to=2026-11-25", "/api/sessions/A1/transcript"]) {
        const res = await get(path);
        expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 503, code: "unavailable" });
      }
    } finally {
      await pg.start();
    }
    await until(() => get("/api/stats/realtime"), (res) => res.body.history === "ok", 10_000, "history back");
    expect((await stats("from=2026-11-24&to=2026-11-25&interval=1d")).queues.find((q) => q.queue === "billing")).toMatchObject({ offered: 6 });
  }, 30_000);
});

describe("PostgreSQL away when the component starts", () => {
  let r: Running | undefined;
  let pg: RunningPostgres | undefined;
  afterAll(async () => {
    await r?.stop();
    await pg?.remove();
  });

  it("the component starts and routes; the history API answers 503 until the database is there, then serves", async () => {
    pg = await startPostgres();
    await pg.stop();
    r = await startAll({ database: { url: pg.url } });
    const get = (path: string) => apiFetch(`http://127.0.0.1:${r!.app.webPort}`, path, { token: r!.config.admin.token });
    expect((await get("/api/agents")).status).toBe(200);
    expect((await get("/api/stats/realtime")).body).toMatchObject({ history: "unavailable" });
    expect((await get("/api/sessions?from=2026-11-24&to=2026-11-25")).status).toBe(503);
    await pg.start();
    // The next read opens it (and brings its schema up to date).
    const res = await until(() => get("/api/sessions?from=2026-11-24&to=2026-11-25"), (x) => x.status === 200, 10_000, "history opened");
    expect(res.body).toEqual([]);
  }, 60_000);
});
