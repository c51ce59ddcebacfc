/** XEP-0030 service discovery: the component, its queues and its ad-hoc commands. */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { CtiError } from "../../cti/errors.js";
import { NS } from "../../protocol/names.js";
import type { Addr, HandlerDeps } from "./context.js";
import { queueJid } from "./stanzas.js";

const noSuchNode = () => new CtiError("not-found", "There is no such node here.");

/** `commands(jid)`: the ad-hoc commands that requester may run. */
export function discoHandlers({ cti, config, wallboard }: HandlerDeps, commands: (jid: string) => Array<{ node: string; name: string }>) {
  const cc = config.component.domain;

  function info(el: Element, addr: Addr): Element {
    const features = (...vars: string[]) => vars.map((v) => xml("feature", { var: v }));
    const node = el.attrs.node;
    if (addr.queue) {
      const q = cti.queue(addr.queue);
      if (node !== undefined) throw noSuchNode();
      return xml("query", { xmlns: NS.DISCO_INFO },
        xml("identity", { category: "collaboration", type: "workgroup", name: q.title ?? q.name }),
        ...features(NS.DISCO_INFO, NS.WG, NS.SB));
    }
    if (node === NS.COMMANDS)
      return xml("query", { xmlns: NS.DISCO_INFO, node: NS.COMMANDS }, xml("identity", { category: "automation", type: "command-list" }));
    if (node !== undefined && wallboard?.disco.isNode(node)) return wallboard.disco.nodeInfo(node);
    if (node !== undefined) {
      // XEP-0050 §2.3: a command node the requester may run describes itself.
      const command = commands(addr.fromBare).find((c) => c.node === node);
      if (!command) throw noSuchNode();
      return xml("query", { xmlns: NS.DISCO_INFO, node: command.node },
        xml("identity", { category: "automation", type: "command-node", name: command.name }), ...features(NS.COMMANDS, NS.DATA));
    }
    return xml("query", { xmlns: NS.DISCO_INFO },
      xml("identity", { category: "component", type: "generic", name: "Switchboard contact center" }),
      wallboard?.disco.identity(),
      ...features(NS.DISCO_INFO, NS.DISCO_ITEMS, NS.COMMANDS, NS.WG, NS.SB, NS.PING, ...(wallboard?.disco.features() ?? [])));
  }

  function items(el: Element, addr: Addr): Element {
    const node = el.attrs.node;
    if (addr.queue) {
      cti.queue(addr.queue); // unknown queue: item-not-found
      if (node !== undefined) throw noSuchNode();
      return xml("query", { xmlns: NS.DISCO_ITEMS });
    }
    if (node !== undefined && wallboard?.disco.isNode(node)) return wallboard.disco.nodeItems(node);
    if (node !== undefined && node !== NS.COMMANDS) {
      if (!commands(addr.fromBare).some((c) => c.node === node)) throw noSuchNode();
      return xml("query", { xmlns: NS.DISCO_ITEMS, node }); // a command node has no items
    }
    if (node === NS.COMMANDS)
      return xml("query", { xmlns: NS.DISCO_ITEMS, node: NS.COMMANDS },
        ...commands(addr.fromBare).map((c) => xml("item", { jid: cc, node: c.node, name: c.name })));
    return xml("query", { xmlns: NS.DISCO_ITEMS },
      ...cti.queues.map((q) => xml("item", { jid: queueJid(q.name, cc), name: q.title ?? q.name })),
      ...(wallboard?.disco.items() ?? [])); // the wallboard's pubsub nodes (XEP-0060 5.2)
  }

  return { info, items };
}
