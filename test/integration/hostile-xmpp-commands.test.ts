/**
 * Issue 9 item 4, hostile input over real XMPP: addresses, service discovery, ad-hoc commands and
 * transfers. One `it` per case, through real clients (a guest, or another resource of alice, bob or the
 * supervisor sam that sends no presence, so the agents' state is untouched); each asserts the exact
 * stanza error or result, a small reply (its latency printed, not asserted), and the state left as it was. After every case
 * the component is still connected and a normal customer is still served (test/helpers/hostile.ts).
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { ALICE, BOB, CC, NS, SAM, badAction, byId, exchange, expectError, hostileSuite, joinAssigned, label, stanza, timedIq, noteLatency } from "../helpers/hostile.js";
import { COMMAND } from "../../protocol/names.js";
import { nextId, received, waitFor, xmlFor } from "../helpers/xmpp.js";

const h = hostileSuite();

const NOT_FOUND = { condition: "item-not-found", type: "cancel" };
const BAD = { condition: "bad-request", type: "modify" };
const FORBIDDEN = { condition: "forbidden", type: "auth" };

type Who = "guest" | "alice" | "sam";
/** A client for `who`: a fresh guest, or a new resource of the account without presence. */
const client = (who: Who) => (who === "guest" ? h.guest() : h.account(who === "alice" ? ALICE : SAM));

// -------------------------------------------------------------------------------------------------
// Addresses

describe("an '@' (and other odd characters) in the component's resource: cc answers as itself", () => {
  const RESOURCES = ["a@b", "@", "a@b@c", "x@cc.acme.test", "billing@cc.acme.test", "a@b/c/d"];
  const rows = RESOURCES.flatMap((res) => [
    [`ping to cc.acme.test/${res}: result`, res, "ping"],
    [`disco#info to cc.acme.test/${res}: the component's identity`, res, "disco"],
    [`a guest's chat to cc.acme.test/${res}: the guide text`, res, "chat"],
  ] as Array<[string, string, "ping" | "disco" | "chat"]>);
  it.each(rows)("%s", async (_name, res, what) => {
    const c = await h.guest();
    const xml = xmlFor(c);
    const to = `${CC}/${res}`;
    if (what === "ping") expect((await timedIq(c, to, "get", xml("ping", { xmlns: NS.PING }))).attrs.type).toBe("result");
    if (what === "disco") {
      const identity = (await timedIq(c, to, "get", xml("query", { xmlns: NS.DISCO_INFO }))).getChild("query", NS.DISCO_INFO)?.getChild("identity");
      expect(identity?.attrs).toMatchObject({ category: "component", type: "generic" });
    }
    if (what === "chat") {
      const t0 = Date.now();
      await c.send(xml("message", { to, type: "chat" }, xml("body", {}, "hello?")));
      const reply = await waitFor(c, (s) => s.is("message") && !!s.getChildText("body"), 3000, "the guide text");
      noteLatency(Date.now() - t0);
      expect(reply.attrs.type).toBe("chat");
      expect(reply.getChildText("body")).toMatch(/^To reach an agent, write to a queue/);
    }
  });
});

