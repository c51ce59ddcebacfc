/**
 * Renders the customer page from CustomerSession's state: which section is
 * shown, the queue status, the conversation (built incrementally with text
 * nodes, never HTML), the typing line, the end and rating panel. Focus moves
 * only on phase changes, to where the user's next step is.
 */
import { LevelMeter } from "../lib/audio.js";
import { ScreenShare } from "../lib/screen.js";
import type { QueueInfo } from "../lib/config.js";
import { fileElement } from "../lib/files.js";
import { appendText, el } from "../lib/text.js";
import type { PageCall } from "./call.js";
import type { CustomerSession } from "./session.js";
import { transcriptText, type Line, type Phase } from "./state.js";

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
};

const SECTIONS = ["loading", "prechat", "waiting", "chat", "unavailable", "call-panel"] as const;

/** 75 -> "1:15", 3725 -> "1:02:05". */
/** Who wrote a line from the agent's side: the agent, or an expert it invited ("Bob (expert)"). */
const speaker = (line: Line, agentName: string) => (line.expert ? `${line.expert} (expert)` : agentName);

export function clockDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** "Waiting: position 2, about 3 min" (position 0 is the head of the line). */
export function callWaitText(position: number | undefined, waitSeconds: number | undefined): string {
  if (position === undefined) return "Calling…";
  const minutes = Math.max(1, Math.round((waitSeconds ?? 0) / 60));
  return `Waiting: position ${position + 1}, about ${minutes} min`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "about 1 minute" : `about ${minutes} minutes`;
}

const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** A call's "Share screen" (while talking, where the browser can) and the agent's video (while it plays). */
function showScreenAndVideo(call: PageCall | undefined, screen: HTMLButtonElement, video: HTMLVideoElement): void {
  screen.hidden = !(call?.stage === "talking" && ScreenShare.supported);
  screen.setAttribute("aria-pressed", String(!!call?.sharing));
  const remote = call?.remoteVideo;
  video.hidden = !remote;
  if (video.srcObject !== (remote ?? null)) video.srcObject = remote ?? null;
}

export class View {
  private rendered = new Map<string, { li: HTMLLIElement; meta?: HTMLElement; bubble?: HTMLElement; key: string }>();
  private phase: Phase | "loading" = "loading";
  private downloadUrl: string | undefined;
  /** The call's stage last rendered (focus moves when it changes), and what the meters follow. */
  private callStage: string | undefined;
  private callTimer: ReturnType<typeof setInterval> | undefined;
  private readonly micMeter: LevelMeter;
  private readonly agentMeter: LevelMeter;
  private metered: PageCall | undefined;

  /** `callable`: the queue takes calls here ("Call us"); `chattable`: it takes chats ("Start chat"). */
  constructor(private readonly queue: QueueInfo, private readonly callable = false, private readonly chattable = true) {
    this.micMeter = new LevelMeter(document.getElementById("meter-mic") as HTMLMeterElement);
    this.agentMeter = new LevelMeter(document.getElementById("meter-agent") as HTMLMeterElement);
  }

  /** Before the configuration is loaded, or when it failed. */
  showLoading(error?: string): void {
    this.only("loading");
    if (error) {
      const n = $("notice");
      n.textContent = error;
      n.hidden = false;
      $("loading").hidden = true;
    }
  }

