/**
 * One conversation on the desk: a tab in the chat list and its panel
 * (customer facts, message log, typing indicator, composer). Knows nothing of
 * XMPP beyond handing stanzas to `send`.
 */
import type { Element as XmlElement } from "@xmpp/xml";
import type { BoardOp } from "../../protocol/board.js";
import { BoardPanel, boardMessage } from "../lib/board.js";
import { randomId } from "../lib/connect.js";
import { fileElement, fileExtensions } from "../lib/files.js";
import { appendText } from "../lib/text.js";
import type { SharedFile } from "../../protocol/files.js";
import { chatMessage, chatStateMessage, TypingNotifier } from "../lib/xep.js";
import { fill, h, nextUid } from "./dom.js";
import { clock, duration } from "./text.js";

export interface ChatOptions {
  id: string;
  kind: "customer" | "staff";
  /** Where replies go (the customer's full JID, or a staff member's JID). */
  jid: string;
  name: string;
  queueTitle?: string;
  session?: string;
  /** When the customer joined the queue (its wait started there; else when the chat arrived). */
  queuedAt?: number;
  fields: Array<{ label: string; value: string }>;
  canned: string[];
  send(stanza: XmlElement): Promise<void>;
  /** Uploads a file (XEP-0363) for this chat; absent: the desk offers no attach button. Rejects with words. */
  upload?(file: File): Promise<SharedFile>;
  /** The upload service's origin: images from there are previewed. */
  filesOrigin?: string;
  /** The agent asked to end the session. */
  onEnd(chat: Chat): void;
  /** "Call customer" (when the desk has a phone): the chat turns into a call to this desk. */
  onCall?(chat: Chat): void;
  onClose(chat: Chat): void;
  /** Something arrived or changed that the list should reflect (unread counts, order). */
  onChange(chat: Chat): void;
  /**
   * Issue 15: "expert" when this desk was invited into another seat's conversation (`jid` is then that seat,
   * where its words go; the End button leaves). `mark` rides on every message sent (the session's mark).
   */
  role?: "seat" | "expert";
  mark?: XmlElement[];
  /** "Invite an expert" / "Remove expert" in a customer chat this desk serves. */
  onInvite?(chat: Chat): void;
  onRemoveExpert?(chat: Chat): void;
}

const END_REASON_TEXT: Record<string, string> = {
  customer: "The customer ended the chat.",
  seat: "You ended the chat.",
  "customer-offline": "The customer went offline.",
  "seat-offline": "Your desk went offline.",
};

export class Chat {
  readonly id: string;
  readonly kind: ChatOptions["kind"];
  readonly queueTitle: string | undefined;
  jid: string;
  name: string;
  readonly beganAt = Date.now();
  /** The customer's wait started when it joined the queue (never later than the chat arrived: clocks differ). */
  readonly waitingSince: number;
  /** When the agent first replied: the customer's wait ends there. */
  firstReplyAt: number | null = null;
  endedAt: number | null = null;
  unread = 0;
  private peerTyping = false;
  /** XEP-0085 from the agent's keystrokes. */
  private readonly typingNotifier: TypingNotifier;
  /** Outgoing message id -> its status element. */
  private pending = new Map<string, HTMLElement>();
  /** The composer text before the last canned response was inserted, to replace it when another is picked. */
  private beforeCanned: { value: string; after: string } | null = null;

  readonly tab: HTMLButtonElement;
  readonly panel: HTMLElement;
  private readonly tabTimer: HTMLElement;
  private readonly tabBadge: HTMLElement;
  private readonly tabTyping: HTMLElement;
  private readonly tabStatus: HTMLElement;
  private readonly timerLabel: HTMLElement;
  private readonly timerValue: HTMLElement;
  private readonly log: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly bannerText: HTMLElement;
  private readonly composer: HTMLFormElement;
  readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly endButton: HTMLButtonElement | null;
  private readonly callButton: HTMLButtonElement | null;
  private readonly cannedSelect: HTMLSelectElement | null;
  private readonly subtitle: HTMLElement;
  /** Issue 15: the invite / remove button, and where the expert picker shows. */
  private readonly expertButton: HTMLButtonElement | null;
  private readonly expertSlot: HTMLElement;
  /** The expert in this conversation now (its name), if any. */
  expert: string | undefined;
  /** The whiteboard shared with the customer (customer chats with a session only). */
  private readonly board: BoardPanel | null;
  private readonly boardButton: HTMLButtonElement | null;
  /** Ids of the board stanzas sent, to tell their errors apart (bounded: the oldest are forgotten). */
  private readonly boardIds = new Set<string>();