describe("an unknown queue: item-not-found, whatever is sent to it", () => {
  const NAMES = ["nosuch", "__proto__", "constructor", "tostring", "billing-", "q".repeat(1000)];
  type Send = (c: Client, to: string) => Promise<Element>;
  const viaIq = (type: "get" | "set", build: (xml: ReturnType<typeof xmlFor>) => Element): Send =>
    (c, to) => timedIq(c, to, type, build(xmlFor(c)));
  /** A presence (or message) by raw XML; the reply is the error with its id. */
  const viaRaw = (kind: "presence" | "message", attrs: Record<string, string>, body = ""): Send => async (c, to) => {
    // Prosody sends a subscribe on from the bare JID, and delivers presence to a bare JID only to
    // available resources: as a roster client would, the guest is available first.
    if (attrs.type === "subscribe") await c.send(xmlFor(c)("presence"));
    const id = nextId("q");
    const { reply, ms } = await exchange(c, stanza(kind, { ...attrs, to, id }, body), byId(id));
    noteLatency(ms);
    return reply;
  };
  const KINDS: Array<[string, Send]> = [
    ["join-queue", viaIq("set", (xml) => xml("join-queue", { xmlns: NS.WG }))],
    ["depart-queue", viaIq("set", (xml) => xml("depart-queue", { xmlns: NS.WG }))],
    ["queue-status poll", viaIq("get", (xml) => xml("queue-status", { xmlns: NS.WG }))],
    ["disco#info", viaIq("get", (xml) => xml("query", { xmlns: NS.DISCO_INFO }))],
    ["disco#items", viaIq("get", (xml) => xml("query", { xmlns: NS.DISCO_ITEMS }))],
    ["ping", viaIq("get", (xml) => xml("ping", { xmlns: NS.PING }))],
    ["presence probe", viaRaw("presence", { type: "probe" })],
    ["presence subscribe", viaRaw("presence", { type: "subscribe" })],
    ["chat message", viaRaw("message", { type: "chat" }, "<body>hello</body>")],
  ];
  const rows = NAMES.flatMap((name) => KINDS.map(([kind, send]) => [`${kind} to ${label(name)}@cc.acme.test`, name, kind, send] as const));
  it.each(rows)("%s", async (_name, name, kind, send) => {
    const c = await h.guest();
    const to = `${name}@${CC}`;
    const reply = await send(c, to);
    expectError(reply, NOT_FOUND, [name.slice(0, 64)]); // in the error's text: never (the addresses may name it)
    if (kind.startsWith("presence")) {
      // and no available presence (or subscribed) from the unknown queue, ever: a ping after it tells
      await timedIq(c, CC, "get", xmlFor(c)("ping", { xmlns: NS.PING }));
      expect(received(c).filter((s) => s.is("presence") && s.attrs.from?.split("/")[0] === to && s.attrs.type !== "error")).toEqual([]);
    }
  });
});

// -------------------------------------------------------------------------------------------------
// Service discovery

