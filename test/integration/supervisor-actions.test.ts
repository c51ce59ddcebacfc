/**
 * Issue 13, what a supervisor does to live work besides monitoring, on a real stack with a recorder
 * in-process: list the live sessions as a table, transfer any agent's chat (the seat, the next agent and
 * the customer are each told), change an agent's skills or capacity for the day (it routes at once,
 * outlives a profile sync, and the configured profile comes back once the day's key is gone), from a plain
 * XMPP client through ad-hoc commands and from the admin API with a supervise token; a queue-limited
 * supervisor acts only on its queues; each action, and a configuration change, is in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { pino } from "pino";
import { configDigests } from "../../component/config-digest.js";
import { skillLevels, skillNames } from "../../component/config.js";
import { keysFor } from "../../cti/redis/keys.js";
import { NS } from "../../protocol/names.js";
import { openHistory, sqliteFile, type History } from "../../records/db.js";
import { startRecorder, type Recorder } from "../../records/recorder.js";
import { apiFetch, type ApiResponse } from "../helpers/openapi.js";
import { CC, SCOPED, SCOPED_STACK, command, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { connectAccount, waitFor, xmlFor } from "../helpers/xmpp.js";

const hex = (t: string) => createHash("sha256").update(t).digest("hex");
const LEAD = "lead-secret-token"; // supervise
const READER = "reader-secret-token"; // read
const { alice: ALICE, bob: BOB, sam: SAM, tess: TESS } = SCOPED; // billing, sales; every queue, sales only
const keys = keysFor("sb:");

let r: Running;
const { guest, agent, track } = useStack({
  ...SCOPED_STACK,
  admin: {
    token: "test-admin-token",
    tokens: [{ name: "lead", sha256: hex(LEAD), scopes: ["supervise"] }, { name: "reader", sha256: hex(READER), scopes: ["read"] }],
  },
}, (running) => { r = running; });

let recorder: Recorder;
let history: History;
let redis: Redis;
beforeAll(async () => {
  redis = new Redis(r.stack.redisUrl);
  history = await openHistory({ file: sqliteFile(r.config.runDir) });
  recorder = startRecorder({ redis: new Redis(r.stack.redisUrl), keys, history, log: pino({ level: "silent" }) });
});
afterAll(async () => { await recorder.stop(); await history.close(); redis.disconnect(); });

const base = () => `http://127.0.0.1:${r.app.webPort}`;
const post = (path: string, json: unknown, token = LEAD): Promise<ApiResponse> => apiFetch(base(), path, { token, method: "POST", json });
/** The audit log (the full-power token reads it), once it holds an entry that `ok` accepts. */
const auditUntil = (ok: (entries: any[]) => boolean, what: string) =>
  until(async () => (await apiFetch(base(), "/api/audit", { token: "test-admin-token" })).body as any[], ok, 5000, what);
