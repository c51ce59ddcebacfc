/**
 * Inviting an expert as people see it (issue 15), in Debian's Chromium: Alice's desk invites Bob from the
 * chat's "Invite an expert" picker; Bob's desk gets the conversation as a panel of its own (role expert);
 * the customer page shows Bob joining, his words under his name, and his leaving, all in its one chat.
 */
import { describe, expect, it } from "@jest/globals";
import { readyDesk, signInDesk, useBrowserStack } from "../helpers/desk.js";
import type { Running } from "../helpers/stack.js";

let r: Running;
const { newPage: openPage } = useBrowserStack({ queues: [{ name: "billing", title: "Billing", skills: ["billing"], allowGuests: true }] }, (running) => { r = running; });
const newPage = (viewport = { width: 1100, height: 800 }) => openPage({ viewport, reducedMotion: "reduce" });

describe("the desk invites an expert", () => {
  it("Alice invites Bob from the chat; Bob gets the session as a panel; the customer sees Bob's words under his name; Bob leaves", async () => {
    const alice = await newPage();
    await signInDesk(r, alice, "alice@acme.test", "alice-pw");
    await readyDesk(r, alice, "alice@acme.test");
    const bob = await newPage();
    await signInDesk(r, bob, "bob@acme.test", "bob-pw"); // logged in, not ready: customers go to Alice, Bob can be invited

    const customer = await newPage({ width: 900, height: 820 });
    await customer.goto(`http://127.0.0.1:${r.app.webPort}/chat/?queue=billing`);
    await customer.locator("#prechat").getByLabel("Name").fill("Ann");
    await customer.locator("#prechat").getByLabel("Subject").fill("Refund");
    await customer.getByRole("button", { name: "Start chat" }).click();
    await alice.getByRole("article", { name: "Ann" }).getByRole("button", { name: "Accept" }).click();
    await customer.getByText("Alice will help you now.").waitFor();
    const message = customer.getByRole("textbox", { name: "Message", exact: true });
    await message.fill("Hello, where is my refund?");
    await message.press("Enter");
    const alicePanel = alice.getByRole("tabpanel");
    await alicePanel.getByText("Hello, where is my refund?").waitFor();

    // The picker lists the logged-in agents and supervisors; Bob is chosen with a note.
    await alicePanel.getByRole("button", { name: "Invite an expert" }).click();
    const picker = alicePanel.getByRole("form", { name: "Invite an expert" });
    await picker.getByLabel("Expert", { exact: true }).selectOption({ label: "Bob (agent)" });
    await picker.getByLabel("Note for the expert").fill("Knows refunds");
    await picker.getByRole("button", { name: "Invite" }).click();
    await alicePanel.getByText(/Bob joined your conversation with Ann as an expert/).waitFor();
    await alicePanel.getByRole("button", { name: "Remove expert (Bob)" }).waitFor();
    await customer.getByText("Bob joined the conversation.").waitFor();

    // Bob's desk: the conversation as a panel of its own, the invitation with the note.
    await bob.getByRole("tab", { name: /Ann \(with alice@acme\.test\)/ }).click();
    const bobPanel = bob.getByRole("tabpanel");
    await bobPanel.getByText(/Alice invited you into the conversation with Ann \(billing\)\. Note: Knows refunds\./).waitFor();
    const bobMessage = bobPanel.getByRole("textbox", { name: "Message", exact: true });
    await bobMessage.fill("Refunds take three days.");
    await bobMessage.press("Enter");
    // The customer page shows it under Bob's name; Alice's panel too, as the expert's.
    const line = customer.locator("li.msg.agent.expert").filter({ hasText: "Refunds take three days." });
    await line.waitFor();
    expect(await line.locator(".meta").textContent()).toMatch(/^Bob \(expert\) · /);
    expect(await line.locator(".bubble").textContent()).toBe("Bob (expert): Refunds take three days."); // the hidden label, then the text
    await alicePanel.locator(".msg.third").filter({ hasText: "Refunds take three days." }).getByText("Bob (expert)").waitFor();

    // The customer's and Alice's words reach Bob's panel.
    await message.fill("Thank you both!");
    await message.press("Enter");
    await bobPanel.getByText("Thank you both!").waitFor();
    const aliceMessage = alicePanel.getByRole("textbox", { name: "Message", exact: true });
    await aliceMessage.fill("You are welcome.");
    await aliceMessage.press("Enter");
    await bobPanel.locator(".msg.third").filter({ hasText: "You are welcome." }).getByText("Alice").waitFor();

    // Bob leaves: his panel ends, the customer is told in the same chat, Alice can invite again.
    await bobPanel.getByRole("button", { name: "Leave conversation" }).click();
    await bobPanel.getByText(/You left the conversation with Ann\./).waitFor();
    await customer.getByText("Bob left the conversation.").waitFor();
    await alicePanel.getByRole("button", { name: "Invite an expert" }).waitFor();
    expect(await customer.locator("li.msg").filter({ hasText: "Refunds take three days." }).count()).toBe(1);
  }, 60000);
});