  render(s: CustomerSession): void {
    const { state } = s;
    const phase = state.phase;
    const changed = phase !== this.phase;
    const first = this.phase === "loading";
    this.phase = phase;

    // header
    $("title").textContent = phase === "call" || !this.chattable ? "Call us" : "Chat with us";
    $("subtitle").textContent = this.queue.title;
    const withAgent = (phase === "chatting" || phase === "ended") && !!state.agentName;
    $("agent-bar").hidden = !withAgent;
    document.querySelector(".top")?.classList.toggle("chatting", withAgent);
    if (withAgent) {
      $("agent-name").textContent = state.agentName!;
      $("agent-initial").textContent = state.agentName!.charAt(0).toUpperCase();
    }
    const end = $<HTMLButtonElement>("end-chat");
    end.hidden = phase !== "chatting";
    $("board-toggle").hidden = phase !== "chatting" || !state.session;
    end.disabled = s.busy;
    const callStart = $<HTMLButtonElement>("chat-call-start");
    callStart.hidden = !(this.callable && s.canCallFromChat);
    $("chat-video-start").hidden = callStart.hidden;

    // notice
    const notice = $("notice");
    notice.hidden = !s.notice;
    notice.textContent = s.notice?.text ?? "";
    notice.classList.toggle("info", s.notice?.kind === "info");
    // Errors are alerts; progress notes ("Reconnecting…") are only polite, so the queue position stays the page's one status.
    if (s.notice?.kind === "info") {
      notice.removeAttribute("role");
      notice.setAttribute("aria-live", "polite");
    } else {
      notice.setAttribute("role", "alert");
      notice.removeAttribute("aria-live");
    }

    // sections
    this.only(phase === "form" ? "prechat" : phase === "waiting" ? "waiting" : phase === "unavailable" ? "unavailable" : phase === "call" ? "call-panel" : "chat");

    if (phase === "form") {
      const start = $<HTMLButtonElement>("start");
      start.hidden = !this.chattable;
      start.disabled = s.busy;
      start.setAttribute("aria-busy", String(s.busy));
      for (const id of ["call", "video-call"]) {
        const call = $<HTMLButtonElement>(id);
        call.hidden = !this.callable || (id === "video-call" && !navigator.mediaDevices?.getUserMedia);
        call.disabled = s.busy;
        call.setAttribute("aria-busy", String(s.busy));
      }
      $("call-hint").hidden = !this.callable;
      if (s.lastRefusal === "forbidden") ($("signin") as HTMLDetailsElement).open = true;
    }

    if (phase === "waiting") {
      const { position, waitSeconds } = state;
      $("position-text").textContent = position === undefined ? "Joining the queue…"
        : position === 0 ? "You are next in line."
        : `You are number ${position + 1} in line.`;
      $("wait-text").textContent = position === undefined ? ""
        : `${position === 0 ? "" : `${position} ${position === 1 ? "customer" : "customers"} ahead of you. `}Estimated wait: ${duration(waitSeconds ?? 0)}.`;
      $<HTMLButtonElement>("leave-queue").disabled = s.busy;
    }

    if (phase === "chatting" || phase === "ended") {
      this.syncLog(state.lines, state.agentName ?? "Agent");
      $("typing").textContent = phase === "chatting" && s.agentTyping ? `${state.agentName ?? "The agent"} is typing…` : "";
      $("composer").hidden = phase !== "chatting";
      $<HTMLButtonElement>("send").disabled = false;
      $("ended").hidden = phase !== "ended";
      if (phase === "ended") {
        $("ended-text").textContent = state.endedText ?? "The chat has ended.";
        $("rating-form").hidden = !!state.rated || !s.canRate;
        $("thanks").hidden = !state.rated;
        $<HTMLButtonElement>("send-rating").disabled = s.busy;
        this.updateDownload(s);
      }
    }

    this.renderCall(phase === "call" ? s.call : undefined);
    this.renderChatCall(s);

    if (phase === "unavailable") {
      const forCall = state.unavailableFor === "call";
      $("unavailable-heading").textContent = forCall ? "We can’t take your call right now" : "We can’t chat right now";
      $("try-again").textContent = forCall ? "Try again" : "Try chatting again";
      $("unavailable-text").textContent = state.unavailableText ?? "No agent is available right now.";
      const name = $<HTMLInputElement>("m-name");
      if (changed && !name.value) name.value = state.form?.name ?? "";
      $("message-form").hidden = !!state.messageSent;
      $("message-sent").hidden = !state.messageSent;
      $<HTMLButtonElement>("send-message").disabled = s.busy;
    }

    // The log shrinks when the end panel appears, and is refilled after a reload: show its latest lines.
    if (changed && (phase === "ended" || phase === "chatting")) $("log").scrollTop = $("log").scrollHeight;
    if (changed && !first) this.focusFor(phase);
  }

