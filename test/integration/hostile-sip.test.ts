/**
 * Bad SIP input to the soft switch gets a SIP answer with a Reason and a human text, never silence or a
 * crash, and the text never repeats what was sent. Raw UDP datagrams (a phone would not send these), on
 * the real stack with Kamailio; after each case the switch still queues a call as usual.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { createSocket, type Socket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { WebSocket } from "ws";
import { startAll, type Running } from "../helpers/stack.js";
import { call } from "../helpers/sipp.js";

let r: Running;
let socket: Socket;
let port: number;

beforeAll(async () => {
  r = await startAll({ queues: [{ name: "billing", title: "Billing", skills: ["billing"] }] }, { voice: true });
  socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  port = socket.address().port;
}, 60_000);
afterAll(async () => { socket?.close(); await r?.stop(); });

// After each case the switch and the component are still there: a call is answered as usual (no agent: 480).
afterEach(async () => {
  const after = await call({ proxy: { host: "127.0.0.1", port: r.config.ports.sip! }, service: "billing", domain: "cc.acme.test", caller: "after", callerDomain: "example.org" });
  expect(after).toMatchObject({ code: 480, reason: expect.stringMatching(/can take calls right now/) });
});

interface Answer { status: number; reason: string; raw: string }

/** Sends one datagram and waits for the answer to its Call-ID (at most `ms`). */
function send(build: (base: Record<string, string>) => string, ms = 3000): Promise<Answer | null> {
  const callId = `h-${randomBytes(6).toString("hex")}@127.0.0.1`;
  const branch = `z9hG4bK-${randomBytes(6).toString("hex")}`;
  const text = build({ callId, branch, via: `SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`, sip: String(r.config.ports.sip) });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.off("message", onMessage); resolve(null); }, ms);
    function onMessage(msg: Buffer) {
      const raw = msg.toString("latin1");
      if (!raw.includes(callId)) return;
      const status = Number(/^SIP\/2\.0 (\d{3})/.exec(raw)?.[1] ?? 0);
      if (status < 200) return; // 100 Trying / 180 Ringing: wait for the final answer
      clearTimeout(timer);
      socket.off("message", onMessage);
      resolve({ status, reason: /^Reason: (.*)$/m.exec(raw)?.[1]?.trim() ?? "", raw });
    }
    socket.on("message", onMessage);
    socket.send(text, r.config.ports.sip!, "127.0.0.1");
  });
}

const request = (method: string, uri: string, extra: string[] = [], { from = "sip:mallory@example.org", body = "" } = {}) => (b: Record<string, string>) => [
  `${method} ${uri} SIP/2.0`, `Via: ${b.via}`, `From: <${from}>;tag=h1`, `To: <${uri}>`, `Call-ID: ${b.callId}`, `CSeq: 1 ${method}`,
  "Max-Forwards: 70", `Contact: <sip:mallory@127.0.0.1:${port}>`, ...extra, `Content-Length: ${Buffer.byteLength(body)}`, "", body,
].join("\r\n");

const expectRefusal = (a: Answer | null, status: number, text: RegExp) => {
  expect(a).not.toBeNull();
  expect(a!.status).toBe(status);
  expect(a!.reason).toMatch(new RegExp(`^SIP;cause=${status};text="`));
  expect(a!.reason).toMatch(text);
};

