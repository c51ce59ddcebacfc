/**
 * The plain-client flow in real terminal XMPP clients (issue 15, point 7): profanity as the agent, the
 * customer (who also sends a file) and a stranger, mcabber as a customer waiting in line behind, poezio as a
 * customer served from start to end, each in tmux against the test stack's Prosody and the component. What is asserted is what each person sees on screen (the README and
 * docs/clients.md describe this flow).
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { BILLING, CC, cleanSlate, until, useStack, type Running } from "../helpers/stack.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { escape, mcabber, poezio, profanity, type TerminalClient } from "../helpers/tmux-client.js";

const CUSTOMERS = [
  { jid: "carol@acme.test", password: "carol-pw" },
  { jid: "dave@acme.test", password: "dave-pw" },
  { jid: "erin@acme.test", password: "erin-pw" },
];
const ALICE = "alice@acme.test";

let r: Running;
useStack({ customers: CUSTOMERS }, (running) => { r = running; }, { clean: false });

let open: TerminalClient[] = [];
const start = async (client: Promise<TerminalClient>) => { const c = await client; open.push(c); return c; };
const password = (jid: string) => [...r.config.agents, ...r.config.customers].find((a) => a.jid === jid)!.password;
afterEach(async () => {
  await Promise.all(open.map((c) => c.stop()));
  open = [];
  await cleanSlate(r); // their connections are gone: agents offline, sessions ended
});

/** How many times `pattern` (global) is on the client's screen now. */
const count = async (c: TerminalClient, pattern: RegExp) => (await c.screen()).match(pattern)?.length ?? 0;

const REFUSAL = /This agent only accepts messages from the customer assigned by the contact center\. To reach an agent, write to a queue such as billing@cc\.acme\.test\./;

/** Alice in profanity, logged in as the README says and away: not ready, so customers wait. */
async function aliceAway() {
  const alice = await start(profanity(r.config, ALICE, password(ALICE)));
  await alice.type("/status set away");
  await until(() => r.app.cti.agent(ALICE), (a) => a?.state === "not-ready", 5000, "alice not ready");
  return alice;
}

