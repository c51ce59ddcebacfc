/**
 * Files in the session (issue 15): XEP-0363 through Prosody's mod_http_file_share on upload.acme.test, on
 * Prosody's http port. Agents and anonymous guests find it by disco, get a slot, PUT and GET the file; a file
 * too large or of a type not allowed is refused with the reason in words; a file message goes to the granted
 * seat only (the seat module's check, like any message) and its transcript line keeps name, size and type.
 * Real Prosody, Redis, component and recorder; files over real HTTP.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { FILE_NS, fileOf } from "../../protocol/files.js";
import { NS } from "../../protocol/names.js";
import { useRecorder } from "../helpers/recorder.js";
import { apiFetch } from "../helpers/openapi.js";
import { BILLING, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { PNG, fileMessage, findUploadService, putToSlot, requestSlot } from "../helpers/upload.js";
import { nextId, received, waitFor, xmlFor } from "../helpers/xmpp.js";

const MAX = 4096;
let r: Running;
const { guest, agent } = useStack({ files: { maxBytes: MAX, types: ["image/*", "text/plain"] } }, (running) => { r = running; });

useRecorder(() => r);

const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat", id: nextId("m") }, xmlFor(c)("body", {}, body)));

/** Upload as a client would: disco, slot, PUT; the GET URL. */
async function upload(c: Client, name: string, bytes: Uint8Array, type: string): Promise<string> {
  const service = await findUploadService(c);
  expect(service).toBe("upload.acme.test");
  const reply = await requestSlot(c, service!, { name, size: bytes.length, type });
  expect(errorOf(reply)).toBeUndefined();
  return putToSlot(reply, bytes, type);
}

/** The customer writes to the queue and is assigned alice; its session id once alice's desk has the grant. */
async function servedByAlice(customer: Client, alice: Client): Promise<string> {
  await chat(customer, BILLING, "Hello, I have a screenshot of the problem");
  const assigned = (await waitFor(customer, (s) => s.is("message") && !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!;
  await waitFor(alice, (s) => s.is("message") && s.getChild("begin", NS.SB)?.attrs.session === assigned.attrs.session);
  return assigned.attrs.session!;
}

describe("uploading (XEP-0363)", () => {
  it("lets an agent and an anonymous guest find the service by disco, PUT a file to an unguessable slot and GET it back", async () => {
    const alice = await agent("alice@acme.test");
    const visitor = await guest();
    for (const [who, name] of [[alice, "agent shot.png"], [visitor, "guest.png"]] as const) {
      const url = await upload(who, name, PNG, "image/png");
      // The slot is a random path segment, then the name: nobody finds a file without being given its URL.
      const slot = new URL(url).pathname.split("/").at(-2)!;
      expect(slot.length).toBeGreaterThanOrEqual(16);
      expect(new URL(url).pathname.endsWith(`/${encodeURIComponent(name)}`)).toBe(true);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(PNG);
    }
  });

  it("refuses a file too large and a type not allowed with the reason in words, and advertises the size limit", async () => {
    const visitor = await guest();
    const service = (await findUploadService(visitor))!;
    const tooLarge = await requestSlot(visitor, service, { name: "huge.png", size: MAX + 1, type: "image/png" });
    expect(errorOf(tooLarge)).toEqual({ type: "modify", condition: "not-acceptable", text: "File too large" });
    expect(tooLarge.getChild("error")?.getChild("file-too-large", FILE_NS.UPLOAD)?.getChildText("max-file-size")).toBe(String(MAX));
    const wrongType = await requestSlot(visitor, service, { name: "setup.exe", size: 10, type: "application/x-msdownload" });
    expect(errorOf(wrongType)).toEqual({ type: "modify", condition: "not-acceptable", text: "File type not allowed" });
    // The limit a page checks before uploading: XEP-0128 extended disco info of the service.
    const info = await iq(visitor, service, "get", xmlFor(visitor)("query", { xmlns: NS.DISCO_INFO }));
    const form = info.getChild("query")!.getChildren("x", NS.DATA).find((x) => x.getChildren("field").some((f) => f.getChildText("value") === FILE_NS.UPLOAD));
    expect(form?.getChildren("field").find((f) => f.attrs.var === "max-file-size")?.getChildText("value")).toBe(String(MAX));
  });
});

describe("a file in the session", () => {
  it("reaches the granted seat only, and its transcript line keeps the file's name, size and type", async () => {
    const alice = await agent("alice@acme.test");
    const bob = await agent("bob@acme.test", "away");
    const customer = await guest();
    const stranger = await guest();
    const session = await servedByAlice(customer, alice);

    const name = `invoice ${nextId()}.png`;
    const url = await upload(customer, name, PNG, "image/png");
    const id = nextId("f");
    await customer.send(fileMessage(customer, "alice@acme.test", { url, name, size: PNG.length, type: "image/png" }, id));
    const delivered = await waitFor(alice, (s) => s.is("message") && s.attrs.id === id);
    expect(fileOf(delivered)).toEqual({ url, name, size: PNG.length, type: "image/png" });

    // A stranger's file message to the same seat is refused like any of its messages.
    const strangerUrl = await upload(stranger, "spam.png", PNG, "image/png");
    await stranger.send(fileMessage(stranger, "alice@acme.test", { url: strangerUrl, name: "spam.png", size: PNG.length, type: "image/png" }, nextId("s")));
    expect(errorOf(await waitFor(stranger, (s: Element) => s.is("message") && s.attrs.type === "error"))?.condition).toBe("forbidden");

    // The seat answers with a link only, as Gajim or profanity send it (XEP-0066): name from the URL, size and type unknown.
    const reply = await upload(alice, "steps.txt", new TextEncoder().encode("1. Open settings"), "text/plain");
    await alice.send(xmlFor(alice)("message", { to: customer.jid!.toString(), type: "chat", id: nextId("o") },
      xmlFor(alice)("body", {}, reply), xmlFor(alice)("x", { xmlns: FILE_NS.OOB }, xmlFor(alice)("url", {}, reply))));
    await waitFor(customer, (s) => s.is("message") && s.getChildText("body") === reply);

    for (const c of [alice, bob]) expect(received(c).some((s) => s.toString().includes(strangerUrl))).toBe(false);
    expect(received(bob).some((s) => s.toString().includes(url))).toBe(false);
    expect(received(stranger).some((s) => s.toString().includes(url) || s.toString().includes(reply))).toBe(false);

    const base = `http://127.0.0.1:${r.app.webPort}`;
    const lines = (await until(async () => (await apiFetch(base, `/api/sessions/${session}/transcript`, { token: "test-admin-token" })).body.lines as any[],
      (ls) => ls.filter((l) => l.file).length === 2, 5000, "two file lines in the transcript"));
    expect(lines.filter((l) => l.file).map((l) => [l.kind, l.file])).toEqual([
      ["customer", { url, name, size: PNG.length, type: "image/png" }],
      ["seat", { url: reply, name: "steps.txt", size: null, type: null }],
    ]);
    expect(lines.some((l) => l.body === strangerUrl)).toBe(false);
  });
});
