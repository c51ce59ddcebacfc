/**
 * The live wallboard: one card per queue, from the `queues` node's pushes
 * or, signed in with a token alone, the API polled every 2 s (api-backend.ts). The longest wait counts on in the page from `waiting-since`;
 * each card has a polite live summary that changes only when the figures change.
 */
import { fill, h } from "../agent/dom.js";
import { clock } from "./format.js";
import type { QueueFigures } from "./backend.js";

export class Wallboard {
  readonly root: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly updated: HTMLElement;
  private queues: QueueFigures[] = [];
  private readonly waits = new Map<string, HTMLElement>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor() {
    this.grid = h("div", { class: "wb-grid" }, h("p", { class: "muted", text: "Waiting for the first figures…" }));
    this.updated = h("p", { class: "muted small", id: "wb-updated" });
    this.root = h("section", { class: "panel", id: "wallboard", attrs: { "aria-labelledby": "wb-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "wb-title", text: "Wallboard" }), this.updated),
      this.grid);
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop(): void { clearInterval(this.timer); }

  render(queues: QueueFigures[]): void {
    this.queues = queues;
    this.waits.clear();
    if (queues.length === 0) { fill(this.grid, h("p", { class: "muted", text: "No queue is configured." })); return; }
    fill(this.grid, ...queues.map((q) => this.card(q)));
    this.updated.textContent = `Updated ${new Date(Math.max(...queues.map((q) => q.updated))).toLocaleTimeString()}`;
    this.tick();
  }

  private card(q: QueueFigures): HTMLElement {
    const titleId = `wb-q-${q.name.replace(/[^\w-]/g, "_")}`;
    const wait = h("dd", { class: "figure" });
    this.waits.set(q.name, wait);
    const fig = (label: string, value: number | HTMLElement, cls = "") =>
      [h("dt", { text: label }), value instanceof HTMLElement ? value : h("dd", { class: `figure ${cls}`, text: String(value) })];
    const a = q.agents;
    const summary = `${q.title}: ${q.waiting} waiting; agents ${a.ready} ready, ${a.busy} busy, ${a.wrapUp} in wrap-up, ${a.notReady} not ready, ${a.offline} offline.`;
    return h("section", { class: `wb-card${q.waiting > 0 ? " has-waiting" : ""}`, attrs: { "aria-labelledby": titleId } },
      h("h3", { id: titleId, text: q.title }),
      h("dl", { class: "wb-main" }, ...fig("Waiting", q.waiting, q.waiting > 0 ? "warn" : ""), ...fig("Longest wait", wait)),
      h("dl", { class: "wb-agents", attrs: { "aria-label": `Agents of ${q.title}` } },
        ...fig("Ready", a.ready, "ok"), ...fig("Busy", a.busy), ...fig("Wrap-up", a.wrapUp), ...fig("Not ready", a.notReady, "away"), ...fig("Offline", a.offline, "muted")),
      h("p", { class: "sr-only", attrs: { "aria-live": "polite", role: "status" }, text: summary }));
  }

  /** Counts the longest waits on (no request: the clock alone). */
  private tick(): void {
    const now = Date.now();
    for (const q of this.queues) {
      const el = this.waits.get(q.name);
      if (!el) continue;
      el.textContent = q.waiting > 0 && q.waitingSince !== null ? clock((now - q.waitingSince) / 1000) : "–";
    }
  }
}
