/**
 * Issue 13 item 4: the wallboard any XMPP client can follow. The component is a XEP-0060 pubsub service
 * with a node per queue ("queue/billing") and one for all ("queues"); supervisors subscribe and get each
 * change of the figures as an event notification with a plain <body/>, at most once a second per node.
 * Everyone else is refused; malformed requests get XEP-0060's exact errors; subscriptions outlive a
 * restart of the component (docs/protocol.md, "Wallboard (XEP-0060)").
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS, WALLBOARD } from "../../protocol/names.js";
import { BILLING, CC, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { connectAccount, received, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
/** The supervisor, available (a headline to a bare JID reaches available resources only). */
let sam: Client;
afterAll(async () => { await stopAll(sam); }); // declared first: runs before the stack stops
const { guest, agent, track } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });

const SAM = "sam@acme.test";
const ALICE = "alice@acme.test";
const BOB = "bob@acme.test";
const NODE = `${WALLBOARD.queuePrefix}billing`;
const NODES = [NODE, `${WALLBOARD.queuePrefix}vip`, WALLBOARD.all];

beforeAll(async () => {
  sam = await connectAccount(r.config, SAM, "sam-pw", "board");
  await sam.send(xmlFor(sam)("presence"));
});
// Each test starts with no subscription (they live in Redis, across tests and restarts).
beforeEach(async () => { await r.app.redis.del(...NODES.map((n) => r.app.store.keys.wallboard(n))); });

type Xml = ReturnType<typeof xmlFor>;
const pubsub = (c: Client, type: "get" | "set", op: (xml: Xml) => Element | Element[], to = CC) => {
  const xml = xmlFor(c);
  const ops = op(xml);
  return iq(c, to, type, xml("pubsub", { xmlns: NS.PUBSUB }, ...(Array.isArray(ops) ? ops : [ops])));
};
const subscribe = (c: Client, node: string | undefined, jid: string | undefined) => pubsub(c, "set", (xml) => xml("subscribe", { node, jid }));
const unsubscribe = (c: Client, node: string | undefined, jid: string | undefined, subid?: string) => pubsub(c, "set", (xml) => xml("unsubscribe", { node, jid, subid }));
const items = (c: Client, node: string | undefined) => pubsub(c, "get", (xml) => xml("items", { node }));
const subscriptionsOf = async (c: Client) =>
  (await pubsub(c, "get", (xml) => xml("subscriptions"))).getChild("pubsub", NS.PUBSUB)!.getChild("subscriptions")!
    .getChildren("subscription").map((s) => s.attrs);

/** A wallboard notification of `node` (XEP-0060 7.1.2.1), optionally with these figures. */
const isNotification = (node: string, figures: Record<string, string> = {}) => (s: Element) => {
  if (!s.is("message") || s.attrs.from !== CC) return false;
  const items = s.getChild("event", NS.PUBSUB_EVENT)?.getChild("items");
  const item = items?.getChild("item");
  if (items?.attrs.node !== node || !item) return false;
  const q = item.getChild("queue", NS.STATS);
  return Object.entries(figures).every(([k, v]) => q?.attrs[k] === v);
};
const figuresOf = (s: Element) => s.getChild("event", NS.PUBSUB_EVENT)!.getChild("items")!.getChild("item")!.getChild("queue", NS.STATS)!.attrs;
/** The exact XEP-0060 error: stanza condition, type and the pubsub#errors condition (or none). */
const pubsubError = (reply: Element) => {
  const e = reply.getChild("error");
  const app = e?.getChildElements().find((c) => c.attrs.xmlns === NS.PUBSUB_ERRORS);
  return { ...errorOf(reply), text: undefined, app: app?.name, feature: app?.attrs.feature };
};

const joinBilling = async (c: Client) => {
  const reply = await iq(c, BILLING, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }));
  expect(reply.attrs.type).toBe("result");
};

