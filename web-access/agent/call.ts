/**
 * One call on the desk: a tab in the list beside the chats and its panel
 * (the caller, the queue and how long the caller waited; Answer / Reject while
 * it rings; then a timer, Mute, Hold, Hang up and audio level meters). Wraps
 * the sip.js Invitation the softphone received; knows nothing of XMPP.
 */
import { SessionState, type Invitation } from "sip.js";
import { LevelMeter, Tone } from "../lib/audio.js";
import { appendText } from "../lib/text.js";
import { AUDIO_ONLY, AUDIO_VIDEO, handlerOf, offersVideo, playRemoteAudio, setHold, setMuted } from "../lib/phone.js";
import { ScreenShare, remoteVideo, watchRemoteVideo } from "../lib/screen.js";
import { h, nextUid } from "./dom.js";
import { clock, duration } from "./text.js";

export interface CallInfo {
  /** Who calls: the name the contact center or the caller gave, else the caller's address. */
  name: string;
  /** The caller's SIP address (or the customer's JID once the contact center names it). */
  address: string;
  /** The queue the call came through (absent: a direct call). */
  queueTitle?: string;
  subject?: string;
  /** When the caller started waiting (ms), if known. */
  waitingSince?: number;
  session?: string;
}

export interface CallOptions {
  /** Asks for the microphone before answering; rejects with a person's explanation. */
  prepareMicrophone(video: boolean): Promise<void>;
  onClose(call: Call): void;
  /** Anything the list shows changed (state, unread). */
  onChange(call: Call): void;
  /** Words for the desk's screen-reader announcer. */
  announce(text: string): void;
  /** The call was answered or ended (the desk's figures change). */
  onStage(call: Call): void;
}

export type CallStage = "ringing" | "answering" | "talking" | "ended";

export class Call {
  readonly kind = "call" as const;
  readonly id: string;
  name: string;
  stage: CallStage = "ringing";
  muted = false;
  held = false;
  readonly ringingAt = Date.now();
  answeredAt: number | null = null;
  endedAt: number | null = null;
  unread = 0;
  /** The contact center's session, once its notice named it. */
  session: string | undefined;
  private hungUpHere = false;
  private readonly ringtone = new Tone("ringtone");
  private readonly micMeter: LevelMeter;
  private readonly callerMeter: LevelMeter;
  private waitingSince: number | undefined;

  readonly tab: HTMLButtonElement;
  readonly panel: HTMLElement;
  private readonly tabName: HTMLElement;
  private readonly tabStatus: HTMLElement;
  private readonly tabTimer: HTMLElement;
  private readonly tabBadge: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly statusLine: HTMLElement;
  private readonly timerValue: HTMLElement;
  private readonly waitValue: HTMLElement;
  private readonly answerBtn: HTMLButtonElement;
  private readonly rejectBtn: HTMLButtonElement;
  private readonly muteBtn: HTMLButtonElement;
  private readonly holdBtn: HTMLButtonElement;
  private readonly screenBtn: HTMLButtonElement;
  /** "Share screen": the agent's screen to the caller (remote assistance), in place of the camera in a video call. */
  private readonly screen: ScreenShare;
  private unwatchVideo: () => void = () => {};
  private readonly hangUpBtn: HTMLButtonElement;
  private readonly closeBtn: HTMLButtonElement;
  private readonly meters: HTMLElement;
  private readonly log: HTMLElement;
  private readonly audio: HTMLAudioElement;
  private readonly video: HTMLVideoElement;
  /** The caller offered video: answered with the camera, the caller's video shown. */
  readonly withVideo: boolean;
  private readonly sessionFact: { wrap: HTMLElement; value: HTMLElement };

