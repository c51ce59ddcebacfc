/**
 * The signed-in desk: the agent's state (presence), today's figures, one tab
 * per conversation, and the routing of everything that arrives. The seat
 * module in Prosody decides who may write to the seat; the desk shows what
 * arrives: customers of beginning messages in their own tabs, anyone else
 * (staff) in a tab of their own, the component's other texts as notices.
 * The desk takes XEP-0142 offers: it announces itself to every queue, and the
 * customers offered to it wait above the chats until the agent answers.
 */
import type { Client } from "@xmpp/client";
import type { Element as XmlElement } from "@xmpp/xml";
import type { QueueInfo, WebConfig } from "../lib/config.js";
import { boardIn, showsBoard } from "../lib/board.js";
import { errorText } from "../lib/connect.js";
import { Uploader } from "../lib/files.js";
import { fileOf, type SharedFile } from "../../protocol/files.js";
import { chatStateOf, receiptFor, receivedId, stanzaErrorText } from "../lib/xep.js";
import { NS, SB, WG } from "../../protocol/names.js";
import type { Invitation } from "sip.js";
import { Call, type CallInfo } from "./call.js";
import { Chat } from "./chat.js";
import { fill, h, nextUid } from "./dom.js";
import { Offers, type OfferCard } from "./offers.js";
import { DeskPhone } from "./phone.js";
import {
  agentStatus, bareOf, chatCallIq, endIq, expertsIq, inviteExpertIq, iqError, leaveSessionIq, offerAnswer, parseBegin, parseCallNotice, parseChatCallNotice, parseEnded,
  parseExperts, parseOffer, parseRevoke, parseStats, presence, sessionMark, sessionMentioned, statsIq, unavailable,
  type Begin, type CallNotice, type Ended, type Stats,
} from "./stanzas.js";
import { expertPicker } from "./expert.js";
import { duration } from "./text.js";

/** A customer who gave no name: registered ones by address, anonymous visitors by a short tag. */
export function displayName(jid: string, guestDomain: string): string {
  const bare = bareOf(jid);
  const [local = "", domain] = bare.split("@");
  return domain === guestDomain ? `Visitor ${local.slice(0, 5)}` : bare;
}

export const REASONS = ["Break", "Lunch", "Training", "Meeting", "Paperwork"] as const;
const OTHER = "__other";

interface State { ready: boolean; reason: string }

/** A conversation in the list: a chat (customer or staff) or a call. */
type Item = Chat | Call;

/** A call notice waits this long for its call to ring (the notice and the INVITE race). */
const NOTICE_WAIT_MS = 30000;

export class Desk {
  readonly root: HTMLElement;
  private readonly cc: string;
  private readonly me: string;
  private state: State = { ready: false, reason: "" };
  private online = true;
  private items: Item[] = [];
  /** The softphone (when the contact center takes calls). */
  private phone: DeskPhone | undefined;
  /** Call notices from the component whose call has not rung yet. */
  private callNotices: Array<{ at: number; notice: CallNotice; body: string }> = [];
  private readonly bySession = new Map<string, Chat>();
  private readonly ticker: ReturnType<typeof setInterval>;
  private readonly queueTitles: Map<string, string>;
  /** The queues by JID: the only senders of offers. */
  private readonly queueByJid: Map<string, QueueInfo>;
  private readonly offers: Offers;
  /** Live sessions and capacity as the component last told (undefined: not known). */
  private capacity: Stats["capacity"];

  private readonly pill: HTMLElement;
  private readonly phonePill: HTMLElement;
  private readonly readyBtn: HTMLButtonElement;
  private readonly notReadyBtn: HTMLButtonElement;
  private readonly reasonSelect: HTMLSelectElement;
  private readonly otherWrap: HTMLElement;
  private readonly otherInput: HTMLInputElement;
  private readonly handled: HTMLElement;
  private readonly aht: HTMLElement;
  private readonly statsNote: HTMLElement;
  private readonly tablist: HTMLElement;
  private readonly panels: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly emptyHint: HTMLElement;
  private readonly countLabel: HTMLElement;
  private readonly notices: HTMLElement;
  private readonly connBanner: HTMLElement;
  private readonly announcer: HTMLElement;

  /** `password`: the one the agent signed in with, for the softphone's SIP account (kept in memory only). */
  private uploader: Uploader | undefined;

  /** XEP-0363 uploads for the chats' attach buttons (issue 15); undefined when the contact center shares no files. */
  private get upload(): ((file: File) => Promise<SharedFile>) | undefined {
    if (!this.config.files) return undefined;
    const uploader = (this.uploader ??= new Uploader(() => this.xmpp, this.config.files));
    return (file) => uploader.upload(file);
  }

