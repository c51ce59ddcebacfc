/**
 * Dispatches every incoming stanza to its handler and turns refusals into
 * XMPP errors with a human text: an iq always gets a result or an error, a
 * message or presence that cannot be handled gets an error reply, and an
 * error stanza is never answered (that would loop).
 */
import type { Component } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { CtiError } from "../../cti/errors.js";
import { bareOf } from "../../cti/policy.js";
import { NS, SB, WG } from "../../protocol/names.js";
import type { Addr, HandlerDeps } from "./context.js";
import { commandHandlers } from "./commands.js";
import { discoHandlers } from "./disco.js";
import { exceedsBounds, STANZA_BOUNDS } from "./bounds.js";
import { expertHandlers } from "./expert.js";
import { monitoringHandlers } from "./monitoring.js";
import { presenceHandlers } from "./presence.js";
import { queueHandlers } from "./queue.js";
import { rateLimiter } from "./rate-limit.js";
import { seatHandlers } from "./seat.js";
import * as st from "./stanzas.js";
import type { Wallboard } from "./wallboard.js";

type IqHandler = (el: Element, addr: Addr) => Promise<Element | true> | Element | true;
/** Where an iq may be sent: to a queue's JID or to the component's domain. */
type Target = "queue" | "cc";

/** XEP-0060 requests to the component's domain: the wallboard (component/xmpp/wallboard.ts). */
const wallboardRoutes = (w: Wallboard): Record<string, { target: Target; handle: IqHandler }> => ({
  [`get ${NS.PUBSUB} pubsub`]: { target: "cc", handle: (el, addr) => w.request("get", el, addr) },
  [`set ${NS.PUBSUB} pubsub`]: { target: "cc", handle: (el, addr) => w.request("set", el, addr) },
});