const completed = async (c: Client, node: string, fields?: Record<string, string>) => {
  const reply = await command(c, node, fields);
  expect(errorOf(reply)).toBeUndefined();
  return reply.getChild("command", NS.COMMANDS)!;
};
const sb = (name: string) => (s: Element) => !!s.getChild(name, NS.SB);
const body = (pattern: RegExp) => (s: Element) => pattern.test(s.getChildText("body") ?? "");
/** A guest joins a queue and is assigned; returns the session id. */
async function served(queue: string): Promise<{ customer: Client; session: string }> {
  const customer = await guest();
  await iq(customer, `${queue}@${CC}`, "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }));
  const session = String((await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.session);
  return { customer, session };
}
/** The configured profile of an agent, as the component syncs it at start and at midnight. */
const syncProfile = (jid: string) => {
  const a = r.config.agents.find((x) => x.jid === jid)!;
  return r.app.store.upsertAgent({ jid, name: a.name, skills: skillNames(a.skills), levels: skillLevels(a.skills), maxChats: a.maxChats });
};
/** As midnight does: the day's change is gone, and the next sync brings the configured profile back. */
const endOfDay = async (jid: string) => { await redis.del(keys.agentDay(jid)); await syncProfile(jid); };

describe("supervisors list and transfer live sessions", () => {
  it("list-sessions gives a table; transfer-session moves a chat, and the seat, the next agent and the customer are told", async () => {
    const sam = track(await connectAccount(r.config, SAM, "sam-pw"));
    const alice = await agent(ALICE);
    const bob = await agent(BOB);
    const { customer, session } = await served("billing");

    const listed = await completed(sam, "list-sessions");
    const rows = listed.getChild("x", NS.DATA)!.getChildren("item").map((item) =>
      Object.fromEntries(item.getChildren("field").map((f) => [f.attrs.var, f.getChildText("value")])));
    expect(rows).toEqual([expect.objectContaining({ id: session, queue: "billing", media: "chat", state: "assigned", seat: ALICE })]);

    const asked = await completed(sam, "transfer-session");
    expect(asked.attrs.status).toBe("executing");
    expect(asked.getChild("x", NS.DATA)!.getChildren("field").map((f) => f.attrs.var)).toEqual(["session", "target", "note"]);
    const done = await completed(sam, "transfer-session", { session, target: `agent:${BOB}`, note: "VIP, be quick" });
    expect(done.getChildText("note")).toMatch(/is transferred to bob@acme.test/);

    expect((await waitFor(alice, body(/Sam \(a supervisor\) transferred your customer/))).getChild("ended", NS.SB)!.attrs.reason).toBe("transferred");
    expect((await waitFor(bob, sb("begin"))).getChildText("body")).toMatch(/Sam \(a supervisor\) transferred .* Note: VIP, be quick/);
    await waitFor(customer, body(/You are being transferred to Bob/));
    expect((await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs).toMatchObject({ session, seat: BOB });
    expect(await r.app.cti.session(session)).toMatchObject({ seat: BOB });
    await auditUntil((e) => e.some((x) => x.actor === SAM && x.action === "transfer" && x.target === session && x.detail === `from ${ALICE} to ${BOB}`), "the transfer audited");
  });

  it("a queue-limited supervisor sees and moves only its queues' sessions, and only into its queues", async () => {
    const tess = track(await connectAccount(r.config, TESS, "tess-pw"));
    await agent(ALICE);
    await agent(BOB);
    const billing = await served("billing");
    const sales = await served("sales");
    const rows = (await completed(tess, "list-sessions")).getChild("x", NS.DATA)!.getChildren("item");
    expect(rows.map((i) => i.getChildren("field")[0]!.getChildText("value"))).toEqual([sales.session]);
    for (const [fields, why] of [
      [{ session: billing.session, target: "queue:sales" }, "another queue's session"],
      [{ session: sales.session, target: "queue:billing" }, "into another queue"],
      [{ session: sales.session, target: `agent:${ALICE}` }, "to another queue's agent"],
    ] as const) {
      const refused = errorOf(await command(tess, "transfer-session", fields));
      expect([why, refused?.condition]).toEqual([why, "forbidden"]);
    }
    expect(await r.app.cti.session(billing.session)).toMatchObject({ seat: ALICE });
    expect(errorOf(await command(tess, "transfer-session", { session: sales.session, target: "elsewhere" }))?.condition).toBe("bad-request");
  });
});

describe("supervisors change an agent's skills or capacity for the day", () => {
  it("adjust-agent routes a waiting customer at once, outlives a profile sync until the day's key is gone, and is audited", async () => {
    const sam = track(await connectAccount(r.config, SAM, "sam-pw"));
    await agent(ALICE, "away"); // billing's agent is logged in but not ready: billing's customers wait
    await agent(BOB); // sales only
    const customer = await guest();
    await iq(customer, `billing@${CC}`, "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }));
    await until(() => r.app.cti.queueStats(), (q) => q.find((x) => x.name === "billing")!.waiting === 1, 5000, "the customer waits");

    const form = await completed(sam, "adjust-agent");
    expect(form.getChild("x", NS.DATA)!.getChildren("field").map((f) => f.attrs.var)).toEqual(["agent", "skills", "maxChats"]);
    const done = await completed(sam, "adjust-agent", { agent: BOB, skills: "sales, billing", maxChats: "2" });
    expect(done.getChildText("note")).toMatch(/Bob now has skills sales, billing, 2 chats at once, until midnight/);
    expect((await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.seat).toBe(BOB);
    expect(await r.app.cti.agent(BOB)).toMatchObject({ skills: ["sales", "billing"], maxChats: 2 });
    // It lasts until midnight (config timezone): the day's key expires within a day.
    const ttl = await redis.pttl(keys.agentDay(BOB));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(25 * 3600 * 1000);
    // A component starting meanwhile syncs the configured profile: the day's change stands over it.
    await syncProfile(BOB);
    expect(await r.app.cti.agent(BOB)).toMatchObject({ skills: ["sales", "billing"], maxChats: 2 });
    await auditUntil((e) => e.some((x) => x.actor === SAM && x.action === "adjust-agent" && x.target === BOB && /^skills sales, billing, 2 chats at once, until midnight/.test(x.detail)), "the change audited");

    await endOfDay(BOB);
    expect(await r.app.cti.agent(BOB)).toMatchObject({ skills: ["sales"], maxChats: 1 });
  });

  it("refuses an unknown skill, a capacity that is no number, an empty change, and a queue-limited supervisor another queue's agent", async () => {
    const sam = track(await connectAccount(r.config, SAM, "sam-pw"));
    const tess = track(await connectAccount(r.config, TESS, "tess-pw"));
    const unknown = errorOf(await command(sam, "adjust-agent", { agent: BOB, skills: "zq7mark" }));
    expect(unknown).toMatchObject({ condition: "bad-request" });
    expect(unknown!.text).toMatch(/^Unknown skill: the skills are those the queues ask for or agents have \(billing, sales\)\.$/);
    expect(errorOf(await command(sam, "adjust-agent", { agent: BOB, maxChats: "lots" }))?.condition).toBe("bad-request");
    expect(errorOf(await command(sam, "adjust-agent", { agent: BOB, maxChats: "0" }))?.condition).toBe("bad-request");
    expect(errorOf(await command(sam, "adjust-agent", { agent: BOB }))?.condition).toBe("bad-request");
    expect(errorOf(await command(sam, "adjust-agent", { agent: "nobody@acme.test", maxChats: "2" }))?.condition).toBe("item-not-found");
    expect(errorOf(await command(tess, "adjust-agent", { agent: ALICE, maxChats: "2" }))?.condition).toBe("forbidden");
    expect(await r.app.cti.agent(ALICE)).toMatchObject({ skills: ["billing"], maxChats: 1 });
    expect(await r.app.cti.agent(BOB)).toMatchObject({ skills: ["sales"], maxChats: 1 });
  });
});

describe("the admin API acts on live work with a supervise token", () => {
  it("forces a state, changes a capacity and transfers a chat; each under token:lead in the audit log", async () => {
    const alice = await agent(ALICE);
    await agent(BOB);
    const paused = await post(`/api/agents/${BOB}/state`, { state: "not-ready", reason: "Coaching" });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ jid: BOB, state: "not-ready", reason: "Coaching" });
    const adjusted = await post(`/api/agents/${BOB}/adjust`, { maxChats: 3 });
    expect(adjusted.body).toMatchObject({ jid: BOB, maxChats: 3, skills: ["sales"] });
    expect((await post(`/api/agents/${BOB}/state`, { state: "ready" })).body).toMatchObject({ state: "ready" });

    const { customer, session } = await served("billing");
    const moved = await post(`/api/sessions/${session}/transfer`, { queue: "sales", note: "wants to buy" });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: session, queue: "sales" });
    await waitFor(alice, body(/An administrator transferred your customer .* to the queue Sales/));
    expect((await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.seat).toBe(BOB);

    await auditUntil((e) => ["set-agent-state", "adjust-agent", "transfer"].every((action) => e.some((x) => x.actor === "token:lead" && x.action === action)), "the API's actions audited");
    await endOfDay(BOB);
  });

  it("refuses malformed or unexpected bodies with a 400 that repeats nothing, an unknown agent or session with 404, and a read token with 403", async () => {
    const MARK = "zq7MARKzq7";
    for (const [path, json] of [
      [`/api/agents/${BOB}/state`, { state: MARK }],
      [`/api/agents/${BOB}/state`, { state: "ready", [MARK]: 1 }],
      [`/api/agents/${BOB}/adjust`, {}],
      [`/api/agents/${BOB}/adjust`, { maxChats: 0 }],
      [`/api/agents/${BOB}/adjust`, { skills: [MARK] }],
      [`/api/agents/${BOB}/adjust`, { skills: "sales" }],
      [`/api/sessions/s1/transfer`, { agent: BOB, queue: "sales" }],
      [`/api/sessions/s1/transfer`, [MARK]],
    ] as const) {
      const res = await post(path, json);
      expect([path, JSON.stringify(json), res.status, res.body.error?.code]).toEqual([path, JSON.stringify(json), 400, "bad-request"]);
      expect(res.text).not.toContain(MARK);
    }
    const malformed = await apiFetch(base(), `/api/agents/${BOB}/state`, { token: LEAD, method: "POST", raw: `{"state": "${MARK}` });
    expect([malformed.status, malformed.body.error.message]).toEqual([400, "The request is malformed."]);
    expect((await post(`/api/agents/${MARK}@acme.test/state`, { state: "ready" })).status).toBe(404);
    expect((await post(`/api/sessions/${MARK}/transfer`, { queue: "sales" })).status).toBe(404);
    expect((await post(`/api/agents/${BOB}/adjust`, { maxChats: 2 }, READER)).status).toBe(403);
    expect(await r.app.cti.agent(BOB)).toMatchObject({ maxChats: 1 });
  });
});

describe("configuration changes", () => {
  it("are audited once per changed section at a component's start, naming items and never values", async () => {
    await auditUntil((e) => e.some((x) => x.actor === "config" && x.action === "config-change" && x.target === "all"), "the first start recorded");
    const edited = {
      ...r.config,
      queues: [...r.config.queues, { ...r.config.queues[0]!, name: "vip" }],
      agents: r.config.agents.filter((a) => a.jid !== BOB),
      supervisors: r.config.supervisors.map((s) => (s.jid === SAM ? { ...s, password: "zq7-new-secret" } : s)),
    };
    expect(await r.app.store.configSeen(configDigests(edited), Date.now())).toBe(3);
    // The same file again (another instance starting): nothing more.
    expect(await r.app.store.configSeen(configDigests(edited), Date.now())).toBe(0);
    const entries = await auditUntil((e) => e.filter((x) => x.actor === "config" && x.target !== "all").length === 3, "three sections audited");
    const changes = Object.fromEntries(entries.filter((x) => x.actor === "config" && x.target !== "all").map((x) => [x.target, x.detail]));
    expect(changes).toEqual({ queues: "added: vip", agents: "removed: bob@acme.test", supervisors: "changed: sam@acme.test" });
    expect(JSON.stringify(entries)).not.toContain("zq7-new-secret");
    await r.app.store.configSeen(configDigests(r.config), Date.now()); // back as it was, for the other tests
  });
});
