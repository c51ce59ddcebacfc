/** Lean XMPP connections for the bench (no inbox kept: stanzas go straight to a handler). */
import { client, xml, type Client } from "@xmpp/client";
import { component, xml as componentXml, type Component } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { startEntity } from "../component/xmpp/start-entity.js";
import { tuneSocket } from "../component/xmpp/tcp-socket.js";

export { xml, componentXml };
export type { Client, Component, Element };

/** A client logged in with PLAIN (or ANONYMOUS without a username); reconnect off. */
export async function connect(port: number, domain: string, username?: string, password?: string): Promise<Client> {
  const c = client({
    service: `xmpp://127.0.0.1:${port}`,
    domain,
    ...(username ? { credentials: (auth, mechs) => auth({ username, password }, mechs.includes("PLAIN") ? "PLAIN" : mechs[0]!) } : {}),
  });
  c.reconnect.stop();
  c.on("error", () => {});
  tuneSocket(c); // as browsers do for WebSockets: the bench measures the servers, not the clients' Nagle
  await startEntity(c);
  return c;
}

/** A raw XEP-0114 connection; reconnect off. */
export async function connectComponent(port: number, domain: string, password: string): Promise<Component> {
  const c = component({ service: `xmpp://127.0.0.1:${port}`, domain, password });
  c.reconnect.stop();
  c.on("error", () => {});
  tuneSocket(c);
  await startEntity(c);
  return c;
}

export async function stopAll(entities: Array<Client | Component>): Promise<void> {
  await Promise.all(entities.map((e) => (e.status !== "offline" ? e.stop().catch(() => undefined) : undefined)));
}