  /** The call panel: place in line, then timer, meters, Mute and Hang up, then how it ended. */
  private renderCall(call: PageCall | undefined): void {
    const stage = call?.stage;
    const stageChanged = stage !== this.callStage;
    this.callStage = stage;
    if (!call) {
      this.stopCallViews();
      return;
    }
    const talking = stage === "talking";
    const ended = stage === "ended";
    $("call-status").hidden = ended;
    $("call-art").hidden = ended;
    $("call-art").classList.toggle("talking", talking);
    $("call-state").textContent = stage === "connecting" ? "Connecting…"
      : stage === "waiting" ? callWaitText(call.position, call.waitSeconds)
      : talking ? (call.muted ? "On the call (muted)" : "On the call")
      : "";
    $("call-detail").textContent = stage === "connecting" ? "Getting your place in line."
      : stage === "waiting" ? "You hear ringing until an agent answers. Keep this page open."
      : talking ? "You are connected with customer service."
      : "";
    $("call-timer").hidden = !talking;
    $("call-meters").hidden = !talking;
    const mute = $<HTMLButtonElement>("mute");
    mute.hidden = !talking;
    mute.setAttribute("aria-pressed", String(call.muted));
    showScreenAndVideo(call, $<HTMLButtonElement>("call-screen"), $<HTMLVideoElement>("call-video"));
    $("call-actions").hidden = ended;
    $("call-ended").hidden = !ended;
    if (ended) {
      const text = $("call-ended-text");
      text.textContent = call.end?.text ?? "The call ended.";
      if (call.end?.kind === "error") text.setAttribute("role", "alert");
      else text.removeAttribute("role");
      text.classList.toggle("error", call.end?.kind === "error");
      $("call-summary").textContent = call.answeredAt !== undefined && call.endedAt !== undefined
        ? `Call duration ${clockDuration((call.endedAt - call.answeredAt) / 1000)}.` : "";
    }
    if (talking) {
      this.tickCall(call);
      this.callTimer ??= setInterval(() => this.tickCall(call), 1000);
      if (this.metered !== call) {
        this.metered = call;
        this.micMeter.follow(call.mic);
        const remote = call.remoteStream;
        if (remote?.getAudioTracks().length) this.agentMeter.follow(remote);
        else remote?.addEventListener("addtrack", () => this.agentMeter.follow(remote), { once: true });
      }
    } else {
      this.stopCallViews();
    }
    if (stageChanged && stage !== "connecting") {
      const target = ended ? $("call-ended-text") : $("hang-up");
      if (ended) target.setAttribute("tabindex", "-1");
      // Only when the focus is not already in the panel's controls (Mute stays focused across renders).
      if (!$("call-panel").contains(document.activeElement) || ended || document.activeElement === document.body) target.focus();
    }
  }

  /** During a chat: the agent's request to talk (Accept / Decline), then the call bar (state, timer, Mute, Hang up). */
  private renderChatCall(s: CustomerSession): void {
    const chatting = s.state.phase === "chatting";
    const invite = chatting && !s.chatCallLive ? s.callInvite : undefined;
    const inviteBox = $("call-invite");
    const wasHidden = inviteBox.hidden;
    inviteBox.hidden = !invite;
    $("call-invite-text").textContent = invite?.text ?? "";
    if (invite && wasHidden) $("call-accept").focus();

    const call = chatting && s.chatCallLive ? s.chatCall : undefined;
    const bar = $("chat-call");
    const barWasHidden = bar.hidden;
    bar.hidden = !call;
    const agent = s.state.agentName ?? "the agent";
    const talking = call?.stage === "talking";
    $("chat-call-state").textContent = !call ? ""
      : call.stage === "connecting" ? `Calling ${agent}…`
      : call.stage === "waiting" ? `Ringing ${agent}…`
      : `On the call with ${agent}${call.muted ? " (muted)" : ""}`;
    $("chat-call-timer").hidden = !talking;
    const mute = $<HTMLButtonElement>("chat-call-mute");
    mute.hidden = !talking;
    mute.setAttribute("aria-pressed", String(!!call?.muted));
    showScreenAndVideo(call, $<HTMLButtonElement>("chat-call-screen"), $<HTMLVideoElement>("chat-call-video"));
    if (talking && call) {
      const tick = () => { if (call.answeredAt !== undefined) $("chat-call-timer").textContent = clockDuration((Date.now() - call.answeredAt) / 1000); };
      tick();
      if (this.chatCallTimed !== call) {
        clearInterval(this.chatCallTimer);
        this.chatCallTimed = call;
        this.chatCallTimer = setInterval(tick, 1000);
      }
    } else if (this.chatCallTimed) {
      clearInterval(this.chatCallTimer);
      this.chatCallTimed = undefined;
    }
    if (call && barWasHidden) $("chat-call-hang-up").focus();
    else if (!call && !barWasHidden && (document.activeElement === document.body || bar.contains(document.activeElement))) $("message").focus();
  }

