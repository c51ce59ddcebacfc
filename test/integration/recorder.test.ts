/**
 * The recorder (issue 12): a real session recorded from the live event log; a recorder killed with SIGKILL
 * mid-way and a PostgreSQL outage lose and duplicate nothing; retention and erasure remove what they must and
 * nothing else; the log is trimmed only past what every reader acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { pino } from "pino";
import { NOTIFIER_GROUP, RECORDER_GROUP, trimEventLog, type LoggedEvent } from "../../cti/redis/events.js";
import { keysFor } from "../../cti/redis/keys.js";
import type { CtiEvent } from "../../cti/types.js";
import { spawnChild } from "../../launcher/child.js";
import { freePort } from "../../launcher/ports.js";
import { startPostgres, type RunningPostgres } from "../../launcher/postgres.js";
import { startRedis, type RunningRedis } from "../../launcher/redis.js";
import { NS } from "../../protocol/names.js";
import { applyEvents, customerHash } from "../../records/apply.js";
import { openHistory, sqliteFile, type History } from "../../records/db.js";
import { startRecorder, type Recorder } from "../../records/recorder.js";
import { applyRetention, eraseCustomer } from "../../records/retention.js";
import { freshHistory, logEvents, servedSession } from "../helpers/history.js";
import { Script } from "../helpers/script.js";
import { BILLING, CC, iq, until, useStack, type Running } from "../helpers/stack.js";
import { waitFor, xmlFor } from "../helpers/xmpp.js";

const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const keys = keysFor("sb:");
const count = async (h: History, table: "events" | "sessions" | "transcript" | "agent_states") =>
  Number((await h.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
/** The recorder group's events read but not acknowledged. */
const pending = async (redis: Redis) => Number(((await redis.xpending(keys.events(), RECORDER_GROUP)) as [number])[0]);

describe("a session through the whole stack", () => {
  let r: Running;
  let recorder: Recorder;
  let history: History;
  const { guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });
  beforeAll(async () => {
    history = await openHistory({ file: sqliteFile(r.config.runDir) });
    recorder = startRecorder({ redis: new Redis(r.stack.redisUrl), keys, history, log });
  });
  afterAll(async () => { await recorder.stop(); await history.close(); });

  it("records the session's times, seat, end and rating, and every event of it once", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const me = customer.jid!.toString();
    const xml = xmlFor(customer);
    await iq(customer, BILLING, "set", xml("join-queue", { xmlns: NS.WG }, xml("queue-notifications")));
    const session = (await waitFor(customer, (s) => !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.session!;
    await customer.send(xml("message", { to: "alice@acme.test", type: "chat" }, xml("body", {}, "Hello")));
    await until(() => r.app.cti.session(session), (s) => s?.state === "in-service", 5000, "in service");
    await alice.send(xmlFor(alice)("message", { to: me, type: "chat" }, xmlFor(alice)("body", {}, "Hi")));
    await until(() => r.app.cti.session(session), (s) => s?.answeredAt !== null, 5000, "answered");
    await iq(customer, CC, "set", xml("end", { xmlns: NS.SB, session }));
    await iq(customer, CC, "set", xml("feedback", { xmlns: NS.SB, session, score: "4" }, "quick and kind"));

    const row = await until(() => history.db.selectFrom("sessions").selectAll().where("id", "=", session).executeTakeFirst(),
      (s) => s?.score === 4, 5000, "the session recorded with its rating");
    const live = (await r.app.cti.session(session))!;
    expect(row).toMatchObject({
      queue: "billing", media: "chat", customer: me.split("/")[0], seat: "alice@acme.test", queued_at: live.queuedAt, assigned_at: live.assignedAt,
      in_service_at: live.inServiceAt, answered_at: live.answeredAt, ended_at: live.endedAt, end_reason: "customer", ended_from: "in-service",
      transfers: 0, score: 4, comment: "quick and kind",
    });
    // Every event of the session in the log is in the history once, with the same id.
    const logged = (await r.app.redis.xrange(keys.events(), "-", "+")).filter(([, f]) => f[3]!.includes(session)).map(([id]) => id);
    const recorded = (await history.db.selectFrom("events").select("id").where("session", "=", session).orderBy("id").execute()).map((e) => e.id);
    expect(recorded).toEqual(logged.sort());
    const notices = await history.db.selectFrom("transcript").select(["kind", "body"]).where("session", "=", session).orderBy("at").execute();
    expect(notices.filter((n) => n.kind === "system").map((n) => n.body)).toEqual(["An agent was assigned.", "The customer ended the session."]);
    const states = await history.db.selectFrom("agent_states").select("state").where("agent", "=", "alice@acme.test").orderBy("at").execute();
    expect(states.map((s) => s.state)).toContain("ready");
  });
});

