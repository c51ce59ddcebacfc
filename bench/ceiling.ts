/**
 * (a) The ceiling: chat messages bounced between pairs of clients through Prosody, and between clients
 * and a trivial echo component. Each sender keeps `window` messages in flight; a round trip is one
 * message there and its answer back (two stanzas routed by Prosody).
 */
import { type Client, type Element, xml } from "./clients.js";
import { cpuMeter, latency, schedMeter, type Latency } from "./stats.js";

export interface LoopResult { roundTrips: number; seconds: number; perSecond: number; latencyMs: Latency; prosodyCores: number; prosodyWaitingCores: number; benchCores: number }

/**
 * Runs closed loops: each sender sends `window` messages to its target, and a new one whenever an
 * answer comes back, for `ms` (after `warmupMs`, not counted) or until `maxRoundTrips`.
 */
export async function closedLoops({ senders, targetOf, window, ms, warmupMs, maxRoundTrips, prosodyPid }: {
  senders: Client[]; targetOf: (i: number) => string; window: number; ms: number; warmupMs: number; maxRoundTrips: number; prosodyPid?: number;
}): Promise<LoopResult> {
  const samples: number[] = [];
  let counting = false, stopped = false, counted = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => { done = r; });
  const inflight = senders.map(() => new Map<string, number>());
  let seq = 0;
  const handlers: Array<(s: Element) => void> = [];
  const sendOne = (i: number) => {
    const id = `p${++seq}`;
    inflight[i]!.set(id, performance.now());
    senders[i]!.send(xml("message", { to: targetOf(i), type: "chat", id }, xml("body", {}, "ping"))).catch(() => undefined);
  };
  senders.forEach((c, i) => {
    const h = (s: Element) => {
      if (!s.is("message") || s.attrs.type === "error") return;
      const t0 = inflight[i]!.get(s.attrs.id as string);
      if (t0 === undefined) return;
      inflight[i]!.delete(s.attrs.id as string);
      if (counting) {
        samples.push(performance.now() - t0);
        if (++counted >= maxRoundTrips) { stopped = true; done(); }
      }
      if (!stopped) sendOne(i);
    };
    handlers.push(h);
    c.on("stanza", h);
  });
  senders.forEach((_, i) => { for (let k = 0; k < window; k++) sendOne(i); });
  await new Promise((r) => setTimeout(r, warmupMs));
  counting = true;
  const meter = cpuMeter(prosodyPid);
  const sched = prosodyPid === undefined ? undefined : schedMeter(prosodyPid);
  const t0 = performance.now();
  const timer = setTimeout(() => { stopped = true; done(); }, ms);
  await finished;
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = meter();
  const prosodyWaitingCores = sched?.() ?? NaN;
  // let the last answers drain before the handlers go
  await new Promise((r) => setTimeout(r, 300));
  senders.forEach((c, i) => c.off("stanza", handlers[i]!));
  return { roundTrips: counted, seconds, perSecond: counted / seconds, latencyMs: latency(samples), prosodyCores: cpu.otherCores, prosodyWaitingCores, benchCores: cpu.selfCores };
}

/** Every peer answers each "ping" chat message with a "pong" carrying the same id. */
export function echoing(peers: Client[]): () => void {
  const off = peers.map((c) => {
    const h = (s: Element) => {
      if (s.is("message") && s.attrs.type === "chat" && s.getChildText("body") === "ping")
        c.send(xml("message", { to: s.attrs.from, type: "chat", id: s.attrs.id }, xml("body", {}, "pong"))).catch(() => undefined);
    };
    c.on("stanza", h);
    return () => c.off("stanza", h);
  });
  return () => off.forEach((f) => f());
}
