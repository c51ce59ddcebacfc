/**
 * The expert rules (cti/expert.ts, issue 15) on the memory store, with a fake clock: who may invite whom into
 * which session, one expert per session and one session per expert, leaving and removing, and the events the
 * transition appends. The same rules on Redis (expert.lua) run in test/integration/expert.test.ts.
 */
import { beforeEach, describe, expect, it } from "@jest/globals";
import { createCti, type Cti } from "../../cti/cti.js";
import type { CtiError } from "../../cti/errors.js";
import { createExperts, type Experts } from "../../cti/expert.js";
import { MemoryStore } from "../../cti/memory-store.js";

const ALICE = "alice@acme.test", BOB = "bob@acme.test", CAROL = "carol@acme.test", SAM = "sam@acme.test", TESS = "tess@acme.test";
let store: MemoryStore;
let cti: Cti;
let experts: Experts;
let ids = 0;

beforeEach(async () => {
  store = new MemoryStore();
  cti = createCti({
    store, guestDomain: "guest.acme.test", now: () => 1_000_000, newId: () => `S${++ids}`,
    queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true }],
  });
  for (const jid of [ALICE, BOB, CAROL]) await store.upsertAgent({ jid, skills: jid === ALICE ? ["billing"] : [], maxChats: 2 });
  experts = createExperts({
    cti, isAgent: (j) => [ALICE, BOB, CAROL].includes(j), isSupervisor: (j) => j === SAM || j === TESS,
    mayQueue: (j, q) => j === SAM || q !== "billing", // tess supervises other queues only
  });
  await cti.agentState(ALICE, "ready");
});

const refusal = (p: Promise<unknown>) => p.then(() => "none", (e: CtiError) => `${e.code}: ${e.text}`);
/** A customer served by alice: its session. */
async function served(customer = "ann@guest.acme.test/w") {
  const s = await cti.join({ queue: "billing", customer, plain: true, extraSkills: [], form: { name: "Ann" } });
  return (await cti.session(s.id))!;
}
const invite = async (actor: string, sessionId: string | undefined, expert: string, note = "") => {
  const { session, expert: who } = await experts.check(actor, sessionId, expert);
  await experts.join(actor, session, who, note);
};

describe("inviting an expert", () => {
  it("the seat invites an agent (by its only session), a supervisor of the queue invites too; the event names both", async () => {
    const s = await served();
    await invite(ALICE, undefined, "Bob@Acme.Test/desk", "x".repeat(600));
    expect((await cti.session(s.id))!.expert).toBe(BOB);
    const joined = store.events.find((e) => e.type === "expert-joined");
    expect(joined).toMatchObject({ session: s.id, expert: BOB, by: ALICE, seat: ALICE });
    expect([...(joined as { note: string }).note]).toHaveLength(500); // the note is cut
    await experts.leave(BOB);
    await invite(SAM, s.id, CAROL);
    expect((await cti.session(s.id))!.expert).toBe(CAROL);
  });

  it("refuses strangers, other agents, supervisors of other queues, non-staff experts, the seat, a second expert, a busy expert, ended sessions", async () => {
    const s = await served();
    expect(await refusal(invite("ann@guest.acme.test", s.id, BOB))).toMatch(/^forbidden: Only agents and supervisors/);
    expect(await refusal(invite(BOB, s.id, CAROL))).toMatch(/^forbidden: Only the agent serving this session/);
    expect(await refusal(invite(TESS, s.id, CAROL))).toMatch(/^forbidden/);
    expect(await refusal(invite(ALICE, s.id, "ann@guest.acme.test"))).toMatch(/^not-found: The expert must be/);
    expect(await refusal(invite(ALICE, s.id, ALICE))).toMatch(/^bad-request/);
    expect(await refusal(invite(ALICE, "S999", BOB))).toMatch(/^unknown-session/);
    await invite(ALICE, s.id, BOB);
    expect(await refusal(invite(ALICE, s.id, CAROL))).toMatch(/^conflict: This conversation has an expert already/);
    // bob is in one conversation: the store refuses him a second, even past a stale read.
    const other = await served("dan@guest.acme.test/w");
    expect(await store.expert({ op: "join", session: other.id, expert: BOB, by: ALICE, note: "", now: 1 })).toBe("engaged");
    await cti.end(s.id, ALICE);
    expect(await refusal(invite(ALICE, s.id, CAROL))).toMatch(/^session-ended/);
  });
});

describe("leaving", () => {
  it("the expert leaves, the seat removes, a bystander may not; a session's end takes the expert out once", async () => {
    const s = await served();
    await invite(ALICE, s.id, BOB);
    expect(await refusal(experts.leave(CAROL))).toMatch(/^not-found/); // carol is in nothing and serves nothing
    expect(await refusal(experts.leave(CAROL, s.id))).toMatch(/^forbidden/);
    expect((await experts.leave(BOB)).id).toBe(s.id);
    expect(store.events.filter((e) => e.type === "expert-left")).toEqual([expect.objectContaining({ expert: BOB, by: BOB, reason: "left" })]);
    expect(await refusal(experts.leave(BOB))).toMatch(/^not-found/);

    await invite(ALICE, s.id, BOB);
    await experts.leave(ALICE); // the seat's only session with an expert
    expect(store.events.filter((e) => e.type === "expert-left").at(-1)).toMatchObject({ by: ALICE, reason: "removed" });

    await invite(ALICE, s.id, BOB);
    await cti.end(s.id, "ann@guest.acme.test");
    await experts.dismiss(s.id, "ended");
    await experts.dismiss(s.id, "ended"); // a second time (an event handled twice) changes nothing
    expect(store.events.filter((e) => e.type === "expert-left" && e.reason === "ended")).toHaveLength(1);
    expect(await experts.sessionOfExpert(BOB)).toBeUndefined();
  });
});
