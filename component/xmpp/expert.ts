/**
 * Inviting an expert over XMPP (issue 15; docs/protocol.md, "Invite an expert"): the ad-hoc commands
 * invite-expert and leave-session, the desk's iqs, and the chat commands "invite JID [note]", "leave" and
 * "remove" to the component's domain. The rules are cti/expert.ts's. Whether the expert is logged in is asked
 * of the seat module (it alone sees every client session); what the events say is sent by expertNotices
 * (called from the notifier, so two instances never tell twice).
 *
 * The conversation itself goes through the seat module, not through here: the expert writes to the seat's
 * JID, and the module relays its words to the customer from the seat's JID (one conversation in any client),
 * copies the customer's and the seat's words to the expert, and records the expert's lines.
 */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import type { Cti } from "../../cti/cti.js";
import { bareOf } from "../../cti/policy.js";
import { CtiError } from "../../cti/errors.js";
import { createExperts } from "../../cti/expert.js";
import type { CtiEvent, Session } from "../../cti/types.js";
import { COMMAND, NS, SB } from "../../protocol/names.js";
import { supervisorScope } from "../authz.js";
import type { Command } from "./commands.js";
import { form, listSingle, note, submitted } from "./commands.js";
import type { Addr, HandlerDeps } from "./context.js";
import * as st from "./stanzas.js";

/** How long the seat module has to say whether an expert is logged in. */
const ONLINE_TIMEOUT_MS = 5000;

/** How a customer is named to the expert and the seat: the form's name, else its JID. */
export const customerLabel = (s: Pick<Session, "form" | "customer">) => s.form.name || bareOf(s.customer);
/** A note as a sentence of a longer text. */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

