/**
 * Files in a conversation, for the customer page and the agent desk (issue 15, docs/protocol.md "Files"):
 * find the XEP-0363 upload service by disco, check a file's size and type before uploading, ask a slot, PUT
 * the file, and build the message extensions (XEP-0066 and XEP-0447 with XEP-0446 metadata) and the DOM that
 * shows a shared file (a link with name and size; an image preview only for image/* types, as an <img>
 * whose src is the http(s) URL, never markup from the message).
 */
import { xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { FILE_NS, formatSize, httpUrl, type SharedFile } from "../../protocol/files.js";
import { NS } from "../../protocol/names.js";

/** The upload service and the largest file it takes (XEP-0128 form in its disco#info), if it says. */
export interface UploadService {
  jid: string;
  maxBytes: number | null;
}

/** What the contact center allows (web-config.json "files"); absent: the server decides alone. */
export interface FileRules {
  maxBytes: number;
  /** Media types; "image/*" matches every image; empty: any type. */
  types: string[];
  /** Where uploaded files are served (the only origin previews load from). */
  origin: string;
}

const IQ_TIMEOUT = 10_000;
const DEFAULT_TYPE = "application/octet-stream";

/** Whether `type` is one of `allowed` (with "major/*" wildcards); an empty list allows every type. */
export function typeAllowed(type: string, allowed: string[]): boolean {
  if (allowed.length === 0) return true;
  const t = type.toLowerCase();
  return allowed.some((a) => a.toLowerCase() === t || (a.endsWith("/*") && t.startsWith(a.slice(0, -1).toLowerCase())));
}

/** "image/*, application/pdf" as people read it: "images, PDF files". */
function describeTypes(types: string[]): string {
  return types.map((t) => (t.endsWith("/*") ? `${t.slice(0, -2)} files` : t)).join(", ");
}

/** Why this file cannot be sent, in words, or null when it may be (checked before any upload). */
export function fileProblem(file: { name: string; size: number; type: string }, limit: number | null, rules?: FileRules): string | null {
  const type = file.type || DEFAULT_TYPE;
  if (file.size === 0) return `“${file.name}” is empty.`;
  const max = Math.min(limit ?? Infinity, rules?.maxBytes ?? Infinity);
  if (file.size > max) return `“${file.name}” is too large (${formatSize(file.size)}): files up to ${formatSize(max)} can be sent.`;
  if (rules && !typeAllowed(type, rules.types)) return `“${file.name}” cannot be sent: only ${describeTypes(rules.types)} are accepted here.`;
  return null;
}

/** An upload service's refusal (iq error) in words: XEP-0363's too-large and not-allowed, quota, else its text. */
export function refusalText(err: unknown, file: { name: string; size: number }): string {
  const e = err as { condition?: string; text?: string; element?: Element } | null;
  const max = e?.element?.getChild("error")?.getChild("file-too-large", FILE_NS.UPLOAD)?.getChildText("max-file-size");
  if (max) return `“${file.name}” is too large (${formatSize(file.size)}): the server takes files up to ${formatSize(Number(max))}.`;
  if (e?.condition === "not-acceptable") return `“${file.name}” was refused by the server: ${e.text ?? "this kind of file is not accepted"}.`;
  if (e?.condition === "resource-constraint") return `The file could not be sent: ${e.text ?? "the server has no room for it"}. Please try again later.`;
  if (e?.condition === "forbidden") return "You may not send files here.";
  return `The file could not be sent: ${e?.text ?? e?.condition ?? (err as Error)?.message ?? String(err)}.`;
}

/** Uploads files for one connection; finds the service once. */
export class Uploader {
  private service: Promise<UploadService | null> | undefined;

  /** `xmpp`: the connection now (a page may reconnect); the service is looked for on its domain. */
  constructor(private readonly xmpp: () => Client | undefined, private readonly rules?: FileRules) {}

  /** The upload service among the items of our domain (disco#items, then disco#info of each). */
  find(): Promise<UploadService | null> {
    this.service ??= this.discover().catch(() => {
      this.service = undefined; // try again next time (the connection may have been down)
      return null;
    });
    return this.service;
  }

  private async discover(): Promise<UploadService | null> {
    const c = this.connected();
    const items = await c.iqCaller.get(xml("query", { xmlns: NS.DISCO_ITEMS }), c.jid!.domain, IQ_TIMEOUT);
    for (const item of items.getChildren("item").slice(0, 20)) {
      const jid = item.attrs.jid as string | undefined;
      if (!jid || jid.includes("@")) continue;
      const info = await c.iqCaller.get(xml("query", { xmlns: NS.DISCO_INFO }), jid, IQ_TIMEOUT).catch(() => null);
      if (!info?.getChildren("feature").some((f) => f.attrs.var === FILE_NS.UPLOAD)) continue;
      const form = info.getChildren("x", NS.DATA).find((x) => x.getChildren("field").some((f) => f.getChildText("value") === FILE_NS.UPLOAD));
      const max = Number(form?.getChildren("field").find((f) => f.attrs.var === "max-file-size")?.getChildText("value"));
      return { jid, maxBytes: Number.isSafeInteger(max) && max > 0 ? max : null };
    }
    return null;
  }

  private connected(): Client {
    const c = this.xmpp();
    if (!c || c.status !== "online") throw new Error("the connection is lost; please try again in a moment");
    return c;
  }

  /** Checks, asks a slot, PUTs the file; the shared file, or an Error whose message says why in words. */
  async upload(file: File): Promise<SharedFile> {
    const type = file.type || DEFAULT_TYPE;
    const service = await this.find();
    if (!service) throw new Error("Files cannot be sent here: the server offers no file upload.");
    const problem = fileProblem({ name: file.name, size: file.size, type }, service.maxBytes, this.rules);
    if (problem) throw new Error(problem);
    let slot: Element;
    try {
      // request(), not get(): the result holds <slot/>, not the <request/> get() would look for.
      const reply = await this.connected().iqCaller.request(xml("iq", { type: "get", to: service.jid },
        xml("request", { xmlns: FILE_NS.UPLOAD, filename: file.name, size: String(file.size), "content-type": type })), IQ_TIMEOUT);
      slot = reply.getChild("slot", FILE_NS.UPLOAD) ?? reply;
    } catch (err) {
      throw new Error(refusalText(err, file));
    }
    const put = httpUrl(slot.getChild("put")?.attrs.url);
    const get = httpUrl(slot.getChild("get")?.attrs.url);
    if (!put || !get) throw new Error("The file could not be sent: the server gave no place to upload it.");
    // Only the headers XEP-0363 allows the service to ask for.
    const headers: Record<string, string> = { "content-type": type };
    for (const h of slot.getChild("put")!.getChildren("header")) {
      const name = String(h.attrs.name ?? "").toLowerCase();
      if (name === "authorization" || name === "cookie" || name === "expires") headers[name] = h.text();
    }
    let status: number;
    try {
      status = (await fetch(put, { method: "PUT", headers, body: file })).status;
    } catch {
      throw new Error(`“${file.name}” could not be uploaded: the file server did not answer.`);
    }
    if (status !== 200 && status !== 201) {
      throw new Error(status === 413 ? `“${file.name}” is too large for the file server.` : `“${file.name}” could not be uploaded (HTTP ${status}).`);
    }
    return { url: get, name: file.name, size: file.size, type };
  }
}

/** The extensions of a message that shares `file` (its body is the URL): XEP-0066, and XEP-0447 with XEP-0446 metadata. */
export function fileExtensions(file: SharedFile): Element[] {
  return [
    xml("x", { xmlns: FILE_NS.OOB }, xml("url", {}, file.url)),
    xml("file-sharing", { xmlns: FILE_NS.SFS, disposition: "attachment" },
      xml("file", { xmlns: FILE_NS.METADATA },
        file.type ? xml("media-type", {}, file.type) : undefined,
        xml("name", {}, file.name),
        file.size !== null ? xml("size", {}, String(file.size)) : undefined),
      xml("sources", {}, xml("url-data", { xmlns: FILE_NS.URL_DATA, target: file.url }))),
  ];
}

const sameOrigin = (url: string, origin: string): boolean => {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
};

/** "report.pdf (1.2 MB)", or the name alone when the size is unknown. */
export const fileLabel = (file: SharedFile): string => (file.size !== null ? `${file.name} (${formatSize(file.size)})` : file.name);

/**
 * A shared file in the DOM: a link (new tab, no access to this page) with name and size. With `previewFrom`
 * (the upload service's origin), an image/* file served from there also shows as an <img> of its URL (the
 * browser decodes it as an image; nothing of it runs); a link elsewhere is never fetched by the page (no
 * tracking pixel can learn the agent's address).
 */
export function fileElement(file: SharedFile, { previewFrom }: { previewFrom?: string } = {}): HTMLElement {
  const preview = !!previewFrom && sameOrigin(file.url, previewFrom);
  const box = document.createElement("span");
  box.className = "file";
  const link = document.createElement("a");
  link.href = file.url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.className = "file-link";
  link.textContent = `📎 ${fileLabel(file)}`;
  if (preview && file.type?.startsWith("image/")) {
    const img = document.createElement("img");
    img.src = file.url;
    img.alt = file.name;
    img.className = "file-preview";
    img.loading = "lazy";
    img.referrerPolicy = "no-referrer";
    const frame = document.createElement("a");
    frame.href = file.url;
    frame.target = "_blank";
    frame.rel = "noopener noreferrer";
    frame.append(img);
    box.append(frame, document.createElement("br"));
  }
  box.append(link);
  return box;
}
