/**
 * Files in a conversation (issue 15, docs/protocol.md "Files"): how a shared file travels in a chat message,
 * and how a reader (the component's recorder tap, the page, the desk) gets its URL, name, size and type back.
 * Standards only: the upload is XEP-0363; the message carries the URL as its body and in XEP-0066 <x/>
 * (what Conversations, Gajim, Dino and profanity send and show), and, from our page and desk, XEP-0447
 * <file-sharing/> with XEP-0446 metadata (name, size, media type) and the URL as its source. Shared by the
 * component and the browser code, so this file imports nothing.
 */
export const FILE_NS = {
  /** XEP-0363 HTTP File Upload. */
  UPLOAD: "urn:xmpp:http:upload:0",
  /** XEP-0066 Out of Band Data. */
  OOB: "jabber:x:oob",
  /** XEP-0446 File metadata element. */
  METADATA: "urn:xmpp:file:metadata:0",
  /** XEP-0447 Stateless file sharing. */
  SFS: "urn:xmpp:sfs:0",
  /** XEP-0103 URL Address Information: an SFS source. */
  URL_DATA: "http://jabber.org/protocol/url-data",
} as const;

/** A file shared in a message. `size` and `type` are null when the sender gave none (an OOB-only link). */
export interface SharedFile {
  url: string;
  name: string;
  size: number | null;
  type: string | null;
}

/** What the parser needs of an XML element: xmpp.js's Element satisfies it, so does a plain object. */
export interface FileElement {
  attrs: Record<string, string | undefined>;
  getChild(name: string, xmlns?: string): FileElement | undefined;
  getChildText(name: string, xmlns?: string): string | null;
}

export const LIMITS_FILES = { url: 2000, name: 255, type: 100 } as const;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i;

/** An http(s) URL of bounded length, else null: a link nobody could fetch, or a javascript: one, is no file. */
export function httpUrl(text: string | null | undefined): string | null {
  const s = text?.trim();
  if (!s || s.length > LIMITS_FILES.url || !/^https?:\/\/[^\s]+$/i.test(s)) return null;
  try {
    return new URL(s).protocol.startsWith("http") ? s : null;
  } catch {
    return null;
  }
}

/** The last path segment of a URL, decoded (XEP-0363 slots end with the file's name). */
export function nameFromUrl(url: string): string {
  try {
    const last = new URL(url).pathname.split("/").filter(Boolean).at(-1) ?? "";
    return clip(decodeURIComponent(last), LIMITS_FILES.name) || "file";
  } catch {
    return "file";
  }
}

const clip = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

/** A media type as "image/png", lower case, or null when absent or malformed. */
export function mediaType(text: string | null | undefined): string | null {
  const s = text?.trim().toLowerCase();
  return s && s.length <= LIMITS_FILES.type && MEDIA_TYPE.test(s) ? s : null;
}

/**
 * The file a message shares, or null: the URL from XEP-0447's url-data source or XEP-0066's <url/>; name,
 * size and media type from XEP-0446 metadata when present (inside <file-sharing/> or directly in the
 * message), else the name from the URL and size and type unknown (null).
 */
export function fileOf(message: FileElement): SharedFile | null {
  const sharing = message.getChild("file-sharing", FILE_NS.SFS);
  const meta = sharing?.getChild("file", FILE_NS.METADATA) ?? message.getChild("file", FILE_NS.METADATA);
  const url = httpUrl(sharing?.getChild("sources")?.getChild("url-data", FILE_NS.URL_DATA)?.attrs.target)
    ?? httpUrl(message.getChild("x", FILE_NS.OOB)?.getChildText("url"));
  if (!url) return null;
  const name = meta?.getChildText("name")?.trim();
  const size = Number(meta?.getChildText("size")?.trim() ?? "");
  return {
    url,
    name: name ? clip(name, LIMITS_FILES.name) : nameFromUrl(url),
    size: meta && Number.isSafeInteger(size) && size >= 0 ? size : null,
    type: mediaType(meta?.getChildText("media-type")),
  };
}

/** "1.2 MB", "340 KB", "12 bytes": a size for people. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let n = bytes / 1000;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) { n /= 1000; u++; }
  return `${n < 100 ? n.toFixed(1) : Math.round(n)} ${units[u]}`;
}
