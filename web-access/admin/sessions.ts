/**
 * Live sessions (list-sessions' table, or the API's) with monitor / transfer / end, and one monitoring
 * panel per monitored session: the copies of both sides as they arrive (a log), a whisper to the agent,
 * barging in (and saying something to the customer), stop. Signed in with a token alone there is no
 * monitoring, and the panel says why. All text goes in with textContent. The transfer form sits outside the
 * table, which is redrawn at every refresh.
 */
import { fill, h } from "../agent/dom.js";
import { transferable, type AgentRow, type Copy, type QueueFigures, type SessionRow, type TransferTarget } from "./backend.js";
import { clock, stateName } from "./format.js";

export interface SessionActions {
  /** null: no monitoring (signed in with a token alone). */
  monitoring: {
    monitor(session: string): Promise<boolean>;
    unmonitor(session: string): Promise<boolean>;
    whisper(session: string, text: string): Promise<boolean>;
    barge(session: string, text: string): Promise<boolean>;
  } | null;
  transfer(session: string, to: TransferTarget, note: string): Promise<boolean>;
  end(session: string): Promise<boolean>;
  /** Where a chat may go: the agents and the queues as last listed. */
  targets(): { agents: readonly AgentRow[]; queues: readonly QueueFigures[] };
  refresh(): void;
}

interface Panel { root: HTMLElement; log: HTMLElement; bargeButton: HTMLButtonElement; barged: boolean }

const SESSION_STATES: Record<string, string> = { queued: "Waiting", assigned: "Assigned", "in-service": "In service" };
/** Media under the queue and the time under the state: the panel is half the page wide. */
const COLUMNS = ["Session", "Customer", "Queue, media", "State, time", "Agent", "Actions"];

