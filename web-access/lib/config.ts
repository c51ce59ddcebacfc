/**
 * GET /web-config.json: what a browser client needs to connect (served by the
 * component's web server, CORS *). Shapes follow docs/protocol.md.
 */

export interface QueueField {
  /** The data form field name sent with join-queue. */
  var: string;
  label: string;
  required: boolean;
}

export interface QueueInfo {
  name: string;
  title: string;
  /** name@componentDomain: where join-queue, depart-queue and leave-message go. */
  jid: string;
  allowGuests?: boolean;
  open?: boolean;
  /** Extra pre-chat fields (name and subject are always asked). */
  fields: QueueField[];
  /** What the queue takes: chats and/or calls (absent from older servers: chats). */
  media?: Array<"chat" | "voice">;
}

/** The soft switch as browsers reach it (present when the contact center takes calls). */
export interface SipInfo {
  /** SIP over WebSocket (RFC 7118). */
  websocketUrl: string;
  /** The accounts' SIP domain: agents register sip:<user>@<domain> with their XMPP password. */
  domain: string;
  /** For RTCPeerConnection; empty by default (no STUN server on the internet is asked). */
  iceServers: RTCIceServer[];
}

export interface WebConfig {
  websocketUrl: string;
  domain: string;
  guestDomain: string;
  componentDomain: string;
  queues: QueueInfo[];
  cannedResponses: string[];
  sip?: SipInfo;
  /** File sharing (XEP-0363): the largest file and the media types allowed; absent when it is off. */
  files?: { maxBytes: number; types: string[]; origin: string };
}

/**
 * Loads the configuration. `url` defaults to /web-config.json beside the page's
 * folder (pages live at /chat/, /agent/), so a reverse proxy may mount the site
 * under a prefix.
 */
export async function loadWebConfig(url: string | URL = new URL("../web-config.json", location.href)): Promise<WebConfig> {
  const res = await fetch(url, { cache: "no-store" });
  if (!res.ok) throw new Error(`Could not load the chat configuration (HTTP ${res.status}).`);
  const config = (await res.json()) as WebConfig;
  for (const q of config.queues) q.fields ??= [];
  config.cannedResponses ??= [];
  if (config.sip) config.sip.iceServers ??= [];
  return config;
}

/** The queue takes chats (older servers say nothing: they do). */
export const takesChats = (q: QueueInfo): boolean => !q.media || q.media.includes("chat");

/** The queue takes calls and the contact center has a soft switch browsers can reach. */
export const takesCalls = (config: WebConfig, q: QueueInfo): boolean => !!config.sip && !!q.media?.includes("voice");

/** The queue called `name`, or the first one when `name` is empty or unknown (undefined if there are none). */
export function pickQueue(config: WebConfig, name: string | null | undefined): QueueInfo | undefined {
  return config.queues.find((q) => q.name === name) ?? config.queues[0];
}