export function registerHandlers(entity: Component, deps: HandlerDeps): void {
  const { config, log } = deps;
  const cc = config.component.domain;
  const queue = queueHandlers(deps);
  const seat = seatHandlers(deps);
  const monitoring = monitoringHandlers(deps);
  const expert = expertHandlers(deps);
  const commands = commandHandlers(deps, { ...monitoring.commands, ...expert.commands });
  const disco = discoHandlers(deps, commands.available);
  const { presence } = presenceHandlers(deps);
  const pong = () => true as const;
  const allow = rateLimiter(config.rateLimit);

  const iqs: Record<string, { target: Target | "any"; handle: IqHandler }> = {
    [`set ${NS.WG} ${WG.joinQueue}`]: { target: "queue", handle: queue.joinQueue },
    [`set ${NS.WG} ${WG.departQueue}`]: { target: "queue", handle: queue.departQueue },
    [`get ${NS.WG} ${WG.queueStatus}`]: { target: "queue", handle: queue.pollStatus },
    [`set ${NS.WG} ${WG.offerAccept}`]: { target: "queue", handle: queue.answerOffer },
    [`set ${NS.WG} ${WG.offerReject}`]: { target: "queue", handle: queue.answerOffer },
    [`set ${NS.SB} ${SB.inService}`]: { target: "cc", handle: seat.seatReport },
    [`set ${NS.SB} ${SB.answered}`]: { target: "cc", handle: seat.seatReport },
    [`set ${NS.SB} ${SB.end}`]: { target: "cc", handle: seat.end },
    [`set ${NS.SB} ${SB.resume}`]: { target: "cc", handle: seat.resume },
    [`set ${NS.SB} ${SB.feedback}`]: { target: "cc", handle: seat.feedback },
    [`get ${NS.SB} ${SB.stats}`]: { target: "cc", handle: seat.stats },
    [`set ${NS.SB} ${SB.leaveMessage}`]: { target: "queue", handle: queue.leaveMessage },
    [`set ${NS.SB} ${SB.call}`]: { target: "any", handle: queue.callToken },
    [`set ${NS.COMMANDS} command`]: { target: "cc", handle: commands.execute },
    [`set ${NS.SB} ${SB.monitor}`]: { target: "cc", handle: monitoring.iqs.monitor },
    [`set ${NS.SB} ${SB.unmonitor}`]: { target: "cc", handle: monitoring.iqs.unmonitor },
    [`set ${NS.SB} ${SB.whisper}`]: { target: "cc", handle: monitoring.iqs.whisper },
    [`set ${NS.SB} ${SB.barge}`]: { target: "cc", handle: monitoring.iqs.barge },
    [`set ${NS.SB} ${SB.inviteExpert}`]: { target: "cc", handle: expert.iqs.invite },
    [`set ${NS.SB} ${SB.leaveSession}`]: { target: "cc", handle: expert.iqs.leave },
    [`get ${NS.SB} ${SB.experts}`]: { target: "cc", handle: expert.iqs.list },
    [`get ${NS.DISCO_INFO} query`]: { target: "any", handle: disco.info },
    [`get ${NS.DISCO_ITEMS} query`]: { target: "any", handle: disco.items },
    [`get ${NS.PING} ping`]: { target: "any", handle: pong },
    ...(deps.wallboard && wallboardRoutes(deps.wallboard)),
  };

  /** Refusals become their error; anything else is our fault, logged, and said so. */
  function toError(err: unknown, stanza: Element): Element {
    if (err instanceof CtiError) return st.ctiErrorElement(err);
    log.error({ err, stanza: stanza.toString().slice(0, 2000) }, "handler failed");
    return st.errorElement("internal", "Something went wrong on our side. Please try again.");
  }

  function address(stanza: Element): Addr | undefined {
    const { from, to } = stanza.attrs;
    if (!from || !to) return undefined;
    const bare = bareOf(to); // an '@' after the '/' belongs to the resource
    const at = bare.indexOf("@");
    if (bare.slice(at + 1) !== cc) return undefined;
    return { from, fromBare: bareOf(from), queue: at === -1 ? "" : bare.slice(0, at) };
  }

  /**
   * What the seat module sends on the server's behalf (an agent's aggregate presence from its bare
   * JID, reports from the users' host) is never rate-limited: a dropped presence would leave the
   * agent's state wrong. Prosody stamps clients' stanzas with their full JID, so no client can send these.
   */
  const fromSeatModule = (stanza: Element, addr: Addr) =>
    addr.from === config.domain || (stanza.is("presence") && addr.from === addr.fromBare && deps.isAgent(addr.from));

  /** The reply to a stanza refused before it is read: an iq, message or presence error, never one to an error. */
  function errorReply(stanza: Element, error: Element): Element | undefined {
    if (stanza.attrs.type === "error") return undefined;
    if (stanza.is("iq")) return error;
    return stanza.is("message") ? st.messageError(stanza, error) : st.presenceError(stanza, error);
  }

  async function onIq(stanza: Element, addr: Addr): Promise<Element | true> {
    const child = stanza.getChildElements()[0]!; // the iq callee already refused zero or several children
    const route = iqs[`${stanza.attrs.type} ${child.attrs.xmlns} ${child.name}`];
    if (!route) return st.errorElement("unavailable", `This service does not answer this ${stanza.attrs.type} request (see docs/protocol.md).`);
    if (route.target === "queue" && !addr.queue)
      return st.errorElement("bad-request", `Send <${child.name}/> to a queue's JID, such as ${st.queueJid(deps.cti.queues[0]!.name, cc)}.`);
    if (route.target === "cc" && addr.queue)
      return st.errorElement("bad-request", `Send <${child.name}/> to ${cc}, not to a queue.`);
    try {
      if (addr.queue) deps.cti.queue(addr.queue); // unknown queue: item-not-found
      return await route.handle(child, addr);
    } catch (err) {
      return toError(err, stanza);
    }
  }

  async function onMessage(stanza: Element, addr: Addr): Promise<Element | undefined> {
    const type = stanza.attrs.type ?? "normal";
    if (type === "error") return undefined;
    try {
      if (type === "groupchat" || type === "headline")
        throw new CtiError("bad-request", "Send a chat message to join a queue.");
      if (stanza.getChild(SB.record, NS.SB)) {
        await seat.record(stanza, addr); // the seat module's copy of a message it saw pass (or a forgery: refused)
      } else if (addr.queue) {
        deps.cti.queue(addr.queue);
        await queue.chatToQueue(stanza, addr);
      } else if (await expert.chat(stanza, addr)) { // "invite JID", "leave", "remove" (issue 15)
        return undefined;
      } else if (!(await monitoring.chat(stanza, addr))) { // a barging supervisor's words go to the customer
        await seat.chatToComponent(stanza, addr);
      }
      return undefined;
    } catch (err) {
      return st.messageError(stanza, toError(err, stanza));
    }
  }

  async function onPresence(stanza: Element, addr: Addr): Promise<Element | undefined> {
    if (stanza.attrs.type === "error") return undefined;
    try {
      if (stanza.attrs.type === "unavailable") await monitoring.offline(addr); // a supervisor gone monitors nothing
      return await presence(stanza, addr);
    } catch (err) {
      return st.presenceError(stanza, toError(err, stanza));
    }
  }

  entity.middleware.use(async (ctx: { stanza: Element }) => {
    const { stanza } = ctx;
    if (!["iq", "message", "presence"].includes(stanza.name)) return undefined; // e.g. the XEP-0114 handshake
    if (stanza.attrs.type === "result" || (stanza.is("iq") && stanza.attrs.type === "error")) return undefined;
    // First, before anything walks the tree: nothing past this point meets a pathological one.
    if (exceedsBounds(stanza))
      return errorReply(stanza, st.errorElement("too-large", `The stanza is too large or too deeply nested (at most ${STANZA_BOUNDS.depth} levels and ${STANZA_BOUNDS.elements} elements).`));
    const addr = address(stanza);
    if (!addr) {
      log.warn({ from: stanza.attrs.from?.slice(0, 300), to: stanza.attrs.to?.slice(0, 300) }, "stanza without from/to for this component");
      return stanza.is("iq") ? st.errorElement("bad-request", "The stanza is not addressed to this service.") : undefined;
    }
    // A customer's going away is always heard; anything else beyond the sender's rate is refused.
    if (stanza.attrs.type !== "unavailable" && !fromSeatModule(stanza, addr) && !allow(addr.from)) {
      const error = st.errorElement("rate-limited", "Too many requests: please slow down.");
      return stanza.is("presence") ? undefined : errorReply(stanza, error); // a presence error would make a client show the queue as broken
    }
    if (stanza.is("iq")) return onIq(stanza, addr);
    if (stanza.is("message")) return onMessage(stanza, addr);
    if (stanza.is("presence")) return onPresence(stanza, addr);
    return undefined;
  });
}
