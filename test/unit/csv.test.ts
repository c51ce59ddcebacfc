import { describe, expect, it } from "@jest/globals";
import { csvCell, toCsv } from "../../component/http/csv.js";

describe("CSV", () => {
  it("quotes what must be quoted (RFC 4180)", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('say "hi", then go')).toBe('"say ""hi"", then go"');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
  });
  it("neutralises text a spreadsheet would run as a formula, not numbers", () => {
    for (const f of ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"]) expect(csvCell(f).replace(/^"/, "").startsWith("'")).toBe(true);
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell(-3.5)).toBe("-3.5");
    expect(csvCell(0)).toBe("0");
  });
  it("writes a header and one line per row, CRLF", () => {
    expect(toCsv(["a", "b"], [{ a: 1, b: "x" }, { a: null, b: "=x" }])).toBe("a,b\r\n1,x\r\n,'=x\r\n");
  });
});
