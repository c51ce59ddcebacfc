import { describe, expect, it } from "@jest/globals";
import { parseSippLogLine } from "../../launcher/sipp-log.js";

describe("the SIPp scenarios' log lines", () => {
  it("reads the name, the time in epoch milliseconds and the rest", () => {
    expect(parseSippLogLine("final 1796313048.000000 894908.000000 1-25255@127.0.0.1 486 SIP;cause=486")).toEqual({
      name: "final", at: 1796313048894.908, rest: "1-25255@127.0.0.1 486 SIP;cause=486",
    });
  });

  it("reads a line written at a whole second, whose microseconds SIPp leaves out (a variable at 0 prints nothing)", () => {
    // Seen in CI: the call's "ended" line was skipped, and the test took an ended call for one still up.
    expect(parseSippLogLine("ended 1796313049.000000  1-25255@127.0.0.1 caller")).toEqual({ name: "ended", at: 1796313049000, rest: "1-25255@127.0.0.1 caller" });
  });

  it("leaves out what is not a log line", () => {
    expect(parseSippLogLine("2026-12-03 15:50:45 Unable to bind")).toBeUndefined();
    expect(parseSippLogLine("")).toBeUndefined();
  });
});