describe("discovery", () => {
  it("disco#info lists the pubsub service and features; disco#items the nodes; each node is a leaf with one item", async () => {
    const c = await guest();
    const xml = xmlFor(c);
    const info = (await iq(c, CC, "get", xml("query", { xmlns: NS.DISCO_INFO }))).getChild("query", NS.DISCO_INFO)!;
    expect(info.getChildren("identity").map((i) => `${i.attrs.category}/${i.attrs.type}`)).toContain("pubsub/service");
    expect(info.getChildren("feature").map((f) => f.attrs.var)).toEqual(expect.arrayContaining([
      NS.PUBSUB, `${NS.PUBSUB}#subscribe`, `${NS.PUBSUB}#retrieve-items`, `${NS.PUBSUB}#retrieve-subscriptions`,
    ]));
    expect(info.getChildren("feature").map((f) => f.attrs.var)).not.toContain(`${NS.PUBSUB}#publish`);
    const list = (await iq(c, CC, "get", xml("query", { xmlns: NS.DISCO_ITEMS }))).getChild("query", NS.DISCO_ITEMS)!.getChildren("item");
    expect(list.filter((i) => i.attrs.node).map((i) => [i.attrs.jid, i.attrs.node])).toEqual(NODES.map((n) => [CC, n]));
    const node = (await iq(c, CC, "get", xml("query", { xmlns: NS.DISCO_INFO, node: NODE }))).getChild("query", NS.DISCO_INFO)!;
    expect(node.attrs.node).toBe(NODE);
    expect(node.getChild("identity")!.attrs).toMatchObject({ category: "pubsub", type: "leaf" });
    const meta = Object.fromEntries(node.getChild("x", NS.DATA)!.getChildren("field").map((f) => [f.attrs.var, f.getChildText("value")]));
    expect(meta).toMatchObject({ FORM_TYPE: `${NS.PUBSUB}#meta-data`, "pubsub#type": NS.STATS });
    const nodeItems = (await iq(c, CC, "get", xml("query", { xmlns: NS.DISCO_ITEMS, node: NODE }))).getChild("query", NS.DISCO_ITEMS)!;
    expect(nodeItems.getChildren("item").map((i) => i.attrs)).toEqual([{ jid: CC, name: WALLBOARD.item }]);
  });
});

