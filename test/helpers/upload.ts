/** XEP-0363 from a test client, as a plain XMPP client does it: find the service by disco, ask a slot, PUT. */
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { FILE_NS } from "../../protocol/files.js";
import { NS } from "../../protocol/names.js";
import { iq } from "./stack.js";
import { xmlFor } from "./xmpp.js";

/** The upload service among the items of the client's own domain (disco#items, then disco#info of each). */
export async function findUploadService(c: Client): Promise<string | undefined> {
  const xml = xmlFor(c);
  const items = await iq(c, c.jid!.domain, "get", xml("query", { xmlns: NS.DISCO_ITEMS }));
  for (const item of items.getChild("query")?.getChildren("item") ?? []) {
    const info = await iq(c, item.attrs.jid!, "get", xml("query", { xmlns: NS.DISCO_INFO }));
    if (info.getChild("query")?.getChildren("feature").some((f) => f.attrs.var === FILE_NS.UPLOAD)) return item.attrs.jid;
  }
  return undefined;
}

/** The slot request's reply (result or error). */
export function requestSlot(c: Client, service: string, file: { name: string; size: number; type: string }): Promise<Element> {
  return iq(c, service, "get", xmlFor(c)("request", { xmlns: FILE_NS.UPLOAD, filename: file.name, size: String(file.size), "content-type": file.type }));
}

/** Uploads `bytes` to the slot of a result; resolves with the GET URL once the PUT is answered 201. */
export async function putToSlot(reply: Element, bytes: Uint8Array, type: string): Promise<string> {
  const slot = reply.getChild("slot", FILE_NS.UPLOAD)!;
  const put = slot.getChild("put")!;
  const headers: Record<string, string> = { "content-type": type };
  for (const h of put.getChildren("header")) headers[h.attrs.name!.toLowerCase()] = h.text();
  const res = await fetch(put.attrs.url!, { method: "PUT", headers, body: Buffer.from(bytes) });
  if (res.status !== 201) throw new Error(`PUT ${put.attrs.url} answered ${res.status}`);
  return slot.getChild("get")!.attrs.url!;
}

/** A chat message sharing a file as our page and desk send it: URL body, XEP-0066 and XEP-0447/0446. */
export function fileMessage(c: Client, to: string, file: { url: string; name: string; size: number; type: string }, id: string): Element {
  const xml = xmlFor(c);
  return xml("message", { to, type: "chat", id },
    xml("body", {}, file.url),
    xml("x", { xmlns: FILE_NS.OOB }, xml("url", {}, file.url)),
    xml("file-sharing", { xmlns: FILE_NS.SFS, disposition: "attachment" },
      xml("file", { xmlns: FILE_NS.METADATA }, xml("media-type", {}, file.type), xml("name", {}, file.name), xml("size", {}, String(file.size))),
      xml("sources", {}, xml("url-data", { xmlns: FILE_NS.URL_DATA, target: file.url }))));
}

/** The 8-byte PNG signature and a little more: enough to be "a PNG" for the tests (no decoder looks at it). */
export const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
