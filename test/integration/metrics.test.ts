/**
 * GET /metrics (component/metrics.ts, docs/metrics.md) against the real stack: the admin token guards it,
 * the exposition text carries the live gauges, the counters and histograms of one served customer figure
 * by figure, health, and the recorder's backlog on the event log.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { WAIT_BUCKETS } from "../../component/metrics.js";
import { NS } from "../../protocol/names.js";
import { BILLING, CC, iq, until, useStack, type Running } from "../helpers/stack.js";
import { waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const { guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });

const url = (path: string) => `http://127.0.0.1:${r.app.webPort}${path}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The samples of an exposition text: name, labels, value. */
function parse(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: m[3] === "+Inf" ? Infinity : Number(m[3]) });
  }
  return out;
}

type Samples = ReturnType<typeof parse>;

/** The value of the sample with exactly these labels; undefined when there is none. */
function value(samples: Samples, name: string, labels: Record<string, string> = {}): number | undefined {
  const same = (a: Record<string, string>) => Object.keys(a).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => a[k] === v);
  return samples.find((s) => s.name === name && same(s.labels))?.value;
}

async function scrape(): Promise<Samples> {
  const res = await fetch(url("/metrics"), { headers: bearer(r.config.admin.token) });
  expect(res.status).toBe(200);
  return parse(await res.text());
}

/** Scrapes until `ok` holds (the figures follow events the component handles on its own time). */
const scrapeUntil = (ok: (s: Samples) => boolean, what: string) => until(scrape, ok, 5000, what);

const joinQueue = (c: Client) => iq(c, BILLING, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }, xmlFor(c)("queue-notifications")));
const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));
const sb = (c: Client, name: string, attrs: Record<string, string>) => iq(c, CC, "set", xmlFor(c)(name, { xmlns: NS.SB, ...attrs }));
const assignedMsg = (s: Element) => s.is("message") && !!s.getChild("assigned", NS.SB);

