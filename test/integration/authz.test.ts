/**
 * Issue 13, authority control, on a real stack with a recorder in-process: every admin API route refuses a
 * token without its scope (403, JSON) and a request without a token (401); a read token reads; a supervise
 * token ends a session and an admin one erases a customer, both in GET /api/audit under token:<name>; a
 * supervisor limited to a queue cannot force the state of another queue's agent nor end another queue's
 * session, and what it may do is audited under its JID; an agent cannot run supervisor commands. Every API
 * response is checked against the OpenAPI document (test/helpers/openapi.ts).
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import { createHash } from "node:crypto";
import { NS } from "../../protocol/names.js";
import { customerHash } from "../../records/apply.js";
import type { CtiEvent } from "../../cti/types.js";
import { applyEvents } from "../../records/apply.js";
import { auditEntries } from "../../records/history.js";
import { applyRetention, eraseCustomer } from "../../records/retention.js";
import { freshHistory, servedSession } from "../helpers/history.js";
import { useRecorder } from "../helpers/recorder.js";
import { apiFetch, type ApiResponse } from "../helpers/openapi.js";
import { CC, SCOPED, SCOPED_STACK, command, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { connectAccount, waitFor, xmlFor } from "../helpers/xmpp.js";

const hex = (t: string) => createHash("sha256").update(t).digest("hex");
const TOKENS = { reader: "reader-secret-token", lead: "lead-secret-token", dpo: "dpo-secret-token" };
const { alice: ALICE, bob: BOB, sam: SAM, tess: TESS } = SCOPED; // billing, sales; every queue, sales only
/** Put in request paths: no refusal may repeat it. */
const MARK = "zq7MARKzq7";

let r: Running;
const { guest, agent, track } = useStack({
  ...SCOPED_STACK,
  admin: {
    token: "test-admin-token",
    tokens: [
      { name: "reader", sha256: hex(TOKENS.reader), scopes: ["read"] },
      { name: "lead", sha256: hex(TOKENS.lead), scopes: ["supervise"] },
      { name: "dpo", sha256: hex(TOKENS.dpo), scopes: ["admin"] },
    ],
  },
}, (running) => { r = running; });

useRecorder(() => r);

const base = () => `http://127.0.0.1:${r.app.webPort}`;
const api = (path: string, token?: string, method = "GET"): Promise<ApiResponse> => apiFetch(base(), path, { token, method });
/** The audit log as the dpo token reads it, once it holds an entry that `ok` accepts. */
const auditUntil = (query: string, ok: (entries: any[]) => boolean, what: string) =>
  until(async () => (await api(`/api/audit${query}`, TOKENS.dpo)).body as any[], ok, 5000, what);

