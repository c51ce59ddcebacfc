/** Quality monitoring's rules (cti/monitoring.ts) on the in-memory store: who may, on what, and what is recorded. */
import { beforeEach, describe, expect, it } from "@jest/globals";
import { createCti, type Cti } from "../../cti/cti.js";
import type { CtiError } from "../../cti/errors.js";
import { MemoryStore } from "../../cti/memory-store.js";
import { createMonitoring, type Monitoring } from "../../cti/monitoring.js";
import { applyEvents } from "../../records/apply.js";
import { freshHistory, servedSession } from "../helpers/history.js";

const SAM = "sam@acme.test";
let store: MemoryStore;
let cti: Cti;
let m: Monitoring;
let ids: number;

beforeEach(async () => {
  ids = 0;
  store = new MemoryStore();
  cti = createCti({
    store, guestDomain: "guest.acme.test", now: () => 1_000_000, newId: () => `S${++ids}`,
    queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true }],
  });
  await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
  m = createMonitoring({ cti, isSupervisor: (jid) => jid === SAM, nameOf: () => "Sam" });
});

const refusal = (p: Promise<unknown>) => p.then(() => "none", (e: CtiError) => e.code);
const served = async () => {
  await cti.agentState("alice@acme.test", "ready");
  const s = await cti.join({ queue: "billing", customer: "c1@guest.acme.test/w", plain: true, extraSkills: [], form: {} });
  await cti.route();
  return s.id;
};
const lines = () => store.events.filter((e) => e.type === "message" && e.direction === "supervisor").map((e) => (e.type === "message" ? e.body : ""));
const audits = () => store.events.filter((e) => e.type === "audit").map((e) => (e.type === "audit" ? `${e.actor} ${e.action} ${e.target}` : ""));

describe("quality monitoring rules", () => {
  it("lets only supervisors act: agents and customers are refused, and nothing is recorded", async () => {
    const id = await served();
    for (const who of ["alice@acme.test", "alice@acme.test/desk", "c1@guest.acme.test/w"]) {
      expect(await refusal(m.monitor(who, id))).toBe("forbidden");
      expect(await refusal(m.whisper(who, id, "psst"))).toBe("forbidden");
      expect(await refusal(m.barge(who, id))).toBe("forbidden");
      expect(await refusal(m.stop(who))).toBe("forbidden");
    }
    expect(lines()).toEqual([]);
    expect(audits()).toEqual([]);
  });

  it("needs a live chat with an agent: not unknown, not waiting, not ended", async () => {
    expect(await refusal(m.monitor(SAM, "S404"))).toBe("unknown-session");
    await cti.agentState("alice@acme.test", "not-ready");
    const queued = await cti.join({ queue: "billing", customer: "c2@guest.acme.test/w", plain: true, extraSkills: [], form: {} });
    expect(await refusal(m.monitor(SAM, queued.id))).toBe("bad-request");
    await cti.agentState("alice@acme.test", "ready");
    await cti.route();
    expect((await m.monitor(SAM, queued.id)).changed).toBe(true);
    await cti.end(queued.id, "alice@acme.test");
    expect(await refusal(m.monitor(SAM, queued.id))).toBe("session-ended");
    expect(await refusal(m.whisper(SAM, queued.id, "x"))).toBe("session-ended");
  });

  it("records monitor, whisper, barge and stop in the transcript and the audit log; says only after barging", async () => {
    const id = await served();
    expect((await m.monitor(SAM, id)).watch).toMatchObject({ session: id, supervisor: SAM, mode: "silent", seat: "alice@acme.test" });
    expect((await m.monitor(SAM, id)).changed).toBe(false); // again: no second line
    await m.whisper(SAM, id, "  Offer the discount ");
    expect(await refusal(m.whisper(SAM, id, "   "))).toBe("bad-request");
    expect(await refusal(m.say(SAM, id, "Hello"))).toBe("forbidden");
    expect(m.bargingIn(SAM)).toBeUndefined();
    await m.barge(SAM, id);
    expect(m.bargingIn(`${SAM}/gajim`)).toBe(id);
    await m.say(SAM, id, "Hello");
    expect((await m.monitor(SAM, id, "silent")).watch.mode).toBe("barge"); // barging in is not undone by monitor
    expect((await m.stop(SAM)).map((w) => w.session)).toEqual([id]);
    expect(m.bargingIn(SAM)).toBeUndefined();
    expect(await refusal(m.stop(SAM, id))).toBe("not-found");
    expect(lines()).toEqual(["Sam started monitoring.", "Sam whispered to the agent: Offer the discount", "Sam joined the conversation.", "Sam: Hello", "Sam stopped monitoring."]);
    expect(audits()).toEqual([`${SAM} monitor ${id}`, `${SAM} whisper ${id}`, `${SAM} barge ${id}`, `${SAM} stop-monitoring ${id}`]);
  });
});

describe("the transcript of a monitored session", () => {
  it("keeps the supervisor's lines as kind supervisor, in order with the parties' messages", async () => {
    const history = await freshHistory("sqlite");
    try {
      const [queued, assigned, inService, ended] = servedSession("S1", "c1@guest.acme.test/w", "alice@acme.test", 1_000_000);
      const msg = (at: number, sender: string, direction: "in" | "out" | "supervisor", body: string) =>
        ({ type: "message" as const, session: "S1", seat: "alice@acme.test", sender, direction, body, at });
      const events = [queued!, assigned!, inService!,
        msg(1_003_000, SAM, "supervisor", "Sam started monitoring."),
        msg(1_004_000, "c1@guest.acme.test", "in", "Hello"),
        msg(1_005_000, SAM, "supervisor", "Sam whispered to the agent: be kind"),
        msg(1_006_000, "alice@acme.test", "out", "Hi!"),
        { type: "audit" as const, actor: SAM, action: "whisper", target: "S1", detail: "be kind", at: 1_005_000 },
        ended!];
      await applyEvents(history, events.map((event, i) => ({ id: `${1000 + i}-0`, event })));
      const rows = await history.db.selectFrom("transcript").select(["kind", "sender", "body"]).where("session", "=", "S1").orderBy("at").execute();
      expect(rows.filter((r) => r.kind !== "system")).toEqual([
        { kind: "supervisor", sender: SAM, body: "Sam started monitoring." },
        { kind: "customer", sender: "c1@guest.acme.test", body: "Hello" },
        { kind: "supervisor", sender: SAM, body: "Sam whispered to the agent: be kind" },
        { kind: "seat", sender: "alice@acme.test", body: "Hi!" },
      ]);
    } finally {
      await history.close();
    }
  });
});
