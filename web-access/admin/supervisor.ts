/**
 * The supervisor's side of the protocol, no DOM: the Backend (backend.ts) over the supervisor's XMPP
 * account. The wallboard's XEP-0060 node `queues` (subscribe, current item, notifications), the supervisor
 * ad-hoc commands (list-agents, list-sessions, set-agent-state, adjust-agent, transfer-session,
 * end-any-session), the quality-monitoring iq API (monitor, unmonitor, whisper, barge) and the monitored
 * copies. docs/protocol.md "Wallboard (XEP-0060)", "Quality monitoring".
 */
import { xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { COMMAND, NS, WALLBOARD } from "../../protocol/names.js";
import { bareJid, errorCondition } from "../lib/connect.js";
import { submitForm } from "../lib/xep.js";
import type { Adjustment, AgentRow, AgentState, Backend, Copy, Live, Monitoring, QueueFigures, SessionRow, TransferTarget } from "./backend.js";

const num = (v: string | undefined) => (Number.isFinite(Number(v)) ? Number(v) : 0);
const time = (v: string | undefined) => { const t = v ? Date.parse(v) : NaN; return Number.isFinite(t) ? t : null; };

/** The `<queues/>` payload of the `queues` node -> figures per queue. */
export function parseQueues(queues: Element | undefined): QueueFigures[] {
  if (!queues) return [];
  return queues.getChildren("queue", NS.STATS).map((q) => ({
    name: q.attrs.name ?? "",
    title: q.attrs.title || q.attrs.name || "",
    waiting: num(q.attrs.waiting),
    longestWait: num(q.attrs["longest-wait"]),
    waitingSince: time(q.attrs["waiting-since"]),
    agents: {
      ready: num(q.attrs["agents-ready"]), busy: num(q.attrs["agents-busy"]), wrapUp: num(q.attrs["agents-wrap-up"]),
      notReady: num(q.attrs["agents-not-ready"]), offline: num(q.attrs["agents-offline"]),
    },
    updated: time(q.attrs.updated) ?? Date.now(),
  }));
}

/** The `<queues/>` of a pubsub event (a message) or of an items answer (its `<pubsub/>`) for the `queues` node, if there is one. */
export function queuesItem(stanza: Element): Element | undefined {
  const items = stanza.is("pubsub", NS.PUBSUB) ? stanza.getChild("items") : stanza.getChild("event", NS.PUBSUB_EVENT)?.getChild("items");
  if (items?.attrs.node !== WALLBOARD.all) return undefined;
  return items.getChild("item")?.getChild("queues", NS.STATS);
}

/** A copy of a monitored chat (forwarded by the server, marked `<monitored/>`), or null. */
export function parseCopy(msg: Element): Copy | null {
  const mark = msg.getChild("monitored", NS.SB);
  if (!msg.is("message") || !mark) return null;
  const inner = msg.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("message");
  const stamp = msg.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("delay", "urn:xmpp:delay")?.attrs.stamp;
  return {
    session: mark.attrs.session ?? "", seat: mark.attrs.seat ?? "", direction: mark.attrs.direction ?? "",
    text: inner?.getChildText("body") ?? msg.getChildText("body") ?? "",
    from: bareJid(inner?.attrs.from ?? ""), at: time(stamp) ?? Date.now(),
  };
}

/** `[S1] The session has ended: monitoring stopped.`: the session whose monitoring the server withdrew, or null. */
export function parseUnmonitored(msg: Element): { session: string; text: string } | null {
  const mark = msg.getChild("unmonitored", NS.SB);
  return msg.is("message") && mark ? { session: mark.attrs.session ?? "", text: msg.getChildText("body") ?? "" } : null;
}

/** Rows of an XEP-0004 result table (reported + items). */
function tableRows(x: Element | undefined): Array<Record<string, string>> {
  return (x?.getChildren("item") ?? []).map((item) =>
    Object.fromEntries(item.getChildren("field").map((f) => [f.attrs.var ?? "", f.getChildText("value") ?? ""])));
}

/** How often the agents and sessions are read besides the pushes (never faster than once a second). */
const POLL_MS = 5000;

/** list-sessions' table -> rows (its queuedAt is ISO; it has no time of assignment). */
export function parseSessions(x: Element | undefined): SessionRow[] {
  return tableRows(x).map((r) => ({
    id: r.id ?? "", customer: r.customer ?? "", queue: r.queue ?? "", media: r.media ?? "", state: r.state ?? "",
    seat: r.seat ?? "", queuedAt: time(r.queuedAt), servedSince: null,
  }));
}

/** list-agents' table -> rows (skills: a comma list). */
export function parseAgents(x: Element | undefined): AgentRow[] {
  return tableRows(x).map((r) => ({
    jid: r.jid ?? "", name: r.name ?? "", state: r.state ?? "", reason: r.reason ?? "", active: num(r.active), maxChats: num(r.maxChats),
    skills: (r.skills ?? "").split(",").map((v) => v.trim()).filter(Boolean),
  }));
}

export class Supervisor implements Backend, Monitoring {
  readonly monitoring: Monitoring = this;
  private poll: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly xmpp: Client, readonly cc: string) {}

  get jid(): string { return bareJid(this.xmpp.jid?.toString()); }
  get who(): string { return this.jid; }

  /** Runs a command in one step (they are stateless); resolves with the answer's `<command/>`. */
  private command(node: string, fields?: Record<string, string>): Promise<Element> {
    return this.xmpp.iqCaller.set(
      xml("command", { xmlns: NS.COMMANDS, node, action: fields ? "complete" : "execute" }, fields ? submitForm(fields) : undefined),
      this.cc, 10000);
  }

  async start(live: Live): Promise<void> {
    this.xmpp.on("stanza", (s: Element) => this.stanza(s, live));
    this.xmpp.on("offline", () => { if (!this.stopped) live.end("The connection to the chat server was lost. Sign in again."); });
    try {
      // First, before any presence: an agent who signs in here must not become available to customers.
      await this.subscribeWallboard();
    } catch (err) {
      if (errorCondition(err) === "forbidden") { // only configured supervisors may subscribe
        live.end(`${this.jid} is not a supervisor here: the console is for supervisors.`);
        return;
      }
      live.fail("The wallboard is not available", err);
    }
    // Available: copies and notifications go to available resources only.
    await this.xmpp.send(xml("presence"));
    try {
      live.wallboard(await this.wallboardNow());
    } catch (err) {
      live.fail("The wallboard is not available", err);
    }
    live.changed();
    // A chat assigned to an agent with room left changes no wallboard figure (nothing is pushed): the agents'
    // chats and the live sessions are also read every POLL_MS (one ad-hoc command each), besides every push.
    this.poll = setInterval(() => live.changed(), POLL_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await this.xmpp.stop().catch(() => undefined);
  }

  private stanza(s: Element, live: Live): void {
    if (!s.is("message")) return;
    const item = queuesItem(s);
    if (item) { live.wallboard(parseQueues(item)); live.changed(); return; }
    const copy = parseCopy(s);
    if (copy) { live.copy(copy); return; }
    const gone = parseUnmonitored(s);
    if (gone) { live.unmonitored(gone.session, gone.text); live.changed(); }
  }

  /** Subscribes the bare JID to the `queues` node (`forbidden` for anyone but a configured supervisor). */
  async subscribeWallboard(): Promise<void> {
    await this.xmpp.iqCaller.set(xml("pubsub", { xmlns: NS.PUBSUB }, xml("subscribe", { node: WALLBOARD.all, jid: this.jid })), this.cc, 10000);
  }

  /** The `queues` node's current item (the notification answering the subscription may come before or after). */
  async wallboardNow(): Promise<QueueFigures[]> {
    const res = await this.xmpp.iqCaller.get(xml("pubsub", { xmlns: NS.PUBSUB }, xml("items", { node: WALLBOARD.all })), this.cc, 10000);
    return parseQueues(queuesItem(res));
  }

  async agents(): Promise<AgentRow[]> {
    return parseAgents((await this.command(COMMAND.listAgents)).getChild("x", NS.DATA));
  }

  async sessions(): Promise<SessionRow[]> {
    return parseSessions((await this.command(COMMAND.listSessions)).getChild("x", NS.DATA));
  }

  async setAgentState(agent: string, state: AgentState, reason = ""): Promise<void> {
    await this.command(COMMAND.setAgentState, { agent, state, reason });
  }

  /** adjust-agent: an empty field keeps what the agent has. */
  async adjustAgent(agent: string, change: Adjustment): Promise<void> {
    await this.command(COMMAND.adjustAgent, { agent, skills: change.skills?.join(",") ?? "", maxChats: change.maxChats === undefined ? "" : String(change.maxChats) });
  }

  async transfer(session: string, to: TransferTarget, note: string): Promise<void> {
    await this.command(COMMAND.transferSession, { session, target: "agent" in to ? `agent:${to.agent}` : `queue:${to.queue}`, note });
  }

  async endSession(session: string): Promise<void> {
    await this.command(COMMAND.endAnySession, { session });
  }

  async monitor(session: string): Promise<void> {
    await this.xmpp.iqCaller.set(xml("monitor", { xmlns: NS.SB, session, mode: "silent" }), this.cc, 10000);
  }

  async unmonitor(session: string): Promise<void> {
    await this.xmpp.iqCaller.set(xml("unmonitor", { xmlns: NS.SB, session }), this.cc, 10000);
  }

  async whisper(session: string, text: string): Promise<void> {
    await this.xmpp.iqCaller.set(xml("whisper", { xmlns: NS.SB, session }, text), this.cc, 10000);
  }

  async barge(session: string, text = ""): Promise<void> {
    await this.xmpp.iqCaller.set(xml("barge", { xmlns: NS.SB, session }, text || undefined), this.cc, 10000);
  }
}