export function expertHandlers({ cti, config, send, nameOf, isAgent, isSupervisor, request, log }: HandlerDeps) {
  const cc = config.component.domain;
  const experts = createExperts({ cti, isAgent, isSupervisor, mayQueue: supervisorScope(config, cti).mayQueue });

  /**
   * Whether someone has a client logged in on the users' host: the seat module answers
   * <online xmlns='SB' jid/> from the component only. Without an answer the expert counts as away.
   */
  async function online(jid: string): Promise<boolean> {
    if (!request) return (await cti.agent(jid))?.state !== "offline" && isAgent(jid);
    try {
      const reply = await request(xml("iq", { type: "get", from: cc, to: config.domain }, xml(SB.online, { xmlns: NS.SB, jid })), ONLINE_TIMEOUT_MS);
      return reply.getChild(SB.online, NS.SB)?.attrs.available === "true";
    } catch (err) {
      log.warn({ err: (err as Error).message }, "the seat module did not say whether an expert is logged in");
      return false;
    }
  }

  /** Which of these are logged in: one question to the seat module for all of them (bounded work per list). */
  async function onlineAmong(jids: string[]): Promise<Set<string>> {
    if (!request) {
      const out = new Set<string>();
      for (const jid of jids) if (await online(jid)) out.add(jid);
      return out;
    }
    try {
      const reply = await request(xml("iq", { type: "get", from: cc, to: config.domain },
        xml(SB.online, { xmlns: NS.SB }, ...jids.map((jid) => xml("item", { jid })))), ONLINE_TIMEOUT_MS);
      return new Set(reply.getChild(SB.online, NS.SB)?.getChildren("item").filter((i) => i.attrs.available === "true").map((i) => i.attrs.jid!) ?? []);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "the seat module did not say who is logged in");
      return new Set();
    }
  }

  async function invite(actor: string, sessionId: string | undefined, expertJid: string, text = ""): Promise<{ session: Session; expert: string }> {
    const { session, expert } = await experts.check(actor, sessionId, expertJid);
    if (!(await online(expert))) throw new CtiError("unavailable", `${nameOf(expert)} is not logged in: an expert must be online to join the conversation.`);
    await experts.join(actor, session, expert, text);
    return { session, expert };
  }

  /** The configured agents and supervisors but the seat, each with whether it is logged in now. */
  async function candidates(actor: string, sessionId: string | undefined): Promise<Array<{ jid: string; name: string; role: string; online: boolean }>> {
    const s = await experts.sessionFor(actor, sessionId);
    const supervisors = config.supervisors.map((x) => x.jid);
    const jids = experts.candidates(s, config.agents.map((a) => a.jid), supervisors).slice(0, 200);
    const on = await onlineAmong(jids);
    return jids.map((jid) => ({ jid, name: nameOf(jid), role: supervisors.includes(jid) ? "supervisor" : "agent", online: on.has(jid) }));
  }

  const sessionAttr = (el: Element) => {
    const id = el.attrs.session;
    if (id !== undefined && (!id || id.length > 64)) throw new CtiError("bad-request", "The session attribute is empty or too long.");
    return id;
  };

  /** The desk's iqs: <invite-expert session jid>note</invite-expert>, <leave-session session/>, <experts session/>. */
  const iqs = {
    async invite(el: Element, addr: Addr): Promise<true> {
      if (!el.attrs.jid) throw new CtiError("bad-request", "<invite-expert/> needs a jid attribute: the expert.");
      await invite(addr.fromBare, sessionAttr(el), el.attrs.jid, el.text());
      return true;
    },
    async leave(el: Element, addr: Addr): Promise<true> {
      await experts.leave(addr.fromBare, sessionAttr(el));
      return true;
    },
    async list(el: Element, addr: Addr): Promise<Element> {
      const list = await candidates(addr.fromBare, sessionAttr(el));
      return xml(SB.experts, { xmlns: NS.SB }, ...list.map((c) => xml(SB.expert, { jid: c.jid, name: c.name, role: c.role, online: String(c.online) })));
    },
  };

  /**
   * Chat commands to the component's domain from agents and supervisors: "invite JID [note]", "leave" (the
   * expert) and "remove" (the seat). Returns false for anything else: the usual handling goes on.
   */
  async function chat(stanza: Element, addr: Addr): Promise<boolean> {
    if (addr.queue || !(isAgent(addr.fromBare) || isSupervisor(addr.fromBare))) return false;
    const body = stanza.getChildText("body")?.trim() ?? "";
    const reply = (text: string) => send(st.text(cc, addr.from, text));
    const inviting = /^invite\s+(\S+)(?:\s+([\s\S]*))?$/i.exec(body);
    try {
      if (inviting) {
        const { session, expert } = await invite(addr.fromBare, undefined, inviting[1]!, inviting[2] ?? "");
        await reply(`${nameOf(expert)} is invited into your conversation with ${customerLabel(session)}. Write "remove" here to take them out.`);
        return true;
      }
      if (/^(leave|remove)$/i.test(body)) {
        const s = await experts.leave(addr.fromBare);
        if (s.expert !== addr.fromBare) await reply(`${nameOf(s.expert!)} is no longer in your conversation with ${customerLabel(s)}.`);
        return true; // the expert is told by the expert-left notice
      }
    } catch (err) {
      if (!(err instanceof CtiError)) throw err;
      await reply(err.text);
      return true;
    }
    return false;
  }

  /** The chats an actor may invite an expert into: its own, and for a supervisor those of its queues. */
  const mayQueue = supervisorScope(config, cti).mayQueue;
  async function choices(actor: string): Promise<Session[]> {
    const live = (await cti.sessions(0)).filter((s) => s.media === "chat" && s.seat && (s.state === "assigned" || s.state === "in-service"));
    return live.filter((s) => s.seat === actor || (isSupervisor(actor) && mayQueue(actor, s.queue)));
  }

  /** invite-expert and leave-session, for any XMPP client (Gajim, Psi, profanity). */
  const commands: Record<string, Command> = {
    [COMMAND.inviteExpert]: {
      name: "Invite an expert into a conversation", role: "staff",
      async run(el, addr, reply) {
        const expert = submitted(el, "expert")?.trim();
        const mine = await choices(addr.fromBare);
        const session = submitted(el, "session") ?? (mine.length === 1 ? mine[0]!.id : undefined);
        if (!expert || !session) {
          if (mine.length === 0) return reply("completed", note("You have no conversation an expert could join."));
          const who = [...new Set([...config.agents.map((a) => a.jid), ...config.supervisors.map((s) => s.jid)])].filter((j) => j !== addr.fromBare);
          return reply("executing", ...form("Invite an expert",
            mine.length === 1
              ? xml("field", { var: "session", type: "hidden" }, xml("value", {}, mine[0]!.id))
              : listSingle("session", "Conversation", mine.slice(0, 200).map((s) => [s.id, `${customerLabel(s)} (${s.queue}, ${s.seat})`])),
            listSingle("expert", "Expert", who.map((j) => [j, `${nameOf(j)} (${j})`])),
            xml("field", { var: "note", type: "text-single", label: "Note for the expert" })));
        }
        const done = await invite(addr.fromBare, session, expert, submitted(el, "note") ?? "");
        return reply("completed", note(`${nameOf(done.expert)} joined your conversation with ${customerLabel(done.session)}. `
          + `The customer reads their words as "${nameOf(done.expert)} (expert): ..."; run "leave-session" to take them out.`));
      },
    },
    [COMMAND.leaveSession]: {
      name: "Leave a conversation you were invited into (or remove your session's expert)", role: "staff",
      async run(el, addr, reply) {
        const s = await experts.leave(addr.fromBare, submitted(el, "session"));
        return reply("completed", note(s.expert === addr.fromBare
          ? `You left the conversation with ${customerLabel(s)}.`
          : `${nameOf(s.expert!)} is no longer in your conversation with ${customerLabel(s)}.`));
      },
    },
  };

  return { iqs, chat, commands, invite, online };
}

