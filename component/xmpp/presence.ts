/**
 * Presence drives agent state (the seat module forwards each agent's
 * aggregate presence from its bare JID) and removes customers whose client
 * went away (an unavailable presence from their full JID).
 */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { stateFromPresence } from "../../cti/policy.js";
import { NS, WG } from "../../protocol/names.js";
import type { Addr, HandlerDeps } from "./context.js";

/** How soon to ask the seat module again for an agent's presence that could not be applied. */
const REPROBE_MS = 1000;

export function presenceHandlers({ cti, isAgent, send, config, log }: HandlerDeps) {
  const cc = config.component.domain;
  /**
   * Agent -> the newest aggregate presence not yet applied. Presences are applied one at a time
   * per agent, and a burst collapses to its last one: the last presence always wins, whatever
   * the order in which concurrent Redis calls would have finished.
   */
  const newest = new Map<string, Element | undefined>();
  const reprobing = new Set<string>();

  /** A presence we could not apply (Redis away) is asked for again: the seat module answers probes. */
  function reprobe(agent: string): void {
    if (reprobing.has(agent)) return;
    reprobing.add(agent);
    setTimeout(() => {
      reprobing.delete(agent);
      send(xml("presence", { from: cc, to: agent, type: "probe" })).catch(() => undefined); // offline: probed on reconnect
    }, REPROBE_MS).unref();
  }

  async function applyAggregate(agent: string, stanza: Element): Promise<void> {
    const running = newest.has(agent);
    newest.set(agent, stanza);
    if (running) return; // the loop below takes it
    try {
      for (let next = newest.get(agent); next; next = newest.get(agent)) {
        newest.set(agent, undefined);
        const state = stateFromPresence(next.attrs.type, next.getChildText("show") ?? undefined);
        try {
          if (state) await cti.agentState(agent, state, next.getChildText("status") ?? "");
        } catch (err) {
          log.warn({ err: (err as Error).message, agent }, "agent presence not applied; asking again");
          reprobe(agent);
        }
      }
    } finally {
      newest.delete(agent);
    }
  }

  async function presence(stanza: Element, addr: Addr): Promise<Element | undefined> {
    const type = stanza.attrs.type;
    const to = stanza.attrs.to!;
    if (isAgent(addr.fromBare)) {
      // Only the seat module's aggregate (from the bare JID) counts: a directed presence
      // from one of several resources would not tell the agent's state. A client that
      // announces itself with XEP-0142 <agent-status/> takes offers, until it goes away.
      if (addr.from !== addr.fromBare) {
        if (type === "unavailable") await cti.offerTarget(addr.fromBare, "", addr.from);
        else if (!type && stanza.getChild(WG.agentStatus, NS.WG)) await cti.offerTarget(addr.fromBare, addr.from);
        return undefined;
      }
      await applyAggregate(addr.fromBare, stanza);
      return undefined;
    }
    switch (type) {
      case "unavailable":
        await cti.customerOffline(addr.from);
        return undefined;
      case "subscribe": // let plain clients keep a queue in their roster
        if (addr.queue) cti.queue(addr.queue); // an unknown queue: item-not-found
        return xml("presence", { from: to, to: addr.fromBare, type: "subscribed" });
      case "probe":
        if (addr.queue) cti.queue(addr.queue);
        return xml("presence", { from: to, to: addr.from });
      default: // available, unsubscribe(d), error: nothing to do
        return undefined;
    }
  }
  return { presence };
}