describe("with a recorder process and a database that go away", () => {
  let redis: RunningRedis;
  let client: Redis;
  let postgres: RunningPostgres;
  beforeAll(async () => {
    redis = await startRedis({ port: await freePort(), dir: mkdtempSync(join(tmpdir(), "sb-rec-redis-")), persist: false });
    client = new Redis(redis.url);
    postgres = await startPostgres();
  });
  afterAll(async () => { client.disconnect(); await Promise.all([redis.stop(), postgres.remove()]); });

  it("loses and duplicates nothing when the recorder process is killed with SIGKILL mid-way", async () => {
    await client.del(keys.events());
    const runDir = mkdtempSync(join(tmpdir(), "sb-rec-run-"));
    const configFile = join(runDir, "config.json");
    writeFileSync(configFile, JSON.stringify({
      domain: "acme.test", guestDomain: "guest.acme.test", component: { domain: "cc.acme.test", secret: "s" }, admin: { token: "test-admin-token" },
      // The recorder uses only Redis (SWITCHBOARD_REDIS_URL) and runDir; the other ports are never opened.
      ports: { c2s: 15222, http: 15280, component: 15347, redis: Number(redis.url.split(":").at(-1)), web: 18080 },
      queues: [{ name: "billing" }], runDir,
    }));
    // 2,000 sessions, 8,000 events, in the log before the recorder starts: a backlog of 16 batches.
    const events = Array.from({ length: 2000 }, (_, i) => servedSession(`k${i}`, `c${i}@acme.test/web`, "alice@acme.test", Date.now() - 3 * 3600_000 + i * 1000)).flat(); // recent: retention keeps them
    await client.xgroup("CREATE", keys.events(), RECORDER_GROUP, "0", "MKSTREAM");
    await logEvents(client, keys, events);
    const start = () => spawnChild("recorder", process.execPath, [join(process.cwd(), "dist/records/main.js")], {
      env: { ...process.env, SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_REDIS_URL: redis.url, LOG_LEVEL: "warn" },
    });
    const reader = await openHistory({ file: sqliteFile(runDir) });
    let child = start();
    // Killed once some batches are committed and before all are.
    const seen = await until(() => count(reader, "events"), (n) => n > 0, 15_000, "the first batch committed");
    child.hasExited() || process.kill(child.pid, "SIGKILL");
    await child.exited;
    const atKill = await count(reader, "events");
    expect(atKill).toBeGreaterThanOrEqual(seen);
    expect(atKill).toBeLessThan(events.length);

    child = start();
    await until(() => count(reader, "events"), (n) => n === events.length, 30_000, "every event recorded after the restart");
    await until(() => pending(client), (n) => n === 0, 5000, "every event acknowledged");
    await child.stop();
    expect(await count(reader, "events")).toBe(8000);
    expect(await count(reader, "sessions")).toBe(2000);
    expect(await count(reader, "transcript")).toBe(4000); // two notices a session (assigned, ended), none twice
    const incomplete = await reader.db.selectFrom("sessions").select("id").where((eb) => eb.or([eb("ended_at", "is", null), eb("in_service_at", "is", null)])).execute();
    expect(incomplete).toEqual([]);
    await reader.close();
  }, 60_000);

  it("keeps the events of a PostgreSQL outage unacknowledged and records them once it is back", async () => {
    await client.del(keys.events());
    const history = await freshHistory("postgres", postgres);
    const recorder = startRecorder({ redis: new Redis(redis.url), keys, history, log });
    const t0 = 1_710_000_000_000;
    await logEvents(client, keys, Array.from({ length: 50 }, (_, i) => servedSession(`p${i}`, `c${i}@acme.test`, "bob@acme.test", t0 + i)).flat());
    await until(() => count(history, "sessions"), (n) => n === 50, 10_000, "the first 50 sessions");

    await postgres.stop();
    await logEvents(client, keys, Array.from({ length: 100 }, (_, i) => servedSession(`q${i}`, `d${i}@acme.test`, "bob@acme.test", t0 + 1e6 + i)).flat());
    // Read, not acknowledged: the batch it read waits for the database, and the recorder reads no further.
    const held = await until(() => pending(client), (n) => n > 0, 10_000, "the outage's first events read and held");
    expect(await pending(client)).toBe(held);
    await postgres.start();
    await until(() => count(history, "sessions").catch(() => -1), (n) => n === 150, 20_000, "every session after the outage");
    await until(() => pending(client), (n) => n === 0, 5000, "every event acknowledged");
    expect(await count(history, "events")).toBe(600);
    expect(await count(history, "transcript")).toBe(300);
    await recorder.stop();
    await history.close();
  }, 60_000);

  it("trims the log only past what every group acknowledged", async () => {
    await client.del(keys.events());
    await client.xgroup("CREATE", keys.events(), NOTIFIER_GROUP, "0", "MKSTREAM");
    await client.xgroup("CREATE", keys.events(), RECORDER_GROUP, "0");
    const ids = await logEvents(client, keys, Array.from({ length: 10 }, (_, i) => ({ type: "wrap-up-ended", agent: `a${i}@acme.test`, at: i }) as CtiEvent));
    const readAndAck = async (group: string, n: number) => {
      const [[, entries]] = (await client.xreadgroup("GROUP", group, "x", "COUNT", n, "STREAMS", keys.events(), ">")) as unknown as [[string, Array<[string]>]];
      await client.xack(keys.events(), group, ...entries.map(([id]) => id));
    };
    await readAndAck(NOTIFIER_GROUP, 10);
    expect(await trimEventLog(client, keys)).toBe(0); // the recorder has read nothing
    await readAndAck(RECORDER_GROUP, 4);
    await client.xreadgroup("GROUP", RECORDER_GROUP, "x", "COUNT", 2, "STREAMS", keys.events(), ">"); // read, not acknowledged
    expect(await trimEventLog(client, keys)).toBe(4);
    expect((await client.xrange(keys.events(), "-", "+")).map(([id]) => id)).toEqual(ids.slice(4));
  });
});

