/**
 * The customer's side of the protocol (docs/protocol.md), without DOM: join a
 * queue with the pre-chat form, follow queue-status, chat with the assigned
 * seat (chat states, receipts), end, rate, leave a message, and resume the
 * session with its token after a reload or a lost connection. The page
 * renders `state` (persisted) and the transient fields whenever onChange fires.
 */
import { xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { MESSAGE_FIELDS, NS, SB, WG } from "../../protocol/names.js";
import type { QueueInfo, WebConfig } from "../lib/config.js";
import { bareJid, connect, errorCondition, errorText, randomId } from "../lib/connect.js";
import type { BoardOp } from "../../protocol/board.js";
import { announceBoard, boardIn, boardMessage } from "../lib/board.js";
import { openMicrophone } from "../lib/phone.js";
import { fileExtensions, Uploader } from "../lib/files.js";
import { fileOf } from "../../protocol/files.js";
import { chatMessage, chatStateMessage, chatStateOf, receiptFor, receivedId, stanzaErrorText, submitForm, TypingNotifier } from "../lib/xep.js";
import { PageCall } from "./call.js";
import { freshState, saveState, type ChatState, type Line } from "./state.js";

export interface Account { username: string; domain: string; password: string }

export interface Notice { text: string; kind: "error" | "info" }

/** Reconnection attempts after a lost connection, with these delays (ms) between them. */
const RETRY_DELAYS = [0, 1000, 2000, 4000, 8000, 8000];
/** Between attempts to resume a session after logging in again (within the 30 s grace time). */
const RESUME_RETRY_DELAYS = [0, 500, 1000, 2000, 4000];
const IQ_TIMEOUT = 15000;

export class CustomerSession {
  /** The agent is typing (XEP-0085 composing). */
  agentTyping = false;
  notice: Notice | null = null;
  /** The condition of the last refusal of a join (the page opens "Sign in" on forbidden). */
  lastRefusal: string | undefined;
  /** A request is in flight: the page disables its button. */
  busy = false;
  /** False after a reload once the session has ended: feedback must come from the JID that had the session. */
  canRate = true;
  /** The call placed from this page (phase "call"), live or ended. */
  call: PageCall | undefined;
  /** A call from the chat to its seat (phase "chatting": the chat goes on around it), live or just ended. */
  chatCall: PageCall | undefined;
  /** The seat asked to talk: its words and the call's token (Accept calls with it, Decline forgets it). */
  callInvite: { text: string; uri: string; token: string } | undefined;
  onChange: () => void = () => {};

  private xmpp: Client | undefined;
  private unloading = false;
  private recovering = false;
  /** A depart-queue is in flight: its departed message must not reset the page under it. */
  private leaving = false;
  private readonly typingOut = new TypingNotifier((state) => this.sendChatState(state));
  private readonly cc: string;

  constructor(private readonly config: WebConfig, readonly queue: QueueInfo, public state: ChatState) {
    this.cc = config.componentDomain;
    addEventListener("pagehide", () => {
      this.unloading = true;
      // Best effort: the BYE or CANCEL may still leave. If not, the switch ends the call when the page's WebSocket closes.
      if (this.call && this.call.stage !== "ended") this.call.hangUp();
      if (this.chatCallLive) this.chatCall!.hangUp();
      // A closed page closes its stream: the contact center counts the customer gone at once (its grace for a
      // reload applies), not after stream management's resumption window (docs/clients.md).
      void this.xmpp?.stop().catch(() => undefined);
    });
  }

  // ---------------------------------------------------------------- actions

  /** At page load: pick up where a previous page of this tab left off. */
  async restore(): Promise<void> {
    const { phase } = this.state;
    if (phase === "call") await this.reset({ kind: "info", text: "Your call ended when the page was closed or reloaded." });
    else if (phase === "waiting" || phase === "chatting") await this.recover("Reconnecting to your chat…");
    else if (phase === "ended" && !this.state.rated) this.canRate = false;
  }

  /** "Start chat": log in (anonymously, or with `account`) and join the queue with the form. */
  async start(fields: Record<string, string>, account?: Account): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.notice = null;
    this.lastRefusal = undefined;
    this.changed();
    try {
      await this.stopConnection();
      try {
        await this.open(account);
      } catch (err) {
        this.notice = { kind: "error", text: account && errorCondition(err) === "not-authorized" ? "Sign-in failed: the address or password is wrong." : `Could not connect: ${errorText(err)}` };
        return;
      }
      this.state = { ...freshState(this.queue.name), form: fields };
      await this.join(fields);
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  /**
   * "Call us" (or "Video call": `video`, with the camera): the microphone first
   * (a refusal costs nothing else), then the same login as a chat, a call token
   * from the queue with the pre-chat form, and the call with sip.js. `audio`
   * plays the agent's voice.
   */
  async startCall(fields: Record<string, string>, account: Account | undefined, audio: HTMLAudioElement, video = false): Promise<void> {
    const sip = this.config.sip;
    if (this.busy || !sip) return;
    this.busy = true;
    this.notice = null;
    this.lastRefusal = undefined;
    this.changed();
    try {
      let mic: MediaStream;
      try {
        mic = await openMicrophone(video);
      } catch (err) {
        this.notice = { kind: "error", text: (err as Error).message };
        return;
      }
      await this.stopConnection();
      try {
        await this.open(account);
      } catch (err) {
        for (const t of mic.getTracks()) t.stop();
        this.notice = { kind: "error", text: account && errorCondition(err) === "not-authorized" ? "Sign-in failed: the address or password is wrong." : `Could not connect: ${errorText(err)}` };
        return;
      }
      this.state = { ...freshState(this.queue.name), form: fields, phase: "call" };
      const placed = new PageCall(sip, mic, audio, video);
      this.call = placed;
      placed.onChange = () => {
        if (placed.stage === "ended" && this.call === placed) void this.stopConnection(); // nothing more to hear over XMPP
        this.changed();
      };
      this.changed();
      let target;
      try {
        const result = await this.iq(this.queue.jid, xml(SB.call, { xmlns: NS.SB }, submitForm(fields)));
        const c = result.getChild(SB.call, NS.SB);
        if (!c?.attrs.uri || !c.attrs.token) throw new Error("The contact center gave no call token.");
        target = { uri: c.attrs.uri, token: c.attrs.token, name: fields.name ?? "", subject: fields.subject ?? "" };
      } catch (err) {
        placed.onChange = () => {};
        placed.finish({ kind: "error", text: errorText(err) });
        this.call = undefined;
        const condition = errorCondition(err);
        this.lastRefusal = condition;
        if (condition === "service-unavailable") {
          this.state.phase = "unavailable";
          this.state.unavailableFor = "call";
          this.state.unavailableText = errorText(err);
          this.state.messageSent = false;
        } else {
          this.state.phase = "form";
          this.notice = { kind: "error", text: errorText(err) };
          await this.stopConnection();
        }
        return;
      }
      this.busy = false;
      this.changed();
      await placed.place(target);
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  hangUp(): void {
    this.call?.hangUp();
  }

  toggleMute(): void {
    this.call?.toggleMute();
  }

  /** "Share screen" / back, in the call from "Call us"; a failure is the page's notice. */
  async toggleScreen(): Promise<void> {
    try {
      await this.call?.toggleScreen();
    } catch (err) {
      this.notice = { kind: "error", text: (err as Error).message };
      this.changed();
    }
  }

  // ---------------------------------------------------------------- from chat to call

  /** The chat may turn into a call now: voice is on, served, no call on. */
  get canCallFromChat(): boolean {
    return !!this.config.sip && this.state.phase === "chatting" && !!this.state.session && !this.chatCallLive;
  }

  get chatCallLive(): boolean {
    return !!this.chatCall && this.chatCall.stage !== "ended";
  }

  /**
   * "Call" during a chat: the session's call token from the component
   * (docs/protocol.md "From chat to call"), then the same call as "Call us",
   * which rings the chat's seat at once. `audio` plays the agent's voice.
   */
  async callFromChat(audio: HTMLAudioElement, video = false): Promise<void> {
    if (!this.canCallFromChat) return;
    await this.placeChatCall(audio, video, async () => {
      const result = await this.iq(this.cc, xml(SB.call, { xmlns: NS.SB, session: this.state.session! }));
      const c = result.getChild(SB.call, NS.SB);
      if (!c?.attrs.uri || !c.attrs.token) throw new Error("The contact center gave no call token.");
      return { uri: c.attrs.uri as string, token: c.attrs.token as string };
    });
  }

  /** "Accept": the call the agent asked for, with the token that came with the request. */
  async acceptCall(audio: HTMLAudioElement): Promise<void> {
    const invite = this.callInvite;
    if (!invite || !this.canCallFromChat) return;
    this.callInvite = undefined;
    await this.placeChatCall(audio, false, async () => invite);
  }

  /** "Decline": nothing is sent; the request goes away. */
  declineCall(): void {
    if (!this.callInvite) return;
    this.callInvite = undefined;
    this.changed();
  }

  hangUpChatCall(): void {
    this.chatCall?.hangUp();
  }

  toggleChatCallMute(): void {
    this.chatCall?.toggleMute();
  }

  /** "Share screen" / back, in a call from the chat; a failure is a line in the chat. */
  async toggleChatScreen(): Promise<void> {
    try {
      await this.chatCall?.toggleScreen();
    } catch (err) {
      this.system((err as Error).message);
      this.changed();
    }
  }

  private async placeChatCall(audio: HTMLAudioElement, video: boolean, token: () => Promise<{ uri: string; token: string }>): Promise<void> {
    const sip = this.config.sip;
    if (!sip) return;
    this.callInvite = undefined;
    let mic: MediaStream;
    // A placeholder while the microphone and the token come: the button goes, a second click does nothing.
    const placed = new PageCall(sip, new MediaStream(), audio);
    this.chatCall = placed;
    this.changed();
    try {
      mic = await openMicrophone(video);
    } catch (err) {
      this.chatCall = undefined;
      this.system((err as Error).message);
      this.changed();
      return;
    }
    let target: { uri: string; token: string };
    try {
      target = await token();
    } catch (err) {
      for (const t of mic.getTracks()) t.stop();
      this.chatCall = undefined;
      this.system(`The call could not be started: ${errorText(err)}`);
      this.changed();
      return;
    }
    if (this.chatCall !== placed || this.state.phase !== "chatting") {
      for (const t of mic.getTracks()) t.stop();
      return;
    }
    const call = new PageCall(sip, mic, audio, video);
    this.chatCall = call;
    call.onChange = () => {
      if (call.stage === "ended" && this.chatCall === call && !this.callLogged.has(call)) {
        this.callLogged.add(call);
        const length = call.answeredAt !== undefined && call.endedAt !== undefined ? ` (${clockText((call.endedAt - call.answeredAt) / 1000)})` : "";
        this.system(`${call.end?.text ?? "The call ended."}${length}`);
      }
      this.changed();
    };
    this.system(`You are ${video ? "video " : ""}calling ${this.state.agentName ?? "the agent"}.`);
    this.changed();
    await call.place({ ...target, name: this.state.form?.name ?? "", subject: "" });
  }

  private readonly callLogged = new WeakSet<PageCall>();

  /** "Leave queue": depart-queue, back to the form. */
  async leaveQueue(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.leaving = true;
    this.changed();
    try {
      await this.iq(this.queue.jid, xml(WG.departQueue, { xmlns: NS.WG }));
    } catch (err) {
      if (errorCondition(err) !== "item-not-found") {
        this.notice = { kind: "error", text: errorText(err) };
        return;
      }
    } finally {
      this.busy = false;
      this.leaving = false;
      this.changed();
    }
    await this.reset({ kind: "info", text: "You left the queue." });
  }

  /** The seat's whiteboard operations for this session (checked), and the refusal of one of ours. */
  onBoard: (ops: BoardOp[]) => void = () => undefined;
  onBoardRefused: (text: string) => void = () => undefined;
  /** Ids of the board stanzas sent, to tell their errors from the chat's (bounded: the oldest are forgotten). */
  private readonly boardIds = new Set<string>();

  /** Sends whiteboard operations to the seat (docs/protocol.md, "Whiteboard"); false if there is nobody to send to. */
  sendBoard(ops: BoardOp[]): boolean {
    const { seat, session } = this.state;
    if (this.state.phase !== "chatting" || !seat || !session || this.xmpp?.status !== "online") {
      this.onBoardRefused("the chat is not connected.");
      return false;
    }
    const id = `board-${randomId(8)}`;
    if (this.boardIds.size >= 100) this.boardIds.delete(this.boardIds.values().next().value!);
    this.boardIds.add(id);
    this.xmpp.send(boardMessage(seat, session, ops, id)).catch((err: unknown) => this.onBoardRefused(errorText(err)));
    return true;
  }

  /** Sends a chat message to the seat; returns false if there is nobody to send to. */
  send(text: string): boolean {
    const { seat, session } = this.state;
    if (this.state.phase !== "chatting" || !seat || !text.trim()) return false;
    const line: Line = { id: randomId(), who: "me", text, at: Date.now() };
    this.typingOut.sent();
    if (this.xmpp?.status !== "online") {
      line.failed = "Not sent: the connection is lost. Please try again in a moment.";
    } else {
      const extra = session ? [xml(SB.session, { xmlns: NS.SB, id: session })] : [];
      this.xmpp.send(chatMessage(seat, text, line.id, { extra })).catch((err: unknown) => {
        line.failed = `Not sent: ${errorText(err)}`;
        this.changed();
      });
    }
    this.state.lines.push(line);
    this.changed();
    return true;
  }

  private uploader: Uploader | undefined;

  /** The contact center shares files (web-config.json "files"). */
  get sharesFiles(): boolean {
    return !!this.config.files;
  }

  /**
   * Shares a file with the seat (issue 15): checked, uploaded (XEP-0363), then sent as a message whose body is
   * its URL, with XEP-0066 and XEP-0447/0446 metadata. The line shows at once; a failure says why on it.
   */
  async sendFile(file: File): Promise<void> {
    const { seat, session } = this.state;
    if (this.state.phase !== "chatting" || !seat) return;
    const line: Line = { id: randomId(), who: "me", text: file.name, at: Date.now(), file: { url: "", name: file.name, size: file.size, type: file.type || null } };
    this.state.lines.push(line);
    this.changed();
    this.uploader ??= new Uploader(() => this.xmpp, this.config.files);
    try {
      const shared = await this.uploader.upload(file);
      if (this.xmpp?.status !== "online") throw new Error("Not sent: the connection is lost. Please try again in a moment.");
      line.file = shared;
      line.text = shared.url;
      const extra = [...fileExtensions(shared), ...(session ? [xml(SB.session, { xmlns: NS.SB, id: session })] : [])];
      await this.xmpp.send(chatMessage(seat, shared.url, line.id, { extra }));
    } catch (err) {
      line.file = undefined;
      line.failed = (err as Error).message;
    }
    this.changed();
  }

  /** On every edit of the message box (drives XEP-0085 composing/paused). */
  typed(hasText: boolean): void {
    if (this.state.phase === "chatting") this.typingOut.input(hasText);
  }

  /** "End chat": ask the component to end the session. */
  async endChat(): Promise<void> {
    const { session } = this.state;
    if (!session || this.busy) return;
    this.busy = true;
    this.changed();
    try {
      await this.iq(this.cc, xml(SB.end, { xmlns: NS.SB, session }));
      this.ended(`You ended the chat with ${this.state.agentName ?? "the agent"}.`);
    } catch (err) {
      if (errorCondition(err) === "item-not-found") this.ended("This chat has ended.");
      else this.notice = { kind: "error", text: errorText(err) };
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  /** "Send rating": the feedback iq. Resolves to an error text, or null when stored. */
  async rate(score: number, comment: string): Promise<string | null> {
    const { session } = this.state;
    if (!session) return "There is no chat to rate.";
    this.busy = true;
    this.changed();
    try {
      await this.iq(this.cc, xml(SB.feedback, { xmlns: NS.SB, session, score: String(score) }, comment.trim() || undefined));
      this.state.rated = true;
      void this.stopConnection(); // nothing more to say; "Start a new chat" logs in again
      return null;
    } catch (err) {
      if (errorCondition(err) === "conflict") { this.state.rated = true; return null; } // rated already (e.g. twice from two tabs)
      return errorText(err);
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  /** The leave-a-message form. Resolves to an error text, or null when stored. */
  async leaveMessage(fields: { name: string; email: string; message: string }): Promise<string | null> {
    this.busy = true;
    this.changed();
    try {
      if (this.xmpp?.status !== "online") await this.open();
      await this.iq(this.queue.jid, xml(SB.leaveMessage, { xmlns: NS.SB }, submitForm({
        [MESSAGE_FIELDS.name]: fields.name, [MESSAGE_FIELDS.email]: fields.email, [MESSAGE_FIELDS.message]: fields.message,
      })));
      this.state.messageSent = true;
      return null;
    } catch (err) {
      return errorText(err);
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  /** "Start a new chat" / "Try chatting again": back to the form, keeping the pre-chat answers. */
  async reset(notice: Notice | null = null): Promise<void> {
    this.typingOut.stop();
    if (this.call && this.call.stage !== "ended") this.call.hangUp();
    this.call = undefined;
    if (this.chatCallLive) this.chatCall!.hangUp();
    this.chatCall = undefined;
    this.callInvite = undefined;
    const form = this.state.form;
    this.state = { ...freshState(this.queue.name), form };
    this.agentTyping = false;
    this.canRate = true;
    this.notice = notice;
    this.changed();
    await this.stopConnection();
  }

  // ---------------------------------------------------------------- connection

  private async open(account?: Account): Promise<void> {
    const xmpp = await connect({
      websocketUrl: this.config.websocketUrl,
      domain: account?.domain ?? this.config.guestDomain,
      username: account?.username,
      password: account?.password,
      resource: `web-${randomId(4)}`,
    });
    this.xmpp = xmpp;
    announceBoard(xmpp); // the desk asks whether this client shows the whiteboard
    xmpp.on("stanza", (s: Element) => {
      if (this.xmpp === xmpp) this.onStanza(s);
    });
    xmpp.on("disconnect", () => {
      if (this.xmpp !== xmpp || this.unloading) return;
      this.xmpp = undefined;
      if (this.state.phase === "waiting" || this.state.phase === "chatting") void this.recover("Connection lost. Reconnecting…");
      else if (this.state.phase === "call" && this.call && this.call.stage !== "ended") {
        // A call is not resumed from another login: the contact center ends it after the grace time.
        this.notice = { kind: "error", text: "The connection to the contact center was lost: your call may end shortly." };
        this.changed();
      }
    });
  }

  private async stopConnection(): Promise<void> {
    const xmpp = this.xmpp;
    this.xmpp = undefined;
    if (xmpp) await xmpp.stop().catch(() => {});
  }

  /**
   * Logs in again (anonymously: a new JID) and takes the session over with
   * its token. Queued: the server keeps the place and sends a queue-status;
   * assigned: it sends `assigned` again and moves the seat's grant. If the
   * place was lost while waiting, joins again with the same form.
   */
  private async recover(why: string): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    this.notice = { kind: "info", text: why };
    this.changed();
    try {
      let lastErr: unknown;
      for (const delay of RETRY_DELAYS) {
        if (delay) await new Promise((r) => setTimeout(r, delay)); // back-off between reconnection attempts
        try {
          await this.open();
          lastErr = undefined;
          break;
        } catch (err) {
          lastErr = err;
        }
      }
      if (lastErr !== undefined) {
        this.notice = { kind: "error", text: `Could not reconnect: ${errorText(lastErr)}. Reload the page to try again.` };
        return;
      }
      const { session, token, phase, form } = this.state;
      try {
        if (!session || !token) throw Object.assign(new Error("no token"), { condition: "item-not-found" });
        await this.resume(session, token);
        this.notice = null;
      } catch (err) {
        const condition = errorCondition(err);
        const gone = ["item-not-found", "forbidden"].includes(condition ?? "");
        // No answer in time, or a server too busy: not a refusal of this page's claim (a conflict is one).
        const passing = !condition || ["resource-constraint", "internal-server-error", "remote-server-timeout"].includes(condition);
        if (phase === "waiting" && form && (gone || passing)) {
          // The place is gone, or could not be taken back in time: a place at the end of the line rather than none.
          this.notice = null;
          await this.join(form);
        } else if (!gone) {
          this.notice = { kind: "error", text: errorText(err) };
        } else if (phase === "chatting") {
          this.notice = null;
          this.canRate = false;
          this.ended("This chat has ended.");
        }
      }
    } finally {
      this.recovering = false;
      this.changed();
    }
  }

  /**
   * Takes the session over with its token, trying again on any failure but a refusal that the session is
   * gone (item-not-found, forbidden): the place in line is kept only for the grace time, so giving up at
   * once on a slow answer could lose it.
   */
  private async resume(session: string, token: string): Promise<void> {
    let last: unknown;
    for (const delay of RESUME_RETRY_DELAYS) {
      if (delay) await new Promise((r) => setTimeout(r, delay)); // back-off between attempts
      try {
        await this.iq(this.cc, xml(SB.resume, { xmlns: NS.SB, session, token }));
        return;
      } catch (err) {
        if (["item-not-found", "forbidden"].includes(errorCondition(err) ?? "")) throw err;
        last = err;
      }
    }
    throw last;
  }

  private async join(fields: Record<string, string>): Promise<void> {
    this.state.form = fields;
    this.state.phase = "waiting";
    this.state.position = undefined;
    this.state.waitSeconds = undefined;
    this.changed();
    try {
      const result = await this.iq(this.queue.jid, xml(WG.joinQueue, { xmlns: NS.WG }, xml(WG.queueNotifications), submitForm(fields)));
      const s = result.getChild(SB.session, NS.SB);
      if (s?.attrs.id) this.state.session = s.attrs.id;
      if (s?.attrs.token) this.state.token = s.attrs.token;
    } catch (err) {
      const condition = errorCondition(err);
      this.lastRefusal = condition;
      if (condition === "service-unavailable") {
        this.state.phase = "unavailable";
        this.state.unavailableText = errorText(err);
        this.state.messageSent = false;
      } else {
        this.state.phase = "form";
        this.notice = { kind: "error", text: errorText(err) };
        await this.stopConnection();
      }
    }
    this.changed();
  }

  private iq(to: string, child: Element): Promise<Element> {
    if (!this.xmpp) return Promise.reject(new Error("not connected"));
    return this.xmpp.iqCaller.request(xml("iq", { type: "set", to }, child), IQ_TIMEOUT);
  }

  private sendChatState(state: Parameters<typeof chatStateMessage>[1]): void {
    const { seat } = this.state;
    if (seat && this.state.phase === "chatting" && this.xmpp?.status === "online") this.xmpp.send(chatStateMessage(seat, state)).catch(() => {});
  }

  // ---------------------------------------------------------------- incoming

  private onStanza(s: Element): void {
    if (!s.is("message")) return;
    const from = bareJid(s.attrs.from);
    const fromCenter = from === this.cc || from.endsWith(`@${this.cc}`); // the queue or the component: trusted
    const body = s.getChildText("body");
    if (fromCenter) {
      const assigned = s.getChild(SB.assigned, NS.SB);
      if (assigned) return this.onAssigned(assigned, body);
      const ended = s.getChild(SB.ended, NS.SB);
      if (ended) {
        if (!this.state.session || ended.attrs.session === this.state.session) this.ended(body || "The chat has ended.");
        return;
      }
      const invite = s.getChild(SB.call, NS.SB);
      if (invite) return this.onCallInvite(invite, body);
      // A supervisor joined the conversation, or wrote to it (quality monitoring: barge).
      const supervisor = s.getChild(SB.supervisor, NS.SB);
      if (supervisor && body && this.state.session && supervisor.attrs.session === this.state.session) {
        this.system(body);
        this.changed();
        return;
      }
      const status = s.getChild(WG.queueStatus, NS.WG);
      if (status && this.state.phase === "call") {
        const position = Number(status.getChildText("position"));
        const time = Number(status.getChildText("time"));
        this.call?.queueStatus(Number.isFinite(position) ? position : undefined, Number.isFinite(time) ? time : undefined);
        return;
      }
      if (status && this.state.phase === "waiting") {
        const position = Number(status.getChildText("position"));
        const time = Number(status.getChildText("time"));
        this.state.position = Number.isFinite(position) ? position : undefined;
        this.state.waitSeconds = Number.isFinite(time) ? time : undefined;
        this.changed();
        return;
      }
      if (s.getChild(WG.departQueue, NS.WG) && this.state.phase === "waiting" && !this.leaving) {
        void this.reset({ kind: "info", text: body || "You left the queue." });
        return;
      }
      if (s.attrs.type === "error") {
        this.notice = { kind: "error", text: stanzaErrorText(s) };
        this.changed();
      }
      return;
    }
    if (this.state.seat && from === this.state.seat) this.onSeatMessage(s, body);
  }

  /** The seat asks to talk (docs/protocol.md "From chat to call"): Accept / Decline on the page. */
  private onCallInvite(c: Element, body: string | null): void {
    const { uri, token, session } = c.attrs as Record<string, string | undefined>;
    if (!uri || !token || session !== this.state.session || this.state.phase !== "chatting") return;
    const who = this.state.agentName ?? "The agent";
    // "Alice would like to talk with you: accept the call on the page." -> the words before the instructions.
    const text = (body ?? "").split(":")[0]!.trim() || `${who} would like to talk with you`;
    this.callInvite = { text, uri, token };
    this.system(`${text}.`);
    this.changed();
  }

  private onAssigned(a: Element, body: string | null): void {
    const seat = bareJid(a.attrs.seat);
    if (!seat) return;
    if (this.state.phase !== "waiting" && this.state.phase !== "chatting") return;
    const name = /^(.+?) will help you now/.exec(body ?? "")?.[1]?.trim() || nameFromJid(seat);
    const isNew = this.state.phase !== "chatting" || this.state.seat !== seat;
    this.state.session = a.attrs.session ?? this.state.session;
    this.state.seat = seat;
    this.state.agentName = name;
    this.state.phase = "chatting";
    this.notice = null;
    if (isNew) this.system(`${name} will help you now.`);
    this.changed();
  }

  private onSeatMessage(s: Element, body: string | null): void {
    if (s.attrs.type === "error" && this.boardIds.delete(s.attrs.id ?? "")) return this.onBoardRefused(stanzaErrorText(s));
    const board = s.attrs.type === "chat" ? boardIn(s) : null;
    if (board) {
      if (board.session === this.state.session) this.onBoard(board.ops);
      return;
    }
    if (s.attrs.type === "error") {
      const text = stanzaErrorText(s);
      const mine = this.state.lines.find((l) => l.who === "me" && l.id === s.attrs.id);
      if (mine) mine.failed = `Not delivered: ${text}`;
      else if (s.getChild("body")) this.system(text);
      this.changed();
      return;
    }
    const receipt = receiptFor(s);
    if (receipt && this.xmpp) this.xmpp.send(receipt).catch(() => {});
    const acked = receivedId(s);
    if (acked) {
      const mine = this.state.lines.find((l) => l.who === "me" && l.id === acked);
      if (mine) mine.delivered = true;
    }
    const state = chatStateOf(s);
    // An expert the agent invited (issue 15): the seat module relays its words from the seat's JID, marked
    // <expert/> with its name; its joining and leaving are notices. The body's "Bob (expert): " label is for
    // plain clients: the page shows the name itself.
    const expert = s.getChild(SB.expert, NS.SB);
    if (expert && body?.trim() && (!this.state.session || expert.attrs.session === this.state.session)) {
      const name = expert.attrs.name || "An expert";
      if (expert.attrs.status) this.system(body);
      else this.state.lines.push({ id: s.attrs.id ?? randomId(), who: "agent", expert: name, text: body.startsWith(`${name} (expert): `) ? body.slice(name.length + 11) : body, at: Date.now() });
      this.changed();
      return;
    }
    if (body && body.trim()) {
      this.state.lines.push({ id: s.attrs.id ?? randomId(), who: "agent", text: body, at: Date.now(), file: fileOf(s) ?? undefined });
      this.agentTyping = false;
    }
    if (state) this.agentTyping = state === "composing";
    this.changed();
  }

  private ended(text: string): void {
    if (this.state.phase !== "chatting" && this.state.phase !== "waiting") return;
    this.state.phase = "ended";
    this.state.endedText = text;
    this.callInvite = undefined;
    if (this.chatCallLive) this.chatCall!.hangUp(); // the contact center hangs it up too
    this.agentTyping = false;
    this.typingOut.stop();
    this.system(text);
    this.changed();
  }

  private system(text: string): void {
    this.state.lines.push({ id: randomId(), who: "system", text, at: Date.now() });
  }

  private changed(): void {
    saveState(this.state);
    this.onChange();
  }
}

/** 75 -> "1:15". */
function clockText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "alice@acme.test" -> "Alice". */
export function nameFromJid(jid: string): string {
  const local = jid.split("@")[0] ?? jid;
  return local.charAt(0).toUpperCase() + local.slice(1);
}
