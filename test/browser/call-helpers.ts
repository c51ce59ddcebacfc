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

/** Bytes of `kind` received (inbound-rtp) so far by the page's live peer connections. */
export const bytesIn = (page: Page, kind: "audio" | "video" = "audio") => page.evaluate(async (k) => {
  const pcs = ((window as unknown as { __pcs?: RTCPeerConnection[] }).__pcs ?? []).filter((pc) => pc.connectionState !== "closed");
  let total = 0;
  for (const pc of pcs) (await pc.getStats()).forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
    if (s.type === "inbound-rtp" && s.kind === k) total += s.bytesReceived ?? 0;
  });
  return total;
}, kind);

/** Media reaches the page: its received bytes rise, twice over. */
export async function mediaFlowsInto(page: Page, who: string, kind: "audio" | "video" = "audio"): Promise<void> {
  const first = await until(() => bytesIn(page, kind), (b) => b > 0, 20_000, `${who} receives ${kind}`);
  const later = await until(() => bytesIn(page, kind), (b) => b > first + 2000, 20_000, `${who} keeps receiving ${kind}`);
  expect(later).toBeGreaterThan(first);
}
