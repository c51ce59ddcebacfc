/**
 * The wallboard any XMPP client can follow (issue 13 item 4): the component is a small XEP-0060 pubsub
 * service on its own domain, with one leaf node per queue ("queue/billing") and one with every queue
 * ("queues"). Each node has one item, "current": the queue's live figures (waiting, longest wait, agents by
 * state), as a <queue xmlns='urn:switchboard:stats:0'/> element. Supervisors (config supervisors[]) may
 * subscribe and retrieve; everyone else is refused with forbidden. Subscriptions live in Redis (a set per
 * node), so a restart or another instance keeps them; a subscriber that goes offline stays subscribed.
 *
 * Publishing: the notifier tells us of every event it handled (observe); one that can move a figure marks
 * the board dirty, and a flush at most once a second reads all queues and agents once (cti.queueStats,
 * cti.agents) and sends a headline message with the item and a plain <body/> to each subscriber of every
 * node whose figures changed. Nothing is sent when nothing changed, and time passing alone sends nothing:
 * the longest wait is as of the last change, and waiting-since lets a client count on.
 * docs/protocol.md, "Wallboard (XEP-0060)", is the contract.
 */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Cti } from "../../cti/cti.js";
import type { Keys } from "../../cti/redis/keys.js";
import type { CtiEvent } from "../../cti/types.js";
import { NS, WALLBOARD } from "../../protocol/names.js";
import type { Addr } from "./context.js";

/** At most one notification per node this often (and one read of all queues and agents). */
export const WALLBOARD_EVERY_MS = 1000;

/** Events that can move a queue's figures: customers in and out of line, seats taken and freed, agents' states. */
const MOVES = new Set<CtiEvent["type"]>(["queued", "assigned", "ended", "requeued", "transferred", "resumed", "agent-state", "wrap-up-ended"]);

export interface QueueFigures {
  name: string;
  title: string;
  waiting: number;
  longestWait: number;
  /** When the longest-waiting customer joined (ms), null when nobody waits. */
  waitingSince: number | null;
  ready: number;
  busy: number;
  wrapUp: number;
  notReady: number;
  offline: number;
}

export interface WallboardDeps {
  cti: Pick<Cti, "queues" | "queueStats" | "agents">;
  redis: Redis;
  keys: Keys;
  componentDomain: string;
  send: (stanza: Element) => Promise<void>;
  /** Who may follow the figures of these queues (a bare JID): supervisors, a queue-limited one only its queues'. */
  mayFollow: (bareJid: string, queues: readonly string[]) => boolean;
  log: Logger;
  now?: () => number;
}

// -------------------------------------------------------------------------------------------------
// Errors, exactly as XEP-0060 words them: a stanza condition and, where it has one, a pubsub#errors condition.

type Condition = "bad-request" | "forbidden" | "item-not-found" | "feature-not-implemented" | "not-acceptable" | "unexpected-request" | "not-allowed";
const TYPES: Record<Condition, string> = {
  "bad-request": "modify", forbidden: "auth", "item-not-found": "cancel", "feature-not-implemented": "cancel",
  "not-acceptable": "modify", "unexpected-request": "cancel", "not-allowed": "cancel",
};

/** Subscriptions one account may hold on a node (its bare JID and full JIDs): a bound on what Redis keeps. */
export const MAX_SUBSCRIPTIONS_PER_ACCOUNT = 10;

/** A pubsub refusal; its text never repeats what the client sent. */
export class PubsubError extends Error {
  constructor(readonly condition: Condition, text: string, readonly app?: string, readonly feature?: string) { super(text); }
  element(): Element {
    return xml("error", { type: TYPES[this.condition] },
      xml(this.condition, { xmlns: NS.STANZAS }),
      xml("text", { xmlns: NS.STANZAS, "xml:lang": "en" }, this.message),
      this.app ? xml(this.app, { xmlns: NS.PUBSUB_ERRORS, feature: this.feature }) : undefined);
  }
}

const noNode = () => new PubsubError("bad-request", "Name the node: see the nodes with service discovery (disco#items on this service).", "nodeid-required");
const unknownNode = () => new PubsubError("item-not-found", "There is no such node here: see the nodes with service discovery.");
const unsupported = (feature: string) => new PubsubError("feature-not-implemented", "This wallboard service does not support that request (see docs/protocol.md).", "unsupported", feature);

