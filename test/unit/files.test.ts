/**
 * protocol/files.ts: what a shared-file message yields (issue 15), read from xmpp.js elements as the component
 * and the pages read them; malformed, hostile or oversized values give no file or are cut, never trusted.
 */
import { describe, expect, it } from "@jest/globals";
import { xml } from "@xmpp/client";
import { FILE_NS, fileOf, formatSize, mediaType, nameFromUrl } from "../../protocol/files.js";

const URL_ = "http://127.0.0.1:5280/file_share/AbCdEfGhIjKlMnOpQrStUvWx/shot%20one.png";
const meta = (...children: ReturnType<typeof xml>[]) => xml("file", { xmlns: FILE_NS.METADATA }, ...children);
const sfs = (target: string, ...metaChildren: ReturnType<typeof xml>[]) =>
  xml("file-sharing", { xmlns: FILE_NS.SFS }, meta(...metaChildren), xml("sources", {}, xml("url-data", { xmlns: FILE_NS.URL_DATA, target })));
const oob = (url: string) => xml("x", { xmlns: FILE_NS.OOB }, xml("url", {}, url));
const message = (...children: ReturnType<typeof xml>[]) => xml("message", { type: "chat" }, xml("body", {}, URL_), ...children);

describe("fileOf", () => {
  it("reads XEP-0447 with XEP-0446 metadata: URL, name, size and media type", () => {
    const m = message(oob(URL_), sfs(URL_, xml("media-type", {}, "Image/PNG"), xml("name", {}, "shot one.png"), xml("size", {}, "5120")));
    expect(fileOf(m)).toEqual({ url: URL_, name: "shot one.png", size: 5120, type: "image/png" });
  });

  it("reads an XEP-0066 link alone: the name from the URL, size and type unknown", () => {
    expect(fileOf(message(oob(URL_)))).toEqual({ url: URL_, name: "shot one.png", size: null, type: null });
  });

  it("takes XEP-0446 metadata directly in the message too", () => {
    expect(fileOf(message(oob(URL_), meta(xml("name", {}, "a.txt"), xml("size", {}, "3"), xml("media-type", {}, "text/plain")))))
      .toEqual({ url: URL_, name: "a.txt", size: 3, type: "text/plain" });
  });

  it("finds no file without an http(s) URL: none, javascript:, data:, relative, with spaces, or too long", () => {
    expect(fileOf(xml("message", {}, xml("body", {}, "hello")))).toBeNull();
    for (const bad of ["javascript:alert(1)", "data:text/html,<b>x</b>", "/file_share/x", "http://a b/c", `http://x/${"a".repeat(2001)}`]) {
      expect(fileOf(message(oob(bad)))).toBeNull();
      expect(fileOf(message(sfs(bad, xml("name", {}, "x"))))).toBeNull();
    }
  });

  it("drops a malformed size or media type and cuts a long name", () => {
    const f = fileOf(message(sfs(URL_, xml("size", {}, "-1"), xml("media-type", {}, "<script>"), xml("name", {}, "n".repeat(500)))));
    expect(f).toEqual({ url: URL_, name: "n".repeat(255), size: null, type: null });
    expect(fileOf(message(sfs(URL_, xml("size", {}, "1e400"))))?.size).toBeNull();
    expect(fileOf(message(sfs(URL_, xml("size", {}, "12.5"))))?.size).toBeNull();
  });
});

describe("helpers", () => {
  it("names a file from its URL, decoded, and says sizes for people", () => {
    expect(nameFromUrl("https://x.test/a/b/report%202026.pdf")).toBe("report 2026.pdf");
    expect(nameFromUrl("https://x.test/")).toBe("file");
    expect(mediaType(" text/plain ")).toBe("text/plain");
    expect(mediaType("text")).toBeNull();
    expect([formatSize(12), formatSize(65_536), formatSize(1_200_000), formatSize(340_000)]).toEqual(["12 bytes", "65.5 KB", "1.2 MB", "340 KB"]);
  });
});
