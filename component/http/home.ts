/** The web server's front page: what this contact center offers and how to reach it with any XMPP client. */
import type { Config } from "../config.js";

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function homePage(config: Config): string {
  const cc = config.component.domain;
  const queues = config.queues
    .map((q) => `<li><strong>${escapeHtml(q.title ?? q.name)}</strong>: <code>${escapeHtml(`${q.name}@${cc}`)}</code>${q.allowGuests ? "" : " (registered customers only)"}${q.open ? "" : " (closed)"}</li>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard contact center</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>Switchboard contact center</h1>
<p>Write to a queue from any XMPP client (account on <code>${escapeHtml(config.domain)}</code>, or anonymous on
<code>${escapeHtml(config.guestDomain)}</code>); the contact center tells you your place in line and which agent will help you.</p>
<h2>Queues</h2>
<ul>
${queues}
</ul>
<p>Agents: log in to your account on <code>${escapeHtml(config.domain)}</code> with any XMPP client and set yourself available,
or use the <a href="/agent/">agent desk</a> in a browser. Supervisors: the <a href="/admin/">supervisor console</a>.</p>
<p><a href="/healthz">Health</a></p>
</body></html>`;
}
