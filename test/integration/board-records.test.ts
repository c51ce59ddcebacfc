/**
 * The whiteboard's `board` events in the history (issue 15; docs/records.md): kept once however often a batch is
 * applied again, read back in order and checked again by boardOf, and erased with their customer. A real SQLite
 * history (records/db.ts), the recorder's own apply step.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { LoggedEvent } from "../../cti/redis/events.js";
import type { CtiEvent } from "../../cti/types.js";
import { finalStrokes } from "../../protocol/board.js";
import { applyEvents } from "../../records/apply.js";
import type { History } from "../../records/db.js";
import { boardOf } from "../../records/history.js";
import { eraseCustomer } from "../../records/retention.js";
import { freshHistory, servedSession } from "../helpers/history.js";

let history: History;
beforeAll(async () => { history = await freshHistory("sqlite"); });
afterAll(async () => { await history.close(); });

const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);
const CUSTOMER = "ann@guest.acme.test";
const SEAT = "alice@acme.test";
const logged = (events: CtiEvent[], first = 0): LoggedEvent[] => events.map((event, i) => ({ id: `${T0 + first + i}-0`, event }));
const board = (at: number, direction: "in" | "out", ops: Extract<CtiEvent, { type: "board" }>["ops"]): CtiEvent =>
  ({ type: "board", session: "B1", seat: SEAT, sender: direction === "in" ? CUSTOMER : SEAT, direction, ops, at });

describe("board events in the history", () => {
  it("are kept once, in order, replayable to the final board, and erased with the customer", async () => {
    const [queued, assigned, inService, ended] = servedSession("B1", CUSTOMER, SEAT, T0);
    const events = logged([
      queued!, assigned!, inService!,
      board(T0 + 3000, "in", [{ kind: "stroke", id: "c1", color: "#ff0000", width: 4, points: [0, 0, 100, 100] }]),
      board(T0 + 4000, "out", [{ kind: "clear" }, { kind: "stroke", id: "a1", color: "#0000ff", width: 2, points: [5, 5] }]),
      // Not a valid board (never written by the component, which checks first): boardOf leaves it out.
      board(T0 + 5000, "in", [{ kind: "stroke", id: "bad", color: "red", width: 4, points: [1, 1] }]),
      ended!,
    ]);
    expect(await applyEvents(history, events)).toBe(events.length);
    expect(await applyEvents(history, events)).toBe(0); // a batch read again after a crash writes nothing twice

    const recorded = await boardOf(history, "B1");
    expect(recorded.map((b) => [b.at, b.direction, b.sender])).toEqual([[T0 + 3000, "in", CUSTOMER], [T0 + 4000, "out", SEAT]]);
    expect(finalStrokes(recorded.flatMap((b) => b.ops))).toEqual([{ id: "a1", color: "#0000ff", width: 2, points: [5, 5] }]);

    await eraseCustomer(history, CUSTOMER, T0 + 120_000);
    expect(await boardOf(history, "B1")).toEqual([]);
  });
});
