/**
 * The audit log (GET /api/audit, admin scope), with an admin API token: what supervisors and tokens did,
 * newest first as the API gives it, filtered by action, read again on demand (it is history, not live).
 * A token without the admin scope gets a sentence saying so instead of a table.
 */
import { fill, h } from "../agent/dom.js";
import { auditLog, isForbidden, type AuditEntry } from "./api.js";

/** The actions the server audits (component/xmpp/commands.ts, monitoring, supervise-api.ts, the erasure, the configuration). */
const ACTIONS = ["set-agent-state", "adjust-agent", "transfer", "end-session", "monitor", "stop-monitoring", "whisper", "barge", "erase", "config-change"];

export class Audit {
  readonly root: HTMLElement;
  private readonly action: HTMLSelectElement;
  private readonly body: HTMLElement;
  private readonly status: HTMLElement;

  constructor(private readonly token: string) {
    this.action = h("select", { id: "audit-action" },
      h("option", { text: "All actions", attrs: { value: "" } }), ...ACTIONS.map((a) => h("option", { text: a, attrs: { value: a } })));
    this.action.addEventListener("change", () => void this.refresh());
    this.status = h("p", { class: "muted small", attrs: { role: "status" } });
    this.body = h("div", { class: "table-wrap" });
    this.root = h("section", { class: "panel", id: "audit", attrs: { "aria-labelledby": "audit-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "audit-title", text: "Audit log" }),
        h("button", { class: "btn btn-small", text: "Refresh", attrs: { type: "button", "aria-label": "Refresh the audit log" }, on: { click: () => void this.refresh() } })),
      h("div", { class: "field inline" }, h("label", { text: "Action", attrs: { for: "audit-action" } }), this.action),
      this.status, this.body);
  }

  async refresh(): Promise<void> {
    this.status.textContent = "Loading the audit log…";
    try {
      const entries = await auditLog(this.token, this.action.value);
      this.status.textContent = `${entries.length} ${entries.length === 1 ? "entry" : "entries"}${this.action.value ? ` of ${this.action.value}` : ""}, newest first.`;
      fill(this.body, entries.length ? this.table(entries) : h("p", { class: "muted", text: "Nothing was done yet in this period." }));
    } catch (err) {
      fill(this.body);
      this.status.textContent = isForbidden(err)
        ? "This token lacks the admin scope: the audit log is for admin tokens only."
        : `The audit log could not be read: ${(err as Error).message}`;
    }
  }

  private table(entries: AuditEntry[]): HTMLTableElement {
    return h("table", { class: "grid" },
      h("caption", { class: "sr-only", text: "Audit log entries, newest first" }),
      h("thead", {}, h("tr", {}, ...["When", "Who", "Action", "Target", "Detail"].map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
      h("tbody", {}, ...entries.map((e) => h("tr", {},
        h("th", { class: "nowrap", attrs: { scope: "row" } }, h("time", { text: new Date(e.at).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }), attrs: { datetime: e.at } })),
        h("td", { class: "nowrap", text: e.actor }), h("td", { class: "nowrap", text: e.action }),
        h("td", { class: e.target.length > 40 ? "wrap" : "nowrap", text: e.target }), h("td", { class: "wrap", text: e.detail })))));
  }
}