  constructor(private readonly xmpp: Client, private readonly config: WebConfig, private readonly onSignedOut: () => void, private readonly password = "") {
    this.cc = config.componentDomain;
    this.me = xmpp.jid ? xmpp.jid.bare().toString() : "";
    this.queueTitles = new Map(config.queues.map((q) => [q.name, q.title]));
    this.queueByJid = new Map(config.queues.map((q) => [bareOf(q.jid), q]));
    this.offers = new Offers((offer, accept) => void this.answerOffer(offer, accept));

    // --- header: state, figures, account
    this.pill = h("span", { class: "pill", attrs: { role: "status", "aria-live": "polite" } });
    this.phonePill = h("span", { class: "pill phone offline", hidden: !config.sip, attrs: { role: "status", "aria-live": "polite" } });
    this.readyBtn = h("button", { class: "btn btn-ready", text: "Ready", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => this.setState({ ready: true, reason: "" }) } });
    const reasonId = nextUid("reason");
    this.reasonSelect = h("select", { id: reasonId },
      ...REASONS.map((r) => h("option", { text: r, attrs: { value: r } })),
      h("option", { text: "Other…", attrs: { value: OTHER } }));
    const otherId = nextUid("other");
    this.otherInput = h("input", {
      id: otherId, attrs: { type: "text", maxlength: 100, placeholder: "Type a reason" },
      on: { keydown: (e) => { if (e.key === "Enter") { e.preventDefault(); this.notReady(); } } },
    });
    this.otherWrap = h("span", { class: "field-inline", hidden: true }, h("label", { class: "sr-only", text: "Other reason", attrs: { for: otherId } }), this.otherInput);
    this.reasonSelect.addEventListener("change", () => {
      this.otherWrap.hidden = this.reasonSelect.value !== OTHER;
      if (!this.otherWrap.hidden) this.otherInput.focus();
    });
    this.notReadyBtn = h("button", { class: "btn btn-away", text: "Not ready", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => this.notReady() } });

    this.handled = h("span", { class: "figure", text: "…" });
    this.aht = h("span", { class: "figure", text: "…" });
    this.statsNote = h("span", { class: "sr-only" });

    this.connBanner = h("div", { class: "conn-banner", hidden: true, attrs: { role: "alert" } });
    this.notices = h("div", { class: "notices", attrs: { role: "status", "aria-live": "polite" } });
    this.announcer = h("div", { class: "sr-only", attrs: { "aria-live": "polite" } });

    // --- chat list and panels
    this.countLabel = h("span", { class: "count" });
    this.tablist = h("div", {
      class: "tablist", attrs: { role: "tablist", "aria-orientation": "vertical", "aria-label": "Chats" },
      on: { keydown: (e) => this.onTablistKey(e) },
    });
    this.emptyHint = h("p");
    this.empty = h("div", { class: "empty" }, h("img", { class: "empty-art", attrs: { src: "chats.svg", alt: "", width: 64, height: 64 } }), h("h2", { text: "No chats yet" }), this.emptyHint);
    this.panels = h("div", { class: "panels" }, this.empty);

    this.root = h("div", { class: "desk" },
      h("header", { class: "topbar" },
        h("div", { class: "topbar-group" },
          h("div", { class: "brand" }, h("span", { class: "logo", attrs: { "aria-hidden": "true" } }, "SB"), h("span", {}, h("strong", { text: "Switchboard" }), h("span", { class: "brand-sub", text: "Agent desk" }))),
          h("div", { class: "state", attrs: { role: "group", "aria-label": "Your state" } },
            this.pill, this.readyBtn,
            h("span", { class: "field-inline" }, h("label", { text: "Reason", attrs: { for: reasonId } }), this.reasonSelect),
            this.otherWrap, this.notReadyBtn, this.phonePill)),
        h("div", { class: "topbar-group topbar-end" },
          h("div", { class: "stats", attrs: { role: "group", "aria-label": "Your figures today" } },
            h("div", { class: "stat" }, h("span", { class: "stat-label", text: "Handled today" }), this.handled),
            h("div", { class: "stat" }, h("span", { class: "stat-label", text: "Avg handle time" }), this.aht),
            this.statsNote))),
      this.connBanner, this.notices, this.offers.root, this.announcer,
      h("main", { class: "workspace" },
        h("nav", { class: "sidebar", attrs: { "aria-label": "Conversations" } },
          h("div", { class: "sidebar-head" }, h("h2", { text: config.sip ? "Chats and calls" : "Chats" }), this.countLabel),
          this.tablist,
          h("p", { class: "hint", text: "↑/↓ in the list or Alt+↑/↓ anywhere switch chats." }),
          h("div", { class: "account" },
            h("span", { class: "avatar", attrs: { "aria-hidden": "true" }, text: (this.me[0] ?? "?").toUpperCase() }),
            h("span", { class: "me" }, h("span", { class: "me-label", text: "Signed in as" }), h("span", { class: "me-jid", text: this.me, attrs: { title: this.me } })),
            h("button", { class: "btn btn-ghost", text: "Sign out", attrs: { type: "button" }, on: { click: () => void this.signOut() } }))),
        this.panels));

    xmpp.on("stanza", (s: XmlElement) => {
      try {
        this.onStanza(s);
      } catch (err) {
        console.error("desk: stanza handling failed", err, String(s));
      }
    });
    xmpp.iqCallee.set(NS.WG, WG.offer, (ctx: { element: XmlElement; stanza: XmlElement }) => this.onOffer(ctx.element, ctx.stanza.attrs.from ?? ""));
    xmpp.iqCallee.set(NS.WG, WG.offerRevoke, (ctx: { element: XmlElement; stanza: XmlElement }) => this.onRevoke(ctx.element, ctx.stanza.attrs.from ?? ""));
    xmpp.on("status", (status: string) => this.onStatus(status));
    document.addEventListener("keydown", this.onGlobalKey);
    document.addEventListener("visibilitychange", this.onVisible);
    addEventListener("pagehide", this.onPageHide);
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const c of this.items) c.tick(now);
      this.offers.tick(now);
    }, 1000);
    this.renderState();
    this.renderList();
  }

  /** After sign-in: not ready until the agent says otherwise, taking offers, then today's figures. */
  async start(): Promise<void> {
    (this.xmpp.reconnect as unknown as { start(): void }).start();
    this.startPhone();
    await this.sendPresence();
    await this.announce();
    await this.refreshStats();
  }

  // --- the softphone

  private startPhone(): void {
    const sip = this.config.sip;
    const user = this.me.split("@")[0];
    if (!sip || !user || !this.password) return;
    const phone = new DeskPhone(sip, user, this.password);
    this.phone = phone;
    phone.onState = () => this.renderPhone();
    phone.onInvite = (invitation) => this.onInvite(invitation);
    this.renderPhone();
    void phone.start();
  }

  private renderPhone(): void {
    const phone = this.phone;
    if (!phone) return;
    const text = { connecting: "Phone: connecting…", ready: "Phone ready", offline: "Phone offline", failed: "Phone unavailable" }[phone.state];
    fill(this.phonePill, h("span", { class: "dot", attrs: { "aria-hidden": "true" } }), text);
    this.phonePill.className = `pill phone ${phone.state === "ready" ? "ready" : phone.state === "connecting" ? "away" : "offline"}`;
    this.phonePill.title = phone.detail || `Calls ring here (${phone.aor}).`;
    if (phone.state === "failed" && phone.detail) this.notice(phone.detail);
  }

  /** A call rings the softphone: one at a time, through a queue (or from a colleague of this domain). */
  private onInvite(invitation: Invitation): void {
    const sip = this.config.sip!;
    const req = invitation.request;
    const to = req.to.uri;
    const from = invitation.remoteIdentity;
    const address = `${from.uri.user ?? ""}@${from.uri.host}`;
    const queue = to.host === this.cc ? this.config.queues.find((q) => q.name === to.user) : undefined;
    if (!queue && from.uri.host !== sip.domain) {
      // The switch lets only the contact center ring a voice agent; this desk holds to that for anyone.
      void invitation.reject({ statusCode: 403, reasonPhrase: "Forbidden" }).catch(() => undefined);
      this.notice(`A call from ${address} was refused: calls reach you through the contact center's queues.`);
      return;
    }
    if (this.items.some((c) => c instanceof Call && !c.ended)) {
      void invitation.reject({ statusCode: 486, reasonPhrase: "Busy Here" }).catch(() => undefined);
      this.notice(`A call from ${from.displayName || address} was refused: you are on a call.`);
      return;
    }
    const date = Date.parse(req.getHeader("Date") ?? "");
    const subject = (req.getHeader("Subject") ?? "").replace(/[\u0000-\u001f\u007f]+/g, " ").trim().slice(0, 200);
    const info: CallInfo = {
      name: from.displayName?.trim() || address, address, queueTitle: queue?.title, subject: subject || undefined,
      waitingSince: queue && Number.isFinite(date) ? Math.min(date, Date.now()) : undefined,
    };
    const call = new Call(invitation, info, {
      prepareMicrophone: (video) => this.phone!.prepareMicrophone(video),
      onClose: (c) => this.closeItem(c),
      onChange: () => this.renderList(),
      announce: (text) => { this.announcer.textContent = text; },
      onStage: (c) => {
        void this.refreshStats();
        // A call from a chat: the chat's log says when it was answered and when it ended.
        const chat = c.session ? this.bySession.get(c.session) : undefined;
        if (chat && !chat.ended) chat.system(c.ended ? "The call from this chat ended; the chat goes on." : "You answered the call from this chat.");
      },
    });
    this.addItem(call);
    call.system(queue ? `Incoming call for ${queue.title}.` : `Incoming call from ${address}.`);
    // The component's notice may have come first.
    this.callNotices = this.callNotices.filter((n) => Date.now() - n.at < NOTICE_WAIT_MS);
    const waiting = this.callNotices.shift();
    if (waiting) this.applyNotice(call, waiting.notice, waiting.body);
    call.markUnread();
    this.announcer.textContent = `Incoming call from ${call.name}${queue ? ` (${queue.title})` : ""}. Answer or Reject.`;
  }

  /** "Call from ... your phone is ringing. (session S)": names the ringing call's customer and session. */
  private onCallNotice(notice: CallNotice, body: string): void {
    const call = [...this.items].reverse().find((c): c is Call => c instanceof Call && !c.session && c.stage !== "ended");
    if (call) this.applyNotice(call, notice, body);
    else this.callNotices.push({ at: Date.now(), notice, body });
  }

  /** The customer of a chat calls from it: the call (ringing, or about to) is that chat's. */
  private onChatCallNotice(customer: string, session: string, body: string): void {
    const chat = this.bySession.get(session);
    const queueTitle = chat?.queueTitle ?? "";
    chat?.system("The customer is calling you from this chat: answer in the call's tab.");
    this.onCallNotice({ name: chat?.name, customer, queueTitle, session }, body);
  }

  private applyNotice(call: Call, notice: CallNotice, body: string): void {
    call.learn({ name: notice.name, address: notice.customer.startsWith("sip:") ? notice.customer : `${notice.customer} (chat address)`, session: notice.session });
    call.system(body);
  }

  /** XEP-0142: this client takes offers, on every queue (again after each reconnection). */
  private async announce(): Promise<void> {
    try {
      for (const q of this.config.queues) await this.xmpp.send(agentStatus(q.jid));
    } catch { /* offline: announced again when the connection comes back */ }
  }

  // --- agent state

  private notReady(): void {
    const choice = this.reasonSelect.value;
    const reason = choice === OTHER ? this.otherInput.value.trim() : choice;
    if (choice === OTHER && !reason) {
      this.otherInput.focus();
      this.notice("Type a reason, or pick one from the list.");
      return;
    }
    void this.setState({ ready: false, reason });
  }

  private async setState(state: State): Promise<void> {
    this.state = state;
    this.renderState();
    await this.sendPresence();
  }

  private async sendPresence(): Promise<void> {
    try {
      await this.xmpp.send(presence(this.state.ready, this.state.reason));
    } catch {
      this.notice("Could not change your state: the connection is down. It is applied when it comes back.");
    }
  }

  private renderState(): void {
    const { ready, reason } = this.state;
    if (!this.online) {
      fill(this.pill, h("span", { class: "dot", attrs: { "aria-hidden": "true" } }), "Offline");
      this.pill.className = "pill offline";
    } else {
      fill(this.pill, h("span", { class: "dot", attrs: { "aria-hidden": "true" } }), ready ? "Ready" : reason ? `Not ready · ${reason}` : "Not ready");
      this.pill.className = `pill ${ready ? "ready" : "away"}`;
    }
    this.readyBtn.setAttribute("aria-pressed", String(ready));
    this.notReadyBtn.setAttribute("aria-pressed", String(!ready));
    this.emptyHint.textContent = ready
      ? "You are ready: customers appear here as the contact center assigns them."
      : "Click Ready to receive customers.";
  }

  // --- figures

  async refreshStats(): Promise<void> {
    try {
      const stats = parseStats(await this.xmpp.iqCaller.get(statsIq(), this.cc, 10000));
      if (!stats) throw new Error("no stats in the answer");
      this.handled.textContent = String(stats.handled);
      this.aht.textContent = stats.handled ? duration(stats.averageHandleSeconds) : "—";
      this.capacity = stats.capacity;
      this.statsNote.textContent = "";
      this.handled.parentElement!.removeAttribute("title");
    } catch (err) {
      this.handled.textContent = "—";
      this.aht.textContent = "—";
      this.capacity = undefined;
      this.statsNote.textContent = "Figures are not available.";
      this.handled.parentElement!.title = `Figures not available (${errorText(err)})`;
    }
    this.renderList();
  }

  // --- offers

  private onOffer(el: XmlElement, from: string): true | XmlElement {
    const queue = this.queueByJid.get(bareOf(from));
    if (!queue) return iqError("not-allowed");
    const offer = parseOffer(el, from);
    if (!offer) return iqError("bad-request");
    const name = offer.fields.find((f) => f.var === "name")?.value || displayName(offer.customer, this.config.guestDomain);
    this.offers.add({
      queue: offer.queue, queueTitle: queue.title, customer: offer.customer, session: offer.session, name, timeout: offer.timeout,
      fields: offer.fields.filter((f) => f.var !== "name").map((f) => ({ label: f.label ?? this.fieldLabel(queue.name, f.var), value: f.value })),
    });
    this.announcer.textContent = `Customer offered: ${name} (${queue.title}). Accept or Reject.`;
    return true;
  }

  private onRevoke(el: XmlElement, from: string): true | XmlElement {
    const queue = bareOf(from);
    if (!this.queueByJid.has(queue)) return iqError("not-allowed");
    const revoke = parseRevoke(el);
    if (!revoke) return iqError("bad-request");
    const [gone] = this.offers.remove((o) => o.queue === queue && ((!!revoke.session && o.session === revoke.session) || (!!revoke.customer && o.customer === revoke.customer)));
    const who = gone?.name ?? (revoke.customer ? displayName(revoke.customer, this.config.guestDomain) : "a customer");
    this.notice(`Offer of ${who} withdrawn${revoke.reason ? `: ${revoke.reason}` : "."}`);
    return true;
  }

  /** The card is gone already; on accept the customer's chat begins as usual (or a revoke says why not). */
  private async answerOffer(offer: OfferCard, accept: boolean): Promise<void> {
    if (document.activeElement === document.body) this.items.find((c) => c.active)?.focusComposer();
    try {
      await this.xmpp.iqCaller.set(offerAnswer(accept, offer.customer), offer.queue, 10000);
    } catch (err) {
      this.notice(`Could not ${accept ? "accept" : "reject"} the offer of ${offer.name}: ${errorText(err)}`);
    }
  }

  // --- routing

  private onStanza(s: XmlElement): void {
    if (!s.is("message")) return;
    const type = s.attrs.type ?? "normal";
    if (type === "groupchat" || type === "headline") return;
    const from = s.attrs.from ?? "";
    const bare = bareOf(from);

    if (bare === this.cc) {
      const begin = parseBegin(s, this.cc);
      if (begin) return this.onBegin(begin);
      const ended = parseEnded(s, this.cc);
      if (ended) return this.onEnded(ended);
      const body = s.getChildText("body");
      if (type === "error") return this.notice(`The contact center refused a message: ${stanzaErrorText(s)}`);
      if (!body) return;
      // An expert joined or left (issue 15): in that chat, at the seat's desk and at the expert's.
      const expert = s.getChild(SB.expert, NS.SB);
      const withExpert = this.bySession.get(expert?.attrs.session ?? "");
      if (expert && withExpert) return this.onExpertNotice(withExpert, expert, body);
      // A supervisor joined the conversation or wrote to its customer (quality monitoring): in that chat.
      const supervised = this.bySession.get(s.getChild(SB.supervisor, NS.SB)?.attrs.session ?? "");
      if (supervised) return supervised.system(body);
      const callNotice = parseCallNotice(body, this.config.queues.map((q) => q.title));
      if (callNotice) return this.onCallNotice(callNotice, body);
      const chatCall = parseChatCallNotice(body);
      if (chatCall) return this.onChatCallNotice(chatCall.customer, chatCall.session, body);
      // Other news of a call (missed, ended by a supervisor) goes to that call.
      const about = sessionMentioned(body);
      const call = about ? this.items.find((c): c is Call => c instanceof Call && c.session === about) : undefined;
      if (call) call.system(body);
      else this.notice(body);
      return;
    }

    const body = s.getChildText("body");
    if (type === "error") {
      const id = s.attrs.id ?? "";
      const owner = this.chatList().find((c) => c.owns(id));
      if (owner) owner.failed(id, stanzaErrorText(s));
      else if (body !== null) this.notice(`A message to ${from} was not delivered: ${stanzaErrorText(s)}`);
      // Bounced chat states and receipts (the customer left) are not worth a notice.
      return;
    }

    const rid = receivedId(s);
    if (rid) this.chatList().find((c) => c.owns(rid))?.delivered(rid);
    const ack = body !== null ? receiptFor(s) : null;
    if (ack) void this.xmpp.send(ack).catch(() => undefined);

    // A supervisor's whisper (the seat module delivers it from the supervisor, and strips the mark from
    // customers' messages): shown in that customer's chat, marked, never sent on.
    const whisper = s.getChild(SB.whisper, NS.SB);
    const whispered = whisper && body ? this.bySession.get(whisper.attrs.session ?? "") : undefined;
    if (whispered && bareOf(whispered.jid) !== bare) return whispered.system(`Whisper from ${bare} (only you see this): ${body}`);

    // Issue 15. At the seat's desk: the expert's words, marked <expert/> by the seat module (which strips the
    // mark from customers' messages). At the expert's: the customer's and the agent's words, relayed by the
    // seat module from the seat's JID and marked <relayed/> (the original, unlabelled, is forwarded inside).
    const expertSaid = s.getChild(SB.expert, NS.SB);
    const atSeat = expertSaid && body ? this.bySession.get(expertSaid.attrs.session ?? "") : undefined;
    if (atSeat && !atSeat.isExpert) return atSeat.relayed(`${expertSaid!.attrs.name || bare} (expert)`, body!);
    const relayed = s.getChild(SB.relayed, NS.SB);
    const atExpert = relayed && body ? this.bySession.get(relayed.attrs.session ?? "") : undefined;
    if (atExpert?.isExpert && bareOf(atExpert.jid) === bare) {
      const original = s.getChild("forwarded", NS.FORWARD)?.getChild("message")?.getChildText("body") ?? body!;
      if (relayed!.attrs.role === "customer") return atExpert.incoming(original);
      return atExpert.relayed(relayed!.attrs.name || bare, original);
    }
    // The whiteboard (docs/protocol.md, "Whiteboard"): only the customer's, checked, in the chat of its session.
    const board = type === "chat" && body === null ? boardIn(s) : null;
    if (board) {
      const of = this.bySession.get(board.session);
      if (of && bareOf(of.jid) === bare) of.boardIn(board.session, board.ops);
      return;
    }

    let chat = this.chatFor(from);
    if (!chat) {
      if (body === null || body.trim() === "") return; // chat states / receipts of a conversation we don't show
      if (bare === this.config.domain || !bare.includes("@")) return this.notice(`${from}: ${body}`);
      chat = this.addItem(new Chat({
        id: `staff:${bare}`, kind: "staff", jid: from, name: bare, fields: [], canned: this.config.cannedResponses,
        send: (el) => this.xmpp.send(el), upload: this.upload, filesOrigin: this.config.files?.origin, onEnd: () => undefined, onClose: (c) => this.closeItem(c), onChange: () => this.renderList(),
      }));
      chat.system(`A message from ${bare}, who is not a customer of yours (staff).`);
    }
    // The agent who invited this desk writes to it directly: a word between the two, not the customer's.
    if (chat.isExpert) {
      if (body) chat.relayed(`${bare} (to you only)`, body);
      return;
    }
    // Replies go where the last message came from (a registered customer or staff member may switch devices).
    if (!chat.ended) chat.moveTo(from);
    if (body !== null && body !== "") chat.incoming(body, Date.now(), fileOf(s));
    else {
      const state = chatStateOf(s);
      if (state) chat.setPeerTyping(state === "composing");
    }
  }

  /** The live conversation with this JID: a customer (by bare JID, the seat module's rule), else a staff tab. */
  private chatFor(from: string): Chat | undefined {
    const bare = bareOf(from);
    const chats = this.chatList();
    const customers = chats.filter((c) => c.kind === "customer" && bareOf(c.jid) === bare);
    return customers.find((c) => c.jid === from && !c.ended)
      ?? customers.find((c) => !c.ended)
      ?? chats.find((c) => c.kind === "staff" && c.id === `staff:${bare}`)
      ?? customers.at(-1);
  }

  private onBegin(b: Begin): void {
    if (b.role === "expert") return this.onExpertBegin(b);
    const known = this.bySession.get(b.session);
    if (known) {
      known.moveTo(b.customer, `The customer reconnected as ${b.customer}.`);
      return;
    }
    const name = b.name || displayName(b.customer, this.config.guestDomain);
    const chat = new Chat({
      id: b.session, kind: "customer", jid: b.customer, name, queueTitle: this.queueTitles.get(b.queue) ?? b.queue,
      session: b.session, queuedAt: b.queuedAt, canned: this.config.cannedResponses,
      fields: b.fields.filter((f) => f.var !== "name").map((f) => ({ label: f.label ?? this.fieldLabel(b.queue, f.var), value: f.value })),
      send: (el) => this.xmpp.send(el), upload: this.upload, filesOrigin: this.config.files?.origin, onEnd: (c) => void this.endChat(c), onClose: (c) => this.closeItem(c), onChange: () => this.renderList(),
      onCall: this.config.sip ? (c) => void this.callCustomer(c) : undefined,
      onInvite: (c) => void this.openExpertPicker(c), onRemoveExpert: (c) => void this.leaveOrRemove(c),
    });
    this.bySession.set(b.session, chat);
    this.addItem(chat);
    // A customer on a plain XMPP client sees no whiteboard: its client's disco#info says so (the page names the feature).
    void showsBoard(this.xmpp, b.customer).then((shows) => { if (shows !== null) chat.boardSupport(shows); });
    chat.system(b.body || `New customer ${b.customer} (${b.queue}).`);
    chat.markUnread();
    this.announcer.textContent = `New customer: ${name} (${this.queueTitles.get(b.queue) ?? b.queue}).`;
    void this.refreshStats();
  }

  /** A form field's label: the queue's pre-chat field as configured, else a plain name. */
  private fieldLabel(queue: string, v: string): string {
    const configured = this.config.queues.find((q) => q.name === queue)?.fields.find((f) => f.var === v)?.label;
    return configured ?? ({ name: "Name", subject: "Subject" } as Record<string, string>)[v] ?? v;
  }

  private onEnded(e: Ended): void {
    const chat = this.bySession.get(e.session);
    if (chat) chat.end(e.body, e.reason);
    else if (e.body) this.notice(e.body);
    void this.refreshStats();
  }

  /**
   * "Call customer": the component sends the customer's page the call's token with Accept / Decline;
   * accepted, the call rings this desk's softphone. Refusals (no phone registered, a call on) go to the chat.
   */
  private async callCustomer(chat: Chat): Promise<void> {
    if (chat.ended || !chat.id) return;
    chat.setCallBusy(true);
    try {
      await this.xmpp.iqCaller.set(chatCallIq(chat.id), this.cc, 10000);
      chat.system(`You asked ${chat.name} to take a call: their page shows Accept / Decline. If they accept, your phone rings here.`);
    } catch (err) {
      chat.system(`The call could not be offered: ${errorText(err)}`);
    } finally {
      chat.setCallBusy(false);
    }
  }

  // --- an expert in the conversation (issue 15)

  /**
   * Invited into another seat's conversation: the session as a panel with role expert. Its words go to the
   * seat's JID marked with the session (the seat module relays them to the customer); End leaves.
   */
  private onExpertBegin(b: Begin): void {
    const known = this.bySession.get(b.session);
    if (known && !known.ended) return; // the same invitation again: nothing new
    if (!b.seat) return;
    const name = b.name || displayName(b.customer, this.config.guestDomain);
    const chat = new Chat({
      id: b.session, kind: "customer", role: "expert", jid: b.seat, name: `${name} (with ${bareOf(b.seat)})`,
      queueTitle: this.queueTitles.get(b.queue) ?? b.queue, session: b.session, canned: this.config.cannedResponses,
      fields: b.fields.filter((f) => f.var !== "name").map((f) => ({ label: f.label ?? this.fieldLabel(b.queue, f.var), value: f.value })),
      mark: [sessionMark(b.session)],
      send: (el) => this.xmpp.send(el), onEnd: (c) => void this.leaveOrRemove(c), onClose: (c) => this.closeItem(c), onChange: () => this.renderList(),
    });
    if (known) this.closeItem(known);
    this.bySession.set(b.session, chat);
    this.addItem(chat);
    chat.system(b.body || `You were invited into the conversation with ${name}.`);
    chat.markUnread();
    this.announcer.textContent = `You were invited into a conversation with ${name}.`;
  }

  /** An expert joined or left: a line in that chat; at the expert's own desk, leaving ends its panel. */
  private onExpertNotice(chat: Chat, expert: XmlElement, body: string): void {
    if (chat.isExpert) {
      if (expert.attrs.status === "left") chat.end(body, "expert-left");
      else chat.system(body);
      return;
    }
    chat.setExpert(expert.attrs.status === "joined" ? expert.attrs.name || expert.attrs.jid : undefined);
    chat.system(body);
  }

  private async openExpertPicker(chat: Chat): Promise<void> {
    if (chat.ended) return;
    try {
      const result = await this.xmpp.iqCaller.get(expertsIq(chat.id), this.cc, 10000);
      const close = () => chat.showTool(null);
      chat.showTool(expertPicker(parseExperts(result), (jid, note) => void this.inviteExpert(chat, jid, note), close));
    } catch (err) {
      chat.system(`Could not list who may be invited: ${errorText(err)}`);
    }
  }

  private async inviteExpert(chat: Chat, jid: string, note: string): Promise<void> {
    try {
      await this.xmpp.iqCaller.set(inviteExpertIq(chat.id, jid, note), this.cc, 10000);
      chat.showTool(null); // the joined notice follows
    } catch (err) {
      chat.system(`The expert could not join: ${errorText(err)}`);
    }
  }

  /** The expert leaves its panel's conversation; the seat removes its chat's expert. */
  private async leaveOrRemove(chat: Chat): Promise<void> {
    if (chat.ended) return;
    try {
      await this.xmpp.iqCaller.set(leaveSessionIq(chat.id), this.cc, 10000);
    } catch (err) {
      if (chat.isExpert && (err as { condition?: string }).condition === "item-not-found") chat.end("You are no longer in this conversation.", "expert-left");
      else chat.system(`Could not ${chat.isExpert ? "leave" : "remove the expert"}: ${errorText(err)}`);
    }
  }

  private async endChat(chat: Chat): Promise<void> {
    if (chat.ended || !chat.id) return;
    chat.setBusy(true);
    try {
      await this.xmpp.iqCaller.set(endIq(chat.id), this.cc, 10000);
      // The <ended/> message follows and closes the conversation.
    } catch (err) {
      if ((err as { condition?: string }).condition === "item-not-found") {
        chat.end("This chat had already ended.", "");
        void this.refreshStats();
      } else {
        this.notice(`Could not end the chat with ${chat.name}: ${errorText(err)}`);
      }
    } finally {
      chat.setBusy(false);
    }
  }

  // --- the chat list

  /** The chats of the list (customers and staff), without the calls. */
  private chatList(): Chat[] {
    return this.items.filter((c): c is Chat => c instanceof Chat);
  }

  private addItem<T extends Item>(item: T): T {
    this.items.push(item);
    this.tablist.append(item.tab);
    this.panels.append(item.panel);
    item.tab.addEventListener("click", () => this.select(item));
    const current = this.items.find((c) => c.active);
    if (!current || current.ended) this.select(item, current !== undefined && document.activeElement === current.tab);
    this.renderList();
    return item;
  }

  private closeItem(item: Item): void {
    const i = this.items.indexOf(item);
    if (i < 0) return;
    const wasActive = item.active;
    const hadFocus = item.panel.contains(document.activeElement) || document.activeElement === item.tab;
    this.items.splice(i, 1);
    if (item instanceof Chat && this.bySession.get(item.id) === item) this.bySession.delete(item.id);
    item.dispose();
    if (wasActive) {
      const next = this.items[Math.min(i, this.items.length - 1)];
      if (next) this.select(next, hadFocus);
      else if (hadFocus) this.readyBtn.focus();
    }
    this.renderList();
  }

  select(item: Item, focusTab = false): void {
    for (const c of this.items) if (c !== item) c.setActive(false);
    item.setActive(true);
    if (focusTab) item.tab.focus();
    this.renderList();
  }

  private move(delta: number | "first" | "last"): Item | undefined {
    if (!this.items.length) return undefined;
    const i = this.items.findIndex((c) => c.active);
    const n = this.items.length;
    const j = delta === "first" ? 0 : delta === "last" ? n - 1 : ((i < 0 ? 0 : i) + delta + n) % n;
    const target = this.items[j]!;
    this.select(target);
    return target;
  }

  private onTablistKey(e: KeyboardEvent): void {
    const keys: Record<string, number | "first" | "last"> = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, Home: "first", End: "last" };
    const delta = keys[e.key];
    if (delta === undefined || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    this.move(delta)?.tab.focus();
  }

  private readonly onGlobalKey = (e: KeyboardEvent): void => {
    if (!e.altKey || e.ctrlKey || e.metaKey || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    e.preventDefault();
    this.move(e.key === "ArrowDown" ? 1 : -1)?.focusComposer();
  };

  /** Closing or reloading the desk: hang up, and unregister the phone so calls stop ringing here (best effort). */
  private readonly onPageHide = (): void => {
    for (const c of this.items) if (c instanceof Call && !c.ended) c.hangUp();
    void this.phone?.stop();
    // Close the stream (its <close/> leaves before the page goes): a closed desk is offline at once, where a
    // dropped connection would wait for stream management's resumption, not ready (docs/clients.md).
    void this.xmpp.stop().catch(() => undefined);
  };

  private readonly onVisible = (): void => {
    if (!document.hidden) this.items.find((c) => c.active)?.setActive(true);
  };

  private renderList(): void {
    const live = this.items.filter((c) => (c.kind === "customer" || c.kind === "call") && !c.ended).length;
    const cap = this.capacity;
    this.countLabel.textContent = cap ? `${cap.active} of ${cap.maxChats}` : `${live} live`;
    this.countLabel.title = cap ? `${cap.active} live chat${cap.active === 1 ? "" : "s"}; you take up to ${cap.maxChats} at once` : "";
    this.countLabel.classList.toggle("full", !!cap && cap.active >= cap.maxChats);
    this.empty.hidden = this.items.length > 0;
    const unread = this.items.reduce((n, c) => n + c.unread, 0);
    document.title = `${unread ? `(${unread}) ` : ""}Agent desk · Switchboard`;
  }

  // --- connection

  private onStatus(status: string): void {
    if (status === "disconnect" && this.online) {
      this.online = false;
      this.connBanner.textContent = "Connection lost. Reconnecting… Customers cannot reach you meanwhile.";
      this.connBanner.hidden = false;
      this.offers.clear(); // they go to this connection: the contact center revokes them or offers again
      this.renderState();
    } else if (status === "online" && !this.online) {
      this.online = true;
      this.connBanner.hidden = true;
      this.renderState();
      void this.sendPresence().then(() => this.announce());
      void this.refreshStats();
      for (const c of this.items) {
        if (c.kind === "customer" && !c.ended) c.system("The connection was lost for a while. If no other device of yours stayed online, the contact center has ended this chat: end it here too.");
      }
    }
  }

  notice(text: string): void {
    const close = h("button", { class: "notice-close", text: "×", attrs: { type: "button", "aria-label": "Dismiss" } });
    const item = h("div", { class: "notice" }, h("span", { text }), close);
    close.addEventListener("click", () => item.remove());
    this.notices.append(item);
    while (this.notices.childElementCount > 4) this.notices.firstElementChild?.remove();
  }

  async signOut(): Promise<void> {
    const live = this.items.filter((c) => c.kind === "customer" && !c.ended).length;
    const calls = this.items.filter((c) => c.kind === "call" && !c.ended).length;
    const what = [live ? `${live} live chat${live > 1 ? "s" : ""}` : "", calls ? "a call" : ""].filter(Boolean).join(" and ");
    if (what && !window.confirm(`You have ${what}. Signing out ends ${live + calls > 1 ? "them" : "it"}. Sign out?`)) return;
    this.dispose();
    await this.phone?.stop();
    this.xmpp.reconnect.stop();
    try {
      await this.xmpp.send(unavailable());
    } catch { /* going anyway */ }
    await this.xmpp.stop().catch(() => undefined);
    this.onSignedOut();
  }

  private dispose(): void {
    clearInterval(this.ticker);
    this.offers.clear();
    document.removeEventListener("keydown", this.onGlobalKey);
    document.removeEventListener("visibilitychange", this.onVisible);
    removeEventListener("pagehide", this.onPageHide);
    for (const c of this.items) c.dispose();
    this.items = [];
  }
}