describe("a supervisor follows a queue", () => {
  it("subscribes, gets the current item, then a notification when an agent goes not ready and when a customer joins", async () => {
    const alice = await agent(ALICE);
    const sub = await subscribe(sam, NODE, SAM);
    expect(sub.attrs.type).toBe("result");
    expect(sub.getChild("pubsub", NS.PUBSUB)!.getChild("subscription")!.attrs).toEqual({ node: NODE, jid: SAM, subscription: "subscribed" });
    expect(await subscriptionsOf(sam)).toEqual([{ node: NODE, jid: SAM, subscription: "subscribed" }]);

    // The last published item on subscription (XEP-0060 6.1.7), with a body for plain clients.
    const first = await waitFor(sam, isNotification(NODE), 5000, "the item on subscription");
    expect(first.attrs.type).toBe("headline");
    expect(figuresOf(first)).toMatchObject({ name: "billing", waiting: "0", "longest-wait": "0", "agents-ready": "1", "agents-busy": "0", "agents-not-ready": "0", "agents-offline": "1" });
    expect(first.getChildText("body")).toBe("billing: nobody waiting; agents: 1 ready, 0 busy, 0 in wrap-up, 0 not ready");
    // An item that does not exist: an empty <items/>, as XEP-0060 says.
    const none = (await pubsub(sam, "get", (xml) => xml("items", { node: NODE }, xml("item", { id: "yesterday" })))).getChild("pubsub", NS.PUBSUB)!.getChild("items")!;
    expect(none.attrs.node).toBe(NODE);
    expect(none.getChildren("item")).toEqual([]);
    // The same figures by retrieval (XEP-0060 6.5).
    const got = (await items(sam, NODE)).getChild("pubsub", NS.PUBSUB)!.getChild("items")!;
    expect(got.attrs.node).toBe(NODE);
    expect(got.getChild("item")!.attrs.id).toBe(WALLBOARD.item);
    expect(got.getChild("item")!.getChild("queue", NS.STATS)!.attrs).toMatchObject({ waiting: "0", "agents-ready": "1", "agents-not-ready": "0" });

    // An agent goes not ready.
    await alice.send(xmlFor(alice)("presence", {}, xmlFor(alice)("show", {}, "away")));
    const paused = await waitFor(sam, isNotification(NODE, { "agents-not-ready": "1" }), 5000, "alice not ready");
    expect(figuresOf(paused)).toMatchObject({ waiting: "0", "agents-ready": "0", "agents-not-ready": "1" });
    expect(paused.getChildText("body")).toBe("billing: nobody waiting; agents: 0 ready, 0 busy, 0 in wrap-up, 1 not ready");

    // A customer joins: nobody is ready, so the customer waits.
    await joinBilling(await guest());
    const joined = await waitFor(sam, isNotification(NODE, { waiting: "1" }), 5000, "a customer waiting");
    expect(figuresOf(joined)).toMatchObject({ waiting: "1", "agents-not-ready": "1" });
    expect(Date.parse(figuresOf(joined)["waiting-since"]!)).toBeLessThanOrEqual(Date.now());
    expect(joined.getChildText("body")).toMatch(/^billing: 1 waiting \(longest \d+ s\); agents: 0 ready, 0 busy, 0 in wrap-up, 1 not ready$/);

    // An agent takes the customer: waiting 0, one agent busy (alice has room for one chat).
    await alice.send(xmlFor(alice)("presence"));
    const served = await waitFor(sam, isNotification(NODE, { waiting: "0", "agents-busy": "1" }), 5000, "the customer served");
    expect(figuresOf(served)).toMatchObject({ "agents-ready": "0", "agents-not-ready": "0" });
    expect(await unsubscribe(sam, NODE, SAM)).toMatchObject({ attrs: { type: "result" } });
  });

  it("at most one notification a second per node when ten customers join at once (and one more right after), one read of the figures per notification", async () => {
    await agent(ALICE, "away"); // logged in, not ready: the customers may join, and wait
    expect((await subscribe(sam, NODE, SAM)).attrs.type).toBe("result");
    await waitFor(sam, isNotification(NODE), 5000, "the item on subscription");
    const customers = await Promise.all(Array.from({ length: 11 }, () => guest()));
    const eleventh = customers.pop()!;
    const arrivals: Array<{ at: number; waiting: string }> = [];
    const listen = (s: Element) => { if (isNotification(NODE)(s)) arrivals.push({ at: Date.now(), waiting: figuresOf(s).waiting! }); };
    sam.on("stanza", listen);
    const readsBefore = r.app.wallboard.reads();
    try {
      await Promise.all(customers.map(joinBilling));
      // The window ends with the event that closes it: the notification of all ten waiting.
      await waitFor(sam, isNotification(NODE, { waiting: "10" }), 8000, "all ten waiting");
      // One more joins the moment that notification is in: its own comes no sooner than a second after it.
      await joinBilling(eleventh);
      await waitFor(sam, isNotification(NODE, { waiting: "11" }), 8000, "eleven waiting");
    } finally {
      sam.off("stanza", listen);
    }
    const gaps = arrivals.slice(1).map((a, i) => a.at - arrivals[i]!.at);
    const window = arrivals.at(-1)!.at - arrivals[0]!.at;
    console.log(`ten joins, then one: ${arrivals.length} notifications (${arrivals.map((a) => a.waiting).join(", ")} waiting) over ${window} ms; gaps ${gaps.join(", ")} ms; figures read ${r.app.wallboard.reads() - readsBefore} times`);
    expect(arrivals.length).toBeGreaterThanOrEqual(2);
    expect(arrivals.length).toBeLessThanOrEqual(Math.floor(window / 900) + 1);
    expect(arrivals.length).toBeLessThan(11);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(900); // a second between flushes at the component, less the delivery's jitter
    expect(arrivals.map((a) => Number(a.waiting))).toEqual([...arrivals.map((a) => Number(a.waiting))].sort((a, b) => a - b));
    // The cost: one read of all queues and agents per flush, not per event (ten joins and more events).
    expect(r.app.wallboard.reads() - readsBefore).toBeLessThanOrEqual(arrivals.length + 1);
  });

  it("unsubscribing stops the notifications of that node", async () => {
    await agent(ALICE, "away");
    expect((await subscribe(sam, NODE, SAM)).attrs.type).toBe("result");
    expect((await subscribe(sam, WALLBOARD.all, SAM)).attrs.type).toBe("result");
    await waitFor(sam, isNotification(NODE), 5000, "the item on subscription");
    const all = await waitFor(sam, (s) => isNotification(WALLBOARD.all)(s), 5000, "the all-queues item on subscription");
    const queues = all.getChild("event", NS.PUBSUB_EVENT)!.getChild("items")!.getChild("item")!.getChild("queues", NS.STATS)!;
    expect(queues.getChildren("queue").map((q) => q.attrs.name)).toEqual(["billing", "vip"]);
    expect(all.getChildText("body")!.split("\n")).toHaveLength(2);

    const reply = await unsubscribe(sam, NODE, SAM);
    expect(reply.attrs.type).toBe("result");
    expect(await subscriptionsOf(sam)).toEqual([{ node: WALLBOARD.all, jid: SAM, subscription: "subscribed" }]);
    const since = received(sam).length;
    await joinBilling(await guest());
    // "queues" is sent after every queue's node in the same flush: once it is here, billing's would be too.
    const after = await waitFor(sam, (s) => isNotification(WALLBOARD.all)(s)
      && s.getChild("event", NS.PUBSUB_EVENT)!.getChild("items")!.getChild("item")!.getChild("queues", NS.STATS)!.getChildren("queue")[0]!.attrs.waiting === "1", 5000, "all queues: one waiting");
    expect(after.getChildText("body")).toMatch(/^billing: 1 waiting/);
    expect(received(sam).slice(since).filter(isNotification(NODE))).toEqual([]);
  });

  it("a subscription outlives the subscriber going offline and a restart of the component (and an account holds ten at most)", async () => {
    await agent(ALICE, "away");
    const other = track(await connectAccount(r.config, SAM, "sam-pw", "phone"));
    expect((await subscribe(other, NODE, `${SAM}/phone`)).getChild("pubsub", NS.PUBSUB)!.getChild("subscription")!.attrs.jid).toBe(`${SAM}/phone`);
    expect((await subscribe(sam, NODE, SAM)).attrs.type).toBe("result");
    await stopAll(other);
    // Ten subscriptions per account and node at most (the bare JID and "phone" hold two): the eleventh is refused.
    for (let i = 0; i < 8; i++) expect((await subscribe(sam, NODE, `${SAM}/r${i}`)).attrs.type).toBe("result");
    expect(pubsubError(await subscribe(sam, NODE, `${SAM}/r8`))).toMatchObject({ condition: "not-allowed", type: "cancel", app: "too-many-subscriptions" });
    expect((await subscribe(sam, NODE, SAM)).attrs.type).toBe("result"); // again: it holds it already
    for (let i = 0; i < 8; i++) expect((await unsubscribe(sam, NODE, `${SAM}/r${i}`)).attrs.type).toBe("result");
    await r.restartComponent();
    await until(async () => r.app.isOnline(), (online) => online, 10_000, "the component back online");
    expect(await subscriptionsOf(sam)).toEqual(expect.arrayContaining([
      { node: NODE, jid: SAM, subscription: "subscribed" }, { node: NODE, jid: `${SAM}/phone`, subscription: "subscribed" },
    ]));
    await joinBilling(await guest());
    const note = await waitFor(sam, isNotification(NODE, { waiting: "1" }), 5000, "a notification from the new instance");
    expect(note.attrs.to).toBe(SAM);
  });
});