describe("access", () => {
  it("without the admin token, or with another, answers 401 with the same JSON error as /api", async () => {
    const api = await fetch(url("/api/agents"));
    const apiBody = await api.json();
    for (const headers of [{}, bearer("wrong-token"), { authorization: r.config.admin.token }]) {
      const res = await fetch(url("/metrics"), { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("www-authenticate")).toBe(api.headers.get("www-authenticate"));
      expect(await res.json()).toEqual(apiBody);
    }
    expect(apiBody).toEqual({ error: { code: "not-authorized", message: "Send the admin token as 'Authorization: Bearer <token>'." } });
  });

  it("with the token answers 200 in Prometheus's text format: health up, process metrics, no soft switch without voice", async () => {
    const res = await fetch(url("/metrics"), { headers: bearer(r.config.admin.token) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain("# TYPE switchboard_joins_total counter");
    expect(text).toContain("# TYPE switchboard_join_to_assigned_seconds histogram");
    const s = parse(text);
    expect(value(s, "switchboard_xmpp_up")).toBe(1);
    expect(value(s, "switchboard_redis_up")).toBe(1);
    expect(s.some((x) => x.name === "switchboard_softswitch_up")).toBe(false);
    expect(value(s, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(value(s, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(s.some((x) => x.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    // Every queue and agent state is there from the start, at 0 when nothing happened.
    for (const queue of ["billing", "vip"]) expect(value(s, "switchboard_queue_waiting", { queue })).toBe(0);
    for (const state of ["offline", "not-ready", "ready", "busy", "wrap-up"]) expect(value(s, "switchboard_agents", { state })).toBe(state === "offline" ? 2 : 0);
  });
});

describe("live gauges", () => {
  it("a customer waiting shows in the queue's waiting gauge and longest wait; the agent not ready in the agents gauge", async () => {
    await agent("alice@acme.test", "away"); // logged in, not ready: the customer may wait
    const customer = await guest();
    expect((await joinQueue(customer)).attrs.type).toBe("result");
    const s = await scrapeUntil((x) => value(x, "switchboard_queue_waiting", { queue: "billing" }) === 1, "one waiting in billing");
    expect(value(s, "switchboard_queue_waiting", { queue: "vip" })).toBe(0);
    expect(value(s, "switchboard_queue_longest_wait_seconds", { queue: "vip" })).toBe(0);
    expect(value(s, "switchboard_agents", { state: "not-ready" })).toBe(1);
    expect(value(s, "switchboard_agents", { state: "offline" })).toBe(1);
    // The longest wait grows with the customer's wait (whole seconds).
    const waiting = await scrapeUntil((x) => value(x, "switchboard_queue_longest_wait_seconds", { queue: "billing" })! >= 1, "a wait of a second");
    const session = (await r.app.cti.session((await r.app.cti.sessionOf(customer.jid!.toString()))!))!;
    expect(value(waiting, "switchboard_queue_longest_wait_seconds", { queue: "billing" })).toBeLessThanOrEqual(Math.floor((Date.now() - session.queuedAt) / 1000));
    // It leaves: nobody waits.
    expect((await iq(customer, BILLING, "set", xmlFor(customer)("depart-queue", { xmlns: NS.WG }))).attrs.type).toBe("result");
    await scrapeUntil((x) => value(x, "switchboard_queue_waiting", { queue: "billing" }) === 0, "nobody waiting");
  });
});

describe("counters and histograms", () => {
  it("count one customer's join, assignment, answer, end and rating, figure by figure", async () => {
    const before = await scrape();
    const d = (after: Samples, name: string, labels: Record<string, string> = {}) => (value(after, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    /** One more observation of `seconds` in billing's histogram: in every cumulative bucket from its own up, in none below. */
    const expectOneIn = (after: Samples, name: string, seconds: number) => {
      for (const le of [...WAIT_BUCKETS, Infinity])
        expect([le, d(after, `${name}_bucket`, { queue: "billing", le: le === Infinity ? "+Inf" : String(le) })]).toEqual([le, seconds <= le ? 1 : 0]);
    };

    const alice = await agent("alice@acme.test"); // maxChats 1: busy while she serves
    const customer = await guest();
    expect((await joinQueue(customer)).attrs.type).toBe("result");
    const session = (await waitFor(customer, assignedMsg)).getChild("assigned", NS.SB)!.attrs.session!;
    await chat(customer, "alice@acme.test", "hello");
    await until(() => r.app.cti.session(session), (x) => x?.state === "in-service", 5000, "in service");
    await chat(alice, customer.jid!.toString(), "Hi, how can I help?"); // the seat's first answer
    await waitFor(customer, (x) => x.getChildText("body") === "Hi, how can I help?");
    await until(() => r.app.cti.session(session), (x) => !!x?.answeredAt, 5000, "answered");

    const serving = await scrapeUntil((x) => value(x, "switchboard_sessions", { queue: "billing", state: "in-service" }) === 1, "one in service");
    expect(value(serving, "switchboard_sessions", { queue: "billing", state: "assigned" })).toBe(0);
    expect(value(serving, "switchboard_agents", { state: "busy" })).toBe(1);

    expect((await sb(customer, "end", { session })).attrs.type).toBe("result");
    expect((await iq(customer, CC, "set", xmlFor(customer)("feedback", { xmlns: NS.SB, session, score: "4" }))).attrs.type).toBe("result");

    const after = await scrapeUntil((x) => d(x, "switchboard_ends_total", { queue: "billing", reason: "customer", from: "in-service" }) === 1
      && d(x, "switchboard_answer_seconds_count", { queue: "billing" }) === 1 && d(x, "switchboard_feedback_total", { score: "4" }) === 1, "end, answer and rating counted");
    const s = (await r.app.cti.session(session))!;

    expect(d(after, "switchboard_joins_total", { queue: "billing" })).toBe(1);
    expect(d(after, "switchboard_joins_total", { queue: "vip" })).toBe(0);
    expect(d(after, "switchboard_assignments_total", { queue: "billing" })).toBe(1);
    expect(d(after, "switchboard_feedback_total", { score: "4" })).toBe(1);
    // Exactly one end, of this reason and state: no other end counted anywhere.
    const ends = (x: Samples) => x.filter((e) => e.name === "switchboard_ends_total").reduce((sum, e) => sum + e.value, 0);
    expect(ends(after) - ends(before)).toBe(1);

    // join -> assigned: one observation, of exactly the session's assignedAt - queuedAt.
    const waited = (s.assignedAt! - s.queuedAt) / 1000;
    expect(d(after, "switchboard_join_to_assigned_seconds_count", { queue: "billing" })).toBe(1);
    expect(d(after, "switchboard_join_to_assigned_seconds_sum", { queue: "billing" })).toBeCloseTo(waited, 6);
    expectOneIn(after, "switchboard_join_to_assigned_seconds", waited);

    // queued -> answered: one observation, of exactly answeredAt - queuedAt.
    const answered = (s.answeredAt! - s.queuedAt) / 1000;
    expect(d(after, "switchboard_answer_seconds_sum", { queue: "billing" })).toBeCloseTo(answered, 6);
    expectOneIn(after, "switchboard_answer_seconds", answered);
    expect(d(after, "switchboard_answer_seconds_count", { queue: "vip" })).toBe(0);

    // Nobody is served any more.
    const done = await scrapeUntil((x) => value(x, "switchboard_sessions", { queue: "billing", state: "in-service" }) === 0, "none in service");
    expect(value(done, "switchboard_agents", { state: "busy" })).toBe(0);
  });
});

describe("the recorder's backlog", () => {
  const backlog = (x: Samples) => ({
    lag: value(x, "switchboard_recorder_lag_events"),
    pending: value(x, "switchboard_recorder_pending_events"),
    age: value(x, "switchboard_recorder_oldest_unprocessed_age_seconds"),
  });

  it("is -1 without a recorder group, then counts the events not yet delivered and those not yet acknowledged", async () => {
    const redis = r.app.redis;
    const stream = r.app.store.keys.events();
    // The component creates the group at start (records/recorder.ts ensureRecorderGroup): gone, the figures say so.
    expect(await redis.xgroup("DESTROY", stream, "recorder")).toBe(1);
    expect(backlog(await scrape())).toEqual({ lag: -1, pending: -1, age: -1 });

    await agent("alice@acme.test", "away"); // before the group: her state change is not among the events counted
    const customer = await guest();
    await redis.xgroup("CREATE", stream, "recorder", "$", "MKSTREAM");
    try {
      expect(backlog(await scrape())).toEqual({ lag: 0, pending: 0, age: 0 });
      const [[start] = ["0-0"]] = await redis.xrevrange(stream, "+", "-", "COUNT", 1);

      // A customer joins and leaves: two events (queued, ended) the recorder has not read.
      expect((await joinQueue(customer)).attrs.type).toBe("result");
      expect((await iq(customer, BILLING, "set", xmlFor(customer)("depart-queue", { xmlns: NS.WG }))).attrs.type).toBe("result");
      await until(() => r.app.cti.sessions(0), (x) => x.length === 0, 5000, "the customer gone");
      const added = await redis.xrange(stream, `(${start}`, "+");
      expect(added.map(([, f]) => f[f.indexOf("type") + 1])).toEqual(["queued", "ended"]);

      const unread = backlog(await scrape());
      expect(unread.lag).toBe(2);
      expect(unread.pending).toBe(0);
      expect(unread.age).toBeGreaterThanOrEqual(0);

      // The recorder reads one without acknowledging it: one left to deliver, one pending, the oldest is the pending one.
      const read = (await redis.xreadgroup("GROUP", "recorder", "test-recorder", "COUNT", 1, "STREAMS", stream, ">")) as Array<[string, Array<[string, string[]]>]>;
      const [id] = read[0]![1][0]!;
      const reading = backlog(await scrape());
      expect(reading).toMatchObject({ lag: 1, pending: 1 });
      expect(reading.age).toBeGreaterThanOrEqual((Date.now() - Number(id.split("-")[0])) / 1000 - 1);

      // Acknowledged, and the other read and acknowledged too: up to date.
      await redis.xack(stream, "recorder", id);
      expect(backlog(await scrape())).toMatchObject({ lag: 1, pending: 0 });
      const rest = (await redis.xreadgroup("GROUP", "recorder", "test-recorder", "COUNT", 10, "STREAMS", stream, ">")) as Array<[string, Array<[string, string[]]>]>;
      await redis.xack(stream, "recorder", ...rest[0]![1].map(([i]) => i));
      expect(backlog(await scrape())).toEqual({ lag: 0, pending: 0, age: 0 });

      // Caught up once, the group's lag is Redis's own figure (above, Redis 7.0 could not tell and it was counted): the same.
      expect((await joinQueue(customer)).attrs.type).toBe("result");
      expect((await iq(customer, BILLING, "set", xmlFor(customer)("depart-queue", { xmlns: NS.WG }))).attrs.type).toBe("result");
      await until(() => r.app.cti.sessions(0), (x) => x.length === 0, 5000, "the customer gone again");
      const groups = (await redis.xinfo("GROUPS", stream)) as unknown[][];
      const recorder = groups.map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]]))).find((g) => g.name === "recorder")!;
      expect(recorder.lag).toBe(2);
      expect(backlog(await scrape())).toMatchObject({ lag: 2, pending: 0 });
    } finally {
      await redis.xgroup("DESTROY", stream, "recorder");
    }
  });
});
