import { describe, expect, it } from "@jest/globals";
import { freePort, portRange } from "../../launcher/ports.js";

describe("free ports", () => {
  it("gives each jest worker its own slice of the range, and a process outside jest all of it", () => {
    const all = portRange(""); // no worker id: not under jest
    const slices = ["1", "2", "3"].map((w) => portRange(w));
    for (const s of slices) {
      expect(s.low).toBeGreaterThanOrEqual(all.low);
      expect(s.high).toBeLessThanOrEqual(all.high);
      expect(s.high - s.low).toBeGreaterThan(1000);
    }
    expect(slices[0]!.high).toBeLessThanOrEqual(slices[1]!.low);
    expect(slices[1]!.high).toBeLessThanOrEqual(slices[2]!.low);
    expect(all).toEqual({ low: 10_000, high: expect.any(Number) });
  });

  it("picks this worker's ports in its slice, never the same one twice", async () => {
    const { low, high } = portRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(low);
      expect(p).toBeLessThan(high);
    }
    expect(new Set(ports).size).toBe(ports.length);
  });
});