describe("disco nodes on cc", () => {
  const UNKNOWN = ["urn:x", "__proto__", "constructor", "", "toString", "n".repeat(10_000), COMMAND.endSession /* not the guest's */];
  const unknownRows = UNKNOWN.flatMap((node) => (["disco#info", "disco#items"] as const).map((kind) => [`${kind} with node ${label(node)} from a guest: item-not-found`, node, kind] as const));
  it.each(unknownRows)("%s", async (_name, node, kind) => {
    const c = await h.guest();
    const reply = await timedIq(c, CC, "get", xmlFor(c)("query", { xmlns: kind === "disco#info" ? NS.DISCO_INFO : NS.DISCO_ITEMS, node }));
    expectError(reply, NOT_FOUND, node.length >= 5 ? [node.slice(0, 64)] : []);
  });

  const STAFF_NODES = [COMMAND.inviteExpert, COMMAND.leaveSession]; // issue 15: agents and supervisors alike
  const AGENT_NODES = [COMMAND.endSession, COMMAND.endWrapUp, COMMAND.transfer, COMMAND.pause, COMMAND.ready, ...STAFF_NODES];
  const SUPERVISOR_NODES = [COMMAND.listQueues, COMMAND.listAgents, COMMAND.setAgentState, COMMAND.endAnySession, COMMAND.listSessions, COMMAND.transferSession, COMMAND.adjustAgent, COMMAND.monitor, COMMAND.whisper, COMMAND.barge, COMMAND.stopMonitoring, ...STAFF_NODES];
  const listRows: Array<[string, Who, string[]]> = [
    ["a guest: no command", "guest", []],
    ["alice: the agent commands", "alice", AGENT_NODES],
    ["sam: the supervisor commands", "sam", SUPERVISOR_NODES],
  ];
  it.each(listRows)("disco#items on the commands node for %s", async (_name, who, nodes) => {
    const c = await client(who);
    const reply = await timedIq(c, CC, "get", xmlFor(c)("query", { xmlns: NS.DISCO_ITEMS, node: NS.COMMANDS }));
    expect(reply.getChild("query", NS.DISCO_ITEMS)!.getChildren("item").map((i) => i.attrs.node).sort()).toEqual([...nodes].sort());
  });
  it.each(listRows.map(([name, who]) => [name, who] as const))("disco#info on the commands node for %s: a command list", async (_name, who) => {
    const c = await client(who);
    const reply = await timedIq(c, CC, "get", xmlFor(c)("query", { xmlns: NS.DISCO_INFO, node: NS.COMMANDS }));
    expect(reply.getChild("query", NS.DISCO_INFO)!.getChild("identity")!.attrs).toMatchObject({ category: "automation", type: "command-list" });
  });

  const nodeRows: Array<[string, Who, string, boolean]> = [
    ...AGENT_NODES.map((n): [string, Who, string, boolean] => [`${n} by alice`, "alice", n, true]),
    ...SUPERVISOR_NODES.map((n): [string, Who, string, boolean] => [`${n} by sam`, "sam", n, true]),
    ...SUPERVISOR_NODES.filter((n) => !(STAFF_NODES as string[]).includes(n)).map((n): [string, Who, string, boolean] => [`${n} by alice`, "alice", n, false]),
    ...AGENT_NODES.filter((n) => !(STAFF_NODES as string[]).includes(n)).map((n): [string, Who, string, boolean] => [`${n} by sam`, "sam", n, false]),
  ];
  it.each(nodeRows)("disco#info on the command node %s", async (_name, who, node, may) => {
    const c = await client(who);
    const reply = await timedIq(c, CC, "get", xmlFor(c)("query", { xmlns: NS.DISCO_INFO, node }));
    if (!may) return expectError(reply, NOT_FOUND);
    expect(reply.getChild("query", NS.DISCO_INFO)!.getChild("identity")!.attrs).toMatchObject({ category: "automation", type: "command-node" });
  });
});

// -------------------------------------------------------------------------------------------------
// The wallboard's pubsub service (XEP-0060; the rest in wallboard.test.ts)

