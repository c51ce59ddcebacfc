/** What browser clients (customer page, widget, agent desk) need to know to connect. */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ConfigError, filesBaseUrl, hasVoice, type Config } from "../config.js";

/** The bundled browser code; this file runs as dist/component/http/web-config.js. */
export const WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

/**
 * What browsers need for calls, from `web` in the config (a loose object, so these keys are read here):
 * `web.sipWebsocketUrl` (the soft switch's WebSocket as browsers reach it; default ws://<softswitch.host or
 * 127.0.0.1>:<ports.sipWs>/) and `web.iceServers` (RTCIceServer entries, STUN/TURN; default none: a
 * browser's own default STUN server is on the internet, and on a LAN or loopback none is needed).
 */
const webVoice = z.looseObject({
  sipWebsocketUrl: z.string().regex(/^wss?:\/\/[^\s]+$/, "must be a ws:// or wss:// URL").optional(),
  iceServers: z.array(z.looseObject({
    urls: z.union([z.string().regex(/^(stun|stuns|turn|turns):\S+$/, "must be a stun:, stuns:, turn: or turns: URL"),
      z.array(z.string().regex(/^(stun|stuns|turn|turns):\S+$/, "must be a stun:, stuns:, turn: or turns: URL")).min(1)]),
    username: z.string().optional(),
    credential: z.string().optional(),
  })).default([]),
});

export interface SipWebConfig {
  websocketUrl: string;
  /** The accounts' SIP domain (agents register sip:<user>@<domain>). */
  domain: string;
  iceServers: Array<{ urls: string | string[]; username?: string; credential?: string }>;
}

/** The soft switch as browsers reach it, or undefined when voice is off. Throws ConfigError on bad `web` keys. */
export function sipWebConfig(config: Config): SipWebConfig | undefined {
  if (!hasVoice(config)) return undefined;
  const parsed = webVoice.safeParse(config.web);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  web.${i.path.map(String).join(".")}: ${i.message}`);
    throw new ConfigError(`config is invalid:\n${lines.join("\n")}`);
  }
  const host = config.softswitch.host;
  // A wildcard listener is reached on loopback by default; an IPv6 literal goes in brackets.
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    websocketUrl: parsed.data.sipWebsocketUrl ?? `ws://${reachable}:${config.ports.sipWs}/`,
    domain: config.domain,
    iceServers: parsed.data.iceServers.map((s) => ({ urls: s.urls, ...(s.username !== undefined ? { username: s.username } : {}), ...(s.credential !== undefined ? { credential: s.credential } : {}) })),
  };
}

export function webConfig(config: Config) {
  const cc = config.component.domain;
  const sip = sipWebConfig(config);
  return {
    websocketUrl: config.web.websocketUrl ?? `ws://127.0.0.1:${config.ports.http}/xmpp-websocket`,
    domain: config.domain,
    guestDomain: config.guestDomain,
    componentDomain: cc,
    // media: what the queue takes (chat, voice); a page offers calls only where voice is on too (`sip`).
    queues: config.queues.map((q) => ({ name: q.name, title: q.title ?? q.name, jid: `${q.name}@${cc}`, allowGuests: q.allowGuests, open: q.open, fields: q.fields, media: q.media })),
    cannedResponses: config.cannedResponses,
    ...(sip ? { sip } : {}),
    // What the page and the desk check before uploading a file (the upload service checks again).
    // origin: where uploaded files are served; the desk previews images from there only.
    ...(config.files.enabled ? { files: { maxBytes: config.files.maxBytes, types: config.files.types, origin: new URL(filesBaseUrl(config)).origin } } : {}),
  };
}
