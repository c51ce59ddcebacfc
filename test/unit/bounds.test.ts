import { describe, expect, it } from "@jest/globals";
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { exceedsBounds, STANZA_BOUNDS } from "../../component/xmpp/bounds.js";

/** An iq with `levels` levels in all (the iq counts as one), built without recursion. */
function nested(levels: number): Element {
  const iq = xml("iq", { type: "get" });
  let at = iq;
  for (let i = 1; i < levels; i++) {
    const child = xml("foo", { xmlns: "urn:x" });
    at.append(child);
    at = child;
  }
  return iq;
}
const flat = (elements: number) => xml("iq", { type: "set" }, ...Array.from({ length: elements - 1 }, () => xml("x")));

describe("stanza bounds", () => {
  it("let a stanza of exactly the depth and size limits through", () => {
    expect(exceedsBounds(nested(STANZA_BOUNDS.depth))).toBe(false);
    expect(exceedsBounds(flat(STANZA_BOUNDS.elements))).toBe(false);
  });
  it("refuse one level or one element more", () => {
    expect(exceedsBounds(nested(STANZA_BOUNDS.depth + 1))).toBe(true);
    expect(exceedsBounds(flat(STANZA_BOUNDS.elements + 1))).toBe(true);
  });
  it("check 100,000 nested elements without overflowing the stack (where serializing them would)", () => {
    const deep = nested(100_000);
    expect(() => deep.toString()).toThrow(RangeError);
    expect(exceedsBounds(deep)).toBe(true);
  });
  it("count text as no element", () => {
    expect(exceedsBounds(xml("message", {}, xml("body", {}, ">".repeat(200_000))))).toBe(false);
  });
});