describe("pubsub on cc: hostile nodes, JIDs and senders get XEP-0060's exact error, nothing repeated, nothing subscribed", () => {
  const PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors";
  const INVALID_JID = { condition: "bad-request", type: "modify", app: "invalid-jid" };
  const NODEID_REQUIRED = { condition: "bad-request", type: "modify", app: "nodeid-required" };
  const UNKNOWN_NODE = { condition: "item-not-found", type: "cancel", app: undefined };
  const REFUSED = { condition: "forbidden", type: "auth", app: undefined };
  type Op = "subscribe" | "items";
  type Row = [name: string, who: Who, op: Op, node: string | undefined, jid: (own: string) => string | undefined, expected: { condition: string; type: string; app: string | undefined }];
  const NODES = ["__proto__", "constructor", "queue/", "queue/__proto__", "QUEUE/billing", "queue/billing/", "n".repeat(10_000), "<b>x</b>"];
  const JIDS: Array<[string, (own: string) => string]> = [
    ["10 KB", () => `${"j".repeat(10_000)}@acme.test`], ["an empty resource", (own) => `${own}/`], ["'@'", () => "@"],
    ["markup", () => "<b>sam</b>@acme.test"], ["bob's", () => BOB], ["the domain", () => "acme.test"], ["the component", () => CC],
  ];
  const rows: Row[] = [
    ...NODES.flatMap((node) => (["subscribe", "items"] as Op[]).map((op): Row => [`${op} node ${label(node)} (sam): item-not-found`, "sam", op, node, (own) => own, UNKNOWN_NODE])),
    ...(["subscribe", "items"] as Op[]).map((op): Row => [`${op} node '' (sam): nodeid-required`, "sam", op, "", (own) => own, NODEID_REQUIRED]),
    ...JIDS.map(([name, jid]): Row => [`subscribe with jid ${name} (sam): invalid-jid`, "sam", "subscribe", "queue/billing", jid, INVALID_JID]),
    ...(["guest", "alice"] as Who[]).flatMap((who) => (["subscribe", "items"] as Op[]).flatMap((op) =>
      ["queue/billing", "queues"].map((node): Row => [`${op} ${node} by ${who}: forbidden`, who, op, node, (own) => own, REFUSED]))),
  ];
  it.each(rows)("%s", async (_name, who, op, node, jid, expected) => {
    const c = await client(who);
    const xml = xmlFor(c);
    const own = c.jid!.bare().toString();
    const sent = jid(own);
    const reply = await timedIq(c, CC, op === "subscribe" ? "set" : "get",
      xml("pubsub", { xmlns: NS.PUBSUB }, xml(op, { node, jid: op === "subscribe" ? sent : undefined })));
    const { app, ...stanzaError } = expected;
    expectError(reply, stanzaError, [node, sent].filter((v): v is string => !!v && v.length > 24).map((v) => v.slice(0, 64)));
    expect(reply.getChild("error")!.getChildElements().find((e) => e.attrs.xmlns === PUBSUB_ERRORS)?.name).toBe(app);
    const keys = h.r().app.store.keys;
    expect(await h.r().app.redis.scard(keys.wallboard("queue/billing")) + await h.r().app.redis.scard(keys.wallboard("queues"))).toBe(0);
  });
});

// -------------------------------------------------------------------------------------------------
// Ad-hoc commands

interface CommandOpts { action?: string; form?: { type: string; fields: Record<string, string> }; node?: string | null }
function command(c: Client, node: string | null, { action, form }: CommandOpts = {}): Promise<Element> {
  const xml = xmlFor(c);
  const x = form && xml("x", { xmlns: NS.DATA, type: form.type },
    ...Object.entries(form.fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))));
  return timedIq(c, CC, "set", xml("command", { xmlns: NS.COMMANDS, node: node ?? undefined, action }, x));
}
const statusOf = (reply: Element) => reply.getChild("command", NS.COMMANDS)?.attrs.status;
const agentState = async (jid: string) => (await h.api("/api/agents")).find((a: { jid: string }) => a.jid === jid);

describe("ad-hoc commands: unknown nodes are item-not-found for anyone", () => {
  const NODES: Array<string | null> = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "", null, "c".repeat(10_000), "nosuch", "END-SESSION"];
  const rows = NODES.flatMap((node) => (["guest", "alice", "sam"] as Who[]).map((who) => [`${node === null ? "no node attribute" : label(node)} from ${who}`, node, who] as const));
  it.each(rows)("%s", async (_name, node, who) => {
    const c = await client(who);
    expectError(await command(c, node, { action: "execute" }), NOT_FOUND, node && node.length >= 5 ? [node.slice(0, 64)] : []);
  });
});

describe("ad-hoc commands: a known command without the role is forbidden (auth)", () => {
  const AGENT = [COMMAND.endSession, COMMAND.endWrapUp, COMMAND.transfer, COMMAND.pause, COMMAND.ready];
  const SUPERVISOR = [COMMAND.listQueues, COMMAND.listAgents, COMMAND.setAgentState, COMMAND.endAnySession, COMMAND.monitor, COMMAND.whisper, COMMAND.barge, COMMAND.stopMonitoring];
  const rows: Array<[string, Who, string]> = [
    ...[...AGENT, ...SUPERVISOR].map((n): [string, Who, string] => [`${n} by a guest`, "guest", n]),
    ...SUPERVISOR.map((n): [string, Who, string] => [`${n} by alice (an agent)`, "alice", n]),
    ...AGENT.map((n): [string, Who, string] => [`${n} by sam (a supervisor)`, "sam", n]),
  ];
  it.each(rows)("%s", async (_name, who, node) => {
    const c = await client(who);
    expectError(await command(c, node), FORBIDDEN);
  });
});

