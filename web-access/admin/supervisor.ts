/**
 * The supervisor's side of the protocol, no DOM: the wallboard's XEP-0060
 * node `queues` (subscribe, current item, notifications), the supervisor
 * ad-hoc commands (list-agents, set-agent-state, end-any-session), the
 * quality-monitoring iq API (monitor, unmonitor, whisper, barge) and the
 * monitored copies. docs/protocol.md "Wallboard (XEP-0060)", "Quality monitoring".
 */
import { xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { COMMAND, NS, WALLBOARD } from "../../protocol/names.js";
import { bareJid } from "../lib/connect.js";
import { submitForm } from "../lib/xep.js";

export interface QueueFigures {
  name: string;
  title: string;
  waiting: number;
  longestWait: number;
  /** When the first in line joined (ms), null when nobody waits. */
  waitingSince: number | null;
  agents: { ready: number; busy: number; wrapUp: number; notReady: number; offline: number };
  updated: number;
}

export interface AgentRow { jid: string; state: string; reason: string; active: number; maxChats: number }
export interface SessionRow { id: string; label: string }
export interface Copy { session: string; seat: string; direction: string; text: string; from: string; at: number }

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

export class Supervisor {
  constructor(private readonly xmpp: Client, readonly cc: string) {}

  get jid(): string { return bareJid(this.xmpp.jid?.toString()); }

  /** Runs a command in one step (they are stateless); resolves with the answer's `<command/>`. */
  private command(node: string, fields?: Record<string, string>): Promise<Element> {
    return this.xmpp.iqCaller.set(
      xml("command", { xmlns: NS.COMMANDS, node, action: fields ? "complete" : "execute" }, fields ? submitForm(fields) : undefined),
      this.cc, 10000);
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
    const res = await this.command(COMMAND.listAgents);
    return tableRows(res.getChild("x", NS.DATA)).map((r) => ({
      jid: r.jid ?? "", state: r.state ?? "", reason: r.reason ?? "", active: num(r.active), maxChats: num(r.maxChats),
    }));
  }

  async setAgentState(agent: string, state: "ready" | "not-ready" | "offline", reason = ""): Promise<void> {
    await this.command(COMMAND.setAgentState, { agent, state, reason });
  }

  /** The live sessions, as end-any-session's form lists them (its first step ends nothing). */
  async sessions(): Promise<SessionRow[]> {
    const res = await this.command(COMMAND.endAnySession);
    const field = res.getChild("x", NS.DATA)?.getChildren("field").find((f) => f.attrs.var === "session");
    return (field?.getChildren("option") ?? []).map((o) => ({ id: o.getChildText("value") ?? "", label: o.attrs.label ?? "" }));
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
