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

export function presenceHandlers({ cti, isAgent }: HandlerDeps) {
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
      const state = stateFromPresence(type, stanza.getChildText("show") ?? undefined);
      if (state) await cti.agentState(addr.fromBare, state, stanza.getChildText("status") ?? "");
      return undefined;
    }
    switch (type) {
      case "unavailable":
        await cti.customerOffline(addr.from);
        return undefined;
      case "subscribe": // let plain clients keep a queue in their roster
        return xml("presence", { from: to, to: addr.fromBare, type: "subscribed" });
      case "probe":
        return xml("presence", { from: to, to: addr.from });
      default: // available, unsubscribe(d), error: nothing to do
        return undefined;
    }
  }
  return { presence };
}
