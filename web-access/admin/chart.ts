/**
 * An inline SVG bar chart of days (answered and abandoned stacked), built with
 * DOM calls; the same figures are in a table beside it for screen readers.
 */
import { h } from "../agent/dom.js";
import type { Day } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const dayLabel = (iso: string) => new Date(iso).toLocaleDateString(undefined, { weekday: "short", day: "numeric", timeZone: "UTC" });

export function daysChart(days: Day[]): HTMLElement {
  const width = 40 * days.length, height = 120, top = 14, base = height - 20;
  const max = Math.max(1, ...days.map((d) => d.answered + d.abandoned));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", "aria-hidden": "true", focusable: "false" });
  days.forEach((d, i) => {
    const x = i * 40 + 8, scale = (base - top) / max;
    const answered = d.answered * scale, abandoned = d.abandoned * scale;
    const bar = svg("g", {});
    bar.append(svg("title", {}, `${dayLabel(d.start)}: ${d.answered} answered, ${d.abandoned} abandoned`));
    bar.append(svg("rect", { x, y: base - answered, width: 24, height: answered, class: "bar-answered" }));
    bar.append(svg("rect", { x, y: base - answered - abandoned, width: 24, height: abandoned, class: "bar-abandoned" }));
    bar.append(svg("text", { x: x + 12, y: base - answered - abandoned - 3, "text-anchor": "middle", class: "bar-value" }, String(d.answered + d.abandoned)));
    bar.append(svg("text", { x: x + 12, y: height - 6, "text-anchor": "middle", class: "bar-label" }, dayLabel(d.start)));
    chart.append(bar);
  });
  const table = h("table", { class: "sr-only" },
    h("caption", { text: "Sessions per day, the last 7 days" }),
    h("thead", {}, h("tr", {}, ...["Day", "Offered", "Answered", "Abandoned"].map((t) => h("th", { text: t, attrs: { scope: "col" } })))),
    h("tbody", {}, ...days.map((d) => h("tr", {}, h("th", { text: dayLabel(d.start), attrs: { scope: "row" } }),
      h("td", { text: String(d.offered) }), h("td", { text: String(d.answered) }), h("td", { text: String(d.abandoned) })))));
  return h("figure", { class: "chart-wrap" }, chart, table,
    h("figcaption", { class: "muted small" }, "Last 7 days, all queues: ", h("span", { class: "key key-answered", text: "answered" }), " and ", h("span", { class: "key key-abandoned", text: "abandoned" }), "."));
}
