/**
 * The whiteboard's wire format (protocol/board.ts): what the page, the desk, the component and the console
 * accept, encode and replay. The seat module applies the same rules in Lua (test/integration/whiteboard.test.ts).
 */
import { describe, expect, it } from "@jest/globals";
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { BOARD, decodeBoard, encodeBoard, finalStrokes, parsePoints, splitStroke, validOps, type BoardElement, type BoardOp } from "../../protocol/board.js";
import { NS } from "../../protocol/names.js";

const decode = (e: Element) => decodeBoard(e as unknown as BoardElement);
const board = (...children: Element[]) => xml("board", { xmlns: NS.SB, session: "S1" }, ...children);
const stroke = (text: string, attrs: Record<string, string> = {}) => xml("stroke", { id: "a1", color: "#ff0000", width: "4", ...attrs }, text);
const points = (n: number) => Array.from({ length: n }, (_, i) => `${i},${10_000 - i}`).join(" ");

describe("the whiteboard codec", () => {
  it("decodes strokes and clears in order, with their numbers", () => {
    expect(decode(board(stroke("0,0 10000,7500"), xml("clear", {}), stroke("5,6", { id: "b-2_x", color: "#00aa11", width: "64" })))).toEqual({
      session: "S1",
      ops: [
        { kind: "stroke", id: "a1", color: "#ff0000", width: 4, points: [0, 0, 10000, 7500] },
        { kind: "clear" },
        { kind: "stroke", id: "b-2_x", color: "#00aa11", width: 64, points: [5, 6] },
      ],
    });
  });

  it("round-trips what it encodes", () => {
    const ops: BoardOp[] = [{ kind: "clear" }, { kind: "stroke", id: "z", color: "#123abc", width: 1, points: [1, 2, 3, 4, 10000, 0] }];
    const encoded = encodeBoard(xml, NS.SB, { session: "S9", ops });
    expect(encoded.toString()).toBe(`<board xmlns="${NS.SB}" session="S9"><clear/><stroke id="z" color="#123abc" width="1">1,2 3,4 10000,0</stroke></board>`);
    expect(decode(encoded)).toEqual({ session: "S9", ops });
  });

  it("takes exactly the limits: points per stroke, operations per stanza", () => {
    expect(decode(board(stroke(points(BOARD.maxPointsPerStroke))))?.ops).toHaveLength(1);
    expect(decode(board(stroke(points(BOARD.maxPointsPerStroke + 1))))).toBeNull();
    const full = Array.from({ length: BOARD.maxOpsPerStanza }, () => stroke("1,1"));
    expect(decode(board(...full))?.ops).toHaveLength(BOARD.maxOpsPerStanza);
    expect(decode(board(...full, xml("clear", {})))).toBeNull();
  });

  it.each([
    ["no session", xml("board", { xmlns: NS.SB }, stroke("1,1"))],
    ["a session too long", xml("board", { xmlns: NS.SB, session: "S".repeat(BOARD.maxSessionLength + 1) }, stroke("1,1"))],
    ["nothing in it", board()],
    ["an unknown child", board(xml("circle", {}))],
    ["a child in another namespace", board(xml("stroke", { xmlns: "urn:other", id: "a", color: "#000000", width: "1" }, "1,1"))],
    ["a coordinate past the board", board(stroke("10001,0"))],
    ["a negative coordinate", board(stroke("-1,0"))],
    ["a fraction", board(stroke("1.5,0"))],
    ["a leading zero", board(stroke("01,0"))],
    ["an exponent", board(stroke("1e3,0"))],
    ["an odd coordinate", board(stroke("1,1 2"))],
    ["two spaces", board(stroke("1,1  2,2"))],
    ["a trailing space", board(stroke("1,1 "))],
    ["no points", board(stroke(""))],
    ["a named color", board(stroke("1,1", { color: "red" }))],
    ["an upper-case color", board(stroke("1,1", { color: "#FF0000" }))],
    ["a short color", board(stroke("1,1", { color: "#f00" }))],
    ["a color with markup", board(stroke("1,1", { color: "#ff0000\"/><script>" }))],
    ["width zero", board(stroke("1,1", { width: "0" }))],
    ["width past the limit", board(stroke("1,1", { width: String(BOARD.maxWidth + 1) }))],
    ["width with a sign", board(stroke("1,1", { width: "+4" }))],
    ["an empty id", board(stroke("1,1", { id: "" }))],
    ["an id with a space", board(stroke("1,1", { id: "a b" }))],
    ["an id too long", board(stroke("1,1", { id: "a".repeat(BOARD.maxIdLength + 1) }))],
    ["a stroke with a child", board(xml("stroke", { id: "a", color: "#000000", width: "1" }, xml("b", {}, "1,1")))],
    ["a clear with text", board(xml("clear", {}, "now"))],
  ])("refuses a board with %s", (_why, el) => {
    expect(decode(el)).toBeNull();
  });

  it("bounds the points text before parsing it", () => {
    expect(parsePoints("1,1 ".repeat(100_000).trim())).toBeNull();
    expect(parsePoints("0,0")).toEqual([0, 0]);
  });

  it("checks operations read back from elsewhere (the transcript API)", () => {
    expect(validOps([{ kind: "clear" }])).toBe(true);
    expect(validOps([])).toBe(false);
    expect(validOps([{ kind: "stroke", id: "a", color: "#000000", width: 2, points: [1, 2.5] }])).toBe(false);
    expect(validOps([{ kind: "stroke", id: "a", color: "#000000", width: 2, points: [1] }])).toBe(false);
    expect(validOps([{ kind: "erase" }])).toBe(false);
    expect(validOps("nope")).toBe(false);
  });

  it("splits a long line into strokes within the limit that join up, clamping and rounding", () => {
    const n = BOARD.maxPointsPerStroke * 2 + 10;
    const raw = Array.from({ length: n }, (_, i) => [i * 10.4, i === 0 ? -50 : 20_000]).flat();
    let k = 0;
    const parts = splitStroke({ id: "first", color: "#000000", width: 3 }, raw, () => `next${++k}`);
    expect(parts.length).toBe(3);
    expect(parts.map((p) => p.id)).toEqual(["first", "next1", "next2"]);
    for (const p of parts) expect(validOps([{ kind: "stroke", ...p }])).toBe(true);
    expect(parts[0]!.points.slice(0, 2)).toEqual([0, 0]);
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.points.slice(0, 2)).toEqual(parts[i - 1]!.points.slice(-2));
    const distinct = new Set(parts.flatMap((p) => Array.from({ length: p.points.length / 2 }, (_, j) => p.points[2 * j])));
    expect(distinct.size).toBe(n); // every point drawn, none lost at the joins
  });

  it("replays operations to what the board shows at the end", () => {
    const s = (id: string): BoardOp => ({ kind: "stroke", id, color: "#000000", width: 1, points: [0, 0] });
    expect(finalStrokes([s("a"), { kind: "clear" }, s("b"), s("c")]).map((x) => x.id)).toEqual(["b", "c"]);
    expect(finalStrokes([s("a"), { kind: "clear" }])).toEqual([]);
  });
});