describe("ad-hoc commands: action cancel is canceled, nothing applied", () => {
  const rows: Array<[string, Who, string]> = [
    ...[COMMAND.endSession, COMMAND.endWrapUp, COMMAND.transfer, COMMAND.pause, COMMAND.ready].map((n): [string, Who, string] => [`${n} by alice`, "alice", n]),
    ...[COMMAND.listQueues, COMMAND.listAgents, COMMAND.setAgentState, COMMAND.endAnySession, COMMAND.monitor, COMMAND.whisper, COMMAND.barge, COMMAND.stopMonitoring].map((n): [string, Who, string] => [`${n} by sam`, "sam", n]),
  ];
  it.each(rows)("%s", async (_name, who, node) => {
    const c = await client(who);
    const reply = await command(c, node, { action: "cancel" });
    expect(reply.attrs.type).toBe("result");
    expect(statusOf(reply)).toBe("canceled");
    expect((await agentState(ALICE)).state).toBe("ready");
  });

  it("pause with a reason and action cancel: canceled, bob stays ready", async () => {
    await h.agent(BOB);
    const c = await h.account(BOB);
    expect(statusOf(await command(c, COMMAND.pause, { action: "cancel", form: { type: "submit", fields: { reason: "Lunch" } } }))).toBe("canceled");
    expect(await agentState(BOB)).toMatchObject({ state: "ready", reason: "" });
  });
});

describe("ad-hoc commands: a submitted form of type cancel is canceled, nothing applied", () => {
  it("pause with reason Lunch in a cancel form: bob stays ready", async () => {
    await h.agent(BOB);
    const c = await h.account(BOB);
    expect(statusOf(await command(c, COMMAND.pause, { action: "complete", form: { type: "cancel", fields: { reason: "Lunch" } } }))).toBe("canceled");
    expect(await agentState(BOB)).toMatchObject({ state: "ready", reason: "" });
  });

  it("ready in a cancel form: bob stays not ready", async () => {
    await h.agent(BOB, "away");
    const c = await h.account(BOB);
    expect(statusOf(await command(c, COMMAND.ready, { form: { type: "cancel", fields: {} } }))).toBe("canceled");
    expect((await agentState(BOB)).state).toBe("not-ready");
  });

  it("set-agent-state bob not-ready in a cancel form (sam): bob stays ready", async () => {
    await h.agent(BOB);
    const c = await client("sam");
    expect(statusOf(await command(c, COMMAND.setAgentState, { action: "complete", form: { type: "cancel", fields: { agent: BOB, state: "not-ready", reason: "x" } } }))).toBe("canceled");
    expect((await agentState(BOB)).state).toBe("ready");
  });

  it("end-session with the session in a cancel form: the session goes on", async () => {
    const { session } = await joinAssigned(await h.guest());
    const c = await client("alice");
    expect(statusOf(await command(c, COMMAND.endSession, { action: "complete", form: { type: "cancel", fields: { session } } }))).toBe("canceled");
    expect((await h.r().app.cti.session(session))?.state).toBe("assigned");
  });

  it("transfer to queue:billing in a cancel form: the session stays with alice", async () => {
    const { session } = await joinAssigned(await h.guest());
    const c = await client("alice");
    expect(statusOf(await command(c, COMMAND.transfer, { action: "complete", form: { type: "cancel", fields: { session, target: "queue:billing" } } }))).toBe("canceled");
    expect(await h.r().app.cti.session(session)).toMatchObject({ state: "assigned", seat: ALICE });
  });

  it.each(["form", "result", "bogus"])("pause with a form of type %s: bad-request, bob stays ready", async (type) => {
    await h.agent(BOB);
    const c = await h.account(BOB);
    expectError(await command(c, COMMAND.pause, { action: "complete", form: { type, fields: { reason: "Lunch" } } }), BAD);
    expect((await agentState(BOB)).state).toBe("ready");
  });
});

