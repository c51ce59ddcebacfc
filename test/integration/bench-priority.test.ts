/**
 * The bench's load generators yield the CPU to the servers (bench/priority.ts): a child started as the
 * launcher starts every process (a session of its own) gets its session's priority lowered, and the
 * servers it did not touch keep theirs.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { spawnChild, type Child } from "../../launcher/child.js";
import { asLoadGenerator } from "../../bench/priority.js";

const autogroupNice = (pid: number) => readFileSync(`/proc/${pid}/autogroup`, "utf8").match(/nice (-?\d+)/)?.[1];

describe("the bench's load generators", () => {
  const children: Child[] = [];
  afterEach(async () => { await Promise.all(children.splice(0).map((c) => c.stop())); });

  it("run at a lower priority than the servers beside them, which keep theirs", () => {
    const phone = spawnChild("phone", "sleep", ["30"]);
    const server = spawnChild("server", "sleep", ["30"]);
    children.push(phone, server);
    asLoadGenerator(phone.pid);
    expect(autogroupNice(phone.pid)).toBe("10");
    expect(autogroupNice(server.pid)).toBe("0");
  });
});