describe("who may follow, and XEP-0060's errors", () => {
  it("an agent and a guest are refused with forbidden (auth), and have no subscriptions", async () => {
    const alice = await agent(ALICE);
    const g = await guest();
    const guestJid = g.jid!.bare().toString();
    for (const [c, jid] of [[alice, ALICE], [g, guestJid]] as const) {
      expect(pubsubError(await subscribe(c, NODE, jid))).toMatchObject({ condition: "forbidden", type: "auth" });
      expect(pubsubError(await items(c, NODE))).toMatchObject({ condition: "forbidden", type: "auth" });
      expect(await subscriptionsOf(c)).toEqual([]);
    }
    expect(await r.app.redis.scard(r.app.store.keys.wallboard(NODE))).toBe(0);
  });

  type Case = [name: string, send: (c: Client) => Promise<Element>, expected: Record<string, string | undefined>];
  const CASES: Case[] = [
    ["subscribe with another's JID: bad-request + invalid-jid (6.1.3.1)", (c) => subscribe(c, NODE, BOB), { condition: "bad-request", type: "modify", app: "invalid-jid" }],
    ["subscribe with another's full JID: bad-request + invalid-jid", (c) => subscribe(c, NODE, `${BOB}/x`), { condition: "bad-request", type: "modify", app: "invalid-jid" }],
    ["subscribe without a JID: bad-request + invalid-jid", (c) => subscribe(c, NODE, undefined), { condition: "bad-request", type: "modify", app: "invalid-jid" }],
    ["subscribe to an unknown node: item-not-found", (c) => subscribe(c, "queue/nosuch", SAM), { condition: "item-not-found", type: "cancel", app: undefined }],
    ["subscribe to __proto__: item-not-found", (c) => subscribe(c, "__proto__", SAM), { condition: "item-not-found", type: "cancel", app: undefined }],
    ["subscribe without a node: bad-request + nodeid-required", (c) => subscribe(c, undefined, SAM), { condition: "bad-request", type: "modify", app: "nodeid-required" }],
    ["subscribe with options: feature-not-implemented + unsupported subscription-options", (c) => pubsub(c, "set", (xml) => [xml("subscribe", { node: NODE, jid: SAM }), xml("options")]),
      { condition: "feature-not-implemented", type: "cancel", app: "unsupported", feature: "subscription-options" }],
    ["items of an unknown node: item-not-found", (c) => items(c, "queue/nosuch"), { condition: "item-not-found", type: "cancel", app: undefined }],
    ["items without a node: bad-request + nodeid-required", (c) => items(c, undefined), { condition: "bad-request", type: "modify", app: "nodeid-required" }],
    ["items with a subid: not-acceptable + invalid-subid", (c) => pubsub(c, "get", (xml) => xml("items", { node: NODE, subid: "x" })), { condition: "not-acceptable", type: "modify", app: "invalid-subid" }],
    ["unsubscribe when not subscribed: unexpected-request + not-subscribed (6.2.3.2)", (c) => unsubscribe(c, NODE, SAM), { condition: "unexpected-request", type: "cancel", app: "not-subscribed" }],
    ["unsubscribe another's JID: forbidden (6.2.3.3)", (c) => unsubscribe(c, NODE, BOB), { condition: "forbidden", type: "auth", app: undefined }],
    ["unsubscribe with a subid: not-acceptable + invalid-subid (6.2.3.5)", (c) => unsubscribe(c, NODE, SAM, "x"), { condition: "not-acceptable", type: "modify", app: "invalid-subid" }],
    ["unsubscribe from an unknown node: item-not-found", (c) => unsubscribe(c, "nosuch", SAM), { condition: "item-not-found", type: "cancel", app: undefined }],
    ["publish: forbidden (7.1.3.1)", (c) => pubsub(c, "set", (xml) => xml("publish", { node: NODE }, xml("item", {}, xml("queue", { xmlns: NS.STATS })))), { condition: "forbidden", type: "auth", app: undefined }],
    ["create a node: feature-not-implemented + unsupported create-nodes", (c) => pubsub(c, "set", (xml) => xml("create", { node: "mine" })),
      { condition: "feature-not-implemented", type: "cancel", app: "unsupported", feature: "create-nodes" }],
    ["affiliations: feature-not-implemented + unsupported retrieve-affiliations", (c) => pubsub(c, "get", (xml) => xml("affiliations")),
      { condition: "feature-not-implemented", type: "cancel", app: "unsupported", feature: "retrieve-affiliations" }],
    ["an empty <pubsub/>: bad-request", (c) => pubsub(c, "set", () => []), { condition: "bad-request", type: "modify", app: undefined }],
    ["two operations: bad-request", (c) => pubsub(c, "get", (xml) => [xml("items", { node: NODE }), xml("subscriptions")]), { condition: "bad-request", type: "modify", app: undefined }],
    ["an unknown operation: bad-request", (c) => pubsub(c, "set", (xml) => xml("explode", { node: NODE })), { condition: "bad-request", type: "modify", app: undefined }],
    ["subscribe as a get: bad-request", (c) => pubsub(c, "get", (xml) => xml("subscribe", { node: NODE, jid: SAM })), { condition: "bad-request", type: "modify", app: undefined }],
    ["subscribe sent to a queue's JID: bad-request", (c) => pubsub(c, "set", (xml) => xml("subscribe", { node: NODE, jid: SAM }), BILLING), { condition: "bad-request", type: "modify", app: undefined }],
  ];
  it.each(CASES)("%s", async (_name, send, expected) => {
    const reply = await send(sam);
    expect(reply.attrs.type).toBe("error");
    expect(pubsubError(reply)).toMatchObject(expected);
    expect(reply.getChild("error")!.getChildText("text", NS.STANZAS)).toBeTruthy();
    expect(await r.app.redis.scard(r.app.store.keys.wallboard(NODE))).toBe(0);
  });
});
