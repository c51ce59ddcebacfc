/**
 * Agents: state, reason, chats of capacity, skills and time in state, with the supervisor's actions (ready,
 * not ready with a reason, log out) and a change of skills or capacity for the rest of the day. Time in
 * state: from /api/stats/realtime when an admin token was given, else since the console saw the state
 * change ("≥" while it has not seen one). The change form sits outside the table: the table is redrawn at
 * every refresh, and a half-typed change must survive that.
 */
import { fill, h } from "../agent/dom.js";
import type { StateSince } from "./api.js";
import { skillList, type Adjustment, type AgentRow, type AgentState } from "./backend.js";
import { clock, stateName } from "./format.js";

export interface AgentActions {
  setState(jid: string, state: AgentState, reason: string): Promise<boolean>;
  adjust(jid: string, change: Adjustment): Promise<boolean>;
  refresh(): void;
}

interface Seen { state: string; since: number; exact: boolean }

/** The capacity the API and the command accept (LIMITS.maxChats on the server). */
const MAX_CHATS = 100;

export class Agents {
  readonly root: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly reason: HTMLInputElement;
  private readonly seen = new Map<string, Seen>();
  private readonly clocks = new Map<string, HTMLElement>();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly adjustBox: HTMLElement;
  private rows: AgentRow[] = [];

