/**
 * Media through rtpengine, with real parts: Kamailio and rtpengine started by the test stack, baresip as the
 * caller's and the agent's phones (real RTP, each sending a tone of its own and recording what it hears), a
 * bare SIP-over-WebSocket agent as a browser's leg would be, Prosody and the component. rtpengine is asked
 * over its ng protocol (`list`, `query`) what it relays. By default only calls with a WebRTC leg go through
 * it (calls between SIP phones are direct, issue 10); a second stack has `media.anchor: "all"`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import { ngCommand, type Bencoded } from "../../launcher/rtpengine.js";
import { startBaresip, toneShare, type BaresipPhone } from "../helpers/baresip.js";
import { agentOnline, startAll, until, type Running } from "../helpers/stack.js";
import { connectWsPhone, type WsPhone } from "../helpers/ws-sip.js";
import { stopAll } from "../helpers/xmpp.js";

let r: Running;
const clients: Client[] = [];
const phones: BaresipPhone[] = [];
const wsPhones: WsPhone[] = [];

/** A stack for the describe block it is called in, with the media anchoring given. */
function useMediaStack(anchor: "webrtc" | "all") {
  beforeAll(async () => {
    r = await startAll({
      queues: [
        { name: "billing", title: "Billing", skills: ["billing"] },
        { name: "hasty", title: "Hasty desk", skills: ["billing"], firstResponseTimeout: 5 },
      ],
      agents: [
        { jid: "alice@acme.test", name: "Alice", password: "alice-pw", skills: ["billing"], maxChats: 1, voice: true },
        { jid: "bob@acme.test", name: "Bob", password: "bob-pw", skills: ["billing"], maxChats: 1, voice: true },
      ],
      media: { anchor },
    }, { voice: true });
  }, 60_000);
  afterAll(async () => { await r?.stop(); });
  afterEach(async () => {
    await stopAll(...clients.splice(0));
    await Promise.all(phones.splice(0).map((p) => p.stop()));
    await Promise.all(wsPhones.splice(0).map((p) => p.close()));
    await until(() => r.app.cti.sessions(0), (s) => s.length === 0, 10_000, "no live session");
    await until(() => calls(), (c) => c.length === 0, 10_000, "no media session in rtpengine");
    // A phone's registration outlives its test a moment (a WebSocket's is removed on the switch's timer): the
    // next test's "phone registered" must be its own phone's.
    await until(() => r.app.cti.agents(), (a) => a.every((x) => !x.phoneRegistered), 10_000, "no phone registered");
  });
}

const proxy = () => ({ host: "127.0.0.1", port: r.config.ports.sip! });
const ng = (command: Record<string, Bencoded>) => ngCommand(r.stack.rtpengineNgPort!, command);
/** The Call-IDs of the calls rtpengine relays now. */
const calls = async () => ((await ng({ command: "list" })).calls as string[] | undefined) ?? [];

interface Leg { tag: string; protocol: string; packets: number; address: string }
/** What rtpengine knows of a call: per party (From or To tag), the transport it speaks and the RTP packets it received from it. */
async function legs(callId: string): Promise<Leg[]> {
  const q = await ng({ command: "query", "call-id": callId });
  if (q.result !== "ok") throw new Error(`rtpengine query ${callId}: ${JSON.stringify(q)}`);
  const tags = q.tags as Record<string, { medias?: Array<{ protocol?: string; streams?: Array<{ stats?: { packets?: number }; endpoint?: { address?: string } }> }> }>;
  return Object.entries(tags).map(([tag, t]) => {
    const media = t.medias?.[0];
    const rtp = media?.streams?.[0];
    return { tag, protocol: media?.protocol ?? "", packets: rtp?.stats?.packets ?? 0, address: rtp?.endpoint?.address ?? "" };
  });
}

const sessionOf = async (customer: string) =>
  (await r.app.cti.sessions(20)).filter((s) => s.customer === customer).sort((a, b) => b.queuedAt - a.queuedAt)[0];