describe.each(["sqlite", "postgres"] as const)("retention and erasure (%s)", (kind) => {
  let postgres: RunningPostgres | undefined;
  let history: History;
  const day = 24 * 3600 * 1000;
  const now = 1_750_000_000_000;
  beforeAll(async () => {
    if (kind === "postgres") postgres = await startPostgres();
    history = await freshHistory(kind, postgres);
  });
  afterAll(async () => { await history.close(); await postgres?.remove(); });

  const ids = async () => (await history.db.selectFrom("sessions").select("id").orderBy("id").execute()).map((s) => s.id);
  let n = 0;
  const logged = (events: CtiEvent[]) => events.map((event) => ({ id: `${now}-${n++}`, event }));
  const message = (session: string, body: string, at: number): CtiEvent => ({ type: "message", session, seat: "alice@acme.test", sender: "x@acme.test", direction: "in", body, at });

  it("deletes each queue's sessions older than its retentionDays, with their transcripts and events, and nothing else", async () => {
    await applyEvents(history, logged([
      ...servedSession("old-billing", "a@acme.test", "alice@acme.test", now - 40 * day), message("old-billing", "hi", now - 40 * day + 3000),
      ...servedSession("new-billing", "b@acme.test", "alice@acme.test", now - 20 * day), message("new-billing", "hello", now - 20 * day + 3000),
      ...servedSession("old-vip", "c@acme.test", "alice@acme.test", now - 40 * day, "vip"),
      ...servedSession("gone-queue", "d@acme.test", "alice@acme.test", now - 100 * day, "closed"),
      { type: "queued", session: "still-waiting", queue: "billing", customer: "e@acme.test", at: now - 40 * day },
      { type: "agent-state", agent: "alice@acme.test", state: "ready", at: now - 70 * day },
      { type: "agent-state", agent: "alice@acme.test", state: "offline", at: now - 10 * day },
    ]));
    const removed = await applyRetention(history, { billing: 30, vip: 60 }, now);
    // old-billing (40 > 30 days) and gone-queue (100 > the longest, 60) go; old-vip (40 < 60) and the one still waiting stay.
    expect(await ids()).toEqual(["new-billing", "old-vip", "still-waiting"]);
    // Events: 4 of each session, old-billing's message, and the agent state older than the longest retention.
    expect(removed).toEqual({ sessions: 2, transcriptLines: 2 * 2 + 1, events: 2 * 4 + 1 + 1 });
    expect((await history.db.selectFrom("transcript").select("body").where("kind", "=", "customer").execute()).map((t) => t.body)).toEqual(["hello"]);
    expect((await history.db.selectFrom("agent_states").select("state").execute()).map((s) => s.state)).toEqual(["offline"]);
  });

  it("erases one customer's sessions, transcripts and events, and does not record them again from the log", async () => {
    const before = logged([...servedSession("erase-1", "zoe@acme.test/phone", "bob@acme.test", now - day), message("erase-1", "my card is 4242", now - day + 3000),
      ...servedSession("keep-1", "yan@acme.test", "bob@acme.test", now - day)]);
    await applyEvents(history, before);
    const removed = await eraseCustomer(history, "Zoe@acme.test", now);
    expect(removed).toEqual({ sessions: 1, transcriptLines: 3, events: 5 });
    const left = await history.db.selectFrom("transcript").select("body").where("body", "like", "%4242%").execute();
    expect(left).toEqual([]);
    expect(await ids()).toContain("keep-1");
    expect(await ids()).not.toContain("erase-1");
    // The same events read again (not acknowledged before the erasure) are not recorded again...
    const again = before.map((e) => ({ ...e, id: `${e.id}-again` }));
    expect(await applyEvents(history, again.filter((e) => "session" in e.event && e.event.session === "erase-1"))).toBe(0);
    expect(await history.db.selectFrom("events").select("id").where("session", "=", "erase-1").execute()).toEqual([]);
    expect(await ids()).not.toContain("erase-1");
    // ...and the erasure keeps no address, only its hash; a new session after it is recorded.
    expect(await history.db.selectFrom("erasures").selectAll().execute()).toEqual([{ customer_hash: customerHash("zoe@acme.test"), erased_at: now }]);
    await applyEvents(history, logged(servedSession("erase-2", "zoe@acme.test", "bob@acme.test", now + 1000)));
    expect(await ids()).toContain("erase-2");
  });
});