  constructor(private readonly actions: AgentActions) {
    this.body = h("tbody", {}, h("tr", {}, h("td", { class: "muted", text: "Loading…", attrs: { colspan: 6 } })));
    this.reason = h("input", { id: "agents-reason", attrs: { type: "text", maxlength: 100, placeholder: "e.g. Coaching" } });
    this.adjustBox = h("div", { class: "subform-slot" });
    this.root = h("section", { class: "panel", id: "agents", attrs: { "aria-labelledby": "agents-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "agents-title", text: "Agents" }),
        h("button", { class: "btn btn-small", text: "Refresh", attrs: { type: "button", "aria-label": "Refresh agents" }, on: { click: () => actions.refresh() } })),
      h("div", { class: "field inline" }, h("label", { text: "Reason for not ready", attrs: { for: "agents-reason" } }), this.reason),
      h("div", { class: "table-wrap" }, h("table", { class: "grid" },
        h("caption", { class: "sr-only", text: "Agents" }),
        h("thead", {}, h("tr", {}, ...["Agent", "State", "Chats", "In state", "Skills", "Actions"].map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
        this.body)),
      this.adjustBox);
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop(): void { clearInterval(this.timer); }

  /** The agents as last listed (transfer targets). */
  get list(): readonly AgentRow[] { return this.rows; }

  /**
   * `since`: when each agent entered its state, from the history, when known; read less often than the
   * agents, so a time for another state than the agent's now is not used.
   */
  render(rows: AgentRow[], since: Map<string, StateSince> = new Map()): void {
    this.rows = rows;
    const now = Date.now();
    this.clocks.clear();
    for (const a of rows) {
      const read = since.get(a.jid);
      const known = read?.state === a.state ? read.since : undefined;
      const before = this.seen.get(a.jid);
      if (known !== undefined) this.seen.set(a.jid, { state: a.state, since: known, exact: true });
      else if (!before) this.seen.set(a.jid, { state: a.state, since: now, exact: false });
      else if (before.state !== a.state) this.seen.set(a.jid, { state: a.state, since: now, exact: true });
    }
    if (rows.length === 0) { fill(this.body, h("tr", {}, h("td", { class: "muted", text: "No agent in your queues.", attrs: { colspan: 6 } }))); return; }
    fill(this.body, ...rows.map((a) => this.row(a)));
    this.tick();
  }

  private row(a: AgentRow): HTMLTableRowElement {
    const inState = h("td", { class: "mono" });
    this.clocks.set(a.jid, inState);
    const act = (label: string, state: AgentState, cls = "") =>
      h("button", {
        class: `btn btn-small ${cls}`, text: label,
        attrs: { type: "button", "aria-label": `${label}: ${a.jid}`, disabled: a.state === state || (state !== "offline" && a.state === "offline") },
        on: { click: (e) => void this.act(e.currentTarget as HTMLButtonElement, a.jid, state) },
      });
    const change = h("button", {
      class: "btn btn-small", text: "Change for today",
      attrs: { type: "button", "aria-label": `Change skills or capacity for today: ${a.jid}`, "data-adjust": a.jid },
      on: { click: () => this.openAdjust(a) },
    });
    return h("tr", { attrs: { "data-agent": a.jid } },
      h("th", { attrs: { scope: "row" } }, a.jid, a.name ? h("span", { class: "muted small block", text: a.name }) : null),
      h("td", {}, h("span", { class: `pill state-${a.state}`, text: stateName(a.state) }), a.reason && a.state === "not-ready" ? h("span", { class: "muted small", text: ` ${a.reason}` }) : null),
      h("td", { text: `${a.active} of ${a.maxChats}` }),
      inState,
      h("td", { class: "wrap", text: a.skills.join(", ") || "none" }),
      h("td", {}, h("div", { class: "actions" }, act("Ready", "ready"), act("Not ready", "not-ready"), act("Log out", "offline", "btn-danger"), change)));
  }

  private async act(button: HTMLButtonElement, jid: string, state: AgentState): Promise<void> {
    button.disabled = true;
    try {
      await this.actions.setState(jid, state, state === "not-ready" ? this.reason.value.trim() : "");
    } finally {
      this.actions.refresh();
    }
  }

  /** The form changing one agent's skills and/or capacity until midnight; only what differs is sent. */
  private openAdjust(a: AgentRow): void {
    const skills = h("input", { id: "adjust-skills", attrs: { type: "text", maxlength: 500, autocomplete: "off", spellcheck: "false", "aria-describedby": "adjust-hint" } });
    skills.value = a.skills.join(", ");
    const capacity = h("input", { id: "adjust-capacity", attrs: { type: "number", min: 1, max: MAX_CHATS, step: 1, required: true } });
    capacity.value = String(a.maxChats);
    const error = h("p", { class: "form-error", attrs: { role: "alert" } });
    const close = () => {
      fill(this.adjustBox);
      (this.body.querySelector(`button[data-adjust="${CSS.escape(a.jid)}"]`) as HTMLButtonElement | null)?.focus();
    };
    const form = h("form", { class: "subform", attrs: { "aria-labelledby": "adjust-title", novalidate: true } },
      h("h3", { id: "adjust-title", text: `Change ${a.name || a.jid} for today` }),
      h("p", { class: "muted small", id: "adjust-hint", text: "Until midnight; the configured profile comes back then. Skills are comma separated." }),
      h("div", { class: "field" }, h("label", { text: "Skills", attrs: { for: "adjust-skills" } }), skills),
      h("div", { class: "field" }, h("label", { text: "Chats at once", attrs: { for: "adjust-capacity" } }), capacity),
      error,
      h("div", { class: "actions" },
        h("button", { class: "btn btn-small btn-primary", text: "Apply for today", attrs: { type: "submit" } }),
        h("button", { class: "btn btn-small", text: "Cancel", attrs: { type: "button" }, on: { click: close } })));
    form.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      const change: Adjustment = {};
      const wanted = skillList(skills.value);
      if (wanted.length && wanted.join(",") !== a.skills.join(",")) change.skills = wanted;
      const max = Number(capacity.value);
      if (!Number.isInteger(max) || max < 1 || max > MAX_CHATS) { error.textContent = `Chats at once: a whole number from 1 to ${MAX_CHATS}.`; capacity.focus(); return; }
      if (max !== a.maxChats) change.maxChats = max;
      if (change.skills === undefined && change.maxChats === undefined) { error.textContent = "Nothing is changed: edit the skills or the chats at once."; return; }
      if (await this.actions.adjust(a.jid, change)) close();
      this.actions.refresh();
    });
    fill(this.adjustBox, form);
    skills.focus();
  }

  private tick(): void {
    const now = Date.now();
    for (const [jid, el] of this.clocks) {
      const s = this.seen.get(jid);
      el.textContent = s ? `${s.exact ? "" : "≥ "}${clock((now - s.since) / 1000)}` : "–";
    }
  }
}
