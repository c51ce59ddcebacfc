/**
 * Ratings from plain-chat customers (issue 12 point 7): after a served chat ends, the customer is asked in
 * the chat for a number from 1 to 5; its answer is stored as the web page's <feedback/> is. Real Prosody,
 * Redis and component; the customer is an anonymous visitor on a plain client (chat messages only).
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { ALREADY_RATED, RATING_QUESTION, RATING_THANKS } from "../../component/xmpp/rating.js";
import { BILLING, CC, iq, until, useStack, type Running } from "../helpers/stack.js";
import { received, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const { guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });

const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));
const withBody = (body: string | RegExp) => (s: Element) =>
  s.is("message") && s.attrs.type !== "error" && (typeof body === "string" ? s.getChildText("body") === body : body.test(s.getChildText("body") ?? ""));
const pending = (c: Client) => r.app.redis.get(r.app.store.keys.rating(c.jid!.bare().toString()));

/** A plain customer served by Alice (in service: it wrote to her), then Alice ends the chat: the session id. */
async function servedAndEnded(customer: Client, alice: Client): Promise<string> {
  await chat(customer, BILLING, "Hello, I need help with an invoice");
  const session = (await waitFor(customer, (s) => s.is("message") && !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.session!;
  await chat(customer, "alice@acme.test", "Where is invoice 42?");
  await waitFor(alice, withBody("Where is invoice 42?"));
  await until(() => r.app.cti.session(session), (s) => s?.state === "in-service", 5000, "in service");
  expect((await iq(alice, CC, "set", xmlFor(alice)("end", { xmlns: NS.SB, session }))).attrs.type).toBe("result");
  return session;
}

/** Waits for the closing message and the question after it, from the queue the customer wrote to, as chat messages. */
async function asked(customer: Client): Promise<void> {
  const closing = await waitFor(customer, (s) => s.is("message") && !!s.getChild("ended", NS.SB));
  const question = await waitFor(customer, withBody(RATING_QUESTION));
  expect(closing.attrs.from).toBe(BILLING);
  expect(question.attrs).toMatchObject({ from: BILLING, type: "chat" });
  const all = received(customer);
  expect(all.indexOf(question)).toBeGreaterThan(all.indexOf(closing));
}

describe("plain-chat customers' ratings", () => {
  it("are asked after a served chat, and their answer is stored once, like a page's feedback", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const session = await servedAndEnded(customer, alice);
    await asked(customer);
    expect(await pending(customer)).toBe(session);

    // The answer goes where the question came from: the queue.
    await chat(customer, BILLING, "4 very helpful");
    expect((await waitFor(customer, withBody(RATING_THANKS))).attrs).toMatchObject({ from: BILLING, type: "chat" });
    expect((await r.app.cti.session(session))!.feedback).toEqual({ score: 4, comment: "very helpful" });
    expect(await pending(customer)).toBeNull();

    // A second number is no rating any more: it gets the usual answer, and the first rating stands.
    await chat(customer, CC, "5 actually");
    await waitFor(customer, withBody(/^To reach an agent, write to a queue/));
    expect((await r.app.cti.session(session))!.feedback).toEqual({ score: 4, comment: "very helpful" });
    expect(received(customer).filter(withBody(RATING_THANKS))).toHaveLength(1);
  });

  it("take '3 - ok' as a 3 with the comment 'ok', and answer politely when the chat was rated already", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const session = await servedAndEnded(customer, alice);
    await asked(customer);
    // The same customer rates with <feedback/> first (as a page would), then answers the question.
    const x = xmlFor(customer);
    expect((await iq(customer, CC, "set", x("feedback", { xmlns: NS.SB, session, score: "2" }, "slow"))).attrs.type).toBe("result");
    await chat(customer, BILLING, "3 - ok");
    expect((await waitFor(customer, withBody(ALREADY_RATED))).attrs.from).toBe(BILLING);
    expect((await r.app.cti.session(session))!.feedback).toEqual({ score: 2, comment: "slow" });

    const next = await guest();
    const other = await servedAndEnded(next, alice);
    await asked(next);
    await chat(next, CC, "3 - ok"); // an answer to the component's own address is taken too
    await waitFor(next, withBody(RATING_THANKS));
    expect((await r.app.cti.session(other))!.feedback).toEqual({ score: 3, comment: "ok" });
  });

  it("let any other reply go on as before (writing to the queue joins it), and drop the pending rating", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const session = await servedAndEnded(customer, alice);
    await asked(customer);
    expect(await pending(customer)).toBe(session);

    await chat(customer, BILLING, "I have another question");
    await waitFor(customer, withBody(/^(You are in the queue Billing|Alice will help you now)/));
    const now = await until(() => r.app.cti.sessionOf(customer.jid!.toString()), (id) => id !== null && id !== session, 5000, "a new session");
    expect((await r.app.cti.session(now!))!.form).toEqual({ subject: "I have another question" });
    expect(await pending(customer)).toBeNull();

    // The dropped rating catches nothing later: a number now is just a message.
    await chat(customer, CC, "5");
    await waitFor(customer, withBody(/^To reach an agent, write to a queue/));
    expect((await r.app.cti.session(session))!.feedback).toBeNull();
  });

  it("are not asked after a chat that never reached a seat", async () => {
    await agent("alice@acme.test", "away"); // logged in but not ready: customers wait
    const customer = await guest();
    await chat(customer, BILLING, "hello");
    await waitFor(customer, (s) => s.is("message") && !!s.getChild("queue-status", NS.WG));
    await chat(customer, BILLING, "leave");
    await waitFor(customer, (s) => s.is("message") && !!s.getChild("depart-queue", NS.WG));
    // The notifier handles events in order: the status of a later join comes after anything the end sent.
    await chat(customer, BILLING, "hello again");
    await waitFor(customer, (s) => s.is("message") && !!s.getChild("queue-status", NS.WG), 5000);
    expect(received(customer).filter(withBody(RATING_QUESTION))).toEqual([]);
    expect(await pending(customer)).toBeNull();
  });
});