  constructor(readonly invitation: Invitation, info: CallInfo, private readonly o: CallOptions) {
    this.id = `call:${invitation.id}`;
    this.name = info.name;
    this.waitingSince = info.waitingSince;
    this.session = info.session;
    const tabId = nextUid("tab");
    const panelId = nextUid("panel");
    const uid = nextUid("call");

    this.tabName = h("span", { class: "tab-name", text: info.name });
    this.tabBadge = h("span", { class: "badge", hidden: true });
    this.tabStatus = h("span", { class: "tab-status" });
    this.tabTimer = h("span", { class: "tab-timer" });
    this.tab = h("button", {
      class: "tab tab-call", id: tabId,
      attrs: { type: "button", role: "tab", "aria-selected": "false", "aria-controls": panelId, tabindex: -1 },
    },
      h("span", { class: "tab-row" }, h("span", { class: "tab-icon", attrs: { "aria-hidden": "true" }, text: "☎" }), this.tabName, this.tabBadge),
      h("span", { class: "tab-row tab-sub" },
        h("span", { class: "tab-queue", text: info.queueTitle ? `Call · ${info.queueTitle}` : "Call" }),
        this.tabStatus, this.tabTimer));

    this.heading = h("h2", { text: info.name });
    this.subtitle = h("p", { class: "chat-jid", text: info.address });
    this.facts = h("dl", { class: "facts" });
    const fact = (label: string, dd: HTMLElement) => {
      const wrap = h("div", { class: "fact" }, h("dt", { text: label }), dd);
      this.facts.append(wrap);
      return wrap;
    };
    if (info.queueTitle) fact("Queue", h("dd", { text: info.queueTitle }));
    if (info.subject) fact("Subject", h("dd", { text: info.subject }));
    this.waitValue = h("dd", { class: "timer" });
    const waitFact = fact("Waited", this.waitValue);
    waitFact.hidden = info.waitingSince === undefined;
    this.timerValue = h("dd", { class: "timer", text: "—" });
    fact("Call time", this.timerValue);
    const sessionValue = h("dd", { class: "mono", text: info.session ?? "" });
    this.sessionFact = { wrap: fact("Session", sessionValue), value: sessionValue };
    this.sessionFact.wrap.hidden = !info.session;

    this.statusLine = h("p", { class: "call-status", attrs: { role: "status" } });
    this.answerBtn = h("button", { class: "btn btn-accept", text: "Answer", attrs: { type: "button" }, on: { click: () => void this.answer() } });
    this.rejectBtn = h("button", { class: "btn", text: "Reject", attrs: { type: "button" }, on: { click: () => void this.reject() } });
    this.muteBtn = h("button", { class: "btn btn-toggle", text: "Mute", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => this.toggleMute() } });
    this.holdBtn = h("button", { class: "btn btn-toggle", text: "Hold", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => void this.toggleHold() } });
    this.screenBtn = h("button", { class: "btn btn-toggle", text: "Share screen", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => void this.toggleScreen() } });
    this.screen = new ScreenShare(() => this.invitation,
      () => (this.withVideo ? handlerOf(this.invitation)?.localMediaStream.getVideoTracks()[0] : undefined), () => this.render());
    this.hangUpBtn = h("button", { class: "btn btn-hangup", text: "Hang up", attrs: { type: "button" }, on: { click: () => this.hangUp() } });
    this.closeBtn = h("button", { class: "btn", text: "Close call", attrs: { type: "button" }, on: { click: () => o.onClose(this) } });

    const micMeter = h("meter", { id: `${uid}-mic`, attrs: { min: 0, max: 1, low: 0.15, high: 0.9, optimum: 0.5, value: 0 } }, "0%");
    const callerMeter = h("meter", { id: `${uid}-caller`, attrs: { min: 0, max: 1, low: 0.15, high: 0.9, optimum: 0.5, value: 0 } }, "0%");
    this.micMeter = new LevelMeter(micMeter);
    this.callerMeter = new LevelMeter(callerMeter);
    this.meters = h("div", { class: "meters", hidden: true },
      h("div", { class: "meter-row" }, h("label", { text: "Caller’s voice", attrs: { for: callerMeter.id } }), callerMeter),
      h("div", { class: "meter-row" }, h("label", { text: "Your microphone", attrs: { for: micMeter.id } }), micMeter));

    this.log = h("div", { class: "log call-log", attrs: { role: "log", "aria-live": "polite", "aria-label": `Call with ${info.name}`, tabindex: 0 } });
    this.audio = h("audio", { attrs: { autoplay: true } });
    this.withVideo = offersVideo(invitation.body);
    // The caller's camera or screen, while it plays; its sound plays in the audio element.
    this.video = h("video", { class: "call-video", hidden: true, attrs: { autoplay: true, playsinline: true, muted: true, "aria-label": "Caller’s video" } });
    this.video.muted = true;

    this.panel = h("section", { class: "panel call-panel", id: panelId, hidden: true, attrs: { role: "tabpanel", "aria-labelledby": tabId } },
      h("header", { class: "chat-head" }, h("div", { class: "who" }, this.heading, this.subtitle)),
      this.facts,
      h("div", { class: "call-main" },
        this.statusLine,
        h("div", { class: "call-controls", attrs: { role: "group", "aria-label": "Call controls" } },
          this.answerBtn, this.rejectBtn, this.muteBtn, this.holdBtn, this.screenBtn, this.hangUpBtn, this.closeBtn),
        this.meters, this.video),
      this.log, this.audio);

    invitation.stateChange.addListener((state) => this.onState(state));
    invitation.delegate = { onBye: () => { this.hungUpHere = false; } };
    this.ringtone.start();
    this.render();
    this.tick(Date.now());
  }

  get ended(): boolean {
    return this.stage === "ended";
  }

  get active(): boolean {
    return this.tab.getAttribute("aria-selected") === "true";
  }

  /** The caller's voice and our microphone's peer connection (its statistics show whether audio flows). */
  get peerConnection(): RTCPeerConnection | undefined {
    return handlerOf(this.invitation)?.peerConnection;
  }

  /** What the contact center's notice adds: the customer's name, the queue, the session. */
  learn(info: Partial<CallInfo>): void {
    if (info.name && info.name !== this.name) {
      this.name = info.name;
      this.heading.textContent = info.name;
      this.tabName.textContent = info.name;
      this.log.setAttribute("aria-label", `Call with ${info.name}`);
    }
    if (info.address) this.subtitle.textContent = info.address;
    if (info.session && !this.session) {
      this.session = info.session;
      this.sessionFact.value.textContent = info.session;
      this.sessionFact.wrap.hidden = false;
    }
    if (info.waitingSince !== undefined && this.waitingSince === undefined) {
      this.waitingSince = info.waitingSince;
      this.waitValue.parentElement!.hidden = false;
    }
    this.tick(Date.now());
    this.o.onChange(this);
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
  }

  /** The keyboard's next step in this call: Answer while it rings, Hang up during it, Close after. */
  focusComposer(): void {
    const target = this.stage === "ringing" ? this.answerBtn : this.stage === "ended" ? this.closeBtn : this.hangUpBtn;
    target.focus();
  }

  markUnread(): void {
    if (this.active && !document.hidden) return;
    this.unread++;
    this.renderBadge();
    this.o.onChange(this);
  }

  /** Once a second: the timers. */
  tick(now: number): void {
    if (this.waitingSince !== undefined) {
      // The caller waited until the phone rang here (never less than nothing: clocks differ).
      this.waitValue.textContent = duration(Math.max(0, this.ringingAt - this.waitingSince) / 1000);
    }
    if (this.answeredAt !== null) {
      const t = duration(((this.endedAt ?? now) - this.answeredAt) / 1000);
      this.timerValue.textContent = t;
      this.tabTimer.textContent = t;
    } else if (this.stage === "ringing") {
      this.tabTimer.textContent = `ringing ${duration((now - this.ringingAt) / 1000)}`;
    } else if (this.ended) {
      this.tabTimer.textContent = "";
    }
  }

  /** A line from the contact center or the desk about this call. */
  system(text: string, at = Date.now()): void {
    const p = h("p", { class: "sys" }, h("time", { text: clock(at) }), " ");
    appendText(p, text);
    this.log.append(p);
    this.log.scrollTop = this.log.scrollHeight;
  }

  async answer(): Promise<void> {
    if (this.stage !== "ringing") return;
    this.stage = "answering";
    this.render();
    try {
      await this.o.prepareMicrophone(this.withVideo);
    } catch (err) {
      this.stage = "ringing";
      this.system((err as Error).message);
      this.statusLine.textContent = `Cannot answer: ${(err as Error).message}`;
      this.render(false);
      this.answerBtn.focus();
      return;
    }
    if (this.invitation.state !== SessionState.Initial) return; // the caller hung up meanwhile
    this.ringtone.stop();
    try {
      await this.invitation.accept({ sessionDescriptionHandlerOptions: this.withVideo ? AUDIO_VIDEO : AUDIO_ONLY });
    } catch (err) {
      this.finish(`The call could not be answered: ${(err as Error).message}`);
    }
  }

  /** Declines a ringing call: the contact center offers it to another agent. */
  async reject(): Promise<void> {
    if (this.stage !== "ringing") return;
    this.hungUpHere = true;
    try {
      await this.invitation.reject({ statusCode: 603, reasonPhrase: "Decline" });
    } catch { /* it ended meanwhile */ }
    this.finish("You rejected the call: it goes to another agent.");
  }

  toggleMute(): void {
    if (this.stage !== "talking") return;
    this.muted = !this.muted;
    if (!this.held) setMuted(this.invitation, this.muted);
    this.render();
  }

  async toggleHold(): Promise<void> {
    if (this.stage !== "talking") return;
    this.holdBtn.disabled = true;
    const want = !this.held;
    const ok = await setHold(this.invitation, want, this.muted);
    this.holdBtn.disabled = false;
    if (ok) {
      this.held = want;
      this.system(want ? "You put the caller on hold." : "You took the caller off hold.");
    } else if (this.stage === "talking") {
      this.system(want ? "The call could not be put on hold." : "The call could not be taken off hold.");
    }
    this.render();
  }

  async toggleScreen(): Promise<void> {
    if (this.stage !== "talking") return;
    this.screenBtn.disabled = true;
    try {
      const was = this.screen.sharing;
      await this.screen.toggle();
      if (this.screen.sharing !== was) this.system(this.screen.sharing ? "You are sharing your screen with the caller." : "You stopped sharing your screen.");
    } catch (err) {
      this.system((err as Error).message);
    }
    this.screenBtn.disabled = false;
    this.render();
  }

  /** Shows the caller's video while it plays (a video call, or the caller sharing a screen in any call). */
  private showVideo(): void {
    const remote = this.stage === "talking" ? remoteVideo(this.invitation) : undefined;
    this.video.hidden = !remote;
    if (this.video.srcObject !== (remote ?? null)) {
      this.video.srcObject = remote ?? null;
      if (remote) void this.video.play().catch(() => undefined);
    }
  }

  hangUp(): void {
    this.hungUpHere = true;
    if (this.invitation.state === SessionState.Established) void this.invitation.bye().catch(() => this.finish("You ended the call."));
    else if (this.stage === "ringing") void this.reject();
    else this.finish("You ended the call.");
  }

  private onState(state: SessionState): void {
    if (state === SessionState.Established) {
      this.stage = "talking";
      this.answeredAt = Date.now();
      playRemoteAudio(this.invitation, this.audio);
      const sdh = handlerOf(this.invitation);
      this.micMeter.follow(sdh?.localMediaStream);
      const remote = sdh?.remoteMediaStream;
      this.unwatchVideo = watchRemoteVideo(this.invitation, () => this.showVideo());
      if (remote?.getAudioTracks().length) this.callerMeter.follow(remote);
      else remote?.addEventListener("addtrack", () => this.callerMeter.follow(remote), { once: true });
      this.system("You answered the call.");
      this.o.announce(`On the call with ${this.name}.`);
      this.o.onStage(this);
      this.render();
      this.hangUpBtn.focus();
    } else if (state === SessionState.Terminated) {
      if (this.answeredAt !== null) this.finish(this.hungUpHere ? "You ended the call." : "The caller hung up.");
      else if (this.hungUpHere) this.finish("You rejected the call: it goes to another agent.");
      else this.finish("The call stopped ringing: the caller hung up, or it went to another agent.");
    }
  }

  private finish(text: string): void {
    if (this.stage === "ended") return;
    const hadFocus = this.panel.contains(document.activeElement);
    this.stage = "ended";
    this.endedAt = Date.now();
    this.ringtone.stop();
    this.micMeter.stop();
    this.callerMeter.stop();
    this.audio.srcObject = null;
    this.screen.release();
    this.unwatchVideo();
    this.showVideo();
    this.system(text);
    this.statusLine.textContent = `Call ended. ${text}`;
    this.tab.classList.add("ended");
    this.o.announce(`Call with ${this.name} ended.`);
    this.render(false);
    this.tick(Date.now());
    this.markUnread();
    if (hadFocus) this.closeBtn.focus();
    this.o.onChange(this);
    this.o.onStage(this);
  }

  private render(status = true): void {
    const s = this.stage;
    this.answerBtn.hidden = s !== "ringing" && s !== "answering";
    this.answerBtn.disabled = s === "answering";
    this.rejectBtn.hidden = s !== "ringing" && s !== "answering";
    this.rejectBtn.disabled = s === "answering";
    this.muteBtn.hidden = s !== "talking";
    this.holdBtn.hidden = s !== "talking";
    this.screenBtn.hidden = s !== "talking" || !ScreenShare.supported;
    this.screenBtn.setAttribute("aria-pressed", String(this.screen.sharing));
    this.hangUpBtn.hidden = s !== "talking";
    this.closeBtn.hidden = s !== "ended";
    this.meters.hidden = s !== "talking";
    this.muteBtn.setAttribute("aria-pressed", String(this.muted));
    this.holdBtn.setAttribute("aria-pressed", String(this.held));
    this.tab.dataset.call = s;
    this.tabStatus.textContent = s === "ringing" || s === "answering" ? "ringing" : s === "talking" ? (this.held ? "on hold" : "on call") : "ended";
    if (status) {
      this.statusLine.textContent = s === "ringing" ? "Incoming call: ringing."
        : s === "answering" ? "Answering…"
        : s === "talking" ? `On the call${this.held ? ", on hold" : ""}${this.muted ? ", muted" : ""}.`
        : this.statusLine.textContent;
    }
  }

  private renderBadge(): void {
    this.tabBadge.hidden = this.unread === 0;
    this.tabBadge.textContent = String(this.unread);
    this.tabBadge.setAttribute("aria-label", `${this.unread} unread`);
  }

  dispose(): void {
    if (!this.ended) this.hangUp();
    this.ringtone.stop();
    this.micMeter.stop();
    this.callerMeter.stop();
    this.tab.remove();
    this.panel.remove();
  }
}