/** "billing: 3 waiting (longest 42 s); agents: 2 ready, 1 busy, 0 in wrap-up, 1 not ready" */
export function summary(f: QueueFigures): string {
  const line = f.waiting === 0 ? "nobody waiting" : `${f.waiting} waiting (longest ${f.longestWait} s)`;
  return `${f.name}: ${line}; agents: ${f.ready} ready, ${f.busy} busy, ${f.wrapUp} in wrap-up, ${f.notReady} not ready`;
}

function queueElement(f: QueueFigures, at: number): Element {
  return xml("queue", {
    xmlns: NS.STATS, name: f.name, title: f.title, waiting: String(f.waiting), "longest-wait": String(f.longestWait),
    "waiting-since": f.waitingSince === null ? undefined : new Date(f.waitingSince).toISOString(),
    "agents-ready": String(f.ready), "agents-busy": String(f.busy), "agents-wrap-up": String(f.wrapUp),
    "agents-not-ready": String(f.notReady), "agents-offline": String(f.offline), updated: new Date(at).toISOString(),
  });
}

/** What counts as a change: the figures, and the longest wait's start (to within the seconds it is counted in). */
const sameFigures = (a: QueueFigures, b: QueueFigures) =>
  a.waiting === b.waiting && a.ready === b.ready && a.busy === b.busy && a.wrapUp === b.wrapUp && a.notReady === b.notReady
  && a.offline === b.offline && (a.waitingSince === null) === (b.waitingSince === null) && Math.abs((a.waitingSince ?? 0) - (b.waitingSince ?? 0)) < 1500;

