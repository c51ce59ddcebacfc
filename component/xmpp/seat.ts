/**
 * Seat -> CTI: in-service and end, as iqs on the component's domain, plus the
 * XEP-0050 command end-session and chat commands for agents on plain clients;
 * the seat module's copies of the messages it records; plain customers' ratings.
 */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { CtiError } from "../../cti/errors.js";
import { BOARD_ERROR, decodeBoard, type BoardElement } from "../../protocol/board.js";
import { fileOf } from "../../protocol/files.js";
import { NS, SB } from "../../protocol/names.js";
import type { Addr, HandlerDeps } from "./context.js";
import { ratingHandler } from "./rating.js";
import * as st from "./stanzas.js";

function sessionAttr(el: Element): string {
  const id = el.attrs.session;
  if (!id || id.length > 64) throw new CtiError("bad-request", `<${el.name}/> needs a session attribute.`);
  return id;
}

export function seatHandlers({ cti, config, send, isAgent, log }: HandlerDeps) {
  const cc = config.component.domain;
  const rated = ratingHandler({ cti, send });

  /**
   * <in-service/> and <answered/>: the seat module reports from the users' host with a seat
   * attribute; an agent's client may report for itself.
   */
  async function seatReport(el: Element, addr: Addr): Promise<true> {
    const fromHost = addr.from === config.domain;
    const seat = fromHost ? el.attrs.seat : addr.fromBare;
    if (!seat) throw new CtiError("bad-request", `<${el.name}/> from the server needs a seat attribute.`);
    await (el.name === SB.answered ? cti.answered : cti.inService)(sessionAttr(el), seat);
    return true;
  }

  async function end(el: Element, addr: Addr): Promise<true> {
    await cti.end(sessionAttr(el), addr.from);
    return true;
  }

  async function resume(el: Element, addr: Addr): Promise<true> {
    if (!el.attrs.token) throw new CtiError("bad-request", "<resume/> needs a token attribute.");
    await cti.resume(sessionAttr(el), el.attrs.token, addr.from);
    return true;
  }

  async function feedback(el: Element, addr: Addr): Promise<true> {
    // Exactly one digit: Number() would also take "1e0", "0x5" or " 4".
    const score = /^[1-5]$/.test(el.attrs.score ?? "") ? Number(el.attrs.score) : NaN;
    await cti.feedback(sessionAttr(el), addr.from, score, el.text().trim());
    return true;
  }

  /** Today's figures, for the agent desk. */
  async function stats(_el: Element, addr: Addr): Promise<Element> {
    if (!isAgent(addr.fromBare)) throw new CtiError("forbidden", "Only agents have figures.");
    const s = await cti.agentStats(addr.fromBare);
    return xml(SB.stats, { xmlns: NS.SB, handled: String(s.handled), averageHandleSeconds: String(s.averageHandleSeconds), active: String(s.active), maxChats: String(s.maxChats) });
  }

  /**
   * The seat module's copy of a chat message between a seat and its customer (communication recording):
   * <record session seat direction/> beside the XEP-0297 <forwarded/> original. Trusted only from the users'
   * host (Prosody stamps every client's stanza with the client's own JID, so none can send from there);
   * anyone else is refused with forbidden. What the server sends is never answered: a copy that cannot be
   * recorded (a session already gone, Redis away) is logged and dropped, as the module has nothing to do with a reply.
   */
  async function record(stanza: Element, addr: Addr): Promise<void> {
    if (addr.from !== config.domain) throw new CtiError("forbidden", "Only the server records messages.");
    const rec = stanza.getChild(SB.record, NS.SB)!;
    const forwarded = stanza.getChild("forwarded", NS.FORWARD);
    const original = forwarded?.getChild("message");
    const body = original?.getChild("body");
    const board = original?.getChild(SB.board, NS.SB);
    const { seat, direction } = rec.attrs;
    try {
      if (board && !body) return await recordBoard(rec, original!, board, forwarded!);
      if (!original?.attrs.from || !body || !seat || (direction !== "in" && direction !== "out" && direction !== "expert"))
        throw new CtiError("bad-request", "A record needs session, seat and direction, and the forwarded message with its sender and body.");
      const at = Date.parse(forwarded?.getChild("delay", NS.DELAY)?.attrs.stamp ?? "");
      // The CTI cuts the body to its limit; text() joins the body's text nodes (a long one may come in several).
      // A shared file (XEP-0447/0446 metadata or an XEP-0066 link) keeps its name, size and type in the record.
      const file = fileOf(original) ?? undefined;
      await cti.recordMessage({ session: sessionAttr(rec), seat, sender: original.attrs.from, direction, body: body.text(), at: Number.isFinite(at) ? at : undefined, file });
    } catch (err) {
      const session = rec.attrs.session?.slice(0, 64);
      if (err instanceof CtiError) log.warn({ code: err.code, session }, "a recorded message was not stored");
      else log.error({ err, session }, "a recorded message could not be stored");
    }
  }

  /**
   * The seat module's copy of a whiteboard stanza (docs/protocol.md, "Whiteboard"): checked again with the
   * shared rules (protocol/board.ts), its session the record's, then stored as a `board` event.
   */
  async function recordBoard(rec: Element, original: Element, board: Element, forwarded: Element): Promise<void> {
    const decoded = decodeBoard(board as unknown as BoardElement);
    const { seat, direction } = rec.attrs;
    if (!decoded || decoded.session !== rec.attrs.session || !original.attrs.from || !seat || (direction !== "in" && direction !== "out"))
      throw new CtiError("bad-request", BOARD_ERROR);
    const at = Date.parse(forwarded.getChild("delay", NS.DELAY)?.attrs.stamp ?? "");
    await cti.recordBoard({ session: sessionAttr(rec), seat, sender: original.attrs.from, direction, ops: decoded.ops, at: Number.isFinite(at) ? at : undefined });
  }

  /** Agents on plain clients may type "end" (or "end S1"), or "ready" to end their wrap-up, to the component. */
  async function chatToComponent(stanza: Element, addr: Addr): Promise<void> {
    const body = stanza.getChildText("body")?.trim();
    if (!body) return;
    const reply = (text: string) => send(st.text(cc, addr.from, text));
    if (!isAgent(addr.fromBare)) {
      if (await rated(body, addr, cc)) return; // the answer to the rating question asked after its chat
      const queues = cti.queues.map((q) => `${st.queueJid(q.name, cc)} (${q.title ?? q.name})`).join(", ");
      return reply(`To reach an agent, write to a queue: ${queues}.`);
    }
    if (/^ready$/i.test(body)) {
      // Ends a wrap-up, and an auto-pause (the agent's client still shows available, so no presence comes).
      const wrapped = await cti.endWrapUp(addr.fromBare);
      const paused = (await cti.agent(addr.fromBare))?.state === "not-ready";
      if (paused) await cti.agentState(addr.fromBare, "ready");
      return reply(wrapped || paused ? "You are ready for the next customer." : "You are ready already.");
    }
    const match = /^end(?:\s+(\S+))?$/i.exec(body);
    if (!match) return reply('Commands: "end" ends your session (or "end SESSION" when you have several); "ready" ends your wrap-up or a pause; '
      + '"invite JID [note]" brings another agent or a supervisor into your conversation as an expert, "remove" takes them out, and an expert writes "leave".');
    const mine = await cti.liveSessionsOf(addr.fromBare);
    const target = match[1] ?? (mine.length === 1 ? mine[0]!.id : undefined);
    if (!target) return reply(mine.length ? `Which one? ${mine.map((s) => `"end ${s.id}" (${s.customer})`).join(", ")}` : "You have no active session.");
    // The session's own end message (from its event) tells the agent: a reply here would be a second one.
    await cti.end(target, addr.fromBare);
  }

  return { seatReport, end, resume, feedback, stats, chatToComponent, record };
}