describe("ad-hoc commands: an unknown action is bad-request with <bad-action/>", () => {
  const ACTIONS = ["explode", "prev", "Cancel", "cancel ", "__proto__", "a".repeat(10_000)];
  const rows = ACTIONS.flatMap((action) => [
    [`${label(action)} on ready by alice`, action, "alice", COMMAND.ready],
    [`${label(action)} on list-queues by sam`, action, "sam", COMMAND.listQueues],
  ] as Array<[string, string, Who, string]>);
  it.each(rows)("%s", async (_name, action, who, node) => {
    const c = await client(who);
    const reply = await command(c, node, { action });
    expectError(reply, BAD, action.length >= 6 && !/cancel/i.test(action) ? [action.slice(0, 64)] : []);
    expect(badAction(reply)).toBeTruthy();
    expect((await agentState(ALICE)).state).toBe("ready");
  });
});

describe("set-agent-state (sam) with hostile agent JIDs and states: bob's state unchanged", () => {
  type Fields = (guestJid: string) => Record<string, string>;
  const rows: Array<[string, Fields, { condition: string; type: string }]> = [
    ["agent nosuch@acme.test: item-not-found", () => ({ agent: "nosuch@acme.test", state: "not-ready" }), NOT_FOUND],
    ["agent sam@acme.test (a supervisor): item-not-found", () => ({ agent: SAM, state: "not-ready" }), NOT_FOUND],
    ["agent <a guest's JID>: item-not-found", (g) => ({ agent: g, state: "offline" }), NOT_FOUND],
    ["agent __proto__: item-not-found", () => ({ agent: "__proto__", state: "ready" }), NOT_FOUND],
    ["agent of 10 KB: item-not-found", () => ({ agent: `${"a".repeat(10_000)}@acme.test`, state: "not-ready" }), NOT_FOUND],
    ["state 'bogus': bad-request", () => ({ agent: BOB, state: "bogus" }), BAD],
    ["state 'Ready' (the states are lower case): bad-request", () => ({ agent: BOB, state: "Ready" }), BAD],
    ["state of 10 KB: bad-request", () => ({ agent: BOB, state: "s".repeat(10_000) }), BAD],
  ];
  it.each(rows)("%s", async (_name, fields, expected) => {
    await h.agent(BOB);
    const stranger = await h.guest();
    const c = await client("sam");
    const sent = fields(stranger.jid!.toString());
    const reply = await command(c, COMMAND.setAgentState, { action: "complete", form: { type: "submit", fields: { ...sent, reason: "hostile" } } });
    expectError(reply, expected, Object.values(sent).filter((v) => v.length > 100).map((v) => v.slice(0, 64)));
    expect(await agentState(BOB)).toMatchObject({ state: "ready", reason: "" });
  });
});

describe("end-any-session (sam) with sessions that do not exist: item-not-found, nothing repeated", () => {
  const rows: Array<[string, string]> = [
    ["an unknown id", "s000000000000"], ["__proto__", "__proto__"], ["an id of 10 KB", "s".repeat(10_000)], ["markup", "<b>x</b>"],
  ];
  it.each(rows)("%s", async (_name, session) => {
    const c = await client("sam");
    expectError(await command(c, COMMAND.endAnySession, { action: "complete", form: { type: "submit", fields: { session } } }), NOT_FOUND,
      session.length > 100 ? [session.slice(0, 64)] : []);
  });
});

// -------------------------------------------------------------------------------------------------
// Transfer