describe("real XMPP clients in tmux", () => {
  it("profanity and mcabber customers wait and read their place, a profanity agent serves one, others are refused on screen, one closing message", async () => {
    const alice = await aliceAway();

    // Carol writes to the queue and reads that she waits, and where.
    const carol = await start(profanity(r.config, "carol@acme.test", password("carol@acme.test")));
    await carol.type(`/msg ${BILLING} Hi, I have a question about invoice 42`);
    await carol.waitFor(/billing@cc\.acme\.test: You are in the queue Billing\. Write "leave" to leave it\./);
    await carol.waitFor(/billing@cc\.acme\.test: You are next in line \((less than a minute|about \d+ minutes?)\)\./);

    // Erin (mcabber) joins behind her.
    const erin = await start(mcabber(r.config, "erin@acme.test", password("erin@acme.test")));
    await erin.type(`/say_to ${BILLING} I need help too`);
    await erin.type(`/roster search ${BILLING}`);
    await erin.type(""); // chat mode: the conversation with the queue
    await erin.waitFor(/\{o\} billing@cc\.acme\.test/); // the queue's presence: online, though not in her roster
    await erin.waitFor(/<== You are in the queue Billing\. Write "leave" to leave it\. .*<== There is 1 customer ahead of you \((less than a minute|about \d+ minutes?)\)\./);

    // Alice becomes available: she is ready, gets the beginning message, and Carol is told who serves her.
    await alice.type("/status set online");
    await carol.waitFor(/billing@cc\.acme\.test: Alice will help you now\. Write to alice@acme\.test\./);
    await alice.waitFor(/<< chat message: cc\.acme\.test/); // her console says a conversation opened
    await alice.type(`/msg ${CC}`);
    await alice.waitFor(/cc\.acme\.test: New customer carol@acme\.test\/\S+ \(billing, "Hi, I have a question about invoice 42"\)\. They will write to you now\./);

    // Erin is next now.
    await erin.waitFor(/<== You are next in line \((less than a minute|about \d+ minutes?)\)\./);

    // Writing to the queue again tells Carol who serves her, in the same conversation.
    await carol.type(`/msg ${BILLING} Hello?`);
    await carol.waitFor(/billing@cc\.acme\.test: Alice is serving you: write to alice@acme\.test\./);

    // They chat both ways.
    await carol.type(`/msg ${ALICE} Where is invoice 42?`);
    await alice.type("/msg carol@acme.test");
    await alice.waitFor(/carol@acme\.test\/\S+: Where is invoice 42\?/);
    await alice.type("Invoice 42 was sent on Monday.");
    await alice.waitFor(/carol@acme\.test\/\S+: Where is invoice 42\? .* me: Invoice 42 was sent on Monday\./);
    await carol.waitFor(/me: Where is invoice 42\?.* alice@acme\.test\/\S+: Invoice 42 was sent on Monday\./);

    // Carol sends a file with profanity's /sendfile (XEP-0363 upload to upload.acme.test, then the link):
    // Alice sees the link in the same conversation, and it serves the file.
    const dir = mkdtempSync(join(tmpdir(), "switchboard-file-"));
    try {
      writeFileSync(join(dir, "invoice-42.txt"), "Invoice 42: 120.00 EUR, paid on 2026-11-28\n");
      await carol.type(`/sendfile ${join(dir, "invoice-42.txt")}`);
      const url = /me: (http:\/\/\S+\/invoice-42\.txt)/.exec(await carol.waitFor(/me: http:\/\/\S+\/invoice-42\.txt/))![1]!;
      await alice.waitFor(new RegExp(`carol@acme\\.test/\\S+: ${escape(url)}`));
      expect(await (await fetch(url)).text()).toBe("Invoice 42: 120.00 EUR, paid on 2026-11-28\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // A stranger in profanity writes to Alice: the refusal is in the conversation it wrote in, and also
    // comes once as a chat message from the server (for clients that show errors poorly).
    // profanity sends a chat state (<composing/>) as its user types: dropped without an error, so the one
    // error in the conversation is the message's.
    const dave = await start(profanity(r.config, "dave@acme.test", password("dave@acme.test")));
    await dave.type(`/msg ${ALICE}`);
    await dave.waitFor(/alice@acme\.test \[offline\]/); // the conversation's title bar
    await dave.write("Hello Alice, are you there?");
    await dave.waitFor(/Hello Alice, are you there\?/); // in its input line: it read the keys (and sent <composing/>)
    await dave.type("");
    await dave.waitFor(new RegExp(`me: Hello Alice, are you there\\? \\S+ ! Error from alice@acme\\.test: ${REFUSAL.source}`));
    expect(await count(dave, /Error from/g)).toBe(1);
    await dave.type("/msg acme.test");
    await dave.waitFor(new RegExp(`acme\\.test: ${REFUSAL.source}`));
    // Erin, still waiting, writes to Alice too: mcabber's log window shows the refusal's text. She leaves.
    await erin.type(`/say_to ${ALICE} Hi Alice, it is Erin`);
    await erin.waitFor(new RegExp(`Error message from server: ${REFUSAL.source}`));
    await erin.type(`/say_to ${BILLING} leave`);
    await erin.waitFor(/<== You have left the queue billing\./);

    // Alice ends the chat by writing "end" to the component, and reads one end message.
    await alice.type(`/msg ${CC} end`);
    await alice.waitFor(/cc\.acme\.test: You ended the chat with carol@acme\.test\/\S+\. \(session \w+\)/);
    // Carol reads one closing message (and the rating question) in the queue's conversation.
    await carol.type(`/msg ${BILLING}`);
    await carol.waitFor(/billing@cc\.acme\.test: Alice has ended the chat\. Thank you for contacting us\. [\d:]+ - billing@cc\.acme\.test: How would you rate this chat\?/);
    // Whatever the component sent Alice about the end came before its answer to her next words.
    await alice.type(`/msg ${CC} thanks`);
    await alice.waitFor(/cc\.acme\.test: Commands: "end" ends your session/);
    expect(await count(alice, /You ended the chat/g)).toBe(1);
    expect(await count(carol, /has ended the chat/g)).toBe(1);

    // Carol's next words to Alice bounce. No conversation with the component's address opened for her (the
    // console lists every conversation another opened).
    await carol.type(`/msg ${ALICE} One more thing`);
    await carol.waitFor(new RegExp(`Error from alice@acme\\.test: ${REFUSAL.source}`));
    await carol.type("/win 1");
    await carol.waitFor(/<< chat message: acme\.test/); // the refusal's explanation: the latest conversation
    expect(await carol.screen()).not.toMatch(/<< chat message: cc\.acme\.test/);
    // Alice's status bar lists her windows: the console, cc.acme.test and Carol's; none for the strangers.
    const aliceNow = await alice.waitFor(/\[1\]-?\[?2\]?-?\[?3\]?-?/);
    expect(aliceNow).not.toMatch(/[[-]4[\]-]|dave@acme\.test|erin@acme\.test/);
  }, 60_000);

  it("a poezio customer reads its place in line, is served by a profanity agent, chats both ways and reads one closing message in the queue's conversation", async () => {
    const alice = await aliceAway();

    // Carol (poezio, run as nobody when the tests run as root) writes to the queue: a tab for it opens.
    const carol = await start(poezio(r.config, "carol@acme.test", password("carol@acme.test")));
    await carol.type(`/message ${BILLING} Hi, I have a question about invoice 42`);
    await carol.waitFor(/carol> Hi, I have a question about invoice 42 [\d:]+ billing> You are in the queue Billing\. Write "leave" to leave it\./);
    await carol.waitFor(/billing> You are next in line \((less than a minute|about \d+ minutes?)\)\. .*\[billing@cc\.acme\.test\]/); // the tab's title

    await alice.type("/status set online");
    await carol.waitFor(/billing> Alice will help you now\. Write to alice@acme\.test\./);
    await alice.waitFor(/<< chat message: cc\.acme\.test/);
    await alice.type(`/msg ${CC}`);
    await alice.waitFor(/cc\.acme\.test: New customer carol@acme\.test\/poezio\S+ \(billing, "Hi, I have a question about invoice 42"\)\./);

    // They chat both ways; /message opens Carol's tab for Alice.
    await carol.type(`/message ${ALICE} Where is invoice 42?`);
    await carol.waitFor(/carol> Where is invoice 42\? .*\[alice@acme\.test\]/);
    await alice.type("/msg carol@acme.test");
    await alice.waitFor(/carol@acme\.test\/poezio\S+: Where is invoice 42\?/);
    await alice.type("Invoice 42 was sent on Monday.");
    await carol.waitFor(/carol> Where is invoice 42\? [\d:]+ (\S+ )?alice> Invoice 42 was sent on Monday\./); // (\S+ ): poezio's receipt mark

    // Alice ends the chat; Carol reads one closing message in the queue's tab, after what it said before.
    await alice.type(`/msg ${CC} end`);
    await alice.waitFor(/cc\.acme\.test: You ended the chat with carol@acme\.test\/poezio\S+\./);
    await carol.type(`/message ${BILLING}`);
    await carol.waitFor(/billing> Alice will help you now\..* billing> Alice has ended the chat\. Thank you for contacting us\. [\d:]+ billing> How would you rate this chat\?.*\[billing@cc\.acme\.test\]/);
    expect(await count(carol, /has ended the chat/g)).toBe(1);
    // Her tabs: the roster, the queue's and Alice's; none for the component's address.
    expect(await carol.screen()).toMatch(/ \[0\|1\|2\] /);
  }, 60_000);

  it("a profanity agent ends a chat with the ad-hoc command, pauses with its form and comes back by writing ready", async () => {
    const alice = await start(profanity(r.config, ALICE, password(ALICE)));
    await until(() => r.app.cti.agent(ALICE), (a) => a?.state === "ready", 5000, "alice ready");
    const carol = await start(profanity(r.config, "carol@acme.test", password("carol@acme.test")));
    await carol.type(`/msg ${BILLING} Hi`);
    await carol.waitFor(/Alice will help you now/);
    await carol.type(`/msg ${ALICE} Hello`);
    await alice.waitFor(/<< chat message: carol@acme\.test/);

    // The README's command: the reply and the session's end message, in the component's conversation.
    await alice.type(`/cmd exec end-session ${CC}`);
    await alice.type(`/msg ${CC}`);
    await alice.waitFor(/! end-session completed .*! The session with carol@acme\.test\/\S+ has ended\./);
    await alice.waitFor(/cc\.acme\.test: You ended the chat with carol@acme\.test\/\S+\./);
    await carol.type(`/msg ${BILLING}`);
    await carol.waitFor(/billing@cc\.acme\.test: Alice has ended the chat\./);

    // pause: profanity shows the form; the reasons are the configured ones.
    await alice.type(`/cmd exec pause ${CC}`);
    await alice.waitFor(/Form title: Pause .*\[field1\] Reason \(required\)/);
    await alice.type("/field1 Lunch");
    await alice.type("/form submit");
    await alice.type(`/msg ${CC}`);
    await alice.waitFor(/! You are paused \(Lunch\)\. When you are back, run "ready" or write "ready" to cc\.acme\.test\. Your client still shows you available/);
    expect(await r.app.cti.agent(ALICE)).toMatchObject({ state: "not-ready" });
    await alice.type(`/msg ${CC} ready`);
    await alice.waitFor(/cc\.acme\.test: You are ready for the next customer\./);
    await until(() => r.app.cti.agent(ALICE), (a) => a?.state === "ready", 5000, "alice ready again");
  }, 60_000);
});