export class Sessions {
  readonly root: HTMLElement;
  readonly monitoring: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly panels = new Map<string, Panel>();
  private readonly panelList: HTMLElement;
  private readonly transferBox: HTMLElement;
  private transferring = "";
  private rows: SessionRow[] = [];
  private readonly clocks = new Map<HTMLElement, SessionRow>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly actions: SessionActions) {
    this.body = h("tbody", {}, h("tr", {}, h("td", { class: "muted", text: "Loading…", attrs: { colspan: COLUMNS.length } })));
    this.transferBox = h("div", { class: "subform-slot" });
    this.root = h("section", { class: "panel", id: "sessions", attrs: { "aria-labelledby": "sessions-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "sessions-title", text: "Live sessions" }),
        h("button", { class: "btn btn-small", text: "Refresh", attrs: { type: "button", "aria-label": "Refresh sessions" }, on: { click: () => actions.refresh() } })),
      actions.monitoring ? null : h("p", { class: "muted small", id: "no-monitoring", text: "Monitoring, whisper and barge are not available: they need an XMPP account. Sign in with a supervisor's address and password to use them." }),
      h("div", { class: "table-wrap" }, h("table", { class: "grid" },
        h("caption", { class: "sr-only", text: "Live sessions" }),
        h("thead", {}, h("tr", {}, ...COLUMNS.map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
        this.body)),
      this.transferBox);
    this.panelList = h("div", { class: "monitor-list" }, h("p", { class: "muted", id: "monitor-empty", text: actions.monitoring
      ? "Monitor a live chat to see both sides here."
      : "Not available when signed in with a token alone: monitoring needs a supervisor's XMPP account." }));
    this.monitoring = h("section", { class: "panel", id: "monitoring", attrs: { "aria-labelledby": "monitoring-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "monitoring-title", text: "Monitoring" })), this.panelList);
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop(): void { clearInterval(this.timer); }

  render(rows: SessionRow[]): void {
    this.rows = rows;
    this.clocks.clear();
    if (this.transferring && !rows.some((r) => r.id === this.transferring && transferable(r))) this.closeTransfer(`Session ${this.transferring} can no longer be transferred: it ended or moved.`);
    if (rows.length === 0) { fill(this.body, h("tr", {}, h("td", { class: "muted", text: "No session is live.", attrs: { colspan: COLUMNS.length } }))); return; }
    fill(this.body, ...rows.map((s) => this.row(s)));
    this.tick();
  }

  private row(s: SessionRow): HTMLTableRowElement {
    const buttons: HTMLButtonElement[] = [];
    const mon = this.actions.monitoring;
    if (mon) {
      const watching = this.panels.has(s.id);
      buttons.push(h("button", {
        class: "btn btn-small", text: watching ? "Stop monitoring" : "Monitor",
        attrs: { type: "button", "aria-label": `${watching ? "Stop monitoring" : "Monitor"} session ${s.id}` },
        on: { click: () => void this.toggle(s.id) },
      }));
    }
    if (transferable(s)) {
      buttons.push(h("button", {
        class: "btn btn-small", text: "Transfer",
        attrs: { type: "button", "aria-label": `Transfer session ${s.id}`, "data-transfer": s.id },
        on: { click: () => this.openTransfer(s) },
      }));
    }
    buttons.push(h("button", {
      class: "btn btn-small btn-danger", text: "End",
      attrs: { type: "button", "aria-label": `End session ${s.id}` },
      on: { click: async (e) => { (e.currentTarget as HTMLButtonElement).disabled = true; await this.actions.end(s.id); this.actions.refresh(); } },
    }));
    const time = h("span", { class: "mono small block" });
    this.clocks.set(time, s);
    return h("tr", { attrs: { "data-session": s.id } },
      h("th", { class: "mono session-id", text: s.id, attrs: { scope: "row" } }),
      h("td", { class: "wrap small customer", text: s.customer }),
      h("td", {}, s.queue, " ", h("span", { class: "muted small block", text: s.media === "voice" ? "Call" : "Chat" })),
      h("td", {}, h("span", { class: `pill session-${s.state}`, text: SESSION_STATES[s.state] ?? s.state }), " ", time),
      h("td", { class: "wrap", text: s.seat || "–" }),
      h("td", {}, h("div", { class: "actions" }, ...buttons)));
  }

  /** Waiting: since the customer joined; served: since the agent took it (or, when unknown, since joining). */
  private tick(): void {
    const now = Date.now();
    for (const [el, s] of this.clocks) {
      if (s.state === "queued") el.textContent = s.queuedAt === null ? "–" : `waiting ${clock((now - s.queuedAt) / 1000)}`;
      else if (s.servedSince !== null) el.textContent = `served ${clock((now - s.servedSince) / 1000)}`;
      else el.textContent = s.queuedAt === null ? "–" : `${clock((now - s.queuedAt) / 1000)} since joining`;
    }
  }

  /** Choose an agent or a queue, add a note, confirm: the transfer form of one served chat. */
  private openTransfer(s: SessionRow): void {
    this.transferring = s.id;
    const { agents, queues } = this.actions.targets();
    const others = agents.filter((a) => a.jid !== s.seat);
    const to = h("select", { id: "transfer-to", attrs: { required: true } },
      h("option", { text: "Choose an agent or a queue", attrs: { value: "" } }),
      others.length ? h("optgroup", { attrs: { label: "Agents" } },
        ...others.map((a) => h("option", { text: `${a.name || a.jid} (${stateName(a.state)}, ${a.active} of ${a.maxChats})`, attrs: { value: `agent:${a.jid}` } }))) : null,
      queues.length ? h("optgroup", { attrs: { label: "Queues" } },
        ...queues.map((q) => h("option", { text: `Queue ${q.title}`, attrs: { value: `queue:${q.name}` } }))) : null);
    const note = h("input", { id: "transfer-note", attrs: { type: "text", maxlength: 1000, autocomplete: "off" } });
    const error = h("p", { class: "form-error", attrs: { role: "alert" } });
    const form = h("form", { class: "subform", attrs: { "aria-labelledby": "transfer-title", novalidate: true } },
      h("h3", { id: "transfer-title", text: `Transfer ${s.customer} (session ${s.id})` }),
      h("p", { class: "muted small", text: `Served by ${s.seat} in ${s.queue}. The agent, the next agent and the customer are told.` }),
      h("div", { class: "field" }, h("label", { text: "Transfer to", attrs: { for: "transfer-to" } }), to),
      h("div", { class: "field" }, h("label", { text: "Note for the next agent (optional)", attrs: { for: "transfer-note" } }), note),
      error,
      h("div", { class: "actions" },
        h("button", { class: "btn btn-small btn-primary", text: "Confirm transfer", attrs: { type: "submit" } }),
        h("button", { class: "btn btn-small", text: "Cancel", attrs: { type: "button" }, on: { click: () => this.closeTransfer() } })));
    form.addEventListener("keydown", (e) => { if (e.key === "Escape") this.closeTransfer(); });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      const [kind, ...rest] = to.value.split(":");
      const name = rest.join(":");
      if (!name) { error.textContent = "Choose an agent or a queue to transfer to."; to.focus(); return; }
      const target: TransferTarget = kind === "agent" ? { agent: name } : { queue: name };
      if (await this.actions.transfer(s.id, target, note.value.trim())) this.closeTransfer();
      this.actions.refresh();
    });
    fill(this.transferBox, form);
    to.focus();
  }

  /** Closes the transfer form (saying why, when it was not the supervisor's doing), focus back on its button. */
  private closeTransfer(why = ""): void {
    const session = this.transferring;
    this.transferring = "";
    fill(this.transferBox, why ? h("p", { class: "muted small", attrs: { role: "status" }, text: why }) : null);
    (this.body.querySelector(`button[data-transfer="${CSS.escape(session)}"]`) as HTMLButtonElement | null)?.focus();
  }

  private async toggle(session: string): Promise<void> {
    const mon = this.actions.monitoring;
    if (!mon) return;
    if (this.panels.has(session)) {
      if (await mon.unmonitor(session)) this.close(session, "You stopped monitoring.");
    } else if (await mon.monitor(session)) {
      this.open(session);
    }
    this.render(this.rows);
  }

  private open(session: string): Panel {
    const existing = this.panels.get(session);
    if (existing) return existing;
    document.getElementById("monitor-empty")?.remove();
    for (const old of this.panelList.querySelectorAll(".monitor.closed")) if (old.getAttribute("aria-label") === `Session ${session}`) old.remove();
    const row = this.rows.find((r) => r.id === session);
    const label = row ? `${row.customer} (${row.queue}${row.seat ? `, ${row.seat}` : ""})` : "";
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
      if (await this.actions.monitoring?.whisper(session, text)) { this.line(session, "whisper", `You whispered: ${text}`); whisperText.value = ""; }
    });
    const bargeForm = h("form", { class: "inline-form" },
      h("label", { text: "Say to the customer", attrs: { for: `barge-${uid}` } }), bargeText, bargeButton);
    bargeForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = bargeText.value.trim();
      if (panel.barged && !text) return;
      if (await this.actions.monitoring?.barge(session, text)) {
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