describe("transfer: targets that are not another ready agent or a queue", () => {
  type Target = (guestJid: string) => string;
  const rows: Array<[string, Target, { condition: string; type: string } | "bob"]> = [
    ["agent:alice@acme.test (yourself): bad-request", () => `agent:${ALICE}`, BAD],
    ["agent:Alice@ACME.test (yourself, other case): bad-request", () => "agent:Alice@ACME.test", BAD],
    ["agent:alice@acme.test/desk (yourself, a resource): bad-request", () => `agent:${ALICE}/desk`, BAD],
    ["agent:nosuch@acme.test: item-not-found", () => "agent:nosuch@acme.test", NOT_FOUND],
    ["agent:sam@acme.test (a supervisor): item-not-found", () => `agent:${SAM}`, NOT_FOUND],
    ["agent:<the customer's bare JID>: item-not-found", (g) => `agent:${g.split("/")[0]}`, NOT_FOUND],
    ["agent:<the customer's full JID>: item-not-found", (g) => `agent:${g}`, NOT_FOUND],
    ["agent:__proto__: item-not-found", () => "agent:__proto__", NOT_FOUND],
    ["agent:<10 KB>: item-not-found", () => `agent:${"z".repeat(10_000)}@acme.test`, NOT_FOUND],
    ["agent:bob@acme.test while bob is away: service-unavailable", () => `agent:${BOB}`, { condition: "service-unavailable", type: "cancel" }],
    ["bob@acme.test (no agent: or queue:): bad-request", () => BOB, BAD],
    ["agent: (empty): bad-request", () => "agent:", BAD],
    ["queue: (empty): bad-request", () => "queue:", BAD],
    ["Agent:bob@acme.test (the kind is case-sensitive): bad-request", () => `Agent:${BOB}`, BAD],
    ["queue:nosuch: item-not-found", () => "queue:nosuch", NOT_FOUND],
    ["queue:__proto__: item-not-found", () => "queue:__proto__", NOT_FOUND],
    ["agent:Bob@acme.test (another case) while bob is ready: completed", () => "agent:Bob@acme.test", "bob"],
    ["agent:BOB@ACME.TEST while bob is ready: completed", () => "agent:BOB@ACME.TEST", "bob"],
  ];
  it.each(rows)("%s", async (name, target, expected) => {
    const customer = await h.guest();
    const { session } = await joinAssigned(customer);
    if (expected === "bob") await h.agent(BOB);
    if (name.includes("bob is away")) await h.agent(BOB, "away");
    const c = await client("alice");
    const to = target(customer.jid!.toString());
    const reply = await command(c, COMMAND.transfer, { action: "complete", form: { type: "submit", fields: { session, target: to, note: "n" } } });
    if (expected === "bob") {
      expect(statusOf(reply)).toBe("completed");
      expect(await h.r().app.cti.session(session)).toMatchObject({ state: "assigned", seat: BOB });
      return;
    }
    expectError(reply, expected, to.length > 8 ? [to.slice(0, 64)] : []);
    expect(await h.r().app.cti.session(session)).toMatchObject({ state: "assigned", seat: ALICE });
  });

  it("a session that does not exist: item-not-found", async () => {
    const c = await client("alice");
    expectError(await command(c, COMMAND.transfer, { action: "complete", form: { type: "submit", fields: { session: "snope", target: "queue:billing" } } }), NOT_FOUND);
  });

  it("someone else's session (bob transfers alice's customer): forbidden, the session stays", async () => {
    const { session } = await joinAssigned(await h.guest());
    const c = await h.account(BOB);
    expectError(await command(c, COMMAND.transfer, { action: "complete", form: { type: "submit", fields: { session, target: "queue:billing" } } }), FORBIDDEN);
    expect(await h.r().app.cti.session(session)).toMatchObject({ state: "assigned", seat: ALICE });
  });
});