  constructor(private readonly o: ChatOptions) {
    this.typingNotifier = new TypingNotifier((state) => {
      if (!this.ended) void o.send(chatStateMessage(this.jid, state)).catch(() => undefined);
    });
    this.id = o.id;
    this.kind = o.kind;
    this.queueTitle = o.queueTitle;
    this.jid = o.jid;
    this.name = o.name;
    this.waitingSince = Math.min(o.queuedAt ?? this.beganAt, this.beganAt);
    const tabId = nextUid("tab");
    const panelId = nextUid("panel");

    this.tabTimer = h("span", { class: "tab-timer" });
    this.tabBadge = h("span", { class: "badge", hidden: true });
    this.tabTyping = h("span", { class: "tab-typing", text: "typing…", hidden: true });
    this.tabStatus = h("span", { class: "tab-status" });
    this.tab = h("button", {
      class: `tab tab-${o.kind}`, id: tabId,
      attrs: { type: "button", role: "tab", "aria-selected": "false", "aria-controls": panelId, tabindex: -1 },
    },
      h("span", { class: "tab-row" }, h("span", { class: "tab-name", text: o.name }), this.tabBadge),
      h("span", { class: "tab-row tab-sub" },
        h("span", { class: "tab-queue", text: o.kind === "staff" ? "Staff" : (o.queueTitle ?? "") }),
        this.tabTyping, this.tabStatus, this.tabTimer));

    const uid = nextUid("chat");
    this.timerLabel = h("dt", { text: "Waiting" });
    this.timerValue = h("dd", { class: "timer" });
    this.subtitle = h("p", { class: "chat-jid", text: o.jid });
    this.endButton = o.kind === "customer"
      ? h("button", { class: "btn btn-danger", text: o.role === "expert" ? "Leave conversation" : "End chat", attrs: { type: "button" }, on: { click: () => o.onEnd(this) } })
      : h("button", { class: "btn", text: "Close", attrs: { type: "button" }, on: { click: () => o.onClose(this) } });

    const session = o.kind === "customer" ? o.session : undefined;
    this.board = session ? new BoardPanel({ label: `Whiteboard shared with ${o.name}`, send: (ops) => this.sendBoard(session, ops) }) : null;
    this.boardButton = this.board
      ? h("button", { class: "btn btn-board", text: "Whiteboard", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => { this.board!.toggle(); this.boardPressed(); } } })
      : null;
    this.board?.root.querySelector(".board-close")?.addEventListener("click", () => this.boardPressed());

    this.callButton = o.kind === "customer" && o.onCall
      ? h("button", { class: "btn btn-call", text: "Call customer", attrs: { type: "button" }, on: { click: () => o.onCall!(this) } })
      : null;

    this.expertButton = o.kind === "customer" && o.onInvite
      ? h("button", { class: "btn btn-expert", text: "Invite an expert", attrs: { type: "button" },
        on: { click: () => (this.expert ? o.onRemoveExpert?.(this) : o.onInvite!(this)) } })
      : null;
    this.expertSlot = h("div", { class: "expert-slot" });

    // Each label and value in a <div> (allowed in <dl>), so a pair never wraps apart.
    const facts = h("dl", { class: "facts" });
    const fact = (dt: HTMLElement, dd: HTMLElement) => facts.append(h("div", { class: "fact" }, dt, dd));
    if (o.queueTitle) fact(h("dt", { text: "Queue" }), h("dd", { text: o.queueTitle }));
    for (const f of o.fields) fact(h("dt", { text: f.label }), h("dd", { text: f.value }));
    if (o.queuedAt !== undefined) fact(h("dt", { text: "In queue" }), h("dd", { class: "timer", text: duration((this.beganAt - this.waitingSince) / 1000) }));
    if (o.kind === "customer") fact(this.timerLabel, this.timerValue);
    if (o.session) fact(h("dt", { text: "Session" }), h("dd", { class: "mono", text: o.session }));

    this.log = h("div", { class: "log", attrs: { role: "log", "aria-live": "polite", "aria-label": `Conversation with ${o.name}`, tabindex: 0 } });
    this.typing = h("p", { class: "typing", attrs: { "aria-live": "polite" } });
    this.bannerText = h("span");
    this.banner = h("div", { class: "ended-banner", hidden: true, attrs: { role: "status" } },
      h("strong", { text: "Chat ended. " }), this.bannerText,
      h("button", { class: "btn", text: "Close chat", attrs: { type: "button" }, on: { click: () => o.onClose(this) } }));

