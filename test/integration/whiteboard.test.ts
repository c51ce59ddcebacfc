/**
 * The whiteboard (issue 15; docs/protocol.md, "Whiteboard") on a real stack: Prosody with the seat module, Redis,
 * the component and a recorder in-process. A customer's board stanza reaches its seat and the seat's reaches the
 * customer, both recorded as `board` events and served by the transcript API; a stranger's never reaches the seat;
 * a malformed or oversized one, one beyond the sender's rate or the session's strokes, and a seat's board to someone it does not serve are
 * refused by the seat module with a fixed text (nothing of the stanza echoed), and neither delivered nor recorded.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { parseEvent } from "../../cti/redis/events.js";
import type { CtiEvent } from "../../cti/types.js";
import { BOARD } from "../../protocol/board.js";
import { NS } from "../../protocol/names.js";
import { useRecorder } from "../helpers/recorder.js";
import { apiFetch } from "../helpers/openapi.js";
import { BILLING, CC, iq, until, useStack, type Running } from "../helpers/stack.js";
import { nextId, received, waitFor, xmlFor } from "../helpers/xmpp.js";

type BoardEvent = Extract<CtiEvent, { type: "board" }>;
const ALICE = "alice@acme.test";
/** Put in what a client sends: no refusal may repeat it. */
const MARK = "zq7MARKzq7";

let r: Running;
const { guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });
useRecorder(() => r);

const bare = (c: Client) => c.jid!.bare().toString();
const boardOf = (s: Element) => s.getChild("board", NS.SB);

/** A board stanza with these children (strokes as [id, color, width, points]), sent; returns its id. */
async function draw(from: Client, to: string, session: string, children: Array<[string, string, string, string] | "clear">, extra?: Element, inside?: Element): Promise<string> {
  const x = xmlFor(from);
  const id = nextId("board");
  const ops = children.map((c) => (c === "clear" ? x("clear", {}) : x("stroke", { id: c[0], color: c[1], width: c[2] }, c[3])));
  if (inside) ops.push(inside);
  await from.send(x("message", { to, type: "chat", id }, x("board", { xmlns: NS.SB, session }, ...ops), ...(extra ? [extra] : [])));
  return id;
}

async function boardEvents(): Promise<BoardEvent[]> {
  const entries = (await r.app.redis.xrange(r.app.store.keys.events(), "-", "+")) as Array<[string, string[]]>;
  return entries.map(([, fields]) => parseEvent(fields)).filter((e): e is BoardEvent => e.type === "board");
}