const completed = async (c: Client, node: string, fields?: Record<string, string>) => {
  const reply = await command(c, node, fields);
  expect(errorOf(reply)).toBeUndefined();
  return reply.getChild("command", NS.COMMANDS)!;
};
/** A guest joins a queue and is assigned; returns the session id. */
async function served(queue: string): Promise<{ customer: Client; session: string }> {
  const customer = await guest();
  await iq(customer, `${queue}@${CC}`, "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }));
  const session = String((await waitFor(customer, (s) => !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.session);
  return { customer, session };
}

describe("admin API scopes", () => {
  const history_ = { from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z" };
  // Every route, the scope it needs, and a request to it.
  const ROUTES: Array<[method: string, path: string, scope: "read" | "supervise" | "admin"]> = [
    ["GET", "/api/agents", "read"],
    ["GET", "/api/queues", "read"],
    ["GET", "/api/sessions", "read"],
    ["GET", "/api/sessions?queue=billing", "read"],
    ["GET", `/api/sessions/s${MARK}`, "read"],
    ["GET", `/api/sessions/s${MARK}/transcript`, "read"],
    ["GET", "/api/messages", "read"],
    ["GET", "/api/stats/realtime", "read"],
    ["GET", `/api/stats/history?from=${history_.from}&to=${history_.to}`, "read"],
    ["POST", `/api/sessions/s${MARK}/end`, "supervise"],
    ["POST", `/api/sessions/s${MARK}/transfer`, "supervise"],
    ["POST", `/api/agents/${MARK}@acme.test/state`, "supervise"],
    ["POST", `/api/agents/${MARK}@acme.test/adjust`, "supervise"],
    ["DELETE", `/api/customers/${MARK}@acme.test`, "admin"],
    ["GET", "/api/audit", "admin"],
  ];
  const lacking = (scope: string) => (scope === "read" ? ["lead"] : scope === "supervise" ? ["reader"] : ["reader", "lead"]) as Array<keyof typeof TOKENS>;

  it.each(ROUTES)("%s %s: 401 without a token or with a wrong one, 403 with a token lacking %s", async (method, path, scope) => {
    for (const token of [undefined, "wrong-token", hex(TOKENS.dpo)]) {
      const res = await api(path, token, method);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("not-authorized");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    for (const name of lacking(scope)) {
      const res = await api(path, TOKENS[name], method);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: { code: "forbidden", message: `This token lacks the scope this route needs (${scope}).` } });
      expect(res.text).not.toContain(MARK);
    }
  });

  it("the scope holds whatever the path's case, a trailing slash or HEAD (as Express routes them)", async () => {
    const raw = (method: string, path: string, token: string) => fetch(`${base()}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    for (const [method, path, token] of [
      ["GET", "/API/AUDIT", TOKENS.lead], ["GET", "/api/audit/", TOKENS.reader], ["HEAD", "/api/audit", TOKENS.reader],
      ["POST", "/api/Sessions/s1/END/", TOKENS.reader], ["DELETE", "/api/customers/a@acme.test/", TOKENS.lead], ["GET", "/Metrics", TOKENS.lead],
    ] as const) expect([method, path, (await raw(method, path, token)).status]).toEqual([method, path, 403]);
    expect((await raw("GET", "/API/Agents/", TOKENS.reader)).status).toBe(200);
  });

  it("GET /metrics: 401 without a token, 403 for a token without read, served to a read token", async () => {
    const metrics = (token?: string) => fetch(`${base()}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await metrics()).status).toBe(401);
    const refused = await metrics(TOKENS.lead);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toMatch(/^application\/json/);
    expect((await refused.json()).error.code).toBe("forbidden");
    const ok = await metrics(TOKENS.reader);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^# HELP/m);
  });

  it("a read token reads every read route; an unknown /api path needs admin (403), then is a 404 to admin", async () => {
    for (const [method, path, scope] of ROUTES.filter(([, , s]) => s === "read")) {
      const res = await api(path, TOKENS.reader, method);
      expect([200, 404]).toContain(res.status); // 404: the marked session does not exist
      if (!path.includes(MARK)) expect(res.status).toBe(200);
      expect(scope).toBe("read");
    }
    expect((await fetch(`${base()}/api/nothing`, { headers: { authorization: `Bearer ${TOKENS.reader}` } })).status).toBe(403);
    expect((await fetch(`${base()}/api/nothing`, { headers: { authorization: `Bearer ${TOKENS.dpo}` } })).status).toBe(404);
    // The document is public.
    expect((await api("/api/openapi.json")).status).toBe(200);
  });

  it("a supervise token ends a session; the audit log names it token:lead, newest first", async () => {
    await agent(ALICE);
    const { customer, session } = await served("billing");
    const ended = await api(`/api/sessions/${session}/end`, TOKENS.lead, "POST");
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ id: session, state: "ended", endReason: "supervisor" });
    await waitFor(customer, (s) => s.getChild("ended", NS.SB)?.attrs.reason === "supervisor");
    const entries = await auditUntil("?actor=token:lead", (e) => e.some((x) => x.target === session), "the end audited");
    expect(entries[0]).toMatchObject({ actor: "token:lead", action: "end-session", target: session, detail: "queue billing, chat" });
    expect(Date.parse(entries[0].at)).toBeGreaterThan(Date.now() - 60_000);
    // An end refused (ended already) is not an action: nothing more is audited.
    expect((await api(`/api/sessions/${session}/end`, TOKENS.lead, "POST")).status).toBe(410);
  });

  it("an erasure is audited under the token's name, by the customer's hash (never the JID)", async () => {
    await agent(ALICE);
    const { customer, session } = await served("billing");
    const jid = customer.jid!.bare().toString();
    await api(`/api/sessions/${session}/end`, "test-admin-token", "POST");
    const erased = await api(`/api/customers/${encodeURIComponent(jid)}`, TOKENS.dpo, "DELETE");
    expect(erased.status).toBe(200);
    const entries = await auditUntil("?action=erase", (e) => e.some((x) => x.target === customerHash(jid)), "the erasure audited");
    expect(entries[0]).toMatchObject({ actor: "token:dpo", action: "erase", target: customerHash(jid) });
    // The admin.token is the full-power token named "admin".
    const ends = await auditUntil("?actor=token:admin&action=end-session", (e) => e.some((x) => x.target === session), "the admin token's end audited");
    expect(ends[0]).toMatchObject({ actor: "token:admin", target: session });
    // Nothing in the audit log names the customer.
    expect(JSON.stringify((await api("/api/audit?limit=1000", TOKENS.dpo)).body)).not.toContain(jid);
    // The filters and limit are exact; bad parameters are 400s, described in the document.
    const all = (await api("/api/audit", TOKENS.dpo)).body as any[];
    expect(all.map((e) => e.at)).toEqual([...all.map((e) => e.at)].sort().reverse());
    expect((await api("/api/audit?limit=1", TOKENS.dpo)).body).toHaveLength(1);
    expect((await api("/api/audit?from=2000-01-01&to=2000-01-02", TOKENS.dpo)).body).toEqual([]);
    for (const bad of ["?limit=0", "?actor=%3Cscript%3E", "?action=DROP", `?${MARK}=1`, "?from=yesterday"]) {
      const res = await api(`/api/audit${bad}`, TOKENS.dpo);
      expect(res.status).toBe(400);
      expect(res.text).not.toContain(MARK);
    }
  });
});

