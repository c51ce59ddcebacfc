/** What every XMPP handler is given: the CTI, the send function and the names it needs. */
import type { Element } from "@xmpp/xml";
import type { Cti } from "../../cti/cti.js";
import type { KnownStatus } from "../notifier.js";
import type { Config } from "../config.js";
import type { Logger } from "pino";
import type { Wallboard } from "./wallboard.js";

export interface HandlerDeps {
  cti: Cti;
  config: Config;
  log: Logger;
  send: (stanza: Element) => Promise<void>;
  /**
   * Sends a waiting customer its queue-status: where its join found it (`known`), or read now (it wrote
   * again, or came back). Nothing when it is no longer waiting.
   */
  greet: (queue: string, sessionId: string, known?: KnownStatus) => Promise<void>;
  /** An agent's display name ("Alice"). */
  nameOf: (jid: string) => string;
  isAgent: (bareJid: string) => boolean;
  isSupervisor: (bareJid: string) => boolean;
  /** Sends an iq and waits for its result (an error rejects): the component asks the seat module (issue 15). */
  request?: (iq: Element, timeoutMs: number) => Promise<Element>;
  /** The XEP-0060 wallboard service (its requests and its disco entries), when there is one. */
  wallboard?: Wallboard;
}

/** Parsed addressing of an incoming stanza. */
export interface Addr {
  from: string;
  fromBare: string;
  /** The queue addressed (local part of `to`), or "" for the component's own domain. */
  queue: string;
}
