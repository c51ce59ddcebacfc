/**
 * Renders the customer page from CustomerSession's state: which section is
 * shown, the queue status, the conversation (built incrementally with text
 * nodes, never HTML), the typing line, the end and rating panel. Focus moves
 * only on phase changes, to where the user's next step is.
 */
import type { QueueInfo } from "../lib/config.js";
import { appendText, el } from "../lib/text.js";
import type { CustomerSession } from "./session.js";
import { transcriptText, type Line, type Phase } from "./state.js";

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
};

const SECTIONS = ["loading", "prechat", "waiting", "chat", "unavailable"] as const;

export function duration(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "about 1 minute" : `about ${minutes} minutes`;
}

const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

export class View {
  private rendered = new Map<string, { li: HTMLLIElement; meta?: HTMLElement; key: string }>();
  private phase: Phase | "loading" = "loading";
  private downloadUrl: string | undefined;

  constructor(private readonly queue: QueueInfo) {}

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
    $("title").textContent = "Chat with us";
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
    end.disabled = s.busy;

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
    this.only(phase === "form" ? "prechat" : phase === "waiting" ? "waiting" : phase === "unavailable" ? "unavailable" : "chat");

    if (phase === "form") {
      const start = $<HTMLButtonElement>("start");
      start.disabled = s.busy;
      start.setAttribute("aria-busy", String(s.busy));
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

    if (phase === "unavailable") {
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

  private only(id: (typeof SECTIONS)[number]): void {
    for (const sec of SECTIONS) $(sec).hidden = sec !== id;
  }

  /** Focuses where the current phase's next step is (the widget's iframe does this when it gets focus). */
  focusCurrent(): void {
    if (this.phase !== "loading") this.focusFor(this.phase);
  }

  private focusFor(phase: Phase): void {
    const target = phase === "form" ? $("f-name")
      : phase === "waiting" ? $("leave-queue")
      : phase === "chatting" ? $("message")
      : phase === "ended" ? $("ended-text")
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
      const key = `${line.delivered ? 1 : 0}|${line.failed ?? ""}`;
      const have = this.rendered.get(line.id);
      if (have) {
        if (have.key !== key && have.meta) this.fillMeta(have.meta, line, agentName);
        have.li.classList.toggle("failed", !!line.failed);
        have.key = key;
        continue;
      }
      const li = el("li", { class: line.who === "system" ? "system" : `msg ${line.who}${line.failed ? " failed" : ""}` });
      let meta: HTMLElement | undefined;
      if (line.who === "system") {
        li.textContent = line.text;
      } else {
        const label = el("span", { class: "visually-hidden" }, line.who === "me" ? "You: " : `${agentName}: `);
        const bubble = appendText(el("div", { class: "bubble" }, label), line.text);
        meta = el("div", { class: "meta" });
        this.fillMeta(meta, line, agentName);
        li.append(bubble, meta);
      }
      log.append(li);
      this.rendered.set(line.id, { li, meta, key });
    }
    for (const [id, r] of this.rendered) if (!keep.has(id)) { r.li.remove(); this.rendered.delete(id); }
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  private fillMeta(meta: HTMLElement, line: Line, agentName: string): void {
    meta.replaceChildren();
    if (line.who === "agent") {
      meta.append(`${agentName} · ${clock(line.at)}`);
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
