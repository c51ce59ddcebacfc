/**
 * The SIPp phones of test/helpers/sipp.ts against each other, no soft switch: a caller's INVITE goes
 * straight to an agent's phone (which does not register). What the voice tests build on: answer,
 * hang up either side, busy, ring until cancelled, several calls, and a refusal's Reason header.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { createSocket } from "node:dgram";
import { call, startAgentPhone, type AgentMode, type AgentPhone, type AgentPhoneOptions } from "../helpers/sipp.js";

const phones: AgentPhone[] = [];
afterEach(async () => { await Promise.all(phones.splice(0).map((p) => p.stop())); });

async function phone(mode: AgentMode, more: Partial<AgentPhoneOptions> = {}): Promise<AgentPhone> {
  const p = await startAgentPhone({ user: "alice", password: "secret", domain: "acme.test", mode, register: false, ...more });
  phones.push(p);
  await p.registered;
  return p;
}

const to = (p: AgentPhone | number) => ({
  proxy: { host: "127.0.0.1", port: typeof p === "number" ? p : p.port },
  service: "billing", domain: "cc.acme.test", caller: "cust1", callerDomain: "acme.test", displayName: "Jane \"JD\" Doe", timeoutMs: 10_000,
});

describe("a SIPp caller and a SIPp agent's phone", () => {
  it("set up a call the phone answers and the caller ends", async () => {
    const alice = await phone("answer", { answerMs: 200 });
    const started = Date.now();
    const result = await call({ ...to(alice), holdMs: 100 });
    expect(result).toMatchObject({ code: 200, reason: "", hungUpBy: "caller" });
    expect(result.answeredAt! - started).toBeGreaterThanOrEqual(190);
    expect(result.endedAt - result.answeredAt!).toBeGreaterThanOrEqual(90);
    await alice.waitFor("ended");
    expect(alice.events().map((e) => e.name)).toEqual(["ready", "invite", "answered", "ended"]);
    expect(alice.events().at(-1)!.detail).toMatch(/ caller$/);
  });

  it("let the agent hang up, through the dialog the caller's INVITE set up", async () => {
    const alice = await phone("answer", { hangupMs: 100 });
    const result = await call({ ...to(alice), holdMs: 0 });
    expect(result).toMatchObject({ code: 200, hungUpBy: "agent" });
    expect((await alice.waitFor("ended")).detail).toMatch(/ agent$/);
  });

  it("refuse a call with 486 when the phone is busy", async () => {
    const alice = await phone("busy");
    expect(await call(to(alice))).toMatchObject({ code: 486, reason: "", answeredAt: undefined });
    await alice.waitFor("busy");
  });

  it("ring until the caller cancels: 200 to the CANCEL, 487 to the INVITE", async () => {
    const alice = await phone("noanswer");
    const started = Date.now();
    const result = await call({ ...to(alice), cancelAfterMs: 300 });
    expect(result.code).toBe(487);
    expect(result.endedAt - started).toBeGreaterThanOrEqual(290);
    await alice.waitFor("cancelled");
  });

  it("cancel while the phone waits to answer", async () => {
    const alice = await phone("answer", { answerMs: 2000 });
    expect((await call({ ...to(alice), cancelAfterMs: 200 })).code).toBe(487);
    await alice.waitFor("cancelled");
    expect(alice.events().some((e) => e.name === "answered")).toBe(false);
  });

  it("take several calls, one after another and at once", async () => {
    const alice = await phone("answer");
    expect((await call({ ...to(alice), holdMs: 10 })).code).toBe(200);
    const both = await Promise.all([call({ ...to(alice), holdMs: 200 }), call({ ...to(alice), holdMs: 200 })]);
    expect(both.map((r) => r.code)).toEqual([200, 200]);
    expect(alice.calls()).toBe(3);
    await alice.waitFor("ended", 3);
  });

  it("take a call offered again with the same Call-ID, as the switch does after a busy or unanswered ring", async () => {
    const alice = await phone("busy");
    const callId = `again-${Date.now()}@test`;
    expect((await call({ ...to(alice), callId })).code).toBe(486);
    expect((await call({ ...to(alice), callId })).code).toBe(486);
    expect(alice.events().filter((e) => e.name === "invite").map((e) => e.detail)).toEqual([callId, callId]);
  });

  it("report a refusal's code and the text of its Reason header", async () => {
    const uas = await refusingUas(480, 'SIP;cause=480;text="No agent is logged in"');
    try {
      expect(await call(to(uas.port))).toMatchObject({ code: 480, reason: "No agent is logged in" });
      expect(await uas.acked).toBe(true);
    } finally {
      uas.close();
    }
  });
});

/** A UAS of a few lines that refuses every INVITE with `code` and a Reason header, and sees the ACK. */
async function refusingUas(code: number, reason: string): Promise<{ port: number; acked: Promise<boolean>; close(): void }> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  let acked!: (v: boolean) => void;
  const ack = new Promise<boolean>((resolve) => { acked = resolve; });
  socket.on("message", (msg, from) => {
    const text = msg.toString();
    if (text.startsWith("ACK ")) return acked(true);
    if (!text.startsWith("INVITE ")) return;
    const header = (name: string) => text.split("\r\n").filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    const reply = [
      `SIP/2.0 ${code} Refused`, ...header("Via"), ...header("From"), `${header("To")[0]};tag=uas`, ...header("Call-ID"), ...header("CSeq"),
      `Reason: ${reason}`, "Content-Length: 0", "", "",
    ].join("\r\n");
    socket.send(reply, from.port, from.address);
  });
  return { port: socket.address().port, acked: ack, close: () => socket.close() };
}
