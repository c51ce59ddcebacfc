import { describe, expect, it } from "@jest/globals";
import { ArrivalLine } from "../../cti/arrival-line.js";

const ids = (line: ArrivalLine, n = 100) => line.first(n).map(([id]) => id);

describe("ArrivalLine", () => {
  it("keeps arrival order through removals at the head and in the middle, and puts returning ids back in place", () => {
    const line = new ArrivalLine();
    for (let i = 1; i <= 6; i++) line.add(`s${i}`, i);
    line.remove("s1"); // assigned: the head
    line.remove("s4"); // left: a tombstone
    expect(ids(line)).toEqual(["s2", "s3", "s5", "s6"]);
    expect(line.size).toBe(4);
    line.add("s4", 4); // came back (offer declined): its tombstone is its place
    line.add("s1", 1); // requeued: before everyone
    line.add("s1", 1); // twice is once
    expect(ids(line)).toEqual(["s1", "s2", "s3", "s4", "s5", "s6"]);
    expect(ids(line, 2)).toEqual(["s1", "s2"]);
    expect(line.first(1)).toEqual([["s1", 1]]);
  });

  it("stays correct over many arrivals and departures (compaction included)", () => {
    const line = new ArrivalLine();
    const model: number[] = [];
    let seq = 0;
    let x = 7;
    const random = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      const r = random();
      if (r < 0.5 || model.length === 0) { seq++; line.add(`s${seq}`, seq); model.push(seq); }
      else if (r < 0.85) { line.remove(`s${model.shift()!}`); }
      else { const k = Math.floor(random() * model.length); line.remove(`s${model.splice(k, 1)[0]!}`); }
    }
    expect(line.size).toBe(model.length);
    expect(ids(line, 50)).toEqual(model.slice(0, 50).map((n) => `s${n}`));
  });
});
