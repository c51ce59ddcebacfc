/**
 * What browser tests of calls share (see calls.test.ts, chat-to-call.test.ts): every RTCPeerConnection a
 * page makes kept where the test reads its statistics, and proof that media flows into a page.
 */
import { expect } from "@jest/globals";
import type { Page } from "playwright-core";
import { until } from "../helpers/stack.js";

/** An init script: every RTCPeerConnection of the page in window.__pcs. */
export const RECORD_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const all = [];
  window.__pcs = all;
  window.RTCPeerConnection = class extends Native { constructor(...args) { super(...args); all.push(this); } };
})();`;

/** Bytes of `kind` received (inbound-rtp) or sent (outbound-rtp) so far by the page's live peer connections. */
const bytes = (page: Page, kind: "audio" | "video", way: "inbound-rtp" | "outbound-rtp") => page.evaluate(async ([k, w]) => {
  const pcs = ((window as unknown as { __pcs?: RTCPeerConnection[] }).__pcs ?? []).filter((pc) => pc.connectionState !== "closed");
  let total = 0;
  for (const pc of pcs) (await pc.getStats()).forEach((s: { type: string; kind?: string; bytesReceived?: number; bytesSent?: number }) => {
    if (s.type === w && s.kind === k) total += (w === "inbound-rtp" ? s.bytesReceived : s.bytesSent) ?? 0;
  });
  return total;
}, [kind, way] as const);
export const bytesIn = (page: Page, kind: "audio" | "video" = "audio") => bytes(page, kind, "inbound-rtp");
export const bytesOut = (page: Page, kind: "audio" | "video" = "audio") => bytes(page, kind, "outbound-rtp");

/** Media reaches the page: its received bytes rise, twice over. */
export async function mediaFlowsInto(page: Page, who: string, kind: "audio" | "video" = "audio"): Promise<void> {
  const first = await until(() => bytesIn(page, kind), (b) => b > 0, 20_000, `${who} receives ${kind}`);
  const later = await until(() => bytesIn(page, kind), (b) => b > first + 2000, 20_000, `${who} keeps receiving ${kind}`);
  expect(later).toBeGreaterThan(first);
}