/** A plain-chat customer (an anonymous visitor writing to the queue) served by alice: the session id. */
async function served(customer: Client, alice: Client): Promise<string> {
  const x = xmlFor(customer);
  await customer.send(x("message", { to: BILLING, type: "chat", id: nextId() }, x("body", {}, "Hello, I need help")));
  const assigned = (await waitFor(customer, (s) => s.is("message") && !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!;
  await waitFor(alice, (s) => s.is("message") && s.getChild("begin", NS.SB)?.attrs.session === assigned.attrs.session);
  return assigned.attrs.session!;
}

/** The error the sender got for stanza `id`: its condition and text. */
async function refusal(c: Client, id: string): Promise<{ type: string; condition: string; text: string }> {
  const e = await waitFor(c, (s) => s.is("message") && s.attrs.id === id && s.attrs.type === "error");
  const error = e.getChild("error")!;
  expect(boardOf(e)).toBeUndefined(); // the reply carries nothing of what was sent
  expect(e.toString()).not.toContain(MARK);
  const condition = error.getChildElements().find((c) => c.attrs.xmlns === NS.STANZAS && c.name !== "text")!.name;
  return { type: error.attrs.type!, condition, text: error.getChildText("text", NS.STANZAS) ?? "" };
}

describe("the whiteboard", () => {
  it("carries the customer's strokes to the seat and the seat's back, records both, and the transcript API serves them", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const session = await served(customer, alice);

    const inId = await draw(customer, ALICE, session, [["c1", "#ff0000", "4", "0,0 5000,3750 10000,7500"], ["c2", "#00ff00", "2", "10,20"]]);
    const got = await waitFor(alice, (s) => s.attrs.id === inId);
    expect(got.attrs.from).toBe(customer.jid!.toString());
    expect(got.getChild("body")).toBeUndefined();
    expect(boardOf(got)!.getChildElements().map((c) => [c.attrs.id, c.attrs.color, c.attrs.width, c.text()]))
      .toEqual([["c1", "#ff0000", "4", "0,0 5000,3750 10000,7500"], ["c2", "#00ff00", "2", "10,20"]]);

    const outId = await draw(alice, customer.jid!.toString(), session, ["clear", ["a1", "#0000ff", "8", "100,100 200,200"]]);
    expect(boardOf(await waitFor(customer, (s) => s.attrs.id === outId))!.attrs.session).toBe(session);

    const events = await until(boardEvents, (es) => es.filter((e) => e.session === session).length === 2, 5000, "both boards recorded");
    expect(events.filter((e) => e.session === session)).toEqual([
      expect.objectContaining({ seat: ALICE, sender: bare(customer), direction: "in", ops: [
        { kind: "stroke", id: "c1", color: "#ff0000", width: 4, points: [0, 0, 5000, 3750, 10000, 7500] },
        { kind: "stroke", id: "c2", color: "#00ff00", width: 2, points: [10, 20] },
      ] }),
      expect.objectContaining({ seat: ALICE, sender: ALICE, direction: "out", ops: [
        { kind: "clear" }, { kind: "stroke", id: "a1", color: "#0000ff", width: 8, points: [100, 100, 200, 200] },
      ] }),
    ]);

    // The recorder writes them; the transcript API replays them (checked against the OpenAPI document).
    const transcript = await until(async () => (await apiFetch(`http://127.0.0.1:${r.app.webPort}`, `/api/sessions/${session}/transcript`, { token: "test-admin-token" })).body,
      (b) => b.board?.events?.length === 2, 10_000, "the transcript's board");
    expect(transcript.board.strokes).toEqual([{ id: "a1", color: "#0000ff", width: 8, points: [100, 100, 200, 200] }]); // after the clear
    expect(transcript.board.events.map((e: any) => [e.direction, e.sender, e.ops.length])).toEqual([["in", bare(customer), 2], ["out", ALICE, 2]]);
  });

  it("never lets a stranger's board reach the seat, and records none", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const stranger = await guest();
    const session = await served(customer, alice);

    await draw(stranger, ALICE, session, [["s1", "#000000", "4", "1,1 2,2"]]); // even naming the session
    // A message with a body after it is refused aloud: once its error is back, the board was handled before it.
    const x = xmlFor(stranger);
    const probe = nextId("probe");
    await stranger.send(x("message", { to: ALICE, type: "chat", id: probe }, x("body", {}, "hello?")));
    expect((await refusal(stranger, probe)).condition).toBe("forbidden");
    const marker = await draw(customer, ALICE, session, [["m1", "#000000", "1", "5,5"]]);
    await waitFor(alice, (s) => s.attrs.id === marker);

    expect(received(alice).filter((s) => s.attrs.from?.startsWith(bare(stranger)))).toEqual([]);
    const events = await until(boardEvents, (es) => es.some((e) => e.session === session), 5000, "marker recorded");
    expect(events.filter((e) => e.sender === bare(stranger))).toEqual([]);
  });

  it("drops a former customer's board once its session ended, and a seat's to it is refused", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const session = await served(customer, alice);
    expect((await iq(alice, CC, "set", xmlFor(alice)("end", { xmlns: NS.SB, session }))).attrs.type).toBe("result");
    await waitFor(alice, (s) => s.is("message") && s.getChild("ended", NS.SB)?.attrs.session === session); // the grant is withdrawn on its way

    const late = await draw(customer, ALICE, session, [[MARK, "#000000", "1", "1,1"]]);
    const x = xmlFor(customer);
    const probe = nextId("probe");
    await customer.send(x("message", { to: ALICE, type: "chat", id: probe }, x("body", {}, "still there?")));
    expect((await refusal(customer, probe)).condition).toBe("forbidden"); // handled after the board, which was dropped
    expect(received(customer).filter((s) => s.attrs.id === late)).toEqual([]); // silently, as its chat states
    expect(received(alice).filter((s) => s.attrs.id === late)).toEqual([]);
    const back = await draw(alice, customer.jid!.toString(), session, [[MARK, "#000000", "1", "1,1"]]);
    expect((await refusal(alice, back)).condition).toBe("forbidden");
    expect((await boardEvents()).filter((e) => e.session === session)).toEqual([]);
  });

  it("refuses malformed and oversized boards with bad-request and a fixed text, delivering and recording none", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const session = await served(customer, alice);
    const x = xmlFor(customer);
    const many = (n: number) => Array.from({ length: n }, (_, i) => `${i},${i}`).join(" ");
    const bad: Array<[string, () => Promise<string>]> = [
      ["a named color", () => draw(customer, ALICE, session, [[MARK, "red", "4", "1,1"]])],
      ["a coordinate off the board", () => draw(customer, ALICE, session, [[MARK, "#000000", "4", "1,10001"]])],
      ["too many points", () => draw(customer, ALICE, session, [[MARK, "#000000", "4", many(BOARD.maxPointsPerStroke + 1)]])],
      ["too many strokes", () => draw(customer, ALICE, session, Array.from({ length: BOARD.maxOpsPerStanza + 1 }, (): [string, string, string, string] => [MARK, "#000000", "1", "1,1"]))],
      ["width 0", () => draw(customer, ALICE, session, [[MARK, "#000000", "0", "1,1"]])],
      ["markup in the points", () => draw(customer, ALICE, session, [[MARK, "#000000", "4", `1,1 <${MARK}>`]])],
      ["another session's id", () => draw(customer, ALICE, `${MARK}-other`, [["ok", "#000000", "4", "1,1"]])],
      ["a body beside the board", () => draw(customer, ALICE, session, [[MARK, "#000000", "4", "1,1"]], x("body", {}, MARK))],
      ["two boards", () => draw(customer, ALICE, session, [[MARK, "#000000", "4", "1,1"]], x("board", { xmlns: NS.SB, session }, x("clear", {})))],
      ["a 100 KB stroke", () => draw(customer, ALICE, session, [[MARK, "#000000", "4", "1,1 ".repeat(25_000).trim()]])],
      ["an unknown child", () => draw(customer, ALICE, session, ["clear"], undefined, x("circle", { r: MARK }))],
      ["a normal message", async () => {
        const id = nextId("board");
        await customer.send(x("message", { to: ALICE, id }, x("board", { xmlns: NS.SB, session }, x("stroke", { id: MARK, color: "#000000", width: "1" }, "1,1"))));
        return id;
      }],
    ];
    for (const [why, send] of bad) {
      const id = await send();
      const error = await refusal(customer, id);
      expect([why, error.type, error.condition]).toEqual([why, "modify", "bad-request"]);
      expect(error.text).toMatch(/^A whiteboard stanza is a chat message without a body/);
    }
    const marker = await draw(customer, ALICE, session, [["m1", "#000000", "1", "5,5"]]);
    await waitFor(alice, (s) => s.attrs.id === marker);
    expect(received(alice).filter((s) => s.toString().includes(MARK))).toEqual([]);
    const events = await until(boardEvents, (es) => es.some((e) => e.session === session), 5000, "marker recorded");
    expect(events.filter((e) => e.session === session).map((e) => e.ops)).toEqual([[{ kind: "stroke", id: "m1", color: "#000000", width: 1, points: [5, 5] }]]);
  });

  it("refuses a seat's board to someone it does not serve, and a sender's boards beyond its rate", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const stranger = await guest();
    const session = await served(customer, alice);

    const stray = await draw(alice, stranger.jid!.toString(), session, [[MARK, "#000000", "4", "1,1"]]);
    expect(await refusal(alice, stray)).toEqual({ type: "cancel", condition: "forbidden", text: "Whiteboard strokes go only to the customer of one of your sessions." });

    const burst = BOARD.burst + 10;
    const ids: string[] = [];
    for (let i = 0; i < burst; i++) ids.push(await draw(customer, ALICE, session, [[`r${i}`, "#000000", "1", "1,1"]]));
    const marker = await draw(customer, ALICE, session, [["last", "#000000", "1", "1,1"]]);
    ids.push(marker);
    // Each one is either delivered to the seat or refused to the customer: wait until all are accounted for.
    const outcome = () => Promise.resolve({
      refused: new Set(received(customer).filter((s) => s.attrs.type === "error" && ids.includes(s.attrs.id ?? "")).map((s) => s.attrs.id!)),
      delivered: new Set(received(alice).filter((s) => ids.includes(s.attrs.id ?? "")).map((s) => s.attrs.id!)),
    });
    const { refused, delivered } = await until(outcome, (o) => o.refused.size + o.delivered.size === ids.length, 5000, "every board answered");
    expect([...refused].filter((id) => delivered.has(id))).toEqual([]);
    expect(refused.size).toBeGreaterThanOrEqual(burst - BOARD.burst - 2); // the bucket refills at perSecond while they go out
    const one = received(customer).find((s) => refused.has(s.attrs.id ?? ""))!;
    expect(one.getChild("error")!.attrs.type).toBe("wait");
    expect(one.getChild("error")!.getChild("resource-constraint", NS.STANZAS)).toBeDefined();
    expect(one.getChild("error")!.getChildText("text", NS.STANZAS)).toBe("Too many whiteboard strokes: please slow down.");
    expect(received(alice).filter((s) => refused.has(s.attrs.id ?? ""))).toEqual([]);
  });

  it("refuses strokes past the session's limit, both sides counted together, with policy-violation", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const session = await served(customer, alice);
    const full: Array<[string, string, string, string]> = Array.from({ length: BOARD.maxOpsPerStanza }, (_, i) => [`f${i}`, "#000000", "1", "1,1"]);
    /**
     * Sends a board stanza until it is delivered (then "delivered") or refused for another reason than the rate
     * (then the condition): one refused for the rate is sent again once a token is back (the bucket refills
     * with time, 1/perSecond s a stanza).
     */
    async function deliver(from: Client, to: Client, toJid: string, children: Parameters<typeof draw>[3]): Promise<string> {
      for (;;) {
        const id = await draw(from, toJid, session, children);
        const answer = await new Promise<string>((resolve, reject) => {
          const delivered = waitFor(to, (s) => s.attrs.id === id, 5000).then(() => "delivered");
          const refused = waitFor(from, (s) => s.attrs.id === id && s.attrs.type === "error", 5000).then((e) => e.getChild("error")!.getChildElements()[0]!.name);
          delivered.then(resolve, () => undefined);
          refused.then(resolve, () => undefined);
          Promise.allSettled([delivered, refused]).then(() => reject(new Error(`no answer to ${id}`)));
        });
        if (answer !== "resource-constraint") return answer;
        await new Promise((resolve) => setTimeout(resolve, 1000 / BOARD.perSecond)); // a token's refill time
      }
    }
    const fill = async (from: Client, to: Client, toJid: string, n: number) => {
      for (let i = 0; i < n; i++) expect(await deliver(from, to, toJid, full)).toBe("delivered");
    };
    const stanzas = BOARD.maxStrokesPerSession / BOARD.maxOpsPerStanza;
    await Promise.all([fill(customer, alice, ALICE, stanzas / 2), fill(alice, customer, customer.jid!.toString(), stanzas / 2)]);
    for (const [from, to] of [[customer, ALICE], [alice, customer.jid!.toString()]] as const) {
      const one = await draw(from, to, session, [[MARK, "#000000", "1", "1,1"]]);
      expect(await refusal(from, one)).toEqual({ type: "cancel", condition: "policy-violation", text: `This session's whiteboard holds the most strokes allowed (${BOARD.maxStrokesPerSession}).` });
    }
    expect(await deliver(customer, alice, ALICE, ["clear"])).toBe("delivered"); // a clear adds no stroke: still allowed
  }, 60_000);
});
