/**
 * Agents: state, reason, chats of capacity and time in state, with the
 * supervisor's actions through set-agent-state (ready, not ready with a
 * reason, log out). Time in state: from /api/stats/realtime when an admin
 * token was given, else since the console saw the state change ("≥" while
 * it has not seen one).
 */
import { fill, h } from "../agent/dom.js";
import { clock, stateName } from "./format.js";
import type { AgentRow } from "./supervisor.js";

export interface AgentActions {
  setState(jid: string, state: "ready" | "not-ready" | "offline", reason: string): Promise<void>;
  refresh(): void;
}

interface Seen { state: string; since: number; exact: boolean }

export class Agents {
  readonly root: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly reason: HTMLInputElement;
  private readonly seen = new Map<string, Seen>();
  private readonly clocks = new Map<string, HTMLElement>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly actions: AgentActions) {
    this.body = h("tbody", {}, h("tr", {}, h("td", { class: "muted", text: "Loading…", attrs: { colspan: 5 } })));
    this.reason = h("input", { id: "agents-reason", attrs: { type: "text", maxlength: 100, placeholder: "e.g. Coaching" } });
    this.root = h("section", { class: "panel", id: "agents", attrs: { "aria-labelledby": "agents-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "agents-title", text: "Agents" }),
        h("button", { class: "btn btn-small", text: "Refresh", attrs: { type: "button", "aria-label": "Refresh agents" }, on: { click: () => actions.refresh() } })),
      h("div", { class: "field inline" }, h("label", { text: "Reason for not ready", attrs: { for: "agents-reason" } }), this.reason),
      h("div", { class: "table-wrap" }, h("table", { class: "grid" },
        h("caption", { class: "sr-only", text: "Agents" }),
        h("thead", {}, h("tr", {}, ...["Agent", "State", "Chats", "In state", "Actions"].map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
        this.body)));
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop(): void { clearInterval(this.timer); }

  /** `since`: when each agent entered its state, from the history (jid -> ms), when known. */
  render(rows: AgentRow[], since: Map<string, number> = new Map()): void {
    const now = Date.now();
    this.clocks.clear();
    for (const a of rows) {
      const known = since.get(a.jid);
      const before = this.seen.get(a.jid);
      if (known !== undefined) this.seen.set(a.jid, { state: a.state, since: known, exact: true });
      else if (!before) this.seen.set(a.jid, { state: a.state, since: now, exact: false });
      else if (before.state !== a.state) this.seen.set(a.jid, { state: a.state, since: now, exact: true });
    }
    if (rows.length === 0) { fill(this.body, h("tr", {}, h("td", { class: "muted", text: "No agent in your queues.", attrs: { colspan: 5 } }))); return; }
    fill(this.body, ...rows.map((a) => this.row(a)));
    this.tick();
  }

  private row(a: AgentRow): HTMLTableRowElement {
    const inState = h("td", { class: "mono" });
    this.clocks.set(a.jid, inState);
    const act = (label: string, state: "ready" | "not-ready" | "offline", cls = "") =>
      h("button", {
        class: `btn btn-small ${cls}`, text: label,
        attrs: { type: "button", "aria-label": `${label}: ${a.jid}`, disabled: a.state === state || (state !== "offline" && a.state === "offline") },
        on: { click: (e) => void this.act(e.currentTarget as HTMLButtonElement, a.jid, state) },
      });
    return h("tr", { attrs: { "data-agent": a.jid } },
      h("th", { text: a.jid, attrs: { scope: "row" } }),
      h("td", {}, h("span", { class: `pill state-${a.state}`, text: stateName(a.state) }), a.reason && a.state === "not-ready" ? h("span", { class: "muted small", text: ` ${a.reason}` }) : null),
      h("td", { text: `${a.active} of ${a.maxChats}` }),
      inState,
      h("td", {}, h("div", { class: "actions" }, act("Ready", "ready"), act("Not ready", "not-ready"), act("Log out", "offline", "btn-danger"))));
  }

  private async act(button: HTMLButtonElement, jid: string, state: "ready" | "not-ready" | "offline"): Promise<void> {
    button.disabled = true;
    try {
      await this.actions.setState(jid, state, state === "not-ready" ? this.reason.value.trim() : "");
    } finally {
      this.actions.refresh();
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const [jid, el] of this.clocks) {
      const s = this.seen.get(jid);
      el.textContent = s ? `${s.exact ? "" : "≥ "}${clock((now - s.since) / 1000)}` : "–";
    }
  }
}
