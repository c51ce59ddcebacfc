/**
 * Live sessions (as end-any-session lists them) with monitor / end, and one
 * monitoring panel per monitored session: the copies of both sides as they
 * arrive (a log), a whisper to the agent, barging in (and saying something to
 * the customer), stop. All text goes in with textContent.
 */
import { fill, h } from "../agent/dom.js";
import type { Copy, SessionRow } from "./supervisor.js";

export interface SessionActions {
  monitor(session: string): Promise<boolean>;
  unmonitor(session: string): Promise<boolean>;
  whisper(session: string, text: string): Promise<boolean>;
  barge(session: string, text: string): Promise<boolean>;
  end(session: string): Promise<boolean>;
  refresh(): void;
}

interface Panel { root: HTMLElement; log: HTMLElement; bargeButton: HTMLButtonElement; barged: boolean }

export class Sessions {
  readonly root: HTMLElement;
  readonly monitoring: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly panels = new Map<string, Panel>();
  private readonly panelList: HTMLElement;
  private rows: SessionRow[] = [];

  constructor(private readonly actions: SessionActions) {
    this.body = h("tbody", {}, h("tr", {}, h("td", { class: "muted", text: "Loading…", attrs: { colspan: 3 } })));
    this.root = h("section", { class: "panel", id: "sessions", attrs: { "aria-labelledby": "sessions-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "sessions-title", text: "Live sessions" }),
        h("button", { class: "btn btn-small", text: "Refresh", attrs: { type: "button", "aria-label": "Refresh sessions" }, on: { click: () => actions.refresh() } })),
      h("div", { class: "table-wrap" }, h("table", { class: "grid" },
        h("caption", { class: "sr-only", text: "Live sessions" }),
        h("thead", {}, h("tr", {}, ...["Session", "Customer, queue, state, agent", "Actions"].map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
        this.body)));
    this.panelList = h("div", { class: "monitor-list" }, h("p", { class: "muted", id: "monitor-empty", text: "Monitor a live chat to see both sides here." }));
    this.monitoring = h("section", { class: "panel", id: "monitoring", attrs: { "aria-labelledby": "monitoring-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "monitoring-title", text: "Monitoring" })), this.panelList);
  }

  render(rows: SessionRow[]): void {
    this.rows = rows;
    if (rows.length === 0) { fill(this.body, h("tr", {}, h("td", { class: "muted", text: "No session is live.", attrs: { colspan: 3 } }))); return; }
    fill(this.body, ...rows.map((s) => this.row(s)));
  }

  private row(s: SessionRow): HTMLTableRowElement {
    const watching = this.panels.has(s.id);
    const monitor = h("button", {
      class: "btn btn-small", text: watching ? "Stop monitoring" : "Monitor",
      attrs: { type: "button", "aria-label": `${watching ? "Stop monitoring" : "Monitor"} session ${s.id}` },
      on: { click: () => void this.toggle(s.id) },
    });
    const end = h("button", {
      class: "btn btn-small btn-danger", text: "End",
      attrs: { type: "button", "aria-label": `End session ${s.id}` },
      on: { click: async (e) => { (e.currentTarget as HTMLButtonElement).disabled = true; await this.actions.end(s.id); this.actions.refresh(); } },
    });
    return h("tr", { attrs: { "data-session": s.id } },
      h("th", { class: "mono session-id", text: s.id, attrs: { scope: "row" } }), h("td", { class: "wrap", text: s.label }), h("td", {}, h("div", { class: "actions" }, monitor, end)));
  }

  private async toggle(session: string): Promise<void> {
    if (this.panels.has(session)) {
      if (await this.actions.unmonitor(session)) this.close(session, "You stopped monitoring.");
    } else if (await this.actions.monitor(session)) {
      this.open(session);
    }
    this.render(this.rows);
  }

  private open(session: string): Panel {
    const existing = this.panels.get(session);
    if (existing) return existing;
    document.getElementById("monitor-empty")?.remove();
    for (const old of this.panelList.querySelectorAll(".monitor.closed")) if (old.getAttribute("aria-label") === `Session ${session}`) old.remove();
    const label = this.rows.find((r) => r.id === session)?.label ?? "";
    const log = h("ol", { class: "copies", attrs: { role: "log", "aria-live": "polite", "aria-label": `Messages of session ${session}` } });
    const uid = session.replace(/[^\w-]/g, "_");
    const whisperText = h("input", { id: `whisper-${uid}`, attrs: { type: "text", maxlength: 2000, autocomplete: "off" } });
    const bargeText = h("input", { id: `barge-${uid}`, attrs: { type: "text", maxlength: 2000, autocomplete: "off" } });
    const bargeButton = h("button", { class: "btn btn-small", text: "Barge in", attrs: { type: "submit" } });
    const panel: Panel = { root: h("article"), log, bargeButton, barged: false };
    const whisperForm = h("form", { class: "inline-form" },
      h("label", { text: "Whisper to the agent", attrs: { for: `whisper-${uid}` } }), whisperText,
      h("button", { class: "btn btn-small", text: "Whisper", attrs: { type: "submit" } }));
    whisperForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = whisperText.value.trim();
      if (!text) return;
      if (await this.actions.whisper(session, text)) { this.line(session, "whisper", `You whispered: ${text}`); whisperText.value = ""; }
    });
    const bargeForm = h("form", { class: "inline-form" },
      h("label", { text: "Say to the customer", attrs: { for: `barge-${uid}` } }), bargeText, bargeButton);
    bargeForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = bargeText.value.trim();
      if (panel.barged && !text) return;
      if (await this.actions.barge(session, text)) {
        if (!panel.barged) this.line(session, "notice", "You joined the conversation.");
        panel.barged = true;
        bargeButton.textContent = "Send";
        if (text) this.line(session, "supervisor", `You: ${text}`);
        bargeText.value = "";
      }
    });
    const stop = h("button", { class: "btn btn-small btn-danger", text: "Stop", attrs: { type: "button", "aria-label": `Stop monitoring session ${session}` },
      on: { click: () => void this.toggle(session) } });
    panel.root = h("article", { class: "monitor", attrs: { "aria-label": `Session ${session}` } },
      h("header", { class: "monitor-head" }, h("h3", { text: `Session ${session}` }), h("span", { class: "muted small", text: label }), stop),
      log, whisperForm, bargeForm);
    this.panels.set(session, panel);
    this.panelList.append(panel.root);
    whisperText.focus();
    return panel;
  }

  /** A copy of the chat arrived. */
  copy(c: Copy): void {
    const who = c.direction === "in" ? `Customer (${c.from})` : `Agent (${c.from || c.seat})`;
    this.line(c.session, c.direction === "in" ? "in" : "out", `${who}: ${c.text}`, c.at);
  }

  /** The server withdrew the monitoring (session ended, transferred, agent offline). */
  close(session: string, text: string): void {
    const p = this.panels.get(session);
    if (!p) return;
    this.line(session, "notice", text);
    p.root.classList.add("closed");
    for (const el of p.root.querySelectorAll("input, form button")) (el as HTMLInputElement).disabled = true;
    this.panels.delete(session);
    this.render(this.rows);
  }

  private line(session: string, kind: string, text: string, at = Date.now()): void {
    const p = this.panels.get(session);
    if (!p) return;
    p.log.append(h("li", { class: `copy copy-${kind}` }, h("time", { class: "muted small", text: new Date(at).toLocaleTimeString(), attrs: { datetime: new Date(at).toISOString() } }), " ", h("span", { text })));
    p.log.scrollTop = p.log.scrollHeight;
  }
}