/** An agent available in XMPP, with a baresip phone registered (by default answering by itself; Alice's tone 660 Hz, Bob's 880 Hz). */
async function agentWithPhone(user: "alice" | "bob", { autoAnswer = true } = {}): Promise<BaresipPhone> {
  const jid = `${user}@acme.test`;
  clients.push(await agentOnline(r, jid));
  const phone = await startBaresip({ aor: `sip:${jid}`, password: `${user}-pw`, proxy: proxy(), register: true, autoAnswer, toneHz: user === "alice" ? 660 : 880 });
  phones.push(phone);
  // (baresip may have registered before its control connection was up: the switch's report is what counts)
  await until(() => r.app.cti.agent(jid), (a) => a?.phone === true, 5000, `${user}'s phone registered`);
  return phone;
}
const aliceWithPhone = (options: { autoAnswer?: boolean } = {}) => agentWithPhone("alice", options);

/** Dave's baresip phone (440 Hz), a guest caller. */
async function davePhone(): Promise<BaresipPhone> {
  const phone = await startBaresip({ aor: "sip:dave@customer.test", proxy: proxy(), register: false, toneHz: 440 });
  phones.push(phone);
  return phone;
}

/** Dave calls the billing queue and Alice's phone answers by itself: the call in service. */
async function daveCallsBilling() {
  const alice = await aliceWithPhone();
  const dave = await davePhone();
  await dave.command("dial", "sip:billing@cc.acme.test");
  await Promise.all([dave.waitFor("CALL_ESTABLISHED", 1, 15_000), alice.waitFor("CALL_ESTABLISHED", 1, 15_000)]);
  const live = await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "in-service", 5000, "call in service");
  return { alice, dave, live: live! };
}

/** A supervisor's end of a session, through the admin API. */
const endBySupervisor = (id: string) =>
  fetch(`http://127.0.0.1:${r.app.webPort}/api/sessions/${id}/end`, { method: "POST", headers: { authorization: `Bearer ${r.config.admin.token}` }, signal: AbortSignal.timeout(10_000) });

/** Alice available in XMPP, her phone a browser's (a bare SIP-over-WebSocket agent) registered. */
async function aliceInBrowser(): Promise<WsPhone> {
  clients.push(await agentOnline(r, "alice@acme.test"));
  const browser = await connectWsPhone({ url: `ws://127.0.0.1:${r.config.ports.sipWs}/`, user: "alice", domain: "acme.test", password: "alice-pw" });
  wsPhones.push(browser);
  await browser.register();
  await until(() => r.app.cti.agent("alice@acme.test"), (a) => a?.phone === true, 5000, "alice's browser registered");
  return browser;
}

/**
 * What a browser answers to rtpengine's offer: ICE, DTLS (active, as rtpengine offered actpass), rtcp-mux
 * (after ICE gathering, as sip.js sends it: the default candidate's address on the m= and c= lines).
 */
const BROWSER_ANSWER = [
  "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
  "m=audio 50125 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 127.0.0.1", "a=rtcp:50125 IN IP4 127.0.0.1",
  "a=candidate:1 1 udp 2122260223 127.0.0.1 50125 typ host generation 0", "a=ice-ufrag:wxyz", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
  "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00",
  "a=setup:active", "a=sendrecv", "a=rtcp-mux", "a=rtpmap:0 PCMU/8000", "",
].join("\r\n");

/** What Chromium offers for audio once its candidates are gathered (abridged): ICE, DTLS-SRTP (actpass), rtcp-mux, opus and G.711. */
const CHROMIUM_OFFER = [
  "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0", "a=msid-semantic: WMS",
  "m=audio 50123 UDP/TLS/RTP/SAVPF 111 0 8", "c=IN IP4 127.0.0.1", "a=rtcp:50123 IN IP4 127.0.0.1",
  "a=candidate:1 1 udp 2122260223 127.0.0.1 50123 typ host generation 0",
  "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx", "a=ice-options:trickle",
  "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00",
  "a=setup:actpass", "a=mid:0", "a=sendrecv", "a=rtcp-mux",
  "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "",
].join("\r\n");

/** Erin, a guest caller in a browser (a bare SIP-over-WebSocket agent, not registered). */
async function erinInBrowser(): Promise<WsPhone> {
  const browser = await connectWsPhone({ url: `ws://127.0.0.1:${r.config.ports.sipWs}/`, user: "erin", domain: "customer.test" });
  wsPhones.push(browser);
  return browser;
}
const erin = "sip:erin@customer.test";

