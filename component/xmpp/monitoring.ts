/**
 * Quality monitoring over XMPP (issue 13; docs/protocol.md, "Quality monitoring"): the supervisors'
 * ad-hoc commands monitor, whisper, barge and stop-monitoring, the same as iqs for the console, and a
 * barging supervisor's messages to the component's domain. The rules are cti/monitoring.ts's; this sends
 * what they decide: monitor grants to the seat module (which alone copies messages to the supervisor),
 * whispers through it (it delivers them to the seat as messages from the supervisor), the customer's
 * join notice and the supervisor's words from the queue's JID.
 */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { CtiError } from "../../cti/errors.js";
import { bareOf } from "../../cti/policy.js";
import { createMonitoring, type MonitorMode, type Watch } from "../../cti/monitoring.js";
import { supervisorScope } from "../authz.js";
import type { Session } from "../../cti/types.js";
import { COMMAND, NS, SB } from "../../protocol/names.js";
import type { Command } from "./commands.js";
import { form, listSingle, note, submitted } from "./commands.js";
import type { Addr, HandlerDeps } from "./context.js";
import * as st from "./stanzas.js";

export function monitoringHandlers({ cti, config, send, nameOf, isSupervisor, log }: HandlerDeps) {
  const cc = config.component.domain;
  const supervisorName = (jid: string) => config.supervisors.find((s) => s.jid === jid)?.name ?? nameOf(jid);
  const monitoring = createMonitoring({ cti, isSupervisor, nameOf: supervisorName, mayQueue: supervisorScope(config, cti).mayQueue });

  /** To the seat module, through the seat's JID: consumed there, never shown to the seat's client. */
  const grant = (w: Watch) => send(xml("message", { from: cc, to: w.seat },
    xml(SB.monitor, { xmlns: NS.SB, session: w.session, supervisor: w.supervisor, mode: w.mode })));
  const ungrant = (w: Watch) => send(xml("message", { from: cc, to: w.seat },
    xml(SB.unmonitor, { xmlns: NS.SB, session: w.session, supervisor: w.supervisor })));
  const toCustomer = (s: Session, supervisor: string, body: string) =>
    send(xml("message", { from: st.queueJid(s.queue, cc), to: s.customer, type: s.plain ? "chat" : undefined },
      xml("body", {}, body), xml(SB.supervisor, { xmlns: NS.SB, session: s.id, name: supervisorName(supervisor) })));
  const toSeat = (s: Session, supervisor: string, body: string) =>
    send(xml("message", { from: cc, to: s.seat!, type: "chat" },
      xml("body", {}, body), xml(SB.supervisor, { xmlns: NS.SB, session: s.id, name: supervisorName(supervisor) })));

  async function monitor(actor: string, sessionId: string, mode: MonitorMode): Promise<Watch> {
    const { watch, changed } = await monitoring.monitor(actor, sessionId, mode);
    await grant(watch); // again when unchanged: restores a grant the server lost (a Prosody restart)
    if (changed && watch.mode === "barge") {
      const s = (await cti.session(sessionId))!;
      const name = supervisorName(watch.supervisor);
      await toCustomer(s, watch.supervisor, `${name} (supervisor) has joined the conversation.`);
      await toSeat(s, watch.supervisor, `${name} (supervisor) has joined your conversation with ${s.customer}. (session ${s.id})`);
    }
    return watch;
  }

  async function whisper(actor: string, sessionId: string, text: string): Promise<void> {
    const { session: s, text: t } = await monitoring.whisper(actor, sessionId, text);
    await send(xml("message", { from: cc, to: s.seat!, type: "chat" },
      xml("body", {}, t), xml(SB.whisper, { xmlns: NS.SB, session: s.id, supervisor: bareOf(actor) })));
  }

  async function say(actor: string, sessionId: string, text: string): Promise<void> {
    const { session: s, text: t } = await monitoring.say(actor, sessionId, text);
    const name = supervisorName(bareOf(actor));
    await toCustomer(s, actor, `${name} (supervisor): ${t}`);
    await toSeat(s, actor, `[${s.id}] ${name} to the customer: ${t}`);
  }

  /**
   * Stops one session's monitoring, or all of the supervisor's: then every seat is told to withdraw whatever
   * it holds for this supervisor (<unmonitor/> without a session), so that grants this process forgot (it
   * restarted) or never knew (another instance gave them) stop too.
   */
  async function stop(actor: string, sessionId?: string, why = ""): Promise<Watch[]> {
    const stopped = await monitoring.stop(actor, sessionId, why);
    for (const w of stopped) await ungrant(w);
    if (sessionId === undefined) {
      for (const a of config.agents) await send(xml("message", { from: cc, to: a.jid }, xml(SB.unmonitor, { xmlns: NS.SB, supervisor: bareOf(actor) })));
    }
    return stopped;
  }

  const sessionOf = (el: Element) => {
    const id = el.attrs.session;
    if (!id || id.length > 64) throw new CtiError("bad-request", `<${el.name}/> needs a session attribute.`);
    return id;
  };

  /** The iq API (for the console): <monitor session mode/>, <unmonitor session?/>, <whisper session>text</whisper>, <barge session>text?</barge>. */
  const iqs = {
    async monitor(el: Element, addr: Addr): Promise<true> {
      await monitor(addr.fromBare, sessionOf(el), (el.attrs.mode ?? "silent") as MonitorMode);
      return true;
    },
    async unmonitor(el: Element, addr: Addr): Promise<true> {
      await stop(addr.fromBare, el.attrs.session);
      return true;
    },
    async whisper(el: Element, addr: Addr): Promise<true> {
      await whisper(addr.fromBare, sessionOf(el), el.text());
      return true;
    },
    async barge(el: Element, addr: Addr): Promise<true> {
      const id = sessionOf(el);
      await monitor(addr.fromBare, id, "barge");
      if (el.text().trim()) await say(addr.fromBare, id, el.text());
      return true;
    },
  };

  /**
   * A supervisor's chat message to the component's domain: while it barges in, it goes to the customer.
   * Returns false when it is not for us (not a supervisor, or not barging): the usual handling goes on.
   */
  async function chat(stanza: Element, addr: Addr): Promise<boolean> {
    if (!isSupervisor(addr.fromBare) || addr.queue) return false;
    const body = stanza.getChildText("body")?.trim();
    if (!body) return false;
    const session = monitoring.bargingIn(addr.fromBare);
    if (!session) {
      await send(st.text(cc, addr.from, 'You are not barging in on any session: run the ad-hoc command "barge" first. Your messages here then go to its customer.'));
      return true;
    }
    await say(addr.fromBare, session, body);
    return true;
  }

  /** A supervisor's client went away: it monitors nothing any more (the seat module withdraws its grants too). */
  async function offline(addr: Addr): Promise<void> {
    if (!isSupervisor(addr.fromBare)) return;
    await stop(addr.fromBare, undefined, "offline").catch((err: Error) => log.warn({ err: err.message }, "monitoring not stopped"));
  }

  const chooseSession = async (actor: string, title: string, ...extra: Element[]) => {
    const live = await monitoring.liveChats(actor);
    if (live.length === 0) return undefined;
    return form(title, listSingle("session", "Session", live.slice(0, 200).map((s) => [s.id, `${s.customer} with ${s.seat} (${s.queue}, ${s.id})`])), ...extra);
  };

  /** The supervisors' ad-hoc commands (added to commands.ts's table). */
  const commands: Record<string, Command> = {
    [COMMAND.monitor]: {
      name: "Monitor a live chat (silently)", role: "supervisor",
      async run(el, addr, reply) {
        const session = submitted(el, "session");
        if (!session) {
          const f = await chooseSession(addr.fromBare, "Monitor a chat");
          return f ? reply("executing", ...f) : reply("completed", note("No chat is live."));
        }
        const w = await monitor(addr.fromBare, session, "silent");
        return reply("completed", note(`You are monitoring ${w.customer} with ${w.seat} (session ${w.session}${w.mode === "barge" ? ", barging in" : ""}). `
          + `Copies of both sides come to you from ${config.domain}; neither side is told. "stop-monitoring" ends it.`));
      },
    },
    [COMMAND.whisper]: {
      name: "Whisper to the agent of a live chat", role: "supervisor",
      async run(el, addr, reply) {
        const session = submitted(el, "session");
        const text = submitted(el, "text");
        if (!session || !text) {
          const f = await chooseSession(addr.fromBare, "Whisper to the agent",
            xml("field", { var: "text", type: "text-single", label: "What only the agent sees" }, xml("required")));
          return f ? reply("executing", ...f) : reply("completed", note("No chat is live."));
        }
        await whisper(addr.fromBare, session, text);
        return reply("completed", note("Whispered: only the agent sees it."));
      },
    },
    [COMMAND.barge]: {
      name: "Barge in on a live chat", role: "supervisor",
      async run(el, addr, reply) {
        const session = submitted(el, "session");
        if (!session) {
          const f = await chooseSession(addr.fromBare, "Barge in");
          return f ? reply("executing", ...f) : reply("completed", note("No chat is live."));
        }
        const w = await monitor(addr.fromBare, session, "barge");
        return reply("completed", note(`You have joined the conversation with ${w.customer} (session ${w.session}): the customer was told. `
          + `Write to ${cc} and your messages go to the customer; its replies and the agent's come to you from ${config.domain}.`));
      },
    },
    [COMMAND.stopMonitoring]: {
      name: "Stop monitoring", role: "supervisor",
      async run(el, addr, reply) {
        const session = submitted(el, "session");
        const mine = await monitoring.watching(addr.fromBare);
        if (!session && mine.length > 1) {
          return reply("executing", ...form("Stop monitoring",
            listSingle("session", "Session", [["*", "All of them"], ...mine.map((w): [string, string] => [w.session, `${w.customer} with ${w.seat} (${w.session})`])])));
        }
        const stopped = await stop(addr.fromBare, session && session !== "*" ? session : undefined);
        return reply("completed", note(stopped.length ? `You stopped monitoring ${stopped.map((w) => w.session).join(", ")}.` : "You are not monitoring any session."));
      },
    },
  };

  return { iqs, chat, offline, commands, monitoring };
}