describe("queue-limited supervisors", () => {
  it("list only their queues and agents", async () => {
    await agent(ALICE);
    await agent(BOB);
    const tess = track(await connectAccount(r.config, TESS, "tess-pw"));
    expect((await completed(tess, "list-queues")).getChildText("note")).toMatch(/^sales: 0 waiting$/);
    const agents = (await completed(tess, "list-agents")).getChildText("note")!;
    expect(agents).toMatch(/bob@acme.test: ready/);
    expect(agents).not.toMatch(/alice/);
    const form = (await completed(tess, "set-agent-state")).getChild("x", NS.DATA)!.getChild("field")!;
    expect(form.getChildren("option").map((o) => o.getChildText("value"))).toEqual([BOB]);
    // An unlimited supervisor sees all.
    const sam = track(await connectAccount(r.config, SAM, "sam-pw"));
    expect((await completed(sam, "list-agents")).getChildText("note")).toMatch(/alice[\s\S]*bob|bob[\s\S]*alice/);
  });

  it("follow the wallboard of their queues only", async () => {
    const tess = track(await connectAccount(r.config, TESS, "tess-pw"));
    const x = xmlFor(tess);
    const items = (node: string) => iq(tess, CC, "get", x("pubsub", { xmlns: NS.PUBSUB }, x("items", { node })));
    expect((await items("queue/sales")).attrs.type).toBe("result");
    for (const node of ["queue/billing", "queues"]) expect(errorOf(await items(node))?.condition).toBe("forbidden");
    const sam = track(await connectAccount(r.config, SAM, "sam-pw"));
    const y = xmlFor(sam);
    expect((await iq(sam, CC, "get", y("pubsub", { xmlns: NS.PUBSUB }, y("items", { node: "queues" })))).attrs.type).toBe("result");
  });

  it("cannot force another queue's agent nor end another queue's session; what they may do is audited with their JID", async () => {
    await agent(ALICE);
    await agent(BOB);
    const tess = track(await connectAccount(r.config, TESS, "tess-pw"));
    const billing = await served("billing");
    const sales = await served("sales");

    const refusedState = await command(tess, "set-agent-state", { agent: ALICE, state: "not-ready", reason: "Coaching" });
    expect(errorOf(refusedState)).toMatchObject({ condition: "forbidden", text: "This agent is not in your queues." });
    // Nor with a resource or in capitals (the check is on the JID the CTI acts on).
    for (const spelled of [`${ALICE}/desk`, "Alice@acme.test"]) {
      expect(errorOf(await command(tess, "set-agent-state", { agent: spelled, state: "not-ready" }))?.condition).toMatch(/^(forbidden|item-not-found)$/);
    }
    expect(await r.app.cti.agent(ALICE)).toMatchObject({ state: "ready", reason: "" });
    const refusedEnd = await command(tess, "end-any-session", { session: billing.session });
    expect(errorOf(refusedEnd)).toMatchObject({ condition: "forbidden", text: "This session is not in your queues." });
    expect(await r.app.cti.session(billing.session)).toMatchObject({ state: "assigned" });
    // Nor monitor it (quality monitoring keeps to the same queues).
    const t = xmlFor(tess);
    expect(errorOf(await iq(tess, CC, "set", t("monitor", { xmlns: NS.SB, session: billing.session, mode: "silent" })))).toMatchObject({
      condition: "forbidden", text: "This session is in a queue you do not supervise.",
    });
    // The end form lists only its queues' sessions.
    const options = (await completed(tess, "end-any-session")).getChild("x", NS.DATA)!.getChild("field")!.getChildren("option").map((o) => o.getChildText("value"));
    expect(options).toEqual([sales.session]);

    await completed(tess, "end-any-session", { session: sales.session });
    expect(await r.app.cti.session(sales.session)).toMatchObject({ state: "ended", endReason: "supervisor" });
    await completed(tess, "set-agent-state", { agent: BOB, state: "not-ready", reason: "Coaching" });
    expect(await r.app.cti.agent(BOB)).toMatchObject({ state: "not-ready", reason: "Coaching" });

    const entries = await auditUntil(`?actor=${TESS}`, (e) => e.length >= 2, "tess's actions audited");
    expect(entries.map((e) => [e.actor, e.action, e.target, e.detail])).toEqual([
      [TESS, "set-agent-state", BOB, "not-ready: Coaching"],
      [TESS, "end-session", sales.session, "queue sales, chat"],
    ]);
    // The refusals did nothing, so nothing of them is in the log.
    expect(entries.some((e) => e.target === ALICE || e.target === billing.session)).toBe(false);

    // An unlimited supervisor may act on any queue; audited the same way.
    const sam = track(await connectAccount(r.config, SAM, "sam-pw"));
    await completed(sam, "end-any-session", { session: billing.session });
    const samEntries = await auditUntil(`?actor=${SAM}&action=end-session`, (e) => e.some((x) => x.target === billing.session), "sam's end audited");
    expect(samEntries[0]).toMatchObject({ actor: SAM, detail: "queue billing, chat" });
  });

  it("an agent cannot run supervisor commands", async () => {
    const alice = await agent(ALICE);
    for (const node of ["list-queues", "list-agents", "set-agent-state", "end-any-session"]) {
      expect(errorOf(await command(alice, node))?.condition).toBe("forbidden");
    }
    expect(errorOf(await command(alice, "set-agent-state", { agent: BOB, state: "offline" }))?.condition).toBe("forbidden");
  });
});