describe.each(["sqlite", "postgres"] as const)("sessions folded in batches (%s)", (kind) => {
  let postgres: RunningPostgres | undefined;
  const opened: History[] = [];
  beforeAll(async () => { if (kind === "postgres") postgres = await startPostgres(); });
  afterAll(async () => { await Promise.all(opened.map((h) => h.close())); await postgres?.remove(); });

  /** Sessions of every kind of change: transfers, a requeue (its seat cleared, its first assignment kept), feedback, abandon, still waiting. */
  function week(): LoggedEvent[] {
    const t0 = 1_760_000_000_000;
    const s = new Script();
    s.session("F1", "billing", "ann@customer.test", t0).assigned("alice@acme.test", t0 + 10).inService(t0 + 20).answered(t0 + 21)
      .say("customer", "hello", t0 + 22).transferTo("bob@acme.test", t0 + 30).transferTo("carl@acme.test", t0 + 40).ended("seat", t0 + 50).feedback(5, t0 + 60);
    s.session("F2", "billing", "bea@customer.test", t0 + 1).assigned("alice@acme.test", t0 + 11);
    s.add({ type: "requeued", session: "F2", queue: "billing", customer: "bea@customer.test", seat: "alice@acme.test", plain: false, paused: false, media: "chat", handle: "", at: t0 + 15 });
    s.add({ type: "assigned", session: "F2", queue: "billing", customer: "bea@customer.test", seat: "bob@acme.test", plain: false, form: {}, queuedAt: t0 + 1, rang: [], media: "chat", handle: "", at: t0 + 25 });
    s.session("F3", "billing", "cid@customer.test", t0 + 2).ended("departed", t0 + 35);
    s.session("F4", "vip", "dot@customer.test", t0 + 3);
    s.session("F5", "billing", "eve@customer.test", t0 + 4).assigned("carl@acme.test", t0 + 12).inService(t0 + 13).ended("customer", t0 + 45);
    return s.log();
  }
  const rows = async (h: History) => h.db.selectFrom("sessions").selectAll().orderBy("id").execute();

  it("writes the same rows whether a session's events come in one batch, one at a time, or split anywhere", async () => {
    const log = week();
    const splits = [[log.length], Array(log.length).fill(1), [3, 7, 2, 9, log.length], [1, 5, log.length]];
    const results = [];
    for (const sizes of splits) {
      const h = await freshHistory(kind, postgres);
      opened.push(h);
      let at = 0;
      for (const size of sizes) { if (at >= log.length) break; await applyEvents(h, log.slice(at, at + size)); at += size; }
      results.push(await rows(h));
    }
    expect(results[0]!.map((r) => r.id)).toEqual(["F1", "F2", "F3", "F4", "F5"]);
    expect(results[0]!.find((r) => r.id === "F1")).toMatchObject({ seat: "carl@acme.test", transfers: 2, assigned_at: 1_760_000_000_010, in_service_at: 1_760_000_000_020, answered_at: 1_760_000_000_021, end_reason: "seat", ended_from: "in-service", score: 5 });
    expect(results[0]!.find((r) => r.id === "F2")).toMatchObject({ seat: "bob@acme.test", assigned_at: 1_760_000_000_011, ended_at: null });
    expect(results[0]!.find((r) => r.id === "F4")).toMatchObject({ queue: "vip", seat: null, assigned_at: null });
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
  });
});
