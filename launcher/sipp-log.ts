/**
 * The <log> lines of the SIPp scenarios in softswitch/sipp/ (tests, bench, chaos): `<name> <seconds>
 * <microseconds> <Call-ID and details>`, the time from SIPp's gettimeofday. SIPp prints nothing for a
 * variable whose value is 0, so a line written at a whole second has no microseconds
 * (`ended 1796313049.000000  <Call-ID> caller`); they are read as 0.
 */
export interface SippLogLine {
  name: string;
  /** Epoch milliseconds. */
  at: number;
  /** The rest of the line: the Call-ID, then what the event carries. */
  rest: string;
}

const LINE = /^(\S+) (\d+)(?:\.\d+)? (\d*)(?:\.\d+)?(?: (.*))?$/;

/** One line, or undefined when it is not a <log> line (SIPp writes some of its errors there too). */
export function parseSippLogLine(line: string): SippLogLine | undefined {
  const m = LINE.exec(line);
  return m ? { name: m[1]!, at: Number(m[2]) * 1000 + Number(m[3] || 0) / 1000, rest: (m[4] ?? "").trim() } : undefined;
}