    const inputId = `${uid}-message`;
    this.input = h("textarea", {
      id: inputId, class: "message-input",
      attrs: { rows: 2, placeholder: "Write a message… (Enter sends, Shift+Enter adds a line)", maxlength: 5000, autocomplete: "off" },
      on: { keydown: (e) => this.onKey(e), input: () => this.onInput() },
    });
    this.sendButton = h("button", { class: "btn btn-primary", text: "Send", attrs: { type: "submit" } });
    this.cannedSelect = o.canned.length ? this.cannedPicker(`${uid}-canned`) : null;
    this.composer = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); void this.sendTyped(); } } },
      this.cannedSelect && h("div", { class: "canned" },
        h("label", { text: "Canned response", attrs: { for: this.cannedSelect.id } }), this.cannedSelect),
      h("div", { class: "compose-row" },
        h("label", { class: "sr-only", text: "Message", attrs: { for: inputId } }), this.input, this.attachButton(), this.sendButton));

    this.panel = h("section", { class: "panel", id: panelId, hidden: true, attrs: { role: "tabpanel", "aria-labelledby": tabId } },
      h("header", { class: "chat-head" },
        h("div", { class: "who" },
          h("h2", { text: o.name }),
          this.subtitle),
        h("div", { class: "chat-actions" }, this.boardButton, this.callButton, this.expertButton, this.endButton)),
      facts, this.expertSlot,
      this.board?.root,
      this.log, this.typing, this.banner, this.composer);
    this.tick(Date.now());
  }

  /** This desk was invited into another seat's conversation (issue 15). */
  get isExpert(): boolean {
    return this.o.role === "expert";
  }

  get ended(): boolean {
    return this.endedAt !== null;
  }

  private cannedPicker(id: string): HTMLSelectElement {
    const select = h("select", { id, class: "canned-select" },
      h("option", { text: "Insert a ready-made reply…", attrs: { value: "" } }),
      ...this.o.canned.map((t, i) => h("option", { text: t.length > 80 ? `${t.slice(0, 79)}…` : t, attrs: { value: String(i) } })));
    select.addEventListener("change", () => {
      const text = this.o.canned[Number(select.value)];
      if (select.value === "" || text === undefined) return;
      // Arrowing through the list fires change for each option: replace the previous insert, don't pile up.
      const base = this.beforeCanned && this.input.value === this.beforeCanned.after ? this.beforeCanned.value : this.input.value;
      const value = base && !/\s$/.test(base) ? `${base} ${text}` : base + text;
      this.input.value = value;
      this.beforeCanned = { value: base, after: value };
      this.onInput();
    });
    return select;
  }

  setActive(active: boolean): void {
    this.tab.setAttribute("aria-selected", String(active));
    this.tab.tabIndex = active ? 0 : -1;
    this.tab.classList.toggle("active", active);
    this.panel.hidden = !active;
    if (active && this.unread) {
      this.unread = 0;
      this.renderBadge();
      this.o.onChange(this);
    }
    if (active) this.scrollDown();
  }

  get active(): boolean {
    return this.tab.getAttribute("aria-selected") === "true";
  }

  focusComposer(): void {
    if (!this.ended) this.input.focus();
    else this.banner.querySelector("button")?.focus();
  }

  /** Once a second: waiting / chat time. */
  tick(now: number): void {
    if (this.kind !== "customer") return;
    const end = this.endedAt ?? now;
    if (this.ended) {
      this.timerLabel.textContent = "Chat time";
      this.timerValue.textContent = duration((end - this.beganAt) / 1000);
      this.tabTimer.textContent = duration((end - this.beganAt) / 1000);
      this.tab.dataset.urgency = "";
    } else if (this.firstReplyAt === null) {
      const waited = (now - this.waitingSince) / 1000;
      this.timerLabel.textContent = "Waiting";
      this.timerValue.textContent = duration(waited);
      this.tabTimer.textContent = `waiting ${duration(waited)}`;
      this.tab.dataset.urgency = waited >= 60 ? "high" : waited >= 30 ? "medium" : "low";
    } else {
      this.timerLabel.textContent = "Chat time";
      this.timerValue.textContent = `${duration((now - this.beganAt) / 1000)} (waited ${duration((this.firstReplyAt - this.waitingSince) / 1000)})`;
      this.tabTimer.textContent = duration((now - this.beganAt) / 1000);
      this.tab.dataset.urgency = "";
    }
  }

  /** A line from the system (beginning message, reconnects, errors). */
  system(text: string, at = Date.now()): void {
    const p = h("p", { class: "sys" }, h("time", { text: clock(at) }), " ");
    appendText(p, text);
    this.append(p);
  }

  /** A message from the other party; a shared file shows as a link with name and size, an image also as a preview. */
  incoming(text: string, at = Date.now(), file?: SharedFile | null): void {
    const bubble = h("div", { class: "bubble" });
    if (file) bubble.append(fileElement(file, { previewFrom: this.o.filesOrigin }));
    else appendText(bubble, text);
    this.append(h("div", { class: "msg in" }, h("span", { class: "msg-meta" }, h("span", { class: "sr-only", text: `${this.name}, ` }), h("time", { text: clock(at) })), bubble));
    this.setPeerTyping(false);
    if (!this.active || document.hidden) {
      this.unread++;
      this.renderBadge();
    }
    this.o.onChange(this);
  }

  /** Words of a third party in the conversation, by name: the expert at the seat's desk, the agent at the expert's (issue 15). */
  relayed(name: string, text: string, at = Date.now()): void {
    const bubble = h("div", { class: "bubble" });
    appendText(bubble, text);
    this.append(h("div", { class: "msg in third" }, h("span", { class: "msg-meta" }, h("strong", { text: name }), " · ", h("time", { text: clock(at) })), bubble));
    if (!this.active || document.hidden) {
      this.unread++;
      this.renderBadge();
    }
    this.o.onChange(this);
  }

  /** The expert joined (its name) or left (undefined): the button invites or removes. */
  setExpert(name: string | undefined): void {
    this.expert = name;
    if (this.expertButton) this.expertButton.textContent = name ? `Remove expert (${name})` : "Invite an expert";
  }

  /** Shows the expert picker (or nothing) above the log. */
  showTool(tool: HTMLElement | null): void {
    this.expertSlot.replaceChildren(...(tool ? [tool] : []));
  }

  /** Something the agent has not seen yet (a new customer in a chat that is not in front). */
  markUnread(): void {
    if (this.active && !document.hidden) return;
    this.unread++;
    this.renderBadge();
    this.o.onChange(this);
  }

  private outgoing(text: string, id: string, at = Date.now(), file?: SharedFile): HTMLElement {
    const bubble = h("div", { class: "bubble" });
    if (file) bubble.append(fileElement(file, { previewFrom: this.o.filesOrigin }));
    else appendText(bubble, text);
    const status = h("span", { class: "receipt", text: "Sent" });
    this.pending.set(id, status);
    this.append(h("div", { class: "msg out" }, bubble, h("span", { class: "msg-meta" }, h("time", { text: clock(at) }), " · ", status)));
    return status;
  }

  /** The customer's whiteboard operations for this session (checked): drawn, the panel opened. */
  boardIn(session: string, ops: BoardOp[]): void {
    if (!this.board || session !== this.o.session || this.ended) return;
    this.board.receive(ops);
    this.boardPressed();
  }

  /**
   * Whether the customer's client shows the whiteboard (its disco#info answer), kept in the button's
   * data-board-support; when it does not (a plain XMPP client), said on the button and in the panel.
   */
  boardSupport(shows: boolean): void {
    if (!this.board || !this.boardButton) return;
    this.boardButton.dataset.boardSupport = shows ? "yes" : "no";
    if (shows) return;
    const why = `${this.name}'s chat app does not show a whiteboard (only the web chat page does).`;
    this.boardButton.title = why;
    this.boardButton.setAttribute("aria-description", why);
    this.boardButton.classList.add("board-unsupported");
    this.board.note(why);
  }

  private sendBoard(session: string, ops: BoardOp[]): void {
    if (this.ended) return;
    const id = `board-${randomId(8)}`;
    if (this.boardIds.size >= 100) this.boardIds.delete(this.boardIds.values().next().value!);
    this.boardIds.add(id);
    this.o.send(boardMessage(this.jid, session, ops, id)).catch(() => this.board?.refused("the connection is lost."));
  }

  private boardPressed(): void {
    this.boardButton?.setAttribute("aria-pressed", String(!!this.board?.opened));
  }

  delivered(id: string): boolean {
    const status = this.pending.get(id);
    if (!status) return false;
    status.textContent = "Delivered ✓";
    status.classList.add("ok");
    this.pending.delete(id);
    return true;
  }

  failed(id: string, why: string): boolean {
    if (this.boardIds.delete(id)) {
      this.board?.refused(why);
      return true;
    }
    const status = this.pending.get(id);
    if (!status) return false;
    status.textContent = `Not delivered: ${why}`;
    status.classList.add("bad");
    this.pending.delete(id);
    return true;
  }

  owns(id: string): boolean {
    return this.pending.has(id) || this.boardIds.has(id);
  }

  setPeerTyping(typing: boolean): void {
    if (this.peerTyping === typing) return;
    this.peerTyping = typing;
    this.typing.textContent = typing ? `${this.name} is typing…` : "";
    this.tabTyping.hidden = !typing;
  }

  /** The customer reconnected under a new JID (page reload) or wrote from another resource. */
  moveTo(jid: string, note?: string): void {
    if (jid === this.jid) return;
    this.jid = jid;
    this.subtitle.textContent = jid;
    if (note) this.system(note);
  }

  end(body: string, reason: string): void {
    if (this.ended) return;
    this.endedAt = Date.now();
    this.setPeerTyping(false);
    this.typingNotifier.stop();
    this.bannerText.textContent = body || END_REASON_TEXT[reason] || "";
    this.banner.hidden = false;
    this.composer.hidden = true;
    if (this.endButton && this.kind === "customer") this.endButton.hidden = true;
    if (this.callButton) this.callButton.hidden = true;
    if (this.expertButton) this.expertButton.hidden = true;
    this.expertSlot.replaceChildren();
    this.board?.disable(); // the picture stays, drawing stops
    this.tabStatus.textContent = "ended";
    this.tab.classList.add("ended");
    for (const [id] of this.pending) this.pending.delete(id);
    this.tick(Date.now());
    this.o.onChange(this);
  }

  setBusy(busy: boolean): void {
    if (this.endButton) this.endButton.disabled = busy;
  }

  /** "Call customer" is off while a request is out or the chat's call is on. */
  setCallBusy(busy: boolean): void {
    if (this.callButton) this.callButton.disabled = busy || this.ended;
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void this.sendTyped();
    }
  }

  private onInput(): void {
    if (!this.ended) this.typingNotifier.input(this.input.value.trim() !== "");
  }

  /** The attach button and its hidden file input (issue 15), when the desk can upload. */
  private attachButton(): HTMLElement | null {
    const upload = this.o.upload;
    if (!upload) return null;
    const input = h("input", { hidden: true, attrs: { type: "file" } });
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      input.value = "";
      if (file) void this.sendFile(file, upload);
    });
    return h("span", {},
      input,
      h("button", { class: "btn attach", text: "📎", attrs: { type: "button", "aria-label": "Attach a file", title: "Attach a file" }, on: { click: () => input.click() } }));
  }

  /** Uploads, then sends the file as a message (URL body, XEP-0066, XEP-0447/0446); says why when it cannot. */
  private async sendFile(file: File, upload: (file: File) => Promise<SharedFile>): Promise<void> {
    if (this.ended) return;
    this.system(`Sending ${file.name}…`);
    let shared: SharedFile;
    try {
      shared = await upload(file);
    } catch (err) {
      this.system(`Not sent: ${(err as Error).message}`);
      return;
    }
    if (this.ended) return;
    const id = `desk-${randomId(6)}`;
    const status = this.outgoing(shared.url, id, Date.now(), shared);
    if (this.firstReplyAt === null) this.firstReplyAt = Date.now();
    try {
      await this.o.send(chatMessage(this.jid, shared.url, id, { extra: fileExtensions(shared) }));
    } catch {
      this.pending.delete(id);
      status.textContent = "Not sent: connection lost";
      status.classList.add("bad");
    }
  }

  private async sendTyped(): Promise<void> {
    const text = this.input.value.trim();
    if (!text || this.ended) return;
    const id = `desk-${randomId(6)}`;
    const status = this.outgoing(text, id);
    this.input.value = "";
    this.beforeCanned = null;
    if (this.cannedSelect) this.cannedSelect.value = "";
    this.typingNotifier.sent(); // the message carries <active/>
    if (this.firstReplyAt === null) this.firstReplyAt = Date.now();
    this.tick(Date.now());
    try {
      await this.o.send(chatMessage(this.jid, text, id, { extra: this.o.mark ?? [] }));
    } catch {
      this.pending.delete(id);
      status.textContent = "Not sent: connection lost";
      status.classList.add("bad");
    }
  }

  private renderBadge(): void {
    this.tabBadge.hidden = this.unread === 0;
    fill(this.tabBadge, String(this.unread));
    this.tabBadge.setAttribute("aria-label", `${this.unread} unread`);
  }

  private append(node: HTMLElement): void {
    const nearBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    this.log.append(node);
    if (nearBottom || this.log.childElementCount < 3) this.scrollDown();
  }

  private scrollDown(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  dispose(): void {
    this.typingNotifier.stop();
    this.tab.remove();
    this.panel.remove();
  }
}