describe("the soft switch answers bad input with a reason", () => {
  it("a request larger than 8 KiB: 513", async () => {
    const huge = "x".repeat(9000);
    const a = await send(request("INVITE", "sip:billing@cc.acme.test", [`X-Junk: ${huge}`]));
    expectRefusal(a, 513, /at most 8192 bytes/);
    expect(a!.raw).not.toContain(huge.slice(0, 100));
  });

  // (A datagram without the headers a reply needs, or not SIP 2.0, is dropped by Kamailio's parser: nobody to answer.)
  it("a malformed request (its CSeq names another method or is not a number, a request URI that is not SIP): 400", async () => {
    const invite = request("INVITE", "sip:billing@cc.acme.test");
    expectRefusal(await send((b) => invite(b).replace("CSeq: 1 INVITE", "CSeq: 1 BYE")), 400, /malformed/);
    expectRefusal(await send((b) => invite(b).replace("CSeq: 1 INVITE", "CSeq: x1 INVITE")), 400, /malformed/);
    expectRefusal(await send((b) => invite(b).replace("INVITE sip:billing@cc.acme.test SIP/2.0", "INVITE http://billing@cc.acme.test SIP/2.0")), 400, /malformed/);
  });

  it("Max-Forwards exhausted: 483", async () => {
    const a = await send((b) => request("INVITE", "sip:billing@cc.acme.test")(b).replace("Max-Forwards: 70", "Max-Forwards: 0"));
    expectRefusal(a, 483, /Too many hops/);
  });

  it("a MESSAGE to a queue: 405 (a queue takes calls)", async () => {
    expectRefusal(await send(request("MESSAGE", "sip:billing@cc.acme.test", ["Content-Type: text/plain"], { body: "hi" })), 405, /takes calls only/);
  });

  it("a call to another domain: 403 (no open relay)", async () => {
    expectRefusal(await send(request("INVITE", "sip:someone@example.com")), 403, /only reaches the contact center/);
  });

  it("a REGISTER for an account that does not exist, or from another domain: 403", async () => {
    expectRefusal(await send(request("REGISTER", "sip:acme.test", [], { from: "sip:nobody@acme.test" })), 403, /Only accounts of this contact center/);
    expectRefusal(await send(request("REGISTER", "sip:acme.test", [], { from: "sip:alice@example.org" })), 403, /Only accounts of this contact center/);
  });

  it("a caller who claims an account of ours without credentials is challenged, not served: 407", async () => {
    const a = await send(request("INVITE", "sip:billing@cc.acme.test", [], { from: "sip:alice@acme.test" }));
    expect(a?.status).toBe(407);
    expect(a?.raw).toMatch(/^Proxy-Authenticate: Digest realm="acme.test"/m);
  });

  it("a caller name the CTI cannot take (a 200-character user): 400, without repeating it", async () => {
    const user = "u".repeat(200);
    const a = await send(request("INVITE", "sip:billing@cc.acme.test", [], { from: `sip:${user}@example.org` }));
    expectRefusal(a, 400, /not one we can take/);
    expect(a!.reason).not.toContain(user);
  });

  it("a request inside a dialog that does not exist: 404", async () => {
    const a = await send((b) => request("BYE", "sip:billing@cc.acme.test")(b).replace(/^To: (.*)$/m, "To: $1;tag=nosuchdialog"));
    expectRefusal(a, 404, /No such call/);
  });

  it("a request inside a dialog whose other side cannot be reached from the switch: 500 with a reason", async () => {
    const route = `Route: <sip:127.0.0.1:${r.config.ports.sip};lr>`; // through this switch, to an IPv6 address it has no socket for
    const a = await send((b) => request("INFO", "sip:bob@[::1]:5060", [route])(b).replace(/^To: (.*)$/m, "To: $1;tag=otherside"));
    expectRefusal(a, 500, /cannot be reached from here/);
  });

  it("an OPTIONS ping to the contact center is answered 200", async () => {
    expect((await send(request("OPTIONS", "sip:cc.acme.test")))?.status).toBe(200);
  });

  it("SIP over WebSocket (RFC 7118, for browsers) on ports.sipWs: an OPTIONS is answered; plain HTTP gets a 404 with a text", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${r.config.ports.sipWs}/`, "sip");
    await once(ws, "open");
    const answer = once(ws, "message");
    ws.send(["OPTIONS sip:cc.acme.test SIP/2.0", "Via: SIP/2.0/WS browser.invalid;branch=z9hG4bK-ws1", "From: <sip:visitor@example.org>;tag=w1",
      "To: <sip:cc.acme.test>", "Call-ID: ws-1@browser.invalid", "CSeq: 1 OPTIONS", "Max-Forwards: 70", "Content-Length: 0", "", ""].join("\r\n"));
    expect(String((await answer)[0])).toMatch(/^SIP\/2\.0 200 /);
    ws.close();
    const http = await fetch(`http://127.0.0.1:${r.config.ports.sipWs}/anything`);
    expect([http.status, await http.text()]).toEqual([404, "Only SIP over WebSocket is served here\n"]);
  });
});