describe("media: calls with a browser leg through rtpengine, calls between SIP phones direct (the default)", () => {
  useMediaStack("webrtc");

  it("a call to a queue between two SIP phones is direct: rtpengine relays nothing, and each phone hears the other's tone", async () => {
    const { alice, dave } = await daveCallsBilling();
    expect(await calls()).toEqual([]);
    // Each phone has heard two seconds of the other (straight from it: rtpengine relays nothing), then the hang-up.
    await until(() => Promise.all([alice, dave].map((p) => p.heardBytes())), (n) => n.every((b) => b > 32_000), 10_000, "two seconds heard by each phone");
    expect(await calls()).toEqual([]);
    await dave.command("hangup");
    await Promise.all([dave.waitFor("CALL_CLOSED"), alice.waitFor("CALL_CLOSED")]);
    expect(await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "ended", 5000, "session ended")).toMatchObject({ endReason: "customer", seat: "alice@acme.test" });
    const [aliceHeard, daveHeard] = [await alice.stop(), await dave.stop()];
    phones.splice(0);
    expect(toneShare(aliceHeard, 440)).toBeGreaterThan(0.2);
    expect(toneShare(daveHeard, 660)).toBeGreaterThan(0.2);
  }, 60_000);

  it("an agent registered over WebSocket and UDP rings on both: the WebSocket leg is offered WebRTC media (ICE, DTLS-SRTP, RTP/SAVPF), the UDP leg plain RTP; the answered one carries the call", async () => {
    const alice = await aliceWithPhone({ autoAnswer: false });
    const browser = await connectWsPhone({ url: `ws://127.0.0.1:${r.config.ports.sipWs}/`, user: "alice", domain: "acme.test", password: "alice-pw" });
    wsPhones.push(browser);
    await browser.register();
    const dave = await davePhone();
    await dave.command("dial", "sip:billing@cc.acme.test");

    // Both of Alice's phones ring.
    const offer = await browser.waitForRequest("INVITE", 1, 15_000);
    await alice.waitFor("CALL_INCOMING", 1, 15_000);
    const sdp = offer.body;
    expect(sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
    expect(sdp).toMatch(/^a=fingerprint:sha-256 /m);
    expect(sdp).toMatch(/^a=setup:actpass/m);
    expect(sdp).toMatch(/^a=ice-ufrag:/m);
    expect(sdp).toMatch(/^a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 \d+ typ host/m);
    expect(sdp).toMatch(/^a=rtcp-mux/m);
    expect(sdp).not.toMatch(/^a=crypto:/m); // DTLS-SRTP only: browsers refuse SDES keys
    expect(sdp).toMatch(/^c=IN IP4 127\.0\.0\.1/m);
    const port = Number(/^m=audio (\d+)/m.exec(sdp)![1]);
    expect(port).toBeGreaterThanOrEqual(r.config.media.rtpMin);
    expect(port).toBeLessThanOrEqual(r.config.media.rtpMax);

    // The desk phone answers: the browser's branch is cancelled; media flows on the plain leg.
    await alice.command("accept");
    await alice.waitFor("CALL_ESTABLISHED", 1, 15_000);
    await browser.waitForRequest("CANCEL", 1, 10_000);
    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the call in rtpengine");
    const relayed = await until(() => legs(callId!), (l) => l.filter((x) => x.packets >= 20).length === 2, 10_000, "RTP from both phones");
    expect(relayed.filter((x) => x.packets >= 20).map((l) => l.protocol)).toEqual(["RTP/AVP", "RTP/AVP"]);

    await alice.command("hangup");
    await Promise.all([dave.waitFor("CALL_CLOSED"), alice.waitFor("CALL_CLOSED")]);
    expect(await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "ended", 5000, "session ended")).toMatchObject({ endReason: "seat" });
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone after the hang-up");
  }, 60_000);

  it("a WebRTC caller (over WebSocket, DTLS-SRTP offer) reaches a plain SIP phone: the phone's leg is plain RTP, the caller's answer is WebRTC", async () => {
    const alice = await aliceWithPhone();
    const browser = await erinInBrowser();
    const offer = CHROMIUM_OFFER;
    const { final, reinvite } = await browser.call("sip:billing@cc.acme.test", offer);
    expect(`${final.status} ${final.header("reason") ?? ""}`).toBe("200 ");
    await alice.waitFor("CALL_ESTABLISHED", 1, 15_000);
    const answer = final.body;
    expect(answer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
    expect(answer).toMatch(/^a=fingerprint:sha-256 /m);
    expect(answer).toMatch(/^a=setup:(active|passive)/m);
    expect(answer).toMatch(/^a=ice-ufrag:/m);
    expect(answer).toMatch(/^a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 \d+ typ host/m);
    expect(answer).toMatch(/^a=rtcp-mux/m);
    expect(answer).not.toMatch(/^a=crypto:/m);

    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the call in rtpengine");
    // The phone speaks plain RTP to rtpengine (and sends it: its packets arrive); the caller's leg is WebRTC.
    const relayed = await until(() => legs(callId!), (l) => l.some((x) => x.protocol === "RTP/AVP" && x.packets >= 20), 10_000, "RTP from the phone");
    expect(relayed.map((l) => l.protocol).sort()).toEqual(["RTP/AVP", "UDP/TLS/RTP/SAVPF"]);

    // Hold (a new offer within the call, sendonly): through rtpengine again, answered for a browser.
    const held = await reinvite(offer.replace(" 2 IN IP4", " 3 IN IP4").replace("a=sendrecv", "a=sendonly"));
    expect(held.status).toBe(200);
    expect(held.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
    expect(held.body).toMatch(/^a=fingerprint:sha-256 /m);
    expect(held.body).not.toMatch(/^a=crypto:/m);
    expect((await legs(callId!)).map((l) => l.protocol).sort()).toEqual(["RTP/AVP", "UDP/TLS/RTP/SAVPF"]);

    // The seat hangs up: its BYE reaches the browser over its WebSocket connection.
    await alice.command("hangup");
    await browser.waitForRequest("BYE");
    await alice.waitFor("CALL_CLOSED");
    expect(await until(() => sessionOf("sip:erin@customer.test"), (s) => s?.state === "ended", 5000, "session ended")).toMatchObject({ endReason: "seat" });
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone after the hang-up");
  }, 60_000);

  it("a browser seat (WebSocket) rings (180) and answers with a WebRTC answer: the plain caller gets a plain answer, and the ACK and the caller's BYE reach the browser", async () => {
    const browser = await aliceInBrowser();
    const dave = await davePhone();
    await dave.command("dial", "sip:billing@cc.acme.test");
    const invite = await browser.waitForRequest("INVITE", 1, 15_000); // it answers 180 Ringing at once, with its Contact
    expect(invite.body).toMatch(/^a=rtpmap:0 PCMU\/8000/m); // what the answer below takes
    browser.answer(invite, BROWSER_ANSWER);
    await dave.waitFor("CALL_ESTABLISHED", 1, 15_000); // baresip, plain RTP only, took the answer rtpengine gave it
    await browser.waitForRequest("ACK", 1, 5000);
    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the call in rtpengine");
    expect((await legs(callId!)).map((l) => l.protocol).sort()).toEqual(["RTP/AVP", "UDP/TLS/RTP/SAVPF"]);
    await dave.command("hangup");
    await browser.waitForRequest("BYE", 1, 5000);
    expect(await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "ended", 5000, "session ended")).toMatchObject({ endReason: "customer", seat: "alice@acme.test" });
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone after the hang-up");
  }, 60_000);

  it("a supervisor's end of a direct call in service hangs up both phones", async () => {
    const { alice, dave, live } = await daveCallsBilling();
    expect((await endBySupervisor(live.id)).status).toBe(200);
    await Promise.all([dave.waitFor("CALL_CLOSED"), alice.waitFor("CALL_CLOSED")]);
  }, 60_000);

  it("a supervisor's end of a call a browser seat (WebSocket) answered: the seat's BYE, in its dialog, comes over its connection; the caller's phone hangs up", async () => {
    const browser = await aliceInBrowser();
    const dave = await davePhone();
    await dave.command("dial", "sip:billing@cc.acme.test");
    const invite = await browser.waitForRequest("INVITE", 1, 15_000);
    browser.answer(invite, BROWSER_ANSWER);
    await dave.waitFor("CALL_ESTABLISHED", 1, 15_000);
    await browser.waitForRequest("ACK", 1, 5000);
    const live = await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "in-service", 5000, "call in service");
    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the call in rtpengine");
    expect((await endBySupervisor(live!.id)).status).toBe(200);
    const bye = await browser.waitForRequest("BYE", 1, 10_000);
    // The BYE belongs to the call's dialog: its Call-ID, the caller's tag as From, the browser's as To, a CSeq
    // past the caller's INVITE.
    const tag = (h: string | undefined) => /;tag=([^;>\s]+)/.exec(h ?? "")?.[1];
    expect(bye.header("call-id")).toBe(invite.header("call-id"));
    expect(tag(bye.header("from"))).toBe(tag(invite.header("from")));
    expect(tag(bye.header("to"))).toBeDefined();
    expect(Number.parseInt(bye.header("cseq")!, 10)).toBeGreaterThan(Number.parseInt(invite.header("cseq")!, 10));
    await dave.waitFor("CALL_CLOSED");
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone after the supervisor's end");
  }, 60_000);

});

