/**
 * Logging in over WebSocket with @xmpp/client: anonymously on the guest
 * domain, or with an account (SASL PLAIN: Prosody treats its WebSocket as
 * secure, and SCRAM costs ~1 s of CPU in pure JS).
 *
 * xmpp.js's automatic reconnection is switched off: an anonymous login gets a
 * new JID each time, so callers decide what a reconnection means (the
 * customer page resumes its session with its token).
 */
import { client, xml, type Client, type ClientOptions } from "@xmpp/client";
import { watchStreamManagement } from "../../protocol/stream-management.js";

export interface ConnectOptions {
  websocketUrl: string;
  /** The XMPP domain to log in to: guestDomain for anonymous visitors, the account's domain otherwise. */
  domain: string;
  /** With a password: log in as username@domain. Without: anonymous. */
  username?: string;
  password?: string;
  resource?: string;
}

/** A random hex id; crypto.getRandomValues works outside secure contexts too (randomUUID does not). */
export function randomId(bytes = 8): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Connects and logs in; resolves once online, rejects with the login error (e.g. not-authorized). */
export async function connect({ websocketUrl, domain, username, password, resource }: ConnectOptions): Promise<Client> {
  const options: ClientOptions & { userAgent: unknown } = {
    service: websocketUrl,
    domain,
    resource,
    // xmpp.js would call crypto.randomUUID(), which plain-http pages outside localhost lack.
    userAgent: xml("user-agent", { id: randomId(16) }),
    ...(username
      ? { credentials: (auth, mechs) => auth({ username, password }, mechs.includes("PLAIN") ? "PLAIN" : mechs[0]!) }
      : {}),
  };
  const xmpp = client(options);
  xmpp.reconnect.stop();
  xmpp.on("error", () => {}); // failures surface through start() and the "disconnect" event
  const streamManagement = watchStreamManagement(xmpp as never); // see there: nothing is sent before it settles
  try {
    await xmpp.start();
  } catch (err) {
    streamManagement.forget();
    await xmpp.stop().catch(() => {});
    throw err;
  }
  await streamManagement.settled();
  return xmpp;
}

/** Splits "user@domain" (a resource is ignored); null if it is not a JID with a local part. */
export function splitJid(address: string): { local: string; domain: string } | null {
  const m = /^([^@/\s]+)@([^@/\s]+)(?:\/.*)?$/.exec(address.trim());
  return m ? { local: m[1]!, domain: m[2]!.toLowerCase() } : null;
}

/** "alice@acme.test/desk" -> "alice@acme.test". */
export const bareJid = (address: string | undefined | null): string => (address ?? "").split("/")[0]!;

/**
 * The human text of a failure: a stanza error's <text>, else its condition,
 * else the message. xmpp.js rejects iq requests with an XMPPError carrying
 * `condition` and `text`.
 */
export function errorText(err: unknown): string {
  const e = err as { condition?: string; text?: string; message?: string } | null;
  if (e?.text) return e.text;
  if (e?.condition === "not-authorized") return "The address or password is wrong.";
  if (e?.condition) return `The request failed (${e.condition}).`;
  return e?.message || String(err);
}

/** The stanza error condition of a failure, if it is one (e.g. "service-unavailable"). */
export const errorCondition = (err: unknown): string | undefined => (err as { condition?: string } | null)?.condition;