export function createWallboard({ cti, redis, keys, componentDomain: cc, send, mayFollow: allowed, log, now = Date.now }: WallboardDeps) {
  const queueNode = (name: string) => `${WALLBOARD.queuePrefix}${name}`;
  /**
   * Node -> the queues it shows (a Map: no name from a client can reach a prototype). "queues" comes last: a
   * flush sends in this order, so its notification follows the queues' own of the same change.
   */
  const nodes = new Map<string, string[]>([
    ...cti.queues.map((q): [string, string[]] => [queueNode(q.name), [q.name]]),
    [WALLBOARD.all, cti.queues.map((q) => q.name)],
  ]);
  const titles = new Map(cti.queues.map((q) => [q.name, q.title ?? q.name]));
  const nodeTitle = (node: string) => (node === WALLBOARD.all ? "All queues" : `${titles.get(nodes.get(node)![0]!)} (queue ${nodes.get(node)![0]})`);

  // ---------------------------------------------------------------------------------------------
  // The figures

  /** The last figures read, valid until the next change is observed, for a second at most (the longest wait moves on). */
  let cache: { at: number; figures: Map<string, QueueFigures> } | undefined;

  /** Every queue's figures: one read of the waiting lines and one of the agents, whatever the number of queues. */
  async function read(): Promise<{ at: number; figures: Map<string, QueueFigures> }> {
    if (cache && now() - cache.at < WALLBOARD_EVERY_MS) return cache;
    const [stats, agents] = await Promise.all([cti.queueStats(), cti.agents()]);
    const t = now();
    const figures = new Map<string, QueueFigures>();
    for (const q of stats) {
      const skills = cti.queues.find((x) => x.name === q.name)?.skills ?? [];
      // Agents by state among those with the queue's skills (by name, as /api/stats/realtime counts them).
      const staff = agents.filter((a) => skills.every((s) => a.skills.includes(s)));
      const count = (state: string) => staff.filter((a) => a.state === state).length;
      figures.set(q.name, {
        name: q.name, title: titles.get(q.name) ?? q.name, waiting: q.waiting, longestWait: q.oldestWaitSeconds,
        waitingSince: q.waiting ? t - q.oldestWaitSeconds * 1000 : null,
        ready: count("ready"), busy: count("busy"), wrapUp: count("wrap-up"), notReady: count("not-ready"), offline: count("offline"),
      });
    }
    cache = { at: t, figures };
    return cache;
  }

  /** A node's item payload and its plain-text summary. */
  function payload(node: string, figures: Map<string, QueueFigures>, at: number): { item: Element; body: string } {
    const shown = nodes.get(node)!.map((q) => figures.get(q)!);
    const item = node === WALLBOARD.all
      ? xml("queues", { xmlns: NS.STATS, updated: new Date(at).toISOString() }, ...shown.map((f) => queueElement(f, at)))
      : queueElement(shown[0]!, at);
    return { item: xml("item", { id: WALLBOARD.item }, item), body: shown.map(summary).join("\n") };
  }

  const notification = (to: string, node: string, p: { item: Element; body: string }) =>
    xml("message", { from: cc, to, type: "headline", id: `wb-${now().toString(36)}-${Math.random().toString(36).slice(2, 8)}` },
      xml("body", {}, p.body),
      xml("event", { xmlns: NS.PUBSUB_EVENT }, xml("items", { node }, p.item)));

  // ---------------------------------------------------------------------------------------------
  // Publishing

  /** What each node's subscribers were last sent (in memory: after a restart, the first change is sent again). */
  const published = new Map<string, QueueFigures[]>();
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let flushedAt = 0;
  let stopped = false;
  /** Reads of all queues and agents made by flushes, for the cost's test. */
  let reads = 0;

  function schedule(): void {
    if (timer || stopped) return;
    timer = setTimeout(() => { timer = undefined; void flush(); }, Math.max(flushing ? 100 : 0, flushedAt + WALLBOARD_EVERY_MS - now()));
    timer.unref();
  }

  function markDirty(): void {
    dirty = true;
    cache = undefined;
    schedule();
  }

  /** A second from the end of one flush (its last notification) to the start of the next. */
  async function flush(): Promise<void> {
    if (!dirty) return;
    if (flushing || now() < flushedAt + WALLBOARD_EVERY_MS) { schedule(); return; }
    dirty = false;
    flushedAt = now();
    flushing = (async () => {
      const { at, figures } = await read();
      reads++;
      for (const [node, queues] of nodes) {
        const current = queues.map((q) => figures.get(q)!);
        const before = published.get(node);
        if (before && before.every((f, i) => sameFigures(f, current[i]!))) continue;
        const subscribers = await redis.smembers(keys.wallboard(node));
        const p = payload(node, figures, at);
        for (const jid of subscribers) {
          const bare = jid.split("/")[0]!;
          if (allowed(bare, queues)) await send(notification(jid, node, p)); // a supervisor no more (or not of these queues) is not told
        }
        published.set(node, current); // once sent: a failed send leaves the node changed, for the retry
      }
    })().catch((err: Error) => {
      log.warn({ err: err.message }, "wallboard not published; trying again");
      markDirty();
    }).finally(() => { flushing = undefined; flushedAt = now(); if (dirty) schedule(); });
    await flushing;
  }

  /** Called for each event the notifier handled: cheap, never throws. */
  function observe(e: CtiEvent): void {
    if (!MOVES.has(e.type)) return;
    markDirty();
    // A wrap-up ends by the clock, not by an event: look again when it is over.
    if (e.type === "ended" && e.from !== "queued") {
      const wrapUp = cti.queues.find((q) => q.name === e.queue)?.wrapUpSeconds;
      if (wrapUp) setTimeout(() => { if (!stopped) markDirty(); }, wrapUp * 1000 + 20).unref();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The XEP-0060 requests

  /** The node a request names: nodeid-required without one, item-not-found when there is no such node. */
  function nodeOf(op: Element): string {
    const node = op.attrs.node;
    if (node === undefined || node === "") throw noNode();
    if (!nodes.has(node)) throw unknownNode();
    return node;
  }

  const mayFollow = (addr: Addr, node: string) => {
    if (!allowed(addr.fromBare, nodes.get(node) ?? [])) throw new PubsubError("forbidden", "Only supervisors may follow the wallboard, each its own queues.");
  };

  /**
   * The JID a subscription is for: the sender's bare JID, or one of its full JIDs (XEP-0060 6.1.3.1: the
   * bare JIDs must match, else bad-request with invalid-jid). Returned with the sender's spelling of the bare JID.
   */
  function subscriberJid(op: Element, addr: Addr): string {
    const jid = op.attrs.jid ?? "";
    const slash = jid.indexOf("/");
    const bare = slash === -1 ? jid : jid.slice(0, slash);
    const resource = slash === -1 ? "" : jid.slice(slash + 1);
    if (jid.length > 3071 || bare.toLowerCase() !== addr.fromBare.toLowerCase() || (slash !== -1 && resource === ""))
      throw new PubsubError("bad-request", "The subscriber's JID must be your own (XEP-0060 6.1.3.1).", "invalid-jid");
    return resource ? `${addr.fromBare}/${resource}` : addr.fromBare;
  }

  /** This service issues no subscription ids (one subscription per JID and node): any given is invalid. */
  const noSubid = (op: Element) => {
    if (op.attrs.subid !== undefined) throw new PubsubError("not-acceptable", "This service issues no subscription ids.", "invalid-subid");
  };

  /** The one operation in a <pubsub/>; a subscribe with <options/> asks for subscription options, unsupported. */
  function operation(el: Element): Element {
    const ops = el.getChildElements();
    if (ops.length === 2 && ops[0]!.name === "subscribe" && ops[1]!.name === "options") throw unsupported("subscription-options");
    if (ops.length !== 1) throw new PubsubError("bad-request", "A pubsub request carries exactly one operation.");
    return ops[0]!;
  }

  async function subscribe(op: Element, addr: Addr): Promise<Element> {
    const node = nodeOf(op);
    const jid = subscriberJid(op, addr);
    mayFollow(addr, node);
    const held = (await redis.smembers(keys.wallboard(node))).filter((s) => s.split("/")[0] === addr.fromBare);
    if (!held.includes(jid) && held.length >= MAX_SUBSCRIPTIONS_PER_ACCOUNT)
      throw new PubsubError("not-allowed", `At most ${MAX_SUBSCRIPTIONS_PER_ACCOUNT} subscriptions per account and node: unsubscribe one first.`, "too-many-subscriptions");
    await redis.sadd(keys.wallboard(node), jid);
    // XEP-0060 6.1.7: the last published item on subscription, so a plain client shows the figures at once.
    setImmediate(() => void read().then(({ at, figures }) => send(notification(jid, node, payload(node, figures, at))))
      .catch((err: Error) => log.warn({ err: err.message }, "wallboard item not sent on subscription")));
    return xml("pubsub", { xmlns: NS.PUBSUB }, xml("subscription", { node, jid, subscription: "subscribed" }));
  }

  async function unsubscribe(op: Element, addr: Addr): Promise<Element> {
    const node = nodeOf(op);
    const jid = op.attrs.jid ?? "";
    if (jid === "") throw new PubsubError("bad-request", "Name the subscriber's JID (your own).", "invalid-jid");
    const bare = jid.split("/")[0]!;
    if (jid.length > 3071 || bare.toLowerCase() !== addr.fromBare.toLowerCase())
      throw new PubsubError("forbidden", "You may only unsubscribe yourself (XEP-0060 6.2.3.3).");
    noSubid(op);
    const resource = jid.includes("/") ? jid.slice(jid.indexOf("/") + 1) : "";
    const removed = await redis.srem(keys.wallboard(node), resource ? `${addr.fromBare}/${resource}` : addr.fromBare);
    if (removed === 0) throw new PubsubError("unexpected-request", "You are not subscribed to this node.", "not-subscribed");
    return xml("pubsub", { xmlns: NS.PUBSUB }, xml("subscription", { node, jid, subscription: "none" }));
  }

  async function items(op: Element, addr: Addr): Promise<Element> {
    const node = nodeOf(op);
    noSubid(op);
    mayFollow(addr, node);
    const maxItems = op.attrs.max_items;
    if (maxItems !== undefined && !/^[1-9]\d{0,8}$/.test(maxItems)) throw new PubsubError("bad-request", "max_items must be a positive whole number.");
    // Particular items asked for: XEP-0060 says an empty <items/> when none of them exists.
    const asked = op.getChildElements().filter((c) => c.name === "item");
    if (asked.length > 0 && !asked.some((c) => c.attrs.id === WALLBOARD.item)) return xml("pubsub", { xmlns: NS.PUBSUB }, xml("items", { node }));
    const { at, figures } = await read();
    return xml("pubsub", { xmlns: NS.PUBSUB }, xml("items", { node }, payload(node, figures, at).item));
  }

  async function subscriptions(op: Element, addr: Addr): Promise<Element> {
    const only = op.attrs.node === undefined ? undefined : nodeOf(op);
    const asked = only ? [only] : [...nodes.keys()];
    const mine = await Promise.all(asked.map(async (node) =>
      (await redis.smembers(keys.wallboard(node))).filter((jid) => jid.split("/")[0] === addr.fromBare).map((jid) => ({ node, jid }))));
    return xml("pubsub", { xmlns: NS.PUBSUB },
      xml("subscriptions", { node: only }, ...mine.flat().map((s) => xml("subscription", { ...s, subscription: "subscribed" }))));
  }

  /** XEP-0060 operations this service refuses, with the feature XEP-0060 names for each. */
  const REFUSED: Record<string, () => PubsubError> = {
    publish: () => new PubsubError("forbidden", "Only the contact center publishes to the wallboard."),
    retract: () => new PubsubError("forbidden", "Only the contact center publishes to the wallboard."),
    create: () => unsupported("create-nodes"),
    options: () => unsupported("subscription-options"),
    affiliations: () => unsupported("retrieve-affiliations"),
    default: () => unsupported("retrieve-default"),
  };

  /** An iq with <pubsub xmlns='http://jabber.org/protocol/pubsub'/> to the component's domain. */
  async function request(type: "get" | "set", el: Element, addr: Addr): Promise<Element> {
    try {
      const op = operation(el);
      if (op.attrs.xmlns !== undefined && op.attrs.xmlns !== NS.PUBSUB) throw new PubsubError("bad-request", "The operation must be in the pubsub namespace.");
      if (type === "set" && op.name === "subscribe") return await subscribe(op, addr);
      if (type === "set" && op.name === "unsubscribe") return await unsubscribe(op, addr);
      if (type === "get" && op.name === "items") return await items(op, addr);
      if (type === "get" && op.name === "subscriptions") return await subscriptions(op, addr);
      const refused = Object.hasOwn(REFUSED, op.name) ? REFUSED[op.name] : undefined;
      throw refused ? refused() : new PubsubError("bad-request", `This is not a pubsub ${type} request this service knows (see docs/protocol.md).`);
    } catch (err) {
      if (err instanceof PubsubError) return err.element();
      throw err; // the router's: logged, internal-server-error
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Service discovery (component/xmpp/disco.ts)

  const FEATURES = [NS.PUBSUB, ...["subscribe", "retrieve-items", "retrieve-subscriptions", "persistent-items", "last-published", "access-whitelist"].map((f) => `${NS.PUBSUB}#${f}`)];

  const disco = {
    identity: () => xml("identity", { category: "pubsub", type: "service", name: "Switchboard wallboard" }),
    features: () => FEATURES,
    /** The nodes, for disco#items on the service. */
    items: () => [...nodes.keys()].map((node) => xml("item", { jid: cc, node, name: nodeTitle(node) })),
    isNode: (node: string) => nodes.has(node),
    /** disco#info on a node (XEP-0060 5.3 and 5.4): a leaf, with its metadata. */
    nodeInfo: (node: string) => xml("query", { xmlns: NS.DISCO_INFO, node },
      xml("identity", { category: "pubsub", type: "leaf", name: nodeTitle(node) }),
      xml("feature", { var: NS.PUBSUB }),
      xml("x", { xmlns: NS.DATA, type: "result" },
        xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, `${NS.PUBSUB}#meta-data`)),
        xml("field", { var: "pubsub#title" }, xml("value", {}, nodeTitle(node))),
        xml("field", { var: "pubsub#type" }, xml("value", {}, NS.STATS)),
        xml("field", { var: "pubsub#access_model" }, xml("value", {}, "whitelist")),
        xml("field", { var: "pubsub#max_items" }, xml("value", {}, "1")))),
    /** disco#items on a node (XEP-0060 5.5): its one item. */
    nodeItems: (node: string) => xml("query", { xmlns: NS.DISCO_ITEMS, node }, xml("item", { jid: cc, name: WALLBOARD.item })),
  };

  return {
    request, observe, disco, flush,
    /** Reads of all queues and agents the flushes made so far. */
    reads: () => reads,
    stop() { stopped = true; if (timer) clearTimeout(timer); timer = undefined; },
  };
}

export type Wallboard = ReturnType<typeof createWallboard>;