  private chatCallTimer: ReturnType<typeof setInterval> | undefined;
  private chatCallTimed: PageCall | undefined;

  private tickCall(call: PageCall): void {
    if (call.answeredAt !== undefined) $("call-timer").textContent = clockDuration((Date.now() - call.answeredAt) / 1000);
  }

  private stopCallViews(): void {
    clearInterval(this.callTimer);
    this.callTimer = undefined;
    if (this.metered) {
      this.metered = undefined;
      this.micMeter.stop();
      this.agentMeter.stop();
    }
  }

  private only(id: (typeof SECTIONS)[number]): void {
    for (const sec of SECTIONS) $(sec).hidden = sec !== id;
  }

  /** Focuses where the current phase's next step is (the widget's iframe does this when it gets focus). */
  focusCurrent(): void {
    if (this.phase !== "loading") this.focusFor(this.phase);
  }

  private focusFor(phase: Phase): void {
    if (phase === "call" && this.callStage === "ended") return void $("call-ended-text").focus();
    const target = phase === "form" ? $("f-name")
      : phase === "waiting" ? $("leave-queue")
      : phase === "chatting" ? $("message")
      : phase === "ended" ? $("ended-text")
      : phase === "call" ? $("hang-up")
      : $("unavailable-heading");
    if (!target.hasAttribute("tabindex") && !(target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLButtonElement)) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  /** Adds new lines and updates changed ones (delivery marks); keeps the scroll at the bottom if it was there. */
  private syncLog(lines: Line[], agentName: string): void {
    const log = $("log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const keep = new Set<string>();
    for (const line of lines) {
      keep.add(line.id);
      const key = `${line.delivered ? 1 : 0}|${line.failed ?? ""}|${line.file?.url ?? ""}`;
      const have = this.rendered.get(line.id);
      if (have) {
        if (have.key !== key && have.meta) this.fillMeta(have.meta, line, agentName);
        if (have.key !== key && have.bubble) this.fillBubble(have.bubble, line, agentName);
        have.li.classList.toggle("failed", !!line.failed);
        have.key = key;
        continue;
      }
      const li = el("li", { class: line.who === "system" ? "system" : `msg ${line.who}${line.expert ? " expert" : ""}${line.failed ? " failed" : ""}` });
      let meta: HTMLElement | undefined;
      let bubble: HTMLElement | undefined;
      if (line.who === "system") {
        li.textContent = line.text;
      } else {
        bubble = el("div", { class: "bubble" });
        this.fillBubble(bubble, line, agentName);
        meta = el("div", { class: "meta" });
        this.fillMeta(meta, line, agentName);
        li.append(bubble, meta);
      }
      log.append(li);
      this.rendered.set(line.id, { li, meta, bubble, key });
    }
    for (const [id, r] of this.rendered) if (!keep.has(id)) { r.li.remove(); this.rendered.delete(id); }
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  /** The text, or a shared file as a link with its name and size (still uploading: its name only). */
  private fillBubble(bubble: HTMLElement, line: Line, agentName: string): void {
    bubble.replaceChildren(el("span", { class: "visually-hidden" }, line.who === "me" ? "You: " : `${speaker(line, agentName)}: `));
    if (line.file?.url) bubble.append(fileElement(line.file));
    else if (line.file) bubble.append(`Sending ${line.file.name}…`);
    else appendText(bubble, line.text);
  }

  private fillMeta(meta: HTMLElement, line: Line, agentName: string): void {
    meta.replaceChildren();
    if (line.who === "agent") {
      meta.append(`${speaker(line, agentName)} · ${clock(line.at)}`);
    } else if (line.failed) {
      meta.append(line.failed);
    } else {
      meta.append(`${clock(line.at)} · `, line.delivered ? el("span", { class: "delivered" }, "Delivered ✓") : "Sent");
    }
  }

  private updateDownload(s: CustomerSession): void {
    const a = $<HTMLAnchorElement>("download");
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    const text = transcriptText(s.state, this.queue.title);
    this.downloadUrl = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    a.href = this.downloadUrl;
    const day = new Date().toISOString().slice(0, 10);
    a.download = `chat-transcript-${day}${s.state.session ? `-${s.state.session}` : ""}.txt`.replace(/[^\w.-]/g, "_");
  }
}
