/**
 * With an admin API token: today's figures per queue (service level, speed of
 * answer, CSAT) from /api/stats/realtime, and the transcript search
 * (/api/sessions?q=) with each transcript's lines. Text only, never markup.
 */
import { fill, h } from "../agent/dom.js";
import { boardSvg } from "../lib/board.js";
import { lastDays, searchSessions, today, transcript, type FoundSession, type TodayFigures } from "./api.js";
import { daysChart } from "./chart.js";
import { clock } from "./format.js";

const pct = (v: number | null) => (v === null ? "–" : `${Math.round(v)}%`);
const secs = (v: number | null) => (v === null ? "–" : clock(v));
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "–");

export class History {
  readonly root: HTMLElement;
  private readonly todayBody: HTMLTableSectionElement;
  private readonly results: HTMLElement;
  private readonly transcriptView: HTMLElement;
  private readonly error: HTMLElement;
  private readonly chart: HTMLElement;
  private loading = false;
  private lastToday = 0;

  constructor(private readonly token: string) {
    this.todayBody = h("tbody", {}, h("tr", {}, h("td", { class: "muted", text: "Loading…", attrs: { colspan: 7 } })));
    this.error = h("p", { class: "alert", attrs: { role: "alert" } });
    const query = h("input", { id: "search-text", attrs: { type: "search", maxlength: 200, autocomplete: "off" } });
    const form = h("form", { class: "inline-form", attrs: { role: "search", "aria-label": "Transcripts" } },
      h("label", { text: "Search transcripts", attrs: { for: "search-text" } }), query,
      h("button", { class: "btn btn-small", text: "Search", attrs: { type: "submit" } }));
    form.addEventListener("submit", (e) => { e.preventDefault(); if (query.value.trim()) void this.search(query.value.trim()); });
    this.results = h("div", { class: "table-wrap", attrs: { "aria-live": "polite" } });
    this.transcriptView = h("div");
    this.chart = h("div");
    this.root = h("section", { class: "panel", id: "history", attrs: { "aria-labelledby": "history-title" } },
      h("div", { class: "panel-head" }, h("h2", { id: "history-title", text: "Today and history" }),
        h("button", { class: "btn btn-small", text: "Refresh", attrs: { type: "button", "aria-label": "Refresh today's figures" }, on: { click: () => void this.refreshToday(true) } })),
      this.error,
      h("div", { class: "table-wrap" }, h("table", { class: "grid" },
        h("caption", { class: "sr-only", text: "Today's figures per queue" }),
        h("thead", {}, h("tr", {}, ...["Queue", "Offered", "Answered", "Abandoned", "Service level", "Speed of answer", "CSAT"].map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
        this.todayBody)),
      this.chart, form, this.results, this.transcriptView);
  }

  /** Today's figures; at most every 10 s unless asked with the button. */
  async refreshToday(force = false): Promise<void> {
    if (this.loading || (!force && Date.now() - this.lastToday < 10000)) return;
    this.loading = true;
    try {
      const [rows, days] = await Promise.all([today(this.token), lastDays(this.token)]);
      this.lastToday = Date.now();
      fill(this.todayBody, ...rows.map((q) => this.todayRow(q)));
      fill(this.chart, daysChart(days));
    } catch (err) {
      this.error.textContent = `Today's figures: ${(err as Error).message}`;
    } finally {
      this.loading = false;
    }
  }

  private todayRow(q: TodayFigures): HTMLTableRowElement {
    return h("tr", {},
      h("th", { text: q.name, attrs: { scope: "row" } }),
      h("td", { text: String(q.offered) }), h("td", { text: String(q.answered) }), h("td", { text: String(q.abandoned) }),
      h("td", { text: pct(q.serviceLevel) }), h("td", { text: secs(q.averageSpeedOfAnswerSeconds) }),
      h("td", { text: q.csatAverage === null ? "–" : `${q.csatAverage.toFixed(1)} / 5 (${q.ratings})` }));
  }

  private async search(q: string): Promise<void> {
    this.error.textContent = "";
    fill(this.transcriptView);
    try {
      const found = await searchSessions(this.token, q);
      if (found.length === 0) { fill(this.results, h("p", { class: "muted", text: `No transcript holds "${q}".` })); return; }
      fill(this.results, h("table", { class: "grid" },
        h("caption", { class: "sr-only", text: "Sessions found" }),
        h("thead", {}, h("tr", {}, ...["Session", "Queue", "Customer", "Agent", "Ended", "CSAT", ""].map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
        h("tbody", {}, ...found.map((s) => this.foundRow(s)))));
    } catch (err) {
      this.error.textContent = `Search: ${(err as Error).message}`;
    }
  }

  private foundRow(s: FoundSession): HTMLTableRowElement {
    return h("tr", {},
      h("th", { class: "mono session-id", text: s.id, attrs: { scope: "row" } }), h("td", { text: s.queue }),
      h("td", { class: "wrap", text: s.customer }), h("td", { text: s.seat ?? "–" }), h("td", { text: s.endedAt ? when(s.endedAt) : s.state }),
      h("td", { text: s.feedback ? `${s.feedback.score} / 5${s.feedback.comment ? `: ${s.feedback.comment}` : ""}` : "–" }),
      h("td", {}, h("button", { class: "btn btn-small", text: "Transcript", attrs: { type: "button", "aria-label": `Transcript of session ${s.id}` }, on: { click: () => void this.show(s.id) } })));
  }

  private async show(session: string): Promise<void> {
    try {
      const { lines, board } = await transcript(this.token, session);
      const list = h("ol", { class: "copies", attrs: { "aria-label": `Transcript of session ${session}` } },
        ...lines.map((l) => h("li", { class: `copy copy-${l.kind === "customer" ? "in" : l.kind === "seat" ? "out" : "notice"}` },
          h("time", { class: "muted small", text: new Date(l.at).toLocaleTimeString(), attrs: { datetime: l.at } }), " ",
          h("span", { text: `${l.sender}: ${l.body}` }))));
      // The whiteboard as it was at the end (issue 15), drawn from checked numbers only.
      const strokes = `${board.length} stroke${board.length === 1 ? "" : "s"}`;
      const picture = board.length
        ? h("figure", { class: "board-figure" },
          boardSvg(board, `Whiteboard of session ${session}: ${strokes}`),
          h("figcaption", { class: "muted small", text: `Whiteboard at the end of the session (${strokes})` }))
        : null;
      fill(this.transcriptView, h("h3", { text: `Transcript of session ${session}` }), list, picture);
      list.setAttribute("tabindex", "-1");
      list.focus();
    } catch (err) {
      this.error.textContent = `Transcript: ${(err as Error).message}`;
    }
  }
}
