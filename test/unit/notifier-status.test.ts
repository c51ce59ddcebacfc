/**
 * The notifier's status pass (issue 14) with a stand-in CTI: it sends what the store says is due, in one
 * batch per slice of the store's reads; a position told never goes up (XEP-0142); a customer brought forward whose status did not change
 * hears nothing; a phone caller hears nothing; a plain client hears its regular status only in new words.
 */
import { describe, expect, it } from "@jest/globals";
import type { Element } from "@xmpp/xml";
import type { Logger } from "pino";
import type { Cti } from "../../cti/cti.js";
import { createNotifier } from "../../component/notifier.js";
import { NS, WG } from "../../protocol/names.js";

type Due = { id: string; customer: string; plain: boolean; position: number; waitSeconds: number };

/** `statusIntervalMs` 1000: every pass is each customer's regular status (told a second ago or more). */
function setup(statusIntervalMs = 15_000) {
  let due: Due[] = [];
  const batches: Element[][] = [];
  // Like the store: at most `limit` of those due, each then rescheduled (so the next call reads the next ones).
  const cti = { queues: [{ name: "billing" }], dueStatuses: async (_q: string, _i: number, limit: number) => due.splice(0, limit) } as unknown as Cti;
  const notifier = createNotifier({
    cti, componentDomain: "cc.acme.test", nameOf: (j) => j, log: { warn: () => undefined } as unknown as Logger, statusIntervalMs,
    send: async () => { throw new Error("a status pass sends in batches"); },
    sendMany: async (stanzas) => { batches.push(stanzas); },
  });
  const pass = async (next: Due[]) => {
    due = next;
    batches.length = 0;
    await notifier.statusPass();
    return batches.flat().map((s) => ({ to: String(s.attrs.to), position: Number(s.getChild(WG.queueStatus, NS.WG)!.getChildText("position")) }));
  };
  return { pass, batches };
}

const c = (id: string, position: number, customer = `${id}@guest.acme.test/w`): Due => ({ id, customer, plain: false, position, waitSeconds: 60 * (position + 1) });

describe("the status pass", () => {
  it("sends the due statuses together, and never a higher position than one told", async () => {
    const { pass, batches } = setup();
    expect(await pass([c("a", 0), c("b", 1), c("c", 2)])).toEqual([
      { to: "a@guest.acme.test/w", position: 0 }, { to: "b@guest.acme.test/w", position: 1 }, { to: "c@guest.acme.test/w", position: 2 },
    ]);
    // A newcomer of higher priority went ahead of c: c's rank is 3 now, it keeps hearing 2.
    await pass([]);
    expect(batches).toEqual([]);
    expect(await pass([{ ...c("c", 3), waitSeconds: 30 }])).toEqual([{ to: "c@guest.acme.test/w", position: 2 }]);
  });

  it("tells nothing to one brought forward whose status did not change, nor to a phone caller", async () => {
    const { pass } = setup();
    await pass([c("a", 4)]);
    expect(await pass([c("a", 4)])).toEqual([]); // told a moment ago, the same: a pick that did not move
    expect(await pass([c("a", 3)])).toEqual([{ to: "a@guest.acme.test/w", position: 3 }]);
    expect(await pass([c("p", 0, "sip:+3312345678@cc.acme.test")])).toEqual([]);
  });

  it("tells a plain client its regular status only when its words change (a person reads each), an XEP-0142 client each time", async () => {
    const { pass, batches } = setup(1000);
    const plain = (waitSeconds: number): Due => ({ ...c("p", 0), plain: true, waitSeconds });
    expect((await pass([plain(20), c("x", 1)])).map((s) => s.to)).toEqual(["p@guest.acme.test/w", "x@guest.acme.test/w"]);
    // "You are next in line (less than a minute)." again: not said twice; the XEP-0142 client's stanza goes.
    expect(await pass([plain(25), c("x", 1)])).toEqual([{ to: "x@guest.acme.test/w", position: 1 }]);
    expect(await pass([plain(150)])).toEqual([{ to: "p@guest.acme.test/w", position: 0 }]);
    expect(batches.flat()[0]!.getChildText("body")).toBe("You are next in line (about 3 minutes).");
  });

  it("reads and sends a long list in slices (one store read and one batch each), each customer once", async () => {
    const { pass, batches } = setup();
    const told = await pass(Array.from({ length: 60 }, (_, i) => c(`c${i}`, i)));
    expect(batches.map((b) => b.length)).toEqual([25, 25, 10]);
    expect(new Set(told.map((t) => t.to)).size).toBe(60);
  });
});
