/** What browser clients (customer page, widget, agent desk) need to know to connect. */
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";

/** The bundled browser code; this file runs as dist/component/http/web-config.js. */
export const WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

export function webConfig(config: Config) {
  const cc = config.component.domain;
  return {
    websocketUrl: config.web.websocketUrl ?? `ws://127.0.0.1:${config.ports.http}/xmpp-websocket`,
    domain: config.domain,
    guestDomain: config.guestDomain,
    componentDomain: cc,
    queues: config.queues.map((q) => ({ name: q.name, title: q.title ?? q.name, jid: `${q.name}@${cc}`, allowGuests: q.allowGuests, open: q.open, fields: q.fields })),
    cannedResponses: config.cannedResponses,
  };
}