describe("the audit table (records/)", () => {
  const day = 86_400_000;
  const now = Date.parse("2026-12-01T12:00:00Z");
  const audit = (actor: string, action: string, target: string, at: number): CtiEvent => ({ type: "audit", actor, action, target, detail: "", at });

  it("keeps entries for audit.retentionDays, longer than the events they came from; erasure leaves them", async () => {
    const h = await freshHistory("sqlite");
    try {
      let n = 0;
      await applyEvents(h, [
        audit("token:dpo", "erase", customerHash("zoe@acme.test"), now - 800 * day),
        audit(SAM, "end-session", "s-old", now - 400 * day),
        ...servedSession("s-new", "zoe@acme.test", ALICE, now - day),
        audit(SAM, "end-session", "s-new", now - day + 5000),
      ].map((event) => ({ id: `${now}-${n++}`, event })));
      // Applied twice (a crash before the acknowledgement): recorded once.
      await applyEvents(h, [{ id: `${now}-0`, event: audit("token:dpo", "erase", "x", now - 800 * day) }]);
      const targets = async () => (await auditEntries(h, { from: 0, to: now, limit: 100 })).map((e) => e.target);
      expect(await targets()).toEqual(["s-new", "s-old", customerHash("zoe@acme.test")]);
      await eraseCustomer(h, "zoe@acme.test", now);
      expect(await targets()).toEqual(["s-new", "s-old", customerHash("zoe@acme.test")]);
      // Queues keep 365 days: the session-less audit events of 400 days go from the events table, not from the audit log (730).
      await applyRetention(h, { billing: 365 }, now, 730);
      expect(await targets()).toEqual(["s-new", "s-old"]);
      expect(await h.db.selectFrom("events").select("id").where("type", "=", "audit").execute()).toHaveLength(1);
      await applyRetention(h, { billing: 365 }, now, 30);
      expect(await targets()).toEqual(["s-new"]);
      expect(await auditEntries(h, { from: 0, to: now, actor: "token:dpo", limit: 100 })).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
