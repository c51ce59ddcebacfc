import { describe, expect, it } from "@jest/globals";
import { createLineIndex, lineKey, parseLine } from "../../cti/lines.js";
import type { Agent, Queue } from "../../cti/types.js";

const queue = (name: string, skills: string[], extra: Partial<Queue> = {}): Queue => ({ name, skills, allowGuests: true, deny: [], open: true, ...extra });
const QUEUES = [queue("billing", ["billing"], { minLevels: { billing: 7 } }), queue("sales", ["sales"], { overflowAfter: 60, overflowSkills: ["support"] }), queue("any", [])];
const agent = (skills: string[], levels: Record<string, number> = {}): Agent => ({
  jid: skills.join("+") + "@x", skills, levels, maxChats: 1, state: "ready", reason: "", active: 0, freeSince: 0, wrapUntil: 0, missed: 0, lastAssigned: 0, offerJid: "", voice: false, phone: false, calls: 0,
});

describe("routing lines", () => {
  it("round-trips a session's line key", () => {
    const key = lineKey({ queue: "sales", needs: ["fr", "sales"], priority: 2 });
    expect(key).toBe("sales|fr,sales|2");
    expect(parseLine(key, QUEUES[1])).toMatchObject({ queue: "sales", needs: ["fr", "sales"], priority: 2, overflow: ["fr", "support"] });
  });

  it("finds only the lines a seat can serve: by its skills and levels, by a queue's overflow skills, and lines needing none", () => {
    const index = createLineIndex((name) => QUEUES.find((q) => q.name === name));
    const keys = ["billing|billing|0", "sales|sales|0", "sales|fr,sales|0", "any||0"];
    const served = (a: Agent) => index.servableBy(keys, [a]).map((l) => l.key).sort();
    expect(served(agent(["billing"], { billing: 8 }))).toEqual(["any||0", "billing|billing|0"]);
    expect(served(agent(["billing"], { billing: 3 }))).toEqual(["any||0"]); // below the queue's minimum level
    expect(served(agent(["support"]))).toEqual(["any||0", "sales|sales|0"]); // overflow (once customers waited)
    expect(served(agent(["support", "fr"]))).toEqual(["any||0", "sales|fr,sales|0", "sales|sales|0"]); // extras kept in overflow
    expect(served(agent(["sales"]))).toEqual(["any||0", "sales|sales|0"]);
  });
});