describe("a browser caller whose WebSocket closes (a tab closed or crashed): the call ends as if it had hung up", () => {
  useMediaStack("webrtc");

  it("while it waits: it leaves the queue, so no seat is rung for nobody", async () => {
    const { alice, dave } = await daveCallsBilling(); // Alice busy: Erin's call waits
    const browser = await erinInBrowser();
    const waiting = browser.call("sip:billing@cc.acme.test", CHROMIUM_OFFER, 30_000).catch((err: Error) => err);
    await until(() => sessionOf(erin), (s) => s?.state === "queued", 10_000, "Erin's call waiting");
    await browser.close();
    expect(await waiting).toBeInstanceOf(Error); // no final response: the connection is gone
    expect(await until(() => sessionOf(erin), (s) => s?.state === "ended", 5000, "Erin's session ended")).toMatchObject({ endReason: "departed", seat: null });
    // Alice is free again and nobody waits: her phone has nothing to ring for.
    await dave.command("hangup");
    await alice.waitFor("CALL_CLOSED");
    await until(() => r.app.cti.agent("alice@acme.test"), (a) => a?.state === "ready" && a.active === 0 && a.calls === 0, 5000, "Alice ready and free");
    expect(await r.app.cti.sessions(0)).toEqual([]);
  }, 60_000);

  it("while the seat's phone rings: the ringing stops (CANCEL), the session ends and the seat is free", async () => {
    const alice = await aliceWithPhone({ autoAnswer: false });
    const browser = await erinInBrowser();
    const ringing = browser.call("sip:billing@cc.acme.test", CHROMIUM_OFFER, 30_000).catch((err: Error) => err);
    await alice.waitFor("CALL_INCOMING", 1, 15_000);
    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the ringing call in rtpengine");
    await browser.close();
    await alice.waitFor("CALL_CLOSED");
    expect(await ringing).toBeInstanceOf(Error);
    expect(await until(() => sessionOf(erin), (s) => s?.state === "ended", 5000, "Erin's session ended")).toMatchObject({ endReason: "customer", seat: "alice@acme.test" });
    await until(() => r.app.cti.agent("alice@acme.test"), (a) => a?.state === "ready" && a.active === 0 && a.calls === 0 && a.missed === 0, 5000, "Alice ready, free, no miss counted");
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone with the call");
  }, 60_000);

  it("in service: the seat's phone gets the BYE, and the session ends with the caller's hang-up", async () => {
    const alice = await aliceWithPhone();
    const browser = await erinInBrowser();
    const { final } = await browser.call("sip:billing@cc.acme.test", CHROMIUM_OFFER);
    expect(final.status).toBe(200);
    await alice.waitFor("CALL_ESTABLISHED", 1, 15_000);
    await until(() => sessionOf(erin), (s) => s?.state === "in-service", 5000, "in service");
    const [callId] = await calls();
    await browser.close();
    await alice.waitFor("CALL_CLOSED");
    expect(await until(() => sessionOf(erin), (s) => s?.state === "ended", 5000, "Erin's session ended")).toMatchObject({ endReason: "customer" });
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone with the call");
  }, 60_000);
});