/**
 * What the expert events say, and to whom (the notifier calls this once per event). The seat's copy carries
 * <expert/> with the grant's details: the seat module applies it (grant or withdrawal) and tells the customer,
 * from the seat's JID, then lets the message on to the seat's clients as its notice.
 */
export function expertNotices({ cti, cc, nameOf }: { cti: Cti; cc: string; nameOf: (jid: string) => string }) {
  type Joined = Extract<CtiEvent, { type: "expert-joined" }>;
  type Left = Extract<CtiEvent, { type: "expert-left" }>;

  /** The bodiless grant again (the seat module lost it: Prosody restarted). */
  const regrant = (s: Session) => xml("message", { from: cc, to: s.seat! },
    xml(SB.expert, { xmlns: NS.SB, session: s.id, jid: s.expert!, name: nameOf(s.expert!), "customer-name": customerLabel(s), "seat-name": nameOf(s.seat!), status: "joined" }));

  async function joined(e: Joined): Promise<Element[]> {
    const s = await cti.session(e.session);
    const customer = s ? customerLabel(s) : e.customer;
    const name = nameOf(e.expert);
    const by = e.by === e.seat ? nameOf(e.seat) : `${nameOf(e.by)} (a supervisor)`;
    const mark = { xmlns: NS.SB, session: e.session, jid: e.expert, name };
    return [
      // To the seat first: the module holds the grant before the expert learns it may write.
      xml("message", { from: cc, to: e.seat, type: "chat" },
        xml("body", {}, `${name} joined your conversation with ${customer} as an expert. (session ${e.session})`),
        xml(SB.expert, { ...mark, "customer-name": customer, "seat-name": nameOf(e.seat), status: "joined" })),
      xml("message", { from: cc, to: e.expert, type: "chat" },
        xml("body", {}, `${by} invited you into the conversation with ${customer} (${e.queue}).${e.note ? ` Note: ${sentence(e.note)}` : ""} `
          + `Write to ${e.seat}: ${customer} reads your words as "${name} (expert): ...", and their words and the agent's come to you from there. `
          + `Write "leave" to ${cc} to leave. (session ${e.session})`),
        xml(SB.begin, { xmlns: NS.SB, session: e.session, customer: e.customer, queue: e.queue, role: "expert", seat: e.seat, by: e.by },
          s && Object.keys(s.form).length > 0 && xml("x", { xmlns: NS.DATA, type: "result" },
            ...Object.entries(s.form).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v)))))),
    ];
  }

  async function left(e: Left): Promise<Element[]> {
    const s = await cti.session(e.session);
    const customer = s ? customerLabel(s) : e.customer;
    const name = nameOf(e.expert);
    const mark = { xmlns: NS.SB, session: e.session, jid: e.expert, name, status: "left", reason: e.reason };
    const toExpert = {
      left: `You left the conversation with ${customer}.`,
      removed: `${nameOf(e.by)} took you out of the conversation with ${customer}.`,
      ended: `The conversation with ${customer} has ended.`,
      transferred: `The conversation with ${customer} moved to another agent, so you left it.`,
    }[e.reason];
    const out = [xml("message", { from: cc, to: e.expert, type: "chat" }, xml("body", {}, `${toExpert} (session ${e.session})`), xml(SB.expert, mark))];
    // After an end or a move the seat's own notice says it all, and the module dropped the grant with <ended/>.
    if ((e.reason === "left" || e.reason === "removed") && e.seat) {
      out.unshift(xml("message", { from: cc, to: e.seat, type: "chat" },
        xml("body", {}, `${name} left your conversation with ${customer}. (session ${e.session})`), xml(SB.expert, mark)));
    }
    return out;
  }

  return { joined, left, regrant };
}
