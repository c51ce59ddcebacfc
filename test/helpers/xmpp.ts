/**
 * XMPP helpers for integration tests: connect clients, guests and a raw
 * component, and wait for stanzas. Every entity made here records what it
 * receives from the moment it connects, so a stanza that arrives before
 * waitFor() is called is still found.
 */
import { client, xml as clientXml, type Client } from "@xmpp/client";
import { component, xml as componentXml, type Component } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import type { Config } from "../../component/config.js";
import { startEntity } from "../../component/xmpp/start-entity.js";
import { tuneSocket } from "../../component/xmpp/tcp-socket.js";

export type Entity = Client | Component;
export type Predicate = (stanza: Element) => boolean;

type Xml = typeof clientXml;

interface Inbox {
  /** The xml() of the package the entity sends with (client and component bring their own). */
  xml: Xml;
  /** Everything received, in order. */
  all: Element[];
  /** Received but not yet taken by waitFor(). */
  pending: Element[];
  waiters: Set<(stanza: Element) => boolean>;
}

const inboxes = new WeakMap<Entity, Inbox>();

function track<T extends Entity>(entity: T, xml: Xml): T {
  const inbox: Inbox = { xml, all: [], pending: [], waiters: new Set() };
  inboxes.set(entity, inbox);
  entity.on("stanza", (stanza: Element) => {
    inbox.all.push(stanza);
    for (const take of inbox.waiters) if (take(stanza)) return;
    inbox.pending.push(stanza);
  });
  return entity;
}

function inboxOf(entity: Entity): Inbox {
  const inbox = inboxes.get(entity);
  if (!inbox) throw new Error("entity was not created by test/helpers/xmpp.ts");
  return inbox;
}

/**
 * The first not-yet-taken stanza matching `predicate`; rejects (failing the
 * test) after `ms` with a description of what did arrive.
 */
export function waitFor(entity: Entity, predicate: Predicate, ms = 5000, what = predicate.toString()): Promise<Element> {
  const inbox = inboxOf(entity);
  const i = inbox.pending.findIndex(predicate);
  if (i >= 0) return Promise.resolve(inbox.pending.splice(i, 1)[0]!);
  return new Promise((resolve, reject) => {
    const take = (stanza: Element) => {
      if (!predicate(stanza)) return false;
      clearTimeout(timer);
      inbox.waiters.delete(take);
      resolve(stanza);
      return true;
    };
    const timer = setTimeout(() => {
      inbox.waiters.delete(take);
      const seen = inbox.pending.map(String).join("\n  ") || "(nothing)";
      reject(new Error(`no stanza matching ${what} within ${ms} ms; pending:\n  ${seen}`));
    }, ms);
    inbox.waiters.add(take);
  });
}

/** The xml() to build stanzas this entity sends. */
export function xmlFor(entity: Entity): Xml {
  return inboxOf(entity).xml;
}

/** Every stanza the entity has received so far (taken or not). */
export function received(entity: Entity): Element[] {
  return [...inboxOf(entity).all];
}

/** Drops stanzas not yet taken, e.g. between tests sharing connections. */
export function clearPending(entity: Entity): void {
  inboxOf(entity).pending.length = 0;
}

let counter = 0;
/** A fresh stanza id. */
export const nextId = (prefix = "t") => `${prefix}${++counter}-${Date.now().toString(36)}`;

/**
 * Makes sure everything `from` sent to `to` before now has been delivered:
 * Prosody writes to a connection in order, so once a marker message sent
 * afterwards arrives, anything routed before it has arrived too. `fromJid`
 * is needed when `from` is a component.
 */
export async function barrier(from: Entity, to: Entity, toJid: string, fromJid?: string): Promise<void> {
  const id = nextId("barrier");
  await from.send(xmlFor(from)("message", { to: toJid, from: fromJid, id, type: "headline" }));
  await waitFor(to, (s) => s.is("message") && s.attrs.id === id, 5000, `barrier ${id}`);
}

export interface ClientOptions {
  /** c2s port (config.ports.c2s). */
  port: number;
  domain: string;
  username?: string;
  password?: string;
  resource?: string;
}

/** A started client logged in with PLAIN (or ANONYMOUS without credentials); reconnect off. */
export async function connectClient({ port, domain, username, password, resource }: ClientOptions): Promise<Client> {
  const xmpp = client({
    service: `xmpp://127.0.0.1:${port}`,
    domain,
    resource,
    ...(username
      ? { credentials: (auth, mechs) => auth({ username, password }, mechs.includes("PLAIN") ? "PLAIN" : mechs[0]!) }
      : {}),
  });
  xmpp.reconnect.stop(); // a test's stop() must really disconnect
  xmpp.on("error", () => {}); // failures surface through start() and waitFor()
  tuneSocket(xmpp); // as the component does: characters split between reads stay whole
  track(xmpp, clientXml);
  await startEntity(xmpp);
  return xmpp;
}

/** An agent or other account of config.domain ("alice@acme.test"). */
export function connectAccount(config: Config, jid: string, password: string, resource?: string): Promise<Client> {
  return connectClient({ port: config.ports.c2s, domain: config.domain, username: jid.split("@")[0], password, resource });
}

/** An anonymous web visitor on config.guestDomain. */
export function connectGuest(config: Config, resource?: string): Promise<Client> {
  return connectClient({ port: config.ports.c2s, domain: config.guestDomain, resource });
}

/** A raw XEP-0114 connection as config.component.domain; reconnect off. */
export async function connectComponent(config: Config): Promise<Component> {
  const xmpp = component({ service: `xmpp://127.0.0.1:${config.ports.component}`, domain: config.component.domain, password: config.component.secret });
  xmpp.reconnect.stop();
  xmpp.on("error", () => {});
  track(xmpp, componentXml);
  await startEntity(xmpp);
  return xmpp;
}

/** Stops entities, ignoring ones already offline. */
export async function stopAll(...entities: Array<Entity | undefined>): Promise<void> {
  await Promise.all(entities.map((e) => (e && e.status !== "offline" ? e.stop().catch(() => {}) : undefined)));
}