describe("media with media.anchor \"all\": calls between SIP phones through rtpengine too", () => {
  useMediaStack("all");

  it("a call to a queue between two SIP phones: RTP goes through rtpengine both ways, each hears the other's tone, and the media session ends with the call", async () => {
    expect(await calls()).toEqual([]);
    const { alice, dave } = await daveCallsBilling();

    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the call in rtpengine");
    // Both parties send to rtpengine (its counters of what it received from each grow), over plain RTP.
    // (100 packets: two seconds of 20 ms packets, from each)
    const relayed = await until(() => legs(callId!), (l) => l.length === 2 && l.every((x) => x.packets >= 100), 10_000, "RTP from both phones");
    expect(relayed.map((l) => l.protocol)).toEqual(["RTP/AVP", "RTP/AVP"]);
    expect(relayed.map((l) => l.address)).toEqual(["127.0.0.1", "127.0.0.1"]);
    // Each phone has heard two seconds of the other (a phone's jitter buffer and decoding lag behind what
    // rtpengine counts, the more so on a loaded machine).
    await until(() => Promise.all([alice, dave].map((p) => p.heardBytes())), (n) => n.every((b) => b > 32_000), 10_000, "two seconds heard by each phone");

    await dave.command("hangup");
    await Promise.all([dave.waitFor("CALL_CLOSED"), alice.waitFor("CALL_CLOSED")]);
    expect(await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "ended", 5000, "session ended")).toMatchObject({ endReason: "customer", seat: "alice@acme.test" });
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone after the hang-up");

    // What each phone heard came through rtpengine (no phone was told the other's address): the other's tone.
    const [heardByAlice, heardByDave] = [await alice.stop(), await dave.stop()];
    phones.splice(0);
    expect(heardByAlice.length).toBeGreaterThan(8000); // more than a second of audio
    expect(heardByDave.length).toBeGreaterThan(8000);
    expect(toneShare(heardByAlice, 440)).toBeGreaterThan(0.2);
    expect(toneShare(heardByAlice, 660)).toBeLessThan(0.05);
    expect(toneShare(heardByDave, 660)).toBeGreaterThan(0.2);
    expect(toneShare(heardByDave, 440)).toBeLessThan(0.05);
  }, 60_000);

  it("a supervisor's end of a call in service hangs up both phones and ends its media session", async () => {
    const { alice, dave, live } = await daveCallsBilling();
    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the call in rtpengine");
    expect((await endBySupervisor(live.id)).status).toBe(200);
    await Promise.all([dave.waitFor("CALL_CLOSED"), alice.waitFor("CALL_CLOSED")]);
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone after the supervisor's end");
  }, 60_000);

  it("a ring nobody answers leaves no media session behind: the call waits in the queue again, and is offered anew to the next ring", async () => {
    const alice = await aliceWithPhone({ autoAnswer: false });
    const bob = await agentWithPhone("bob", { autoAnswer: false });
    await r.app.cti.agentState("bob@acme.test", "not-ready", "busy elsewhere");
    const dave = await davePhone();
    await dave.command("dial", "sip:hasty@cc.acme.test");
    await alice.waitFor("CALL_INCOMING", 1, 15_000); // ringing, with rtpengine's offer
    const [callId] = await until(calls, (c) => c.length === 1, 5000, "the ringing call in rtpengine");
    // The queue's firstResponseTimeout (5 s) passes: back in line, and no media session is left.
    await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "queued" && s.missedBy.includes("alice@acme.test"), 15_000, "back in line");
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone with the ring");
    // Bob is ready: his phone rings, with a new offer (a new media session for the same call).
    await r.app.cti.agentState("bob@acme.test", "ready");
    await bob.waitFor("CALL_INCOMING", 1, 15_000);
    await until(calls, (c) => c.includes(callId!), 5000, "the call offered anew");
    // The caller gives up while it rings (CANCEL): the media session goes with the call.
    await dave.command("hangup");
    await dave.waitFor("CALL_CLOSED");
    expect(await until(() => sessionOf("sip:dave@customer.test"), (s) => s?.state === "ended", 5000, "session ended")).toMatchObject({ endReason: "customer" });
    await until(calls, (c) => !c.includes(callId!), 5000, "the media session gone with the cancelled call");
  }, 60_000);
});
